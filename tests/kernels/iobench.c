/*
 * iobench: the cost of a port-I/O exit handled by the emulator.  Times
 * "rounds=N" (default 100000) reads of "size=S" bytes (4: inl, the default;
 * 2: inw; 1: inb) from "port=P" (default 0x80) with the TSC and prints the
 * cycles per round trip.  A port the hypervisor serves itself (under KVM,
 * the in-kernel 8254 at 0x40) gives the cost of the exit alone.
 */
#include "lib/kernel.h"
#include "lib/tsc.h"

static inline void read_port(uint16_t port, uint32_t size)
{
    if (size == 1) {
        (void)inb(port);
    } else if (size == 2) {
        (void)inw(port);
    } else {
        (void)inl(port);
    }
}

void kmain(const struct mb_info *info)
{
    uint16_t port = (uint16_t)cmdline_uint("port", 0x80);
    uint32_t rounds = cmdline_uint("rounds", 100000);

    uint32_t size = cmdline_uint("size", 4);
    static const char *const names[] = { "", "inb", "inw", "", "inl" };

    if (rounds == 0) {
        rounds = 1;
    }
    if (size != 1 && size != 2) {
        size = 4;
    }
    tsc_calibrate();
    for (unsigned i = 0; i < 1000; i++) {
        read_port(port, size);
    }
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < rounds; i++) {
        read_port(port, size);
    }
    uint64_t t1 = rdtsc();
    uint64_t per = (t1 - t0) / rounds;
    kprintf("iobench: port 0x%x, %u rounds, tsc %llu kHz\n", port, rounds,
            tsc_per_ms());
    kprintf("iobench: %llu cycles per %s, %llu ns\n", per, names[size],
            per * 1000000 / tsc_per_ms());
    test_finish("iobench", 1);
}
