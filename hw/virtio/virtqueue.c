/*
 * Split virtqueues (Virtual I/O Device 1.1, 2.6): see virtqueue.h for
 * what is validated.  Ring layout in guest memory:
 *   descriptor table  16 bytes each: le64 addr, le32 len, le16 flags,
 *                     le16 next                               (align 16)
 *   available ring    le16 flags, le16 idx, le16 ring[num],
 *                     le16 used_event                          (align 2)
 *   used ring         le16 flags, le16 idx, {le32 id, le32 len}[num],
 *                     le16 avail_event                         (align 4)
 */
#include "hw/virtio/virtqueue.h"

#include <string.h>

#define DESC_SIZE 16

typedef struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} Desc;

void virtqueue_init(VirtQueue *vq, AddressSpace *as, uint16_t num_max,
                    void (*on_broken)(void *opaque, VirtQueue *vq),
                    void *opaque)
{
    memset(vq, 0, sizeof(*vq));
    vq->as = as;
    vq->num_max = num_max;
    vq->on_broken = on_broken;
    vq->opaque = opaque;
    virtqueue_reset(vq);
}

void virtqueue_reset(VirtQueue *vq)
{
    vq->num = vq->num_max;
    vq->ready = false;
    vq->broken = false;
    vq->broken_reason = NULL;
    vq->indirect = vq->event_idx = false;
    vq->msix_vector = 0xffff;
    vq->desc_addr = vq->avail_addr = vq->used_addr = 0;
    vq->desc = vq->avail = vq->used = NULL;
    vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
    vq->signalled_used_valid = false;
}

void virtqueue_set_broken(VirtQueue *vq, const char *reason)
{
    if (vq->broken) {
        return;
    }
    vq->broken = true;
    vq->ready = false;
    vq->broken_reason = reason;
    if (vq->on_broken) {
        vq->on_broken(vq->opaque, vq);
    }
}

static uint8_t *map_ring(VirtQueue *vq, uint64_t addr, uint64_t len,
                         uint64_t align)
{
    if (addr & (align - 1)) {
        return NULL;
    }
    return address_space_ram_ptr(vq->as, addr, len);
}

bool virtqueue_enable(VirtQueue *vq, bool indirect, bool event_idx)
{
    uint64_t n = vq->num;
    if (n == 0 || n > vq->num_max || (n & (n - 1))) {
        virtqueue_set_broken(vq, "queue size is not a power of two within "
                                 "the maximum");
        return false;
    }
    vq->desc = map_ring(vq, vq->desc_addr, DESC_SIZE * n, 16);
    vq->avail = map_ring(vq, vq->avail_addr, 6 + 2 * n, 2);
    vq->used = map_ring(vq, vq->used_addr, 6 + 8 * n, 4);
    if (!vq->desc || !vq->avail || !vq->used) {
        vq->desc = vq->avail = vq->used = NULL;
        virtqueue_set_broken(vq, "a ring is misaligned or not in RAM");
        return false;
    }
    vq->indirect = indirect;
    vq->event_idx = event_idx;
    vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->ready = true;
    return true;
}

static uint16_t avail_idx(const VirtQueue *vq)
{
    return __atomic_load_n((uint16_t *)(vq->avail + 2), __ATOMIC_ACQUIRE);
}

static uint16_t avail_flags(const VirtQueue *vq)
{
    return __atomic_load_n((uint16_t *)vq->avail, __ATOMIC_ACQUIRE);
}

static uint16_t used_event(const VirtQueue *vq)
{
    return __atomic_load_n((uint16_t *)(vq->avail + 4 + 2 * vq->num),
                           __ATOMIC_ACQUIRE);
}

unsigned virtqueue_pending(VirtQueue *vq)
{
    if (!vq->ready) {
        return 0;
    }
    uint16_t n = (uint16_t)(avail_idx(vq) - vq->last_avail_idx);
    return n <= vq->num ? n : 0;
}

static void read_desc(const uint8_t *table, unsigned i, Desc *d)
{
    const uint8_t *p = table + (size_t)i * DESC_SIZE;
    d->addr = ld64(p);
    d->len = ld32(p + 8);
    d->flags = ld16(p + 12);
    d->next = ld16(p + 14);
}

/* Add one buffer to the element; NULL on success, else why not. */
static const char *add_buffer(VirtQueue *vq, VirtQueueElement *e,
                              const Desc *d)
{
    bool write = d->flags & VRING_DESC_F_WRITE;
    if (!write && e->in_num) {
        return "a device-readable buffer follows a device-writable one";
    }
    if (d->len == 0) {
        return NULL;
    }
    if (d->addr + d->len < d->addr) {
        return "a buffer wraps around the address space";
    }
    uint8_t *host = address_space_ram_ptr(vq->as, d->addr, d->len);
    if (!host) {
        return "a buffer is not in RAM";
    }
    if (write) {
        if (e->in_num == VIRTQUEUE_MAX_SEGS) {
            return "too many device-writable buffers in one chain";
        }
        e->in_addr[e->in_num] = d->addr;
        e->in[e->in_num++] = (struct iovec){ host, d->len };
        e->in_len += d->len;
    } else {
        if (e->out_num == VIRTQUEUE_MAX_SEGS) {
            return "too many device-readable buffers in one chain";
        }
        e->out[e->out_num++] = (struct iovec){ host, d->len };
        e->out_len += d->len;
    }
    return NULL;
}

/* Walk an indirect table (2.6.5.3.2). */
static const char *walk_indirect(VirtQueue *vq, VirtQueueElement *e,
                                 const Desc *ind)
{
    if (!vq->indirect) {
        return "an indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
    }
    if (ind->flags & VRING_DESC_F_NEXT) {
        return "an indirect descriptor with the NEXT flag";
    }
    if (ind->len == 0 || ind->len % DESC_SIZE ||
        ind->len / DESC_SIZE > VIRTQUEUE_MAX_SIZE) {
        return "an indirect table of a bad length";
    }
    if (ind->addr + ind->len < ind->addr) {
        return "an indirect table wraps around the address space";
    }
    const uint8_t *table = address_space_ram_ptr(vq->as, ind->addr, ind->len);
    if (!table) {
        return "an indirect table is not in RAM";
    }
    unsigned count = ind->len / DESC_SIZE;
    unsigned i = 0;
    for (unsigned seen = 0;; seen++) {
        if (seen == count) {
            return "an indirect chain loops";
        }
        Desc d;
        read_desc(table, i, &d);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            return "an indirect table inside an indirect table";
        }
        const char *err = add_buffer(vq, e, &d);
        if (err) {
            return err;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return NULL;
        }
        if (d.next >= count) {
            return "an indirect descriptor's next is outside its table";
        }
        i = d.next;
    }
}

static const char *walk_chain(VirtQueue *vq, VirtQueueElement *e,
                              uint16_t head)
{
    unsigned i = head;
    for (unsigned seen = 0;; seen++) {
        if (seen == vq->num) {
            return "a descriptor chain loops or is longer than the queue";
        }
        Desc d;
        read_desc(vq->desc, i, &d);
        const char *err;
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (seen != 0 || e->out_num || e->in_num) {
                return "an indirect descriptor inside a chain";
            }
            return walk_indirect(vq, e, &d);
        }
        err = add_buffer(vq, e, &d);
        if (err) {
            return err;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return NULL;
        }
        if (d.next >= vq->num) {
            return "a descriptor's next is beyond the queue size";
        }
        i = d.next;
    }
}

VqPopResult virtqueue_pop(VirtQueue *vq, VirtQueueElement *elem)
{
    if (vq->broken) {
        return VQ_BROKEN;
    }
    if (!vq->ready) {
        return VQ_EMPTY;
    }
    uint16_t idx = avail_idx(vq);
    uint16_t waiting = (uint16_t)(idx - vq->last_avail_idx);
    if (waiting == 0) {
        return VQ_EMPTY;
    }
    if (waiting > vq->num) {
        virtqueue_set_broken(vq, "the available index moved by more than "
                                 "the queue size");
        return VQ_BROKEN;
    }
    unsigned slot = vq->last_avail_idx & (vq->num - 1);
    uint16_t head = __atomic_load_n((uint16_t *)(vq->avail + 4 + 2 * slot),
                                    __ATOMIC_ACQUIRE);
    if (head >= vq->num) {
        virtqueue_set_broken(vq, "a chain's head is beyond the queue size");
        return VQ_BROKEN;
    }
    elem->head = head;
    elem->out_num = elem->in_num = 0;
    elem->out_len = elem->in_len = 0;
    const char *err = walk_chain(vq, elem, head);
    if (err) {
        virtqueue_set_broken(vq, err);
        return VQ_BROKEN;
    }
    vq->last_avail_idx++;
    return VQ_POPPED;
}

void virtqueue_unpop(VirtQueue *vq, unsigned n)
{
    vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
}

void virtqueue_push(VirtQueue *vq, uint16_t head, uint32_t len)
{
    if (!vq->ready) {
        return;
    }
    unsigned slot = vq->used_idx & (vq->num - 1);
    uint8_t *e = vq->used + 4 + 8 * slot;
    st32(e, head);
    st32(e + 4, len);
    vq->used_idx++;
    /* The entry must be visible before the index that publishes it. */
    __atomic_store_n((uint16_t *)(vq->used + 2), vq->used_idx,
                     __ATOMIC_RELEASE);
}

void virtqueue_set_avail_event(VirtQueue *vq)
{
    if (vq->ready && vq->event_idx) {
        __atomic_store_n((uint16_t *)(vq->used + 4 + 8 * vq->num),
                         vq->last_avail_idx, __ATOMIC_RELEASE);
    }
}

void virtqueue_kick_on_next(VirtQueue *vq)
{
    if (vq->ready && vq->event_idx) {
        __atomic_store_n((uint16_t *)(vq->used + 4 + 8 * vq->num),
                         avail_idx(vq), __ATOMIC_RELEASE);
    }
}

bool virtqueue_should_notify(VirtQueue *vq)
{
    if (!vq->ready) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint16_t old = vq->signalled_used, now = vq->used_idx;
    bool valid = vq->signalled_used_valid;
    vq->signalled_used = now;
    vq->signalled_used_valid = true;
    if (!vq->event_idx) {
        return !(avail_flags(vq) & VRING_AVAIL_F_NO_INTERRUPT);
    }
    if (!valid) {
        return true;
    }
    /* 2.6.7.2: interrupt when used_event lies in (old, now]. */
    uint16_t ev = used_event(vq);
    return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

void virtqueue_element_written(VirtQueue *vq, const VirtQueueElement *elem)
{
    for (unsigned i = 0; i < elem->in_num; i++) {
        address_space_notify_written(vq->as, elem->in_addr[i],
                                     elem->in[i].iov_len);
    }
}

/* ---- iovec helpers ---- */

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t offset,
                  void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t chunk = iov[i].iov_len - offset;
        if (chunk > len - done) {
            chunk = len - done;
        }
        memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + offset,
               chunk);
        done += chunk;
        offset = 0;
    }
    return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t offset,
                    const void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t chunk = iov[i].iov_len - offset;
        if (chunk > len - done) {
            chunk = len - done;
        }
        memcpy((uint8_t *)iov[i].iov_base + offset,
               (const uint8_t *)buf + done, chunk);
        done += chunk;
        offset = 0;
    }
    return done;
}

unsigned iov_slice(struct iovec *dst, unsigned cap, const struct iovec *src,
                   unsigned n, size_t offset, size_t len)
{
    unsigned out = 0;
    for (unsigned i = 0; i < n && len && out < cap; i++) {
        if (offset >= src[i].iov_len) {
            offset -= src[i].iov_len;
            continue;
        }
        size_t chunk = src[i].iov_len - offset;
        if (chunk > len) {
            chunk = len;
        }
        dst[out++] = (struct iovec){ (uint8_t *)src[i].iov_base + offset,
                                     chunk };
        len -= chunk;
        offset = 0;
    }
    return out;
}
