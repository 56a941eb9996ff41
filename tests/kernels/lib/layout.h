/*
 * Memory layout and selectors shared by the assembly and C parts of the test
 * kernels.
 */
#ifndef KTEST_LAYOUT_H
#define KTEST_LAYOUT_H

#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE64 0x18

#define BOOT_STACK_SIZE 16384
#define AP_STACK_SIZE 4096
#define MAX_CPUS 64

/* Where the AP start-up code is copied: below 1 MiB, 4 KiB aligned, so the
 * SIPI vector is TRAMPOLINE_ADDR >> 12. */
#define TRAMPOLINE_ADDR 0x8000

#endif
