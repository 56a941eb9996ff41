/*
 * Split virtqueues (Virtual I/O Device 1.1, section 2.6): descriptor table,
 * available ring and used ring in guest memory, indirect descriptors
 * (2.6.5.3) and event-index notification suppression (2.6.7, 2.6.10).
 *
 * Every value the guest controls is checked before use: ring addresses
 * must lie wholly in RAM (they are mapped once, when the driver enables
 * the queue), descriptor indices must be inside their table, chains must
 * not loop or exceed the queue size, buffers must lie wholly in RAM and
 * their lengths must not overflow, indirect tables must not nest, and
 * device-readable buffers must come before device-writable ones.  Any
 * violation makes virtqueue_pop() return VQ_BROKEN and calls the queue's
 * broken() hook (the device then sets NEEDS_RESET and sends a config
 * interrupt); the queue stays dead until the device is reset.
 *
 * Threading: all calls are made with the machine lock held.
 */
#ifndef KESTREL_HW_VIRTIO_VIRTQUEUE_H
#define KESTREL_HW_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/memory.h"

#define VIRTQUEUE_MAX_SIZE 1024
/* Buffers one element can hold (device-readable + device-writable). */
#define VIRTQUEUE_MAX_SEGS 256

/* Descriptor flags (2.6.5). */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
/* Ring flags. */
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

/* Feature bits of the ring (6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

typedef struct VirtQueue VirtQueue;

/* One popped descriptor chain, as host iovecs: out[] the device reads,
 * in[] the device writes.  Embedded in a device's request structures. */
typedef struct VirtQueueElement {
    uint16_t head;
    unsigned out_num, in_num;
    uint64_t out_len, in_len;   /* byte totals */
    struct iovec out[VIRTQUEUE_MAX_SEGS];
    struct iovec in[VIRTQUEUE_MAX_SEGS];
    uint64_t in_addr[VIRTQUEUE_MAX_SEGS];  /* guest address of each in[] */
} VirtQueueElement;

struct VirtQueue {
    AddressSpace *as;
    uint16_t num_max;      /* what the device offers */
    uint16_t num;          /* what the driver chose */
    bool ready;            /* enabled by the driver and rings mapped */
    bool broken;
    bool indirect;         /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool event_idx;        /* VIRTIO_RING_F_EVENT_IDX negotiated */
    uint16_t msix_vector;
    uint64_t desc_addr, avail_addr, used_addr;
    /* Host pointers of the rings (valid while ready). */
    uint8_t *desc, *avail, *used;
    uint16_t last_avail_idx;
    uint16_t used_idx;
    uint16_t signalled_used;    /* used_idx at the last interrupt */
    bool signalled_used_valid;
    /* Why the queue broke (for the log), and who to tell. */
    const char *broken_reason;
    void (*on_broken)(void *opaque, VirtQueue *vq);
    void *opaque;
};

typedef enum VqPopResult {
    VQ_EMPTY = 0,
    VQ_POPPED = 1,
    VQ_BROKEN = -1,
} VqPopResult;

void virtqueue_init(VirtQueue *vq, AddressSpace *as, uint16_t num_max,
                    void (*on_broken)(void *opaque, VirtQueue *vq),
                    void *opaque);
/* Back to the state after device reset (not ready, size num_max). */
void virtqueue_reset(VirtQueue *vq);
/* The driver enables the queue: check and map the rings.  False (and the
 * queue broken) if they are not where they may be. */
bool virtqueue_enable(VirtQueue *vq, bool indirect, bool event_idx);

/* Take the next available chain. */
VqPopResult virtqueue_pop(VirtQueue *vq, VirtQueueElement *elem);
/* Number of chains the driver made available and we did not pop yet (0 if
 * the available index is insane: the next pop reports it). */
unsigned virtqueue_pending(VirtQueue *vq);
/* Put the last n popped chains back, unused (a device that found too few
 * buffers for a whole packet); they are popped again later. */
void virtqueue_unpop(VirtQueue *vq, unsigned n);
/* Give a chain back with len bytes written to its in[] buffers. */
void virtqueue_push(VirtQueue *vq, uint16_t head, uint32_t len);
/* Should the driver be interrupted for what was pushed since the last
 * interrupt?  (Flags or used_event.)  Records the interrupt if so. */
bool virtqueue_should_notify(VirtQueue *vq);
/* With event_idx, tell the driver which avail index to kick us at. */
void virtqueue_set_avail_event(VirtQueue *vq);

/* With event_idx, ask for a kick as soon as the driver makes any further
 * chain available (a device waiting for more than what is pending). */
void virtqueue_kick_on_next(VirtQueue *vq);

/* The device wrote the element's in[] buffers behind the CPU's back: tell
 * the address space's listeners (the software CPU's code cache). */
void virtqueue_element_written(VirtQueue *vq, const VirtQueueElement *elem);

/* Mark the queue broken with a reason (devices use it for bad requests). */
void virtqueue_set_broken(VirtQueue *vq, const char *reason);

/* Copy between an iovec array and a flat buffer, starting offset bytes in.
 * Return the bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t offset,
                  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t offset,
                    const void *buf, size_t len);
/* Build in dst (capacity cap) the iovecs of bytes [offset, offset+len) of
 * src; returns the count. */
unsigned iov_slice(struct iovec *dst, unsigned cap, const struct iovec *src,
                   unsigned n, size_t offset, size_t len);

#endif
