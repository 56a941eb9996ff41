/*
 * iov-cursor.h: a position inside a caller's iovec array, from which
 * drivers take byte ranges as sub-vectors (into their own scratch arrays)
 * so that one host readv/writev covers many guest buffers.
 */
#ifndef KESTREL_BLOCK_IOV_CURSOR_H
#define KESTREL_BLOCK_IOV_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct IovCursor {
    const struct iovec *iov;
    int niov;
    int i;            /* current element */
    size_t off;       /* bytes of it already taken */
} IovCursor;

void iov_cursor_init(IovCursor *c, const struct iovec *iov, int niov);

/* Takes up to len bytes into dst[0..cap) and advances past them.  Returns
 * the number of entries written; *taken is the bytes they hold, less than
 * len only when cap entries were not enough or the vector ended. */
int iov_cursor_take(IovCursor *c, struct iovec *dst, int cap, uint64_t len,
                    uint64_t *taken);

#endif
