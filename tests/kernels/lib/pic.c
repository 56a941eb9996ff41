/*
 * The 8259A pair (Intel 8259A datasheet: ICW1-ICW4 initialisation, OCW1
 * masks, OCW2 non-specific EOI): master at 0x20, slave at 0xa0 on IRQ 2.
 */
#include "lib/io.h"
#include "lib/pic.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_init(void)
{
    outb(PIC1_CMD, 0x11);                 /* ICW1: edge, cascade, ICW4 */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, PIC_VECTOR_BASE);     /* ICW2: vector base */
    outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
    outb(PIC1_DATA, 1u << 2);             /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 2);                   /* ICW3: slave identity */
    outb(PIC1_DATA, 0x01);                /* ICW4: 8086 mode */
    outb(PIC2_DATA, 0x01);
    pic_mask_all();
}

void pic_mask_all(void)
{
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void pic_unmask(unsigned irq)
{
    if (irq < 8) {
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << irq));
    } else {
        outb(PIC2_DATA, inb(PIC2_DATA) & ~(1u << (irq - 8)));
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << 2));
    }
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8) {
        outb(PIC2_CMD, 0x20);
    }
    outb(PIC1_CMD, 0x20);
}
