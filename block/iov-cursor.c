/*
 * iov-cursor.c: taking consecutive byte ranges of an iovec array as
 * sub-vectors (see iov-cursor.h).
 */
#include "block/iov-cursor.h"

void iov_cursor_init(IovCursor *c, const struct iovec *iov, int niov)
{
    c->iov = iov;
    c->niov = niov;
    c->i = 0;
    c->off = 0;
}

int iov_cursor_take(IovCursor *c, struct iovec *dst, int cap, uint64_t len,
                    uint64_t *taken)
{
    int n = 0;
    uint64_t got = 0;
    while (got < len && n < cap && c->i < c->niov) {
        const struct iovec *e = &c->iov[c->i];
        size_t room = e->iov_len - c->off;
        if (room == 0) {
            c->i++;
            c->off = 0;
            continue;
        }
        size_t k = len - got < room ? (size_t)(len - got) : room;
        dst[n].iov_base = (uint8_t *)e->iov_base + c->off;
        dst[n].iov_len = k;
        n++;
        got += k;
        c->off += k;
        if (c->off == e->iov_len) {
            c->i++;
            c->off = 0;
        }
    }
    *taken = got;
    return n;
}
