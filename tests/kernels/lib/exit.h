/*
 * Leaving a test kernel through the isa-debug-exit device (port 0xf4): a
 * write of V makes the emulator exit with status (V << 1) | 1.
 */
#ifndef KTEST_EXIT_H
#define KTEST_EXIT_H

#include <stdint.h>

#define DEBUG_EXIT_PORT 0xf4

/* Values the kernels write; the emulator exits with 33, 35 and 37. */
#define EXIT_PASS 0x10
#define EXIT_FAIL 0x11
#define EXIT_SKIP 0x12 /* the host cannot run the test (said on serial) */

__attribute__((noreturn)) void debug_exit(uint32_t value);
/* Print "name: PASS" or "name: FAIL" and exit with EXIT_PASS/EXIT_FAIL. */
__attribute__((noreturn)) void test_finish(const char *name, int ok);

#endif
