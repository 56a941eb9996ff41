/*
 * A FIFO of Ethernet frames waiting for a net client that cannot take them
 * yet.  The frames are copied into one ring of bytes allocated when the
 * queue is made, so queueing a frame never allocates: a frame is a 4-byte
 * length followed by its bytes, padded to 4; a frame that does not fit before
 * the end of the ring starts again at offset 0 (a length of 0xffffffff marks
 * the skipped tail).
 */
#ifndef KESTREL_NET_QUEUE_H
#define KESTREL_NET_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct NetQueue {
    uint8_t *ring;
    size_t size;    /* bytes in ring, a multiple of 4 */
    size_t head;    /* offset of the oldest frame */
    size_t tail;    /* offset where the next frame goes */
    size_t used;    /* bytes between head and tail, skipped tails included */
    unsigned count; /* frames queued */
} NetQueue;

void net_queue_init(NetQueue *q, size_t size);
void net_queue_destroy(NetQueue *q);
static inline bool net_queue_empty(const NetQueue *q) { return q->count == 0; }
/* Copy a frame in; false (nothing queued) if it does not fit now. */
bool net_queue_push(NetQueue *q, const uint8_t *buf, size_t len);
/* The oldest frame, or NULL when empty; stays queued until net_queue_pop. */
const uint8_t *net_queue_peek(const NetQueue *q, size_t *len);
void net_queue_pop(NetQueue *q);
void net_queue_clear(NetQueue *q);

#endif
