/*
 * The I/O APIC (82093AA, version 0x20, 24 inputs) at 0xfec00000: turns
 * interrupt input pins into APIC bus messages through its redirection table.
 */
#ifndef KESTREL_HW_INTC_IOAPIC_H
#define KESTREL_HW_INTC_IOAPIC_H

#include <glib.h>

#include "core/device.h"
#include "core/irq.h"
#include "hw/intc/apic.h"

#define IOAPIC_DEFAULT_ADDRESS 0xfec00000ULL
#define IOAPIC_NR_PINS 24

typedef struct IoapicState IoapicState;

extern const DeviceClass ioapic_device_class;

/* Create the IOAPIC, map it in m->mem, adopt it into the machine and make it
 * the listener of EOI broadcasts from the LAPICs on bus. */
IoapicState *ioapic_init(Machine *m, ApicBus *bus, GError **errp);

/* Set the IOAPIC ID (bits 27:24 of IOAPICID), now and after each reset, to
 * match what the firmware tables (MADT/MP table) advertise. */
void ioapic_set_id(IoapicState *s, uint8_t id);

/* Input pin n (0..23).  Levels are "asserted" (1) or not (0): the polarity
 * bit of a redirection entry is kept for the guest but not applied, so the
 * board and the firmware tables must describe every pin as active high. */
IrqLine *ioapic_irq(IoapicState *s, unsigned n);

/* An EOI for vector from a LAPIC (what apic_bus_set_eoi_listener calls). */
void ioapic_eoi(void *opaque, uint8_t vector);

#endif
