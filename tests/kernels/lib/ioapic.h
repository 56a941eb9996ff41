/* The I/O APIC at its default base 0xfec00000. */
#ifndef KTEST_IOAPIC_H
#define KTEST_IOAPIC_H

#include <stdint.h>

unsigned ioapic_pins(void);
/* Route a pin, edge triggered, active high, fixed delivery, physical
 * destination apic_id. */
void ioapic_route(unsigned pin, uint8_t vector, uint32_t apic_id);
void ioapic_mask(unsigned pin);

#endif
