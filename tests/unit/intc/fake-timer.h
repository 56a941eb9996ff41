/*
 * A TimerList whose CLOCK_VIRTUAL moves only when a test says so, for
 * deterministic device timer tests.  It implements core/timer.h.
 */
#ifndef KESTREL_TESTS_INTC_FAKE_TIMER_H
#define KESTREL_TESTS_INTC_FAKE_TIMER_H

#include "core/timer.h"

/* Move the clock forward by ns, firing due timers in expiry order (each
 * one sees the clock at its own expiry time). */
void fake_clock_advance(TimerList *tl, int64_t ns);
/* Number of timer callbacks run so far. */
unsigned fake_clock_fired(const TimerList *tl);

#endif
