/* The local APIC at its default base 0xfee00000 (xAPIC MMIO mode). */
#ifndef KTEST_LAPIC_H
#define KTEST_LAPIC_H

#include <stdint.h>

#define LAPIC_SPURIOUS_VECTOR 0xff

#define LAPIC_TIMER_ONESHOT 0
#define LAPIC_TIMER_PERIODIC (1u << 17)

/* Software-enable this CPU's LAPIC (spurious vector register), TPR 0. */
void lapic_enable(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Send an IPI: ICR low word (vector, delivery mode, level, trigger) to the
 * APIC with the given ID; waits until the APIC accepted it. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
/* Program the timer: mode LAPIC_TIMER_*, vector, initial count; divide
 * by 16.  A count of 0 stops it. */
void lapic_timer_start(uint32_t mode, uint8_t vector, uint32_t count);
uint32_t lapic_timer_current(void);

#endif
