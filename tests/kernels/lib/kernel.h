/*
 * What every test kernel provides and gets: kmain() is called on the boot CPU
 * with COM1 ready, the IDT loaded and the Multiboot command line parsed.
 */
#ifndef KTEST_KERNEL_H
#define KTEST_KERNEL_H

#include <stdint.h>

#include "lib/exit.h"
#include "lib/io.h"
#include "lib/multiboot.h"
#include "lib/printf.h"

void kmain(const struct mb_info *info);

/* The Multiboot command line, or "" when the loader gave none. */
const char *boot_cmdline(void);
/* Value of "key=N" (decimal or 0x hex) in the command line, else def. */
uint32_t cmdline_uint(const char *key, uint32_t def);

#endif
