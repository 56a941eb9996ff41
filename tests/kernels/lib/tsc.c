/*
 * TSC calibration: count PIT input-clock ticks (1.193182 MHz) on channel 0
 * while watching the TSC, for about 20 ms.
 */
#include "lib/io.h"
#include "lib/pit.h"
#include "lib/printf.h"
#include "lib/tsc.h"

#define CALIBRATE_PIT_TICKS (PIT_HZ / 50)

static uint64_t ticks_per_ms = 1000000; /* a 1 GHz guess until calibrated */

void tsc_calibrate(void)
{
    uint32_t elapsed = 0;
    uint32_t unchanged = 0;

    pit_start_periodic(0);
    uint16_t prev = pit_read_counter();
    uint64_t t0 = rdtsc();
    /* A PIT that does not count must not hang us: give up when the counter
     * stands still and keep the guess. */
    while (elapsed < CALIBRATE_PIT_TICKS && unchanged < 1000) {
        uint16_t cur = pit_read_counter();
        unchanged = cur == prev ? unchanged + 1 : 0;
        /* Mode 2 counts down from 65536 and reloads. */
        elapsed += (uint16_t)(prev - cur);
        prev = cur;
    }
    uint64_t t1 = rdtsc();
    pit_stop();
    if (elapsed < CALIBRATE_PIT_TICKS) {
        kprintf("tsc: the PIT does not count; assuming 1 GHz\n");
        return;
    }
    uint64_t per_ms = (t1 - t0) * PIT_HZ / ((uint64_t)elapsed * 1000);
    if (per_ms) {
        ticks_per_ms = per_ms;
    }
}

uint64_t tsc_per_ms(void)
{
    return ticks_per_ms;
}

uint64_t tsc_deadline(uint32_t ms)
{
    return rdtsc() + ticks_per_ms * ms;
}

int tsc_passed(uint64_t deadline)
{
    return (int64_t)(rdtsc() - deadline) >= 0;
}

void mdelay(uint32_t ms)
{
    uint64_t end = tsc_deadline(ms);
    while (!tsc_passed(end)) {
        cpu_relax();
    }
}
