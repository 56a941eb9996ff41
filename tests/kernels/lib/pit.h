/* The 8254 programmable interval timer. */
#ifndef KTEST_PIT_H
#define KTEST_PIT_H

#include <stdint.h>

#define PIT_HZ 1193182u

/* Channel 0 as a rate generator (mode 2) with the given divisor (0 = 65536). */
void pit_start_periodic(uint16_t divisor);
/* Latch and read channel 0's counter. */
uint16_t pit_read_counter(void);
/* Channel 0 in mode 0 with count 0: counts down without a periodic IRQ. */
void pit_stop(void);

#endif
