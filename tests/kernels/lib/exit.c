/* isa-debug-exit: see lib/exit.h. */
#include "lib/exit.h"
#include "lib/io.h"
#include "lib/printf.h"

void debug_exit(uint32_t value)
{
    outl(DEBUG_EXIT_PORT, value);
    /* No exit device: stop here. */
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

void test_finish(const char *name, int ok)
{
    kprintf("%s: %s\n", name, ok ? "PASS" : "FAIL");
    debug_exit(ok ? EXIT_PASS : EXIT_FAIL);
}
