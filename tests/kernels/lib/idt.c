/*
 * The IDT: 256 32-bit interrupt gates (Intel SDM vol. 3, 6.11) pointing at
 * the stubs of isr.S, and a table of C handlers they dispatch to.
 */
#include "lib/idt.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#define STUB_SIZE 16

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr; /* P, DPL 0, 32-bit interrupt gate */
    uint16_t offset_hi;
} __attribute__((packed));

struct idt_desc {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

extern char isr_stubs[];
void isr_dispatch(struct irq_frame *f);

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler handlers[256];

void isr_dispatch(struct irq_frame *f)
{
    irq_handler h = handlers[f->vector & 0xff];

    if (h) {
        h(f);
        return;
    }
    kprintf("unexpected interrupt %u (error %x) at %x\n", f->vector, f->error,
            f->eip);
    if (f->vector < 32) {
        debug_exit(EXIT_FAIL);
    }
}

void idt_load(void)
{
    struct idt_desc d = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

    __asm__ volatile("lidt %0" : : "m"(d));
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        uint32_t addr = (uint32_t)(uintptr_t)(isr_stubs + v * STUB_SIZE);
        idt[v].offset_lo = (uint16_t)addr;
        idt[v].selector = SEL_CODE32;
        idt[v].zero = 0;
        idt[v].type_attr = 0x8e;
        idt[v].offset_hi = (uint16_t)(addr >> 16);
    }
    idt_load();
}

void idt_set_raw(unsigned vector, uint64_t desc)
{
    __builtin_memcpy(&idt[vector & 0xff], &desc, sizeof(desc));
}

uint32_t idt_stub(unsigned vector)
{
    return (uint32_t)(uintptr_t)(isr_stubs + (vector & 0xff) * STUB_SIZE);
}

void idt_set_handler(unsigned vector, irq_handler h)
{
    handlers[vector & 0xff] = h;
}
