/*
 * A bare machine for interrupt-controller tests: memory and I/O address
 * spaces, a fake clock, and a recorder for IRQ lines.
 */
#ifndef KESTREL_TESTS_INTC_UTIL_H
#define KESTREL_TESTS_INTC_UTIL_H

#include "core/irq.h"
#include "hw/machine.h"
#include "fake-timer.h"

Machine *test_machine_new(void);
void test_machine_free(Machine *m);

/* Records the level of an IRQ line and counts its rising edges. */
typedef struct IrqProbe {
    IrqLine line;
    int level;
    unsigned rises;
} IrqProbe;

void irq_probe_init(IrqProbe *p);

static inline void outb(Machine *m, uint16_t port, uint8_t v)
{
    address_space_write_val(&m->io, port, v, 1);
}

static inline uint8_t inb(Machine *m, uint16_t port)
{
    return (uint8_t)address_space_read_val(&m->io, port, 1);
}

static inline void mmio_write32(Machine *m, uint64_t addr, uint32_t v)
{
    address_space_write_val(&m->mem, addr, v, 4);
}

static inline uint32_t mmio_read32(Machine *m, uint64_t addr)
{
    return (uint32_t)address_space_read_val(&m->mem, addr, 4);
}

#endif
