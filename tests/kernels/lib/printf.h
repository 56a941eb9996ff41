/* Formatted output to COM1 for the test kernels. */
#ifndef KTEST_PRINTF_H
#define KTEST_PRINTF_H

#include <stdarg.h>

/* Supports %c %s %d %u %x %p, the l and ll size modifiers, a field width and
 * the 0 flag. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

#endif
