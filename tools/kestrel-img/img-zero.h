/*
 * img-zero.h: fast test for all-zero buffers, used to keep images sparse.
 */
#ifndef KESTREL_IMG_ZERO_H
#define KESTREL_IMG_ZERO_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline bool img_is_zero(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    if (len == 0) {
        return true;
    }
    /* Compare the buffer with itself shifted by one byte. */
    return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

#endif
