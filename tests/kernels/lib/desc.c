/* Descriptor tables for the system-feature test kernels: see lib/desc.h. */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

uint64_t kgdt[GDT_ENTRIES] __attribute__((aligned(16)));
volatile struct caught caught;
volatile uint32_t catch_resume;

uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access)
{
    unsigned flags = 0x4; /* D/B */
    if (limit > 0xfffff) {
        limit >>= 12;
        flags |= 0x8;     /* G */
    }
    return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)(access & 0xff) << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned access, unsigned params)
{
    return (uint64_t)(off & 0xffff) | ((uint64_t)sel << 16) |
           ((uint64_t)(params & 31) << 32) | ((uint64_t)(access & 0xff) << 40) |
           ((uint64_t)(off >> 16) << 48);
}

void gdt_setup(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) d = { sizeof(kgdt) - 1, (uint32_t)(uintptr_t)kgdt };

    kgdt[1] = 0x00cf9a000000ffffull;
    kgdt[2] = 0x00cf92000000ffffull;
    kgdt[3] = 0x00af9a000000ffffull;
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\n\t"
                     "mov %2, %%ax\n\t"
                     "mov %%ax, %%ds\n\t"
                     "mov %%ax, %%es\n\t"
                     "mov %%ax, %%ss\n\t"
                     "mov %%ax, %%fs\n\t"
                     "mov %%ax, %%gs"
                     : : "m"(d), "i"(SEL_CODE32), "i"(SEL_DATA32) : "eax", "memory");
}

static void on_caught(struct irq_frame *f)
{
    caught.vector = f->vector;
    caught.error = f->error;
    caught.eip = f->eip;
    caught.cs = f->cs;
    caught.count++;
    f->eip = catch_resume;
}

void catch_vectors(const unsigned *vectors, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        idt_set_handler(vectors[i], on_caught);
    }
}

void catch_reset(void)
{
    caught.vector = ~0u;
    caught.error = ~0u;
    caught.count = 0;
}
