/*
 * The transport-independent core of a virtio device (Virtual I/O Device
 * 1.1, sections 2.1-2.5 and 3): device status, feature negotiation, the
 * device configuration space with its generation counter, the queues, and
 * interrupts (used-buffer and configuration-change notifications), which
 * the transport (hw/virtio/virtio-pci.h) turns into MSI-X or INTx.
 *
 * A device type (virtio-blk, later virtio-net) embeds a VirtIODevice,
 * fills a VirtioDeviceOps, calls virtio_init() when it realizes and is
 * put on a transport with virtio_pci_realize().  Its queue_notify hook
 * runs when the driver kicks a queue; it pops chains with virtqueue_pop(),
 * pushes them back with virtqueue_push() and calls virtio_notify_queue().
 * A malformed chain breaks its queue: the core then sets NEEDS_RESET in the
 * status and sends a configuration-change interrupt (2.1.2).
 *
 * Threading: everything runs with the machine lock held (MMIO handlers on
 * vCPU threads, completions on the main loop after taking the lock).
 */
#ifndef KESTREL_HW_VIRTIO_VIRTIO_H
#define KESTREL_HW_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vmstate.h"
#include "hw/machine.h"
#include "hw/virtio/virtqueue.h"

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Transport-independent feature bits (6). */
#define VIRTIO_F_VERSION_1 32

/* ISR bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

#define VIRTIO_NO_VECTOR 0xffff
#define VIRTIO_MAX_QUEUES 17
#define VIRTIO_MAX_CONFIG 256

typedef struct VirtIODevice VirtIODevice;

typedef struct VirtioDeviceOps {
    uint16_t device_id;      /* virtio device type: 1 net, 2 block, ... */
    uint16_t config_size;    /* bytes of device configuration space */
    /* Refresh vdev->config before the driver reads it (may be NULL). */
    void (*update_config)(VirtIODevice *vdev);
    /* The driver wrote bytes [offset, offset+size) of vdev->config. */
    void (*config_written)(VirtIODevice *vdev, unsigned offset,
                           unsigned size);
    /* The driver kicked queue q (it is ready and DRIVER_OK is set). */
    void (*queue_notify)(VirtIODevice *vdev, unsigned q);
    /* The driver set DRIVER_OK (may be NULL). */
    void (*driver_ok)(VirtIODevice *vdev);
    /* Device reset (status 0 written, or machine reset).  The core resets
     * the queues and negotiated state afterwards. */
    void (*reset)(VirtIODevice *vdev);
} VirtioDeviceOps;

/* What the transport provides to the core. */
typedef struct VirtioTransport {
    /* Raise the interrupt of vector (queue or config): MSI-X, or ISR +
     * INTx when MSI-X is off. */
    void (*notify)(void *opaque, uint16_t vector, uint8_t isr_bit);
    void *opaque;
} VirtioTransport;

struct VirtIODevice {
    const VirtioDeviceOps *ops;
    Machine *machine;
    const char *name;           /* for log messages */
    uint64_t host_features;
    uint64_t guest_features;
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    uint16_t config_vector;
    unsigned nr_queues;
    VirtQueue vqs[VIRTIO_MAX_QUEUES];
    uint8_t config[VIRTIO_MAX_CONFIG];
    VirtioTransport transport;
    uint32_t reset_count;       /* bumps on every reset (stale completions) */
};

void virtio_init(VirtIODevice *vdev, const VirtioDeviceOps *ops, Machine *m,
                 const char *name, unsigned nr_queues, uint16_t queue_size,
                 uint64_t host_features);
void virtio_reset(VirtIODevice *vdev);

static inline bool virtio_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return (vdev->guest_features >> bit) & 1;
}

/* Driver writes the status register (2.1, 3.1.1). */
void virtio_set_status(VirtIODevice *vdev, uint8_t status);
/* Driver writes 32 bits of its feature word (select 0 or 1). */
void virtio_set_driver_features(VirtIODevice *vdev, unsigned select,
                                uint32_t value);
/* The driver enables queue q. */
void virtio_queue_enable(VirtIODevice *vdev, unsigned q);
/* The driver kicks queue q. */
void virtio_queue_kick(VirtIODevice *vdev, unsigned q);

/* Interrupt the driver for queue q if the ring says it wants one. */
void virtio_notify_queue(VirtIODevice *vdev, unsigned q);
/* The configuration changed: new generation, config interrupt. */
void virtio_notify_config(VirtIODevice *vdev);
/* A broken queue or request: NEEDS_RESET and a config interrupt. */
void virtio_set_needs_reset(VirtIODevice *vdev, const char *why);

/* Driver reads/writes of the device configuration space (bounds-checked;
 * outside it reads 0 and writes are ignored). */
uint64_t virtio_config_read(VirtIODevice *vdev, uint64_t offset,
                            unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint64_t offset, uint64_t value,
                         unsigned size);

/* For snapshots: the core's state; the device's post_load must call
 * virtio_post_load() to remap the rings of ready queues. */
extern const VMStateDescription vmstate_virtio_device;
#define VMSTATE_VIRTIO_DEVICE(st, f)                                           \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(VirtIODevice), .count = 1, .sub = &vmstate_virtio_device }
bool virtio_post_load(VirtIODevice *vdev, GError **errp);

#endif
