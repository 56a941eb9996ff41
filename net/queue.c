/*
 * The frame FIFO of net clients: a ring of bytes holding length-prefixed
 * frames (see queue.h).
 */
#include "net/queue.h"

#include <string.h>

#include <glib.h>

#define SKIP_MARK 0xffffffffu

static size_t record_size(size_t len)
{
    return 4 + ((len + 3) & ~(size_t)3);
}

void net_queue_init(NetQueue *q, size_t size)
{
    memset(q, 0, sizeof(*q));
    q->size = size & ~(size_t)3;
    q->ring = g_malloc(q->size);
}

void net_queue_destroy(NetQueue *q)
{
    g_free(q->ring);
    q->ring = NULL;
    q->size = 0;
}

void net_queue_clear(NetQueue *q)
{
    q->head = q->tail = q->used = 0;
    q->count = 0;
}

static void put_len(NetQueue *q, size_t off, uint32_t v)
{
    memcpy(q->ring + off, &v, 4);
}

static uint32_t get_len(const NetQueue *q, size_t off)
{
    uint32_t v;
    memcpy(&v, q->ring + off, 4);
    return v;
}

bool net_queue_push(NetQueue *q, const uint8_t *buf, size_t len)
{
    size_t need = record_size(len);
    if (len >= SKIP_MARK || need > q->size) {
        return false;
    }
    size_t free_total = q->size - q->used;
    size_t to_end = q->size - q->tail;
    size_t skip = 0;
    if (need > to_end) {
        /* Wrap: the tail of the ring is wasted until the head passes it. */
        skip = to_end;
    }
    if (need + skip > free_total) {
        return false;
    }
    if (skip) {
        if (to_end >= 4) {
            put_len(q, q->tail, SKIP_MARK);
        }
        q->tail = 0;
        q->used += skip;
    }
    put_len(q, q->tail, (uint32_t)len);
    memcpy(q->ring + q->tail + 4, buf, len);
    q->tail = (q->tail + need) % q->size;
    q->used += need;
    q->count++;
    return true;
}

/* Move head past a skipped tail, if it points at one. */
static size_t frame_start(const NetQueue *q, size_t *skipped)
{
    size_t h = q->head;
    *skipped = 0;
    if (q->size - h < 4 || get_len(q, h) == SKIP_MARK) {
        *skipped = q->size - h;
        h = 0;
    }
    return h;
}

const uint8_t *net_queue_peek(const NetQueue *q, size_t *len)
{
    if (!q->count) {
        return NULL;
    }
    size_t skipped;
    size_t h = frame_start(q, &skipped);
    *len = get_len(q, h);
    return q->ring + h + 4;
}

void net_queue_pop(NetQueue *q)
{
    if (!q->count) {
        return;
    }
    size_t skipped;
    size_t h = frame_start(q, &skipped);
    size_t rec = record_size(get_len(q, h));
    q->used -= skipped + rec;
    q->head = (h + rec) % q->size;
    q->count--;
    if (!q->count) {
        q->head = q->tail = q->used = 0;
    }
}
