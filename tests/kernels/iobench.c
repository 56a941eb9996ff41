/*
 * iobench: the cost of a port-I/O exit handled by the emulator.  Times
 * "rounds=N" (default 100000) "inl" instructions from "port=P" (default 0x80)
 * with the TSC and prints the cycles per round trip.
 */
#include "lib/kernel.h"
#include "lib/tsc.h"

void kmain(const struct mb_info *info)
{
    uint16_t port = (uint16_t)cmdline_uint("port", 0x80);
    uint32_t rounds = cmdline_uint("rounds", 100000);

    if (rounds == 0) {
        rounds = 1;
    }
    tsc_calibrate();
    for (unsigned i = 0; i < 1000; i++) {
        (void)inl(port);
    }
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < rounds; i++) {
        (void)inl(port);
    }
    uint64_t t1 = rdtsc();
    uint64_t per = (t1 - t0) / rounds;
    kprintf("iobench: port 0x%x, %u rounds, tsc %llu kHz\n", port, rounds,
            tsc_per_ms());
    kprintf("iobench: %llu cycles per inl, %llu ns\n", per,
            per * 1000000 / tsc_per_ms());
    test_finish("iobench", 1);
}
