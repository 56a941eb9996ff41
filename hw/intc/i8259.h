/*
 * The PC's pair of 8259A programmable interrupt controllers (master at
 * ports 0x20/0x21, slave at 0xa0/0xa1, cascaded on master IRQ2) plus the
 * PIIX edge/level control registers (ELCR) at ports 0x4d0/0x4d1.
 */
#ifndef KESTREL_HW_INTC_I8259_H
#define KESTREL_HW_INTC_I8259_H

#include <glib.h>

#include "core/device.h"
#include "core/irq.h"

typedef struct PicState PicState;

extern const DeviceClass i8259_device_class;

/* Create both PICs, map their ports in m->io and adopt them into the
 * machine.  *cpu_intr_out (copied) is driven with the master's INT output:
 * connect it to the LAPICs' LINT0 (apic_bus_lint0()) or to the CPU. */
PicState *i8259_init(Machine *m, const IrqLine *cpu_intr_out, GError **errp);

/* Input line n (0..15) of the pair; IRQ2 is the cascade and is not wired. */
IrqLine *i8259_irq(PicState *s, unsigned n);

/* The INTA cycle: the vector of the highest-priority request (moved to
 * in-service unless auto-EOI), or the spurious vector of IRQ7/IRQ15 when the
 * request went away.  Call with the machine lock held. */
int i8259_ack(PicState *s);
/* Same, with an opaque pointer, for ApicBus/CpuIntr callbacks. */
int i8259_ack_cb(void *opaque);

/* Current level of the master's INT output. */
bool i8259_int_output(const PicState *s);

#endif
