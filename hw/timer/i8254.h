/*
 * The 8254 programmable interval timer of the PC (ports 0x40-0x43) and the
 * NMI status/control port 0x61 through which channel 2's gate and output are
 * reached.
 */
#ifndef KESTREL_HW_TIMER_I8254_H
#define KESTREL_HW_TIMER_I8254_H

#include <glib.h>

#include "core/device.h"
#include "core/irq.h"

#define PIT_FREQ_HZ 1193182

typedef struct PitState PitState;

extern const DeviceClass i8254_device_class;

/* Create the PIT, map ports 0x40-0x43 and 0x61, adopt it into the machine.
 * Channel 0's output drives *irq0 (copied): the board connects it to 8259
 * IRQ0 and IOAPIC pin 2.  Counting follows CLOCK_VIRTUAL. */
PitState *i8254_init(Machine *m, const IrqLine *irq0, GError **errp);

#endif
