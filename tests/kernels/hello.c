/*
 * hello: the smallest test kernel.  Prints one line on COM1 and leaves
 * through isa-debug-exit with the value of "exit=N" on the command line
 * (default EXIT_PASS).
 */
#include "lib/kernel.h"

void kmain(const struct mb_info *info)
{
    kprintf("hello: Hello from a Kestrel test kernel\n");
    debug_exit(cmdline_uint("exit", EXIT_PASS));
}
