/* The interrupt descriptor table of the test kernels. */
#ifndef KTEST_IDT_H
#define KTEST_IDT_H

#include <stdint.h>

/* What the entry stubs save, lowest address first. */
struct irq_frame {
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax; /* pusha */
    uint32_t vector;
    uint32_t error;
    uint32_t eip, cs, eflags;
};

typedef void (*irq_handler)(struct irq_frame *f);

/* Load an IDT with a gate for every vector; exceptions without a handler
 * print the vector and EIP and fail the test. */
void idt_init(void);
/* Load the same IDT on an AP. */
void idt_load(void);
void idt_set_handler(unsigned vector, irq_handler h);
/* Replace the IDT entry of a vector with a raw 8-byte descriptor (a task
 * gate, a gate of another DPL); idt_stub() is the vector's entry stub. */
void idt_set_raw(unsigned vector, uint64_t desc);
uint32_t idt_stub(unsigned vector);

#endif
