/*
 * The High Precision Event Timer of the pc machine (IA-PC HPET
 * specification 1.0a): one block at 0xfed00000 with a 64-bit main counter
 * at 100 MHz and three comparators.
 */
#ifndef KESTREL_HW_TIMER_HPET_H
#define KESTREL_HW_TIMER_HPET_H

#include <glib.h>
#include <stdbool.h>

#include "core/device.h"
#include "core/irq.h"

#define HPET_BASE 0xfed00000ull
#define HPET_MMIO_SIZE 0x400
#define HPET_NR_TIMERS 3
#define HPET_PERIOD_FS 10000000u   /* 10 ns per counter tick */
#define HPET_VENDOR_ID 0x8086
/* Low half of the capabilities register: revision 1, 3 timers, 64-bit
 * counter, legacy replacement capable, vendor; also the ACPI HPET table's
 * event timer block ID. */
#define HPET_BLOCK_ID (0x01u | ((HPET_NR_TIMERS - 1u) << 8) | (1u << 13) | \
                       (1u << 15) | ((uint32_t)HPET_VENDOR_ID << 16))

typedef struct HpetState HpetState;

/* How the board wires the HPET.  In legacy replacement mode timer 0 drives
 * irq0 (8259 IRQ0 / I/O APIC pin 2, in place of the 8254) and timer 1 irq8
 * (IRQ8, in place of the RTC); legacy_changed tells the board to cut the
 * 8254 and the RTC off while the mode is on.  Otherwise a timer drives
 * Machine.gsi[route]. */
typedef struct HpetWiring {
    IrqLine irq0;
    IrqLine irq8;
    void (*legacy_changed)(void *opaque, bool on);
    void *opaque;
} HpetWiring;

extern const DeviceClass hpet_device_class;

/* Create the HPET, map it at HPET_BASE and adopt it into the machine. */
HpetState *hpet_init(Machine *m, const HpetWiring *w, GError **errp);

#endif
