/*
 * The virtio device core (Virtual I/O Device 1.1, 2.1-2.5, 3.1): status
 * and feature negotiation, configuration space, queue enable/kick, and
 * the notifications the transport delivers.  See virtio.h.
 */
#include "hw/virtio/virtio.h"

#include <string.h>

#include "core/error.h"

static void queue_broken(void *opaque, VirtQueue *vq)
{
    VirtIODevice *vdev = opaque;
    virtio_set_needs_reset(vdev, vq->broken_reason);
}

void virtio_init(VirtIODevice *vdev, const VirtioDeviceOps *ops, Machine *m,
                 const char *name, unsigned nr_queues, uint16_t queue_size,
                 uint64_t host_features)
{
    g_assert(nr_queues <= VIRTIO_MAX_QUEUES);
    g_assert(ops->config_size <= VIRTIO_MAX_CONFIG);
    vdev->ops = ops;
    vdev->machine = m;
    vdev->name = name;
    vdev->nr_queues = nr_queues;
    vdev->host_features = host_features | (1ull << VIRTIO_F_VERSION_1) |
                          (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                          (1ull << VIRTIO_RING_F_EVENT_IDX);
    for (unsigned q = 0; q < nr_queues; q++) {
        virtqueue_init(&vdev->vqs[q], &m->mem, queue_size, queue_broken, vdev);
    }
    vdev->status = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
}

void virtio_reset(VirtIODevice *vdev)
{
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    vdev->reset_count++;
    vdev->status = 0;
    vdev->isr = 0;
    vdev->guest_features = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    for (unsigned q = 0; q < vdev->nr_queues; q++) {
        virtqueue_reset(&vdev->vqs[q]);
    }
}

void virtio_set_driver_features(VirtIODevice *vdev, unsigned select,
                                uint32_t value)
{
    if (select > 1 || (vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
        return; /* features are frozen once FEATURES_OK is set */
    }
    unsigned shift = 32 * select;
    vdev->guest_features &= ~(0xffffffffull << shift);
    vdev->guest_features |= (uint64_t)value << shift;
}

void virtio_set_status(VirtIODevice *vdev, uint8_t status)
{
    if (status == 0) {
        virtio_reset(vdev);
        return;
    }
    uint8_t old = vdev->status;
    if ((status & VIRTIO_STATUS_FEATURES_OK) &&
        !(old & VIRTIO_STATUS_FEATURES_OK)) {
        /* 3.1.1: accept only features we offered, and only version 1. */
        if ((vdev->guest_features & ~vdev->host_features) ||
            !virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
            status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
        }
    }
    /* NEEDS_RESET is the device's to set; the driver cannot clear it. */
    status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) |
                       (old & VIRTIO_STATUS_NEEDS_RESET));
    vdev->status = status;
    if ((status & VIRTIO_STATUS_DRIVER_OK) &&
        !(old & VIRTIO_STATUS_DRIVER_OK) && vdev->ops->driver_ok) {
        vdev->ops->driver_ok(vdev);
    }
}

void virtio_queue_enable(VirtIODevice *vdev, unsigned q)
{
    if (q >= vdev->nr_queues || vdev->vqs[q].ready) {
        return;
    }
    virtqueue_enable(&vdev->vqs[q],
                     virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC),
                     virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX));
}

void virtio_queue_kick(VirtIODevice *vdev, unsigned q)
{
    if (q >= vdev->nr_queues || !vdev->vqs[q].ready ||
        !(vdev->status & VIRTIO_STATUS_DRIVER_OK) ||
        (vdev->status & VIRTIO_STATUS_NEEDS_RESET)) {
        return;
    }
    vdev->ops->queue_notify(vdev, q);
}

void virtio_notify_queue(VirtIODevice *vdev, unsigned q)
{
    if (q >= vdev->nr_queues || !virtqueue_should_notify(&vdev->vqs[q])) {
        return;
    }
    vdev->transport.notify(vdev->transport.opaque, vdev->vqs[q].msix_vector,
                           VIRTIO_ISR_QUEUE);
}

void virtio_notify_config(VirtIODevice *vdev)
{
    vdev->config_generation++;
    if (!(vdev->status & VIRTIO_STATUS_DRIVER_OK)) {
        return;
    }
    vdev->transport.notify(vdev->transport.opaque, vdev->config_vector,
                           VIRTIO_ISR_CONFIG);
}

void virtio_set_needs_reset(VirtIODevice *vdev, const char *why)
{
    if (vdev->status & VIRTIO_STATUS_NEEDS_RESET) {
        return;
    }
    warn_report("%s: the guest driver broke the device (%s); it needs a "
                "reset", vdev->name, why ? why : "bad request");
    vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
    for (unsigned q = 0; q < vdev->nr_queues; q++) {
        vdev->vqs[q].ready = false;
    }
    virtio_notify_config(vdev);
}

uint64_t virtio_config_read(VirtIODevice *vdev, uint64_t offset,
                            unsigned size)
{
    if (offset >= vdev->ops->config_size ||
        size > vdev->ops->config_size - offset) {
        return 0;
    }
    if (vdev->ops->update_config) {
        vdev->ops->update_config(vdev);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)vdev->config[offset + i] << (8 * i);
    }
    return v;
}

void virtio_config_write(VirtIODevice *vdev, uint64_t offset, uint64_t value,
                         unsigned size)
{
    if (offset >= vdev->ops->config_size ||
        size > vdev->ops->config_size - offset || !vdev->ops->config_written) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        vdev->config[offset + i] = (uint8_t)(value >> (8 * i));
    }
    vdev->ops->config_written(vdev, (unsigned)offset, size);
}

/* ---- snapshots ---- */

static const VMStateField virtqueue_fields[] = {
    VMSTATE_U16(VirtQueue, num),
    VMSTATE_BOOL(VirtQueue, ready),
    VMSTATE_BOOL(VirtQueue, broken),
    VMSTATE_U16(VirtQueue, msix_vector),
    VMSTATE_U64(VirtQueue, desc_addr),
    VMSTATE_U64(VirtQueue, avail_addr),
    VMSTATE_U64(VirtQueue, used_addr),
    VMSTATE_U16(VirtQueue, last_avail_idx),
    VMSTATE_U16(VirtQueue, used_idx),
    VMSTATE_U16(VirtQueue, signalled_used),
    VMSTATE_BOOL(VirtQueue, signalled_used_valid),
    VMSTATE_END,
};

static const VMStateDescription vmstate_virtqueue = {
    .name = "virtqueue",
    .version = 1,
    .fields = virtqueue_fields,
};

static const VMStateField virtio_device_fields[] = {
    VMSTATE_U64(VirtIODevice, guest_features),
    VMSTATE_U8(VirtIODevice, status),
    VMSTATE_U8(VirtIODevice, isr),
    VMSTATE_U8(VirtIODevice, config_generation),
    VMSTATE_U16(VirtIODevice, config_vector),
    VMSTATE_STRUCT_ARRAY(VirtIODevice, vqs, &vmstate_virtqueue),
    VMSTATE_BUFFER(VirtIODevice, config),
    VMSTATE_END,
};

const VMStateDescription vmstate_virtio_device = {
    .name = "virtio-device",
    .version = 1,
    .fields = virtio_device_fields,
};

bool virtio_post_load(VirtIODevice *vdev, GError **errp)
{
    for (unsigned q = 0; q < vdev->nr_queues; q++) {
        VirtQueue *vq = &vdev->vqs[q];
        if (!vq->ready) {
            continue;
        }
        uint16_t last = vq->last_avail_idx, used = vq->used_idx;
        uint16_t sig = vq->signalled_used;
        bool sig_valid = vq->signalled_used_valid;
        vq->ready = false;
        if (!virtqueue_enable(vq, virtio_has_feature(vdev,
                                          VIRTIO_RING_F_INDIRECT_DESC),
                              virtio_has_feature(vdev,
                                          VIRTIO_RING_F_EVENT_IDX))) {
            error_setg(errp, "%s: queue %u's rings are not in RAM", vdev->name,
                       q);
            return false;
        }
        vq->last_avail_idx = last;
        vq->used_idx = used;
        vq->signalled_used = sig;
        vq->signalled_used_valid = sig_valid;
    }
    return true;
}
