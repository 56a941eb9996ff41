/* Time for the test kernels: the TSC, calibrated against the PIT. */
#ifndef KTEST_TSC_H
#define KTEST_TSC_H

#include <stdint.h>

/* Measure TSC ticks per millisecond with PIT channel 0 (interrupts must be
 * off or IRQ 0 masked; channel 0 is left stopped). */
void tsc_calibrate(void);
uint64_t tsc_per_ms(void);
/* The TSC value ms milliseconds from now. */
uint64_t tsc_deadline(uint32_t ms);
int tsc_passed(uint64_t deadline);
void mdelay(uint32_t ms);

#endif
