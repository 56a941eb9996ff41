/*
 * virtio-blk (Virtual I/O Device 1.1, 5.2) on the virtio PCI transport:
 * read, write, flush, get-id, discard and write-zeroes requests, one or
 * more request queues (VIRTIO_BLK_F_MQ).  Requests run asynchronously on
 * the block layer's worker threads; their completions arrive on the main
 * loop, are collected, and a batching source then fills the used rings and
 * sends one interrupt per queue for the whole batch.
 *
 * Request slots (with their element and iovecs) are allocated once, at
 * realize: num-queues * queue-size of them.  When all are in flight the
 * queue is left alone until completions free some.  A device reset (the
 * driver writes 0 to the status, or a machine reset) waits until the
 * block layer no longer runs any of this device's requests, so nothing
 * reaches guest RAM after it; their completions arrive later, are
 * recognised by the reset count and dropped without touching the rings.
 * Saving the device's state first lets its requests in flight finish
 * (virtio_blk_pre_save), so a snapshot never holds one.
 */
#include "hw/virtio/virtio-blk.h"

#include <errno.h>
#include <string.h>

#include "block/block-backend.h"
#include "core/error.h"
#include "hw/block/drive.h"
#include "hw/virtio/virtio-pci.h"

#define SECTOR 512ull
#define MAX_DISCARD_SECTORS 0x3fffff
#define MAX_QUEUES 16
/* Reads up to this size whose data is in the host page cache are done
 * right away on the notifying vCPU thread (no worker, no main-loop hop). */
#define INLINE_READ_MAX (2u << 20)

typedef struct VirtioBlk VirtioBlk;

typedef struct BlkReq {
    VirtQueueElement elem;
    VirtioBlk *s;
    struct BlkReq *next;
    unsigned queue;
    uint32_t reset_count;
    uint8_t *status;         /* host pointer of the status byte */
    uint32_t used_len;
    int ret;
    struct iovec data[VIRTQUEUE_MAX_SEGS];
} BlkReq;

struct VirtioBlk {
    VirtioPci vp;            /* first: a PCI device */
    VirtIODevice vdev;
    char *drive_id;
    char *serial;
    uint16_t num_queues;
    uint16_t queue_size;
    Drive *drive;
    BlockBackend *blk;
    uint64_t sectors;
    BlkReq *reqs;
    unsigned nr_reqs;
    BlkReq *free_list;
    BlkReq *done_head, *done_tail;   /* main thread only */
    GSource *batch;
    uint32_t stalled;                /* queues waiting for a free slot */
};

static VirtioBlk *of_vdev(VirtIODevice *vdev)
{
    return (VirtioBlk *)((char *)vdev - offsetof(VirtioBlk, vdev));
}

/* ---- completion ---- */

static void finish(VirtioBlk *s, BlkReq *req, uint8_t status)
{
    VirtQueue *vq = &s->vdev.vqs[req->queue];
    if (req->reset_count == s->vdev.reset_count && vq->ready) {
        if (req->used_len > 1) {
            /* data read from the disk may be code the guest runs next */
            virtqueue_element_written(vq, &req->elem);
        }
        *req->status = status;
        virtqueue_push(vq, req->elem.head, req->used_len);
    }
    req->next = s->free_list;
    s->free_list = req;
}

/* Block layer callback, on the main loop without the machine lock. */
static void request_done(void *opaque, int ret)
{
    BlkReq *req = opaque;
    VirtioBlk *s = req->s;
    req->ret = ret;
    req->next = NULL;
    if (s->done_tail) {
        s->done_tail->next = req;
    } else {
        s->done_head = req;
    }
    s->done_tail = req;
    g_source_set_ready_time(s->batch, 0);
}

static void process_queue(VirtioBlk *s, unsigned q);

/* Fill the used rings with the requests that finished and interrupt once
 * per queue.  Machine lock held. */
static void complete_batch(VirtioBlk *s)
{
    uint32_t touched = 0;
    BlkReq *req = s->done_head;
    s->done_head = s->done_tail = NULL;
    while (req) {
        BlkReq *next = req->next;
        touched |= 1u << req->queue;
        finish(s, req, req->ret < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
        req = next;
    }
    for (unsigned q = 0; q < s->vdev.nr_queues; q++) {
        if (touched & (1u << q)) {
            virtio_notify_queue(&s->vdev, q);
        }
    }
}

static gboolean batch_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    VirtioBlk *s = *(VirtioBlk **)(src + 1);
    g_source_set_ready_time(src, -1);
    g_mutex_lock(&s->vdev.machine->lock);
    complete_batch(s);
    uint32_t stalled = s->stalled;
    s->stalled = 0;
    for (unsigned q = 0; q < s->vdev.nr_queues; q++) {
        if (stalled & (1u << q)) {
            process_queue(s, q);
        }
    }
    g_mutex_unlock(&s->vdev.machine->lock);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs batch_funcs = {
    .dispatch = batch_dispatch,
};

/* ---- requests ---- */

/* Check a range of sectors against the disk; false if outside. */
static bool in_range(VirtioBlk *s, uint64_t sector, uint64_t bytes)
{
    return sector <= s->sectors && bytes / SECTOR <= s->sectors - sector &&
           bytes % SECTOR == 0;
}

/* Returns true if the request went to the block layer; otherwise the
 * status to complete it with now is in *status. */
static bool start_request(VirtioBlk *s, BlkReq *req, uint8_t *status)
{
    VirtQueueElement *e = &req->elem;
    uint8_t hdr[16];
    iov_to_buf(e->out, e->out_num, 0, hdr, sizeof(hdr));
    uint32_t type = ld32(hdr);
    uint64_t sector = ld64(hdr + 8);
    uint64_t in_data = e->in_len - 1;      /* without the status byte */
    uint64_t out_data = e->out_len - 16;   /* without the header */
    unsigned n;

    req->used_len = 1;
    switch (type) {
    case VIRTIO_BLK_T_IN:
        if (!in_range(s, sector, in_data)) {
            break;
        }
        n = iov_slice(req->data, VIRTQUEUE_MAX_SEGS, e->in, e->in_num, 0,
                      in_data);
        req->used_len = (uint32_t)e->in_len;
        if (in_data <= INLINE_READ_MAX &&
            blk_try_preadv(s->blk, sector * SECTOR, req->data, (int)n) == 0) {
            *status = VIRTIO_BLK_S_OK;
            return false;
        }
        blk_aio_preadv(s->blk, sector * SECTOR, req->data, (int)n,
                       request_done, req);
        return true;
    case VIRTIO_BLK_T_OUT:
        if (s->drive->read_only || !in_range(s, sector, out_data)) {
            break;
        }
        n = iov_slice(req->data, VIRTQUEUE_MAX_SEGS, e->out, e->out_num, 16,
                      out_data);
        blk_aio_pwritev(s->blk, sector * SECTOR, req->data, (int)n,
                        request_done, req);
        return true;
    case VIRTIO_BLK_T_FLUSH:
        blk_aio_flush(s->blk, request_done, req);
        return true;
    case VIRTIO_BLK_T_GET_ID: {
        char id[VIRTIO_BLK_ID_BYTES] = { 0 };
        if (s->serial) {
            memcpy(id, s->serial, strlen(s->serial)); /* <= 20, realize */
        }
        uint64_t len = in_data < sizeof(id) ? in_data : sizeof(id);
        iov_from_buf(e->in, e->in_num, 0, id, len);
        req->used_len = (uint32_t)(len + 1);
        *status = VIRTIO_BLK_S_OK;
        return false;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        uint8_t seg[16];
        if (out_data != sizeof(seg) || s->drive->read_only) {
            break; /* one segment at a time (max_*_seg = 1) */
        }
        iov_to_buf(e->out, e->out_num, 16, seg, sizeof(seg));
        uint64_t start = ld64(seg);
        uint32_t count = ld32(seg + 8), flags = ld32(seg + 12);
        bool zeroes = type == VIRTIO_BLK_T_WRITE_ZEROES;
        if (count > MAX_DISCARD_SECTORS || (flags & ~(zeroes ? 1u : 0u))) {
            *status = VIRTIO_BLK_S_UNSUPP;
            return false;
        }
        if (!in_range(s, start, (uint64_t)count * SECTOR)) {
            break;
        }
        if (zeroes) {
            blk_aio_pwrite_zeroes(s->blk, start * SECTOR, count * SECTOR,
                                  flags & 1, request_done, req);
        } else {
            blk_aio_pdiscard(s->blk, start * SECTOR, count * SECTOR,
                             request_done, req);
        }
        return true;
    }
    default:
        *status = VIRTIO_BLK_S_UNSUPP;
        return false;
    }
    *status = VIRTIO_BLK_S_IOERR;
    return false;
}

static void process_queue(VirtioBlk *s, unsigned q)
{
    VirtQueue *vq = &s->vdev.vqs[q];
    bool completed_now = false;
    for (;;) {
        BlkReq *req = s->free_list;
        if (!req) {
            if (virtqueue_pending(vq)) {
                s->stalled |= 1u << q;
            }
            break;
        }
        VqPopResult r = virtqueue_pop(vq, &req->elem);
        if (r == VQ_EMPTY) {
            /* With event_idx: ask for a kick at the next chain, then look
             * again in case one arrived before the driver could see it. */
            virtqueue_set_avail_event(vq);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (virtqueue_pending(vq)) {
                continue;
            }
            break;
        }
        if (r == VQ_BROKEN) {
            return;
        }
        s->free_list = req->next;
        req->queue = q;
        req->reset_count = s->vdev.reset_count;
        VirtQueueElement *e = &req->elem;
        if (e->out_len < 16 || e->in_num == 0) {
            req->next = s->free_list;
            s->free_list = req;
            virtqueue_set_broken(vq, "a request without its header or "
                                     "status byte");
            return;
        }
        struct iovec *last = &e->in[e->in_num - 1];
        req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
        uint8_t status;
        if (!start_request(s, req, &status)) {
            finish(s, req, status);
            completed_now = true;
        }
    }
    if (completed_now) {
        virtio_notify_queue(&s->vdev, q);
    }
}

/* ---- virtio device hooks ---- */

static void blk_queue_notify(VirtIODevice *vdev, unsigned q)
{
    process_queue(of_vdev(vdev), q);
}

static void blk_update_config(VirtIODevice *vdev)
{
    VirtioBlk *s = of_vdev(vdev);
    uint8_t *c = vdev->config;
    memset(c, 0, VIRTIO_BLK_CFG_SIZE);
    st64(c + VIRTIO_BLK_CFG_CAPACITY, s->sectors);
    uint32_t seg_max = s->queue_size - 2;
    if (seg_max > VIRTQUEUE_MAX_SEGS - 2) {
        seg_max = VIRTQUEUE_MAX_SEGS - 2;
    }
    st32(c + VIRTIO_BLK_CFG_SEG_MAX, seg_max);
    st32(c + VIRTIO_BLK_CFG_BLK_SIZE, SECTOR);
    st16(c + VIRTIO_BLK_CFG_NUM_QUEUES, s->num_queues);
    st32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS);
    st32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1);
    st32(c + VIRTIO_BLK_CFG_DISCARD_ALIGN, 1);
    st32(c + VIRTIO_BLK_CFG_MAX_WZ_SECTORS, MAX_DISCARD_SECTORS);
    st32(c + VIRTIO_BLK_CFG_MAX_WZ_SEG, 1);
    c[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
}

static void blk_reset(VirtIODevice *vdev)
{
    VirtioBlk *s = of_vdev(vdev);
    s->stalled = 0;
    blk_wait_io(s->blk);
}

static const VirtioDeviceOps virtio_blk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .config_size = VIRTIO_BLK_CFG_SIZE,
    .update_config = blk_update_config,
    .queue_notify = blk_queue_notify,
    .reset = blk_reset,
};

/* ---- the PCI device ---- */

static bool virtio_blk_realize(Device *dev, GError **errp)
{
    VirtioBlk *s = (VirtioBlk *)dev;
    Machine *m = dev->machine;
    s->drive = drive_claim_by_id(m, s->drive_id, dev, errp);
    if (!s->drive) {
        return false;
    }
    if (!s->drive->blk) {
        error_setg(errp, "virtio-blk-pci: drive '%s' has no medium",
                   s->drive->id);
        return false;
    }
    if (s->num_queues < 1 || s->num_queues > MAX_QUEUES) {
        error_setg(errp, "virtio-blk-pci: num-queues=%u: 1 to %d",
                   s->num_queues, MAX_QUEUES);
        return false;
    }
    unsigned qs = s->queue_size;
    if (qs < 4 || qs > VIRTQUEUE_MAX_SIZE || (qs & (qs - 1))) {
        error_setg(errp, "virtio-blk-pci: queue-size=%u: a power of two "
                   "from 4 to %d", qs, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (s->serial && strlen(s->serial) > VIRTIO_BLK_ID_BYTES) {
        error_setg(errp, "virtio-blk-pci: serial '%s' is longer than %d "
                   "characters", s->serial, VIRTIO_BLK_ID_BYTES);
        return false;
    }
    s->blk = s->drive->blk;
    s->sectors = blk_getlength(s->blk) / SECTOR;
    uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) |
                        (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                        (1ull << VIRTIO_BLK_F_FLUSH) |
                        (1ull << VIRTIO_BLK_F_DISCARD) |
                        (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
    if (s->num_queues > 1) {
        features |= 1ull << VIRTIO_BLK_F_MQ;
    }
    if (s->drive->read_only) {
        features |= 1ull << VIRTIO_BLK_F_RO;
    }
    virtio_init(&s->vdev, &virtio_blk_ops, m, "virtio-blk-pci",
                s->num_queues, s->queue_size, features);
    s->nr_reqs = (unsigned)s->num_queues * qs;
    s->reqs = g_new0(BlkReq, s->nr_reqs);
    for (unsigned i = 0; i < s->nr_reqs; i++) {
        s->reqs[i].s = s;
        s->reqs[i].next = s->free_list;
        s->free_list = &s->reqs[i];
    }
    s->batch = g_source_new(&batch_funcs, sizeof(GSource) + sizeof(s));
    *(VirtioBlk **)(s->batch + 1) = s;
    g_source_set_ready_time(s->batch, -1);
    g_source_attach(s->batch, m->ctx);
    return virtio_pci_realize(&s->vp, &s->vdev, 0x010000, errp);
}

static void virtio_blk_reset_dev(Device *dev)
{
    virtio_pci_reset(&((VirtioBlk *)dev)->vp);
}

static void virtio_blk_unrealize(Device *dev)
{
    VirtioBlk *s = (VirtioBlk *)dev;
    if (s->blk && s->reqs) {
        blk_drain(s->blk); /* completions still refer to s->reqs */
    }
    virtio_pci_unrealize(&s->vp);
    if (s->batch) {
        g_source_destroy(s->batch);
        g_source_unref(s->batch);
        s->batch = NULL;
    }
    if (s->drive) {
        s->drive->claimed_by = NULL;
    }
    g_free(s->reqs);
    s->reqs = NULL;
}

/* Saving takes no request in flight: they finish first (their data is in
 * guest RAM and their used entries in the ring before the state is read).
 * No new request starts; whatever the driver has made available since is
 * picked up after a load. */
static void virtio_blk_pre_save(void *opaque)
{
    VirtioBlk *s = opaque;
    blk_drain(s->blk);
    complete_batch(s);
}

static bool virtio_blk_post_load(void *opaque, GError **errp)
{
    VirtioBlk *s = opaque;
    if (!virtio_pci_post_load(&s->vp, errp) ||
        !virtio_post_load(&s->vdev, errp)) {
        return false;
    }
    /* Chains the driver made available (and perhaps kicked for) before the
     * save: serve them now rather than wait for another kick. */
    s->stalled = 0;
    for (unsigned q = 0; q < s->vdev.nr_queues; q++) {
        if (s->vdev.vqs[q].ready && virtqueue_pending(&s->vdev.vqs[q])) {
            virtio_queue_kick(&s->vdev, q);
        }
    }
    return true;
}

static const VMStateField virtio_blk_fields[] = {
    VMSTATE_VIRTIO_PCI(VirtioBlk, vp),
    VMSTATE_VIRTIO_DEVICE(VirtioBlk, vdev),
    VMSTATE_END,
};

static const VMStateDescription vmstate_virtio_blk = {
    .name = "virtio-blk-pci",
    .version = 1,
    .fields = virtio_blk_fields,
    .post_load = virtio_blk_post_load,
    .pre_save = virtio_blk_pre_save,
};

static const Property virtio_blk_props[] = {
    DEFINE_PROP_STRING(VirtioBlk, "drive", drive_id, NULL,
                       "the -drive id of the image"),
    DEFINE_PROP_STRING(VirtioBlk, "serial", serial, NULL,
                       "serial number the guest reads (up to 20 characters)"),
    DEFINE_PROP_U16(VirtioBlk, "num-queues", num_queues, "1",
                    "number of request queues (1-16)"),
    DEFINE_PROP_U16(VirtioBlk, "queue-size", queue_size, "256",
                    "descriptors per queue (power of two, 4-1024)"),
    DEFINE_VIRTIO_PCI_PROPS(VirtioBlk, vp),
    DEFINE_PROP_END,
};

const DeviceClass virtio_blk_pci_class = {
    .name = "virtio-blk-pci",
    .description = "virtio block device (PCI, virtio 1.x)",
    .instance_size = sizeof(VirtioBlk),
    .props = virtio_blk_props,
    .user_creatable = true,
    .realize = virtio_blk_realize,
    .reset = virtio_blk_reset_dev,
    .unrealize = virtio_blk_unrealize,
    .vmsd = &vmstate_virtio_blk,
};
