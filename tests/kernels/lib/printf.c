/*
 * A small printf for the test kernels, writing to COM1.  It serialises CPUs
 * with a spin lock so lines from APs do not interleave.
 */
#include <stdint.h>

#include "lib/printf.h"
#include "lib/serial.h"

static volatile int print_lock;

static void put_number(unsigned long long v, unsigned base, int width,
                       char pad, int negative)
{
    char buf[24];
    int n = 0;

    do {
        unsigned digit = (unsigned)(v % base);
        buf[n++] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
        v /= base;
    } while (v);
    if (negative) {
        if (pad == '0') {
            serial_putc('-');
        } else {
            buf[n++] = '-';
        }
        width--;
    }
    while (width-- > n) {
        serial_putc(pad);
    }
    while (n) {
        serial_putc(buf[--n]);
    }
}

void kvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        int longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        unsigned long long u;
        long long s;
        switch (*fmt) {
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            for (str = str ? str : "(null)"; *str; str++) {
                serial_putc(*str);
            }
            break;
        }
        case 'd':
            s = longs >= 2 ? va_arg(ap, long long)
                : longs ? va_arg(ap, long) : va_arg(ap, int);
            put_number(s < 0 ? -(unsigned long long)s : (unsigned long long)s,
                       10, width, pad, s < 0);
            break;
        case 'u':
        case 'x':
            u = longs >= 2 ? va_arg(ap, unsigned long long)
                : longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_number(u, *fmt == 'u' ? 10 : 16, width, pad, 0);
            break;
        case 'p':
            serial_putc('0');
            serial_putc('x');
            put_number((uintptr_t)va_arg(ap, void *), 16, 8, '0', 0);
            break;
        case '%':
            serial_putc('%');
            break;
        case '\0':
            return;
        default:
            serial_putc('%');
            serial_putc(*fmt);
            break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) {
        __asm__ volatile("pause");
    }
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}
