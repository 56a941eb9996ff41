/*
 * A hand-built machine for device unit tests: memory and I/O address spaces,
 * a RAM buffer mapped at 0, GSI lines that record their level and rising
 * edges, and (optionally) a timer list on a private main context.
 */
#ifndef KESTREL_TEST_HW_TEST_H
#define KESTREL_TEST_HW_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/machine.h"

typedef struct TestMachine {
    Machine m;
    MemoryRegion ram_mr;
    int gsi_level[MACHINE_NR_GSI];
    unsigned gsi_edges[MACHINE_NR_GSI];
    GMainContext *ctx;
} TestMachine;

TestMachine *tm_new(uint64_t ram_size, bool timers);
void tm_free(TestMachine *t);
/* Free the devices only (before freeing chardevs they use). */
void tm_free_devices(TestMachine *t);
/* Create, set props, realize and adopt a device; fails the test on error. */
Device *tm_add(TestMachine *t, const DeviceClass *cls, const char *props);

uint8_t tm_inb(TestMachine *t, uint16_t port);
uint16_t tm_inw(TestMachine *t, uint16_t port);
uint32_t tm_inl(TestMachine *t, uint16_t port);
void tm_outb(TestMachine *t, uint16_t port, uint8_t v);
void tm_outw(TestMachine *t, uint16_t port, uint16_t v);
void tm_outl(TestMachine *t, uint16_t port, uint32_t v);

/* Run the machine's main context until cond(arg) or a generous deadline. */
bool tm_run_until(TestMachine *t, bool (*cond)(void *arg), void *arg);

#endif
