/* Reading "key=value" words from the Multiboot command line. */
#include "lib/kernel.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

static uint32_t parse_uint(const char *s)
{
    uint32_t v = 0;
    unsigned base = 10;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            d = (unsigned)(*s - 'A' + 10);
        } else {
            return v;
        }
        v = v * base + d;
    }
}

uint32_t cmdline_uint(const char *key, uint32_t def)
{
    const char *p = boot_cmdline();

    while (*p) {
        while (is_space(*p)) {
            p++;
        }
        const char *k = key;
        const char *w = p;
        while (*k && *w == *k) {
            k++;
            w++;
        }
        if (!*k && *w == '=') {
            return parse_uint(w + 1);
        }
        while (*p && !is_space(*p)) {
            p++;
        }
    }
    return def;
}
