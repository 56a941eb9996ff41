/*
 * pit: programs 8254 channel 0 as a 1 kHz rate generator and counts the
 * timer interrupts that reach the IDT, first through the 8259 PIC (IRQ 0),
 * then through the I/O APIC (ISA IRQ 0 is I/O APIC pin 2 on a PC) and the
 * local APIC.
 */
#include "lib/idt.h"
#include "lib/ioapic.h"
#include "lib/kernel.h"
#include "lib/lapic.h"
#include "lib/pic.h"
#include "lib/pit.h"
#include "lib/tsc.h"

#define IOAPIC_VECTOR 0x30
#define WANTED_TICKS 50

static volatile unsigned ticks;

static void pic_tick(struct irq_frame *f)
{
    ticks++;
    pic_eoi(0);
}

static void ioapic_tick(struct irq_frame *f)
{
    ticks++;
    lapic_eoi();
}

/* Let interrupts in until WANTED_TICKS arrived or timeout_ms passed. */
static unsigned count_ticks(uint32_t timeout_ms)
{
    uint64_t end = tsc_deadline(timeout_ms);

    ticks = 0;
    pit_start_periodic(PIT_HZ / 1000);
    while (ticks < WANTED_TICKS && !tsc_passed(end)) {
        irq_enable();
        cpu_relax();
    }
    irq_disable();
    pit_stop();
    return ticks;
}

void kmain(const struct mb_info *info)
{
    uint32_t timeout = cmdline_uint("timeout_ms", 5000);

    tsc_calibrate();
    kprintf("pit: tsc %llu kHz\n", tsc_per_ms());

    pic_init();
    idt_set_handler(PIC_VECTOR_BASE + 0, pic_tick);
    pic_unmask(0);
    unsigned via_pic = count_ticks(timeout);
    pic_mask_all();
    kprintf("pit: %u ticks through the PIC\n", via_pic);

    lapic_enable();
    idt_set_handler(IOAPIC_VECTOR, ioapic_tick);
    ioapic_route(2, IOAPIC_VECTOR, lapic_id());
    unsigned via_ioapic = count_ticks(timeout);
    ioapic_mask(2);
    kprintf("pit: %u ticks through the IOAPIC\n", via_ioapic);

    test_finish("pit", via_pic > 0 && via_ioapic > 0);
}
