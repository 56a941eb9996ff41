/*
 * The legacy virtio PCI interface of a transitional device (Virtual I/O
 * Device 1.1, 4.1.4.8 "Legacy Interfaces: A Note on PCI Device Layout",
 * and 2.6.2 for the legacy virtqueue layout): an I/O BAR 0 with
 *   0x00 device features (bits 0-31)   0x04 driver features
 *   0x08 queue address (page number)   0x0c queue size (read-only)
 *   0x0e queue select                  0x10 queue notify
 *   0x12 device status                 0x13 ISR status (read to acknowledge)
 * then, while MSI-X is enabled, 0x14 configuration vector and 0x16 queue
 * vector, and the device configuration (at 0x14 without MSI-X, at 0x18
 * with it).  A queue's rings lie in one guest-physical area: descriptors
 * at page * 4096, the available ring after them, the used ring at the next
 * 4096-byte boundary; the queue size is the device's maximum.
 *
 * It drives the same VirtIODevice as the modern interface; the driver uses
 * one or the other.  Legacy drivers negotiate only feature bits 0-31 (no
 * VERSION_1) and never set FEATURES_OK.  Notifications here always reach
 * the emulator (no ioeventfd on this port).
 */
#include "hw/virtio/virtio-pci.h"

#define LEGACY_HOST_FEATURES 0x00
#define LEGACY_GUEST_FEATURES 0x04
#define LEGACY_QUEUE_PFN 0x08
#define LEGACY_QUEUE_NUM 0x0c
#define LEGACY_QUEUE_SEL 0x0e
#define LEGACY_QUEUE_NOTIFY 0x10
#define LEGACY_STATUS 0x12
#define LEGACY_ISR 0x13
#define LEGACY_CONFIG_VECTOR 0x14
#define LEGACY_QUEUE_VECTOR 0x16
#define LEGACY_CONFIG_MSIX 0x18
#define LEGACY_CONFIG 0x14
#define LEGACY_PAGE 4096

static unsigned config_offset(VirtioPci *vp)
{
    return msix_enabled(&vp->msix) ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG;
}

static VirtQueue *selected(VirtioPci *vp)
{
    VirtIODevice *vdev = vp->vdev;
    return vp->queue_select < vdev->nr_queues ? &vdev->vqs[vp->queue_select]
                                              : NULL;
}

/* The driver gave queue `q` its rings at page `pfn` (0: take them back). */
static void set_queue_pfn(VirtioPci *vp, VirtQueue *vq, uint32_t pfn)
{
    if (pfn == 0) {
        virtqueue_reset(vq);
        return;
    }
    if (vq->ready) {
        return;
    }
    uint64_t num = vq->num_max;
    uint64_t desc = (uint64_t)pfn * LEGACY_PAGE;
    uint64_t avail = desc + 16 * num;
    uint64_t used = avail + 6 + 2 * num;
    vq->num = vq->num_max;
    vq->desc_addr = desc;
    vq->avail_addr = avail;
    vq->used_addr = (used + LEGACY_PAGE - 1) & ~(uint64_t)(LEGACY_PAGE - 1);
    virtio_queue_enable(vp->vdev, vp->queue_select);
}

static uint64_t legacy_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPci *vp = opaque;
    VirtIODevice *vdev = vp->vdev;
    VirtQueue *vq = selected(vp);
    unsigned cfg = config_offset(vp);
    if (addr >= cfg) {
        return virtio_config_read(vdev, addr - cfg, size);
    }
    switch (addr) {
    case LEGACY_HOST_FEATURES:
        return (uint32_t)vdev->host_features;
    case LEGACY_GUEST_FEATURES:
        return (uint32_t)vdev->guest_features;
    case LEGACY_QUEUE_PFN:
        return vq && vq->ready ? (uint32_t)(vq->desc_addr / LEGACY_PAGE) : 0;
    case LEGACY_QUEUE_NUM:
        return vq ? vq->num_max : 0;
    case LEGACY_QUEUE_SEL:
        return vp->queue_select;
    case LEGACY_STATUS:
        return vdev->status;
    case LEGACY_ISR: {
        uint8_t isr = vdev->isr;
        vdev->isr = 0;
        pci_set_irq(&vp->pci, 0);
        return isr;
    }
    case LEGACY_CONFIG_VECTOR:
        return vdev->config_vector;
    case LEGACY_QUEUE_VECTOR:
        return vq ? vq->msix_vector : VIRTIO_NO_VECTOR;
    default:
        return 0;
    }
}

static void legacy_write(void *opaque, uint64_t addr, uint64_t value,
                         unsigned size)
{
    VirtioPci *vp = opaque;
    VirtIODevice *vdev = vp->vdev;
    VirtQueue *vq = selected(vp);
    unsigned cfg = config_offset(vp);
    if (addr >= cfg) {
        virtio_config_write(vdev, addr - cfg, value, size);
        return;
    }
    switch (addr) {
    case LEGACY_GUEST_FEATURES:
        virtio_set_driver_features(vdev, 0, (uint32_t)value);
        break;
    case LEGACY_QUEUE_PFN:
        if (vq) {
            set_queue_pfn(vp, vq, (uint32_t)value);
        }
        break;
    case LEGACY_QUEUE_SEL:
        vp->queue_select = (uint16_t)value;
        break;
    case LEGACY_QUEUE_NOTIFY:
        if (value < vdev->nr_queues) {
            virtio_queue_kick(vdev, (unsigned)value);
        }
        break;
    case LEGACY_STATUS:
        virtio_set_status(vdev, (uint8_t)value);
        if (vdev->status == 0) {
            pci_set_irq(&vp->pci, 0);
        }
        break;
    case LEGACY_CONFIG_VECTOR:
        vdev->config_vector = (uint16_t)value < vp->msix.nr_vectors
                                  ? (uint16_t)value : VIRTIO_NO_VECTOR;
        break;
    case LEGACY_QUEUE_VECTOR:
        if (vq) {
            vq->msix_vector = (uint16_t)value < vp->msix.nr_vectors
                                  ? (uint16_t)value : VIRTIO_NO_VECTOR;
        }
        break;
    default:
        break; /* read-only */
    }
}

static const MemoryRegionOps legacy_ops = {
    .read = legacy_read,
    .write = legacy_write,
    .min_access = 1,
    .max_access = 4,
};

void virtio_pci_legacy_init(VirtioPci *vp)
{
    unsigned size = LEGACY_CONFIG_MSIX + vp->vdev->ops->config_size;
    memory_region_init_io(&vp->legacy_bar, "virtio-legacy", &legacy_ops, vp,
                          size);
    pci_register_bar(&vp->pci, VIRTIO_PCI_LEGACY_BAR, PCI_BAR_IO, false, size,
                     &vp->legacy_bar);
}
