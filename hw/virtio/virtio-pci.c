/*
 * The virtio PCI transport, modern interface (Virtual I/O Device 1.1,
 * 4.1.4): capability list, the common configuration, ISR, device
 * configuration and notification areas of BAR 4, MSI-X or INTx
 * interrupts, the PCI configuration access window, and the accelerator's
 * ioeventfds for the notification area.  See virtio-pci.h.
 */
#include "hw/virtio/virtio-pci.h"

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/error.h"

/* Vendor capability types (4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5
#define PCI_CAP_ID_VNDR 0x09

/* Common configuration registers (4.1.4.3). */
enum {
    COMMON_DFSELECT = 0x00,
    COMMON_DF = 0x04,
    COMMON_GFSELECT = 0x08,
    COMMON_GF = 0x0c,
    COMMON_MSIX = 0x10,
    COMMON_NUMQ = 0x12,
    COMMON_STATUS = 0x14,
    COMMON_CFGGEN = 0x15,
    COMMON_Q_SELECT = 0x16,
    COMMON_Q_SIZE = 0x18,
    COMMON_Q_MSIX = 0x1a,
    COMMON_Q_ENABLE = 0x1c,
    COMMON_Q_NOFF = 0x1e,
    COMMON_Q_DESCLO = 0x20,
    COMMON_Q_DESCHI = 0x24,
    COMMON_Q_AVAILLO = 0x28,
    COMMON_Q_AVAILHI = 0x2c,
    COMMON_Q_USEDLO = 0x30,
    COMMON_Q_USEDHI = 0x34,
    COMMON_SIZE = 0x38,
};

/* ---- interrupts ---- */

static void transport_notify(void *opaque, uint16_t vector, uint8_t isr_bit)
{
    VirtioPci *vp = opaque;
    if (msix_enabled(&vp->msix)) {
        if (vector != VIRTIO_NO_VECTOR) {
            msix_notify(&vp->msix, vector);
        }
        return;
    }
    vp->vdev->isr |= isr_bit;
    pci_set_irq(&vp->pci, 1);
}

/* ---- common configuration ---- */

static VirtQueue *selected_queue(VirtioPci *vp)
{
    VirtIODevice *vdev = vp->vdev;
    return vp->queue_select < vdev->nr_queues ? &vdev->vqs[vp->queue_select]
                                              : NULL;
}

static uint16_t checked_vector(VirtioPci *vp, uint16_t v)
{
    return v < vp->msix.nr_vectors ? v : VIRTIO_NO_VECTOR;
}

/* The ring address registers (Q_DESCLO..Q_USEDHI): the 64-bit address a
 * 32-bit register at `off` is half of, or NULL for other offsets. */
static uint64_t *ring_addr_reg(VirtQueue *vq, unsigned off)
{
    if (!vq || off < COMMON_Q_DESCLO || off >= COMMON_SIZE || (off & 3)) {
        return NULL;
    }
    switch (off & ~7u) {
    case COMMON_Q_DESCLO: return &vq->desc_addr;
    case COMMON_Q_AVAILLO: return &vq->avail_addr;
    default: return &vq->used_addr;
    }
}

static uint32_t common_read(VirtioPci *vp, unsigned off)
{
    VirtIODevice *vdev = vp->vdev;
    VirtQueue *vq = selected_queue(vp);
    uint64_t *addr = ring_addr_reg(vq, off);
    if (addr) {
        return (uint32_t)(*addr >> (off & 4 ? 32 : 0));
    }
    switch (off) {
    case COMMON_DFSELECT:
        return vp->device_feature_select;
    case COMMON_DF:
        return vp->device_feature_select < 2
                   ? (uint32_t)(vdev->host_features >>
                                (32 * vp->device_feature_select))
                   : 0;
    case COMMON_GFSELECT:
        return vp->driver_feature_select;
    case COMMON_GF:
        return vp->driver_feature_select < 2
                   ? (uint32_t)(vdev->guest_features >>
                                (32 * vp->driver_feature_select))
                   : 0;
    case COMMON_MSIX:
        return vdev->config_vector;
    case COMMON_NUMQ:
        return vdev->nr_queues;
    case COMMON_STATUS:
        return vdev->status;
    case COMMON_CFGGEN:
        return vdev->config_generation;
    case COMMON_Q_SELECT:
        return vp->queue_select;
    case COMMON_Q_SIZE:
        return vq ? vq->num : 0;
    case COMMON_Q_MSIX:
        return vq ? vq->msix_vector : VIRTIO_NO_VECTOR;
    case COMMON_Q_ENABLE:
        return vq ? vq->ready : 0;
    case COMMON_Q_NOFF:
        return vp->queue_select;
    default:
        return 0;
    }
}

static void common_write(VirtioPci *vp, unsigned off, uint32_t v)
{
    VirtIODevice *vdev = vp->vdev;
    VirtQueue *vq = selected_queue(vp);
    /* Queue registers are frozen while the queue is enabled (4.1.4.3.2). */
    bool vq_writable = vq && !vq->ready;
    uint64_t *addr = ring_addr_reg(vq, off);
    if (addr) {
        unsigned shift = off & 4 ? 32 : 0;
        if (vq_writable) {
            *addr = (*addr & ~(0xffffffffull << shift)) | ((uint64_t)v << shift);
        }
        return;
    }
    switch (off) {
    case COMMON_DFSELECT:
        vp->device_feature_select = v;
        break;
    case COMMON_GFSELECT:
        vp->driver_feature_select = v;
        break;
    case COMMON_GF:
        virtio_set_driver_features(vdev, vp->driver_feature_select, v);
        break;
    case COMMON_MSIX:
        vdev->config_vector = checked_vector(vp, (uint16_t)v);
        break;
    case COMMON_STATUS:
        virtio_set_status(vdev, (uint8_t)v);
        if (vdev->status == 0) {
            pci_set_irq(&vp->pci, 0);
        }
        break;
    case COMMON_Q_SELECT:
        vp->queue_select = (uint16_t)v;
        break;
    case COMMON_Q_SIZE:
        if (vq_writable) {
            vq->num = (uint16_t)v;
        }
        break;
    case COMMON_Q_MSIX:
        if (vq) {
            vq->msix_vector = checked_vector(vp, (uint16_t)v);
        }
        break;
    case COMMON_Q_ENABLE:
        if (vq_writable && (v & 1)) {
            virtio_queue_enable(vdev, vp->queue_select);
        }
        break;
    default:
        break; /* read-only or reserved */
    }
}

/* Registers are 1, 2 or 4 bytes wide at their natural alignment; other
 * accesses read 0 and are ignored (4.1.3.1 asks drivers for exactly that). */
static unsigned common_reg_size(unsigned off)
{
    switch (off) {
    case COMMON_STATUS:
    case COMMON_CFGGEN:
        return 1;
    case COMMON_MSIX:
    case COMMON_NUMQ:
    case COMMON_Q_SELECT:
    case COMMON_Q_SIZE:
    case COMMON_Q_MSIX:
    case COMMON_Q_ENABLE:
    case COMMON_Q_NOFF:
        return 2;
    default:
        return off < COMMON_SIZE && off % 4 == 0 ? 4 : 0;
    }
}

/* ---- BAR 4 ---- */

static uint64_t bar_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPci *vp = opaque;
    VirtIODevice *vdev = vp->vdev;
    if (addr < VIRTIO_PCI_ISR_OFFSET) {
        unsigned off = (unsigned)addr;
        if (size == 8 && off % 8 == 0 && common_reg_size(off) == 4 &&
            common_reg_size(off + 4) == 4) {
            return common_read(vp, off) |
                   ((uint64_t)common_read(vp, off + 4) << 32);
        }
        return common_reg_size(off) == size ? common_read(vp, off) : 0;
    }
    if (addr < VIRTIO_PCI_DEVICE_OFFSET) {
        if (addr != VIRTIO_PCI_ISR_OFFSET) {
            return 0;
        }
        uint8_t isr = vdev->isr;
        vdev->isr = 0;
        pci_set_irq(&vp->pci, 0);
        return isr;
    }
    if (addr < VIRTIO_PCI_NOTIFY_OFFSET) {
        return virtio_config_read(vdev, addr - VIRTIO_PCI_DEVICE_OFFSET, size);
    }
    return 0;
}

static void bar_write(void *opaque, uint64_t addr, uint64_t value,
                      unsigned size)
{
    VirtioPci *vp = opaque;
    VirtIODevice *vdev = vp->vdev;
    if (addr < VIRTIO_PCI_ISR_OFFSET) {
        unsigned off = (unsigned)addr;
        if (size == 8 && off % 8 == 0 && common_reg_size(off) == 4 &&
            common_reg_size(off + 4) == 4) {
            common_write(vp, off, (uint32_t)value);
            common_write(vp, off + 4, (uint32_t)(value >> 32));
        } else if (common_reg_size(off) == size) {
            common_write(vp, off, (uint32_t)value);
        }
        return;
    }
    if (addr < VIRTIO_PCI_DEVICE_OFFSET) {
        return; /* ISR is read-only */
    }
    if (addr < VIRTIO_PCI_NOTIFY_OFFSET) {
        virtio_config_write(vdev, addr - VIRTIO_PCI_DEVICE_OFFSET, value, size);
        return;
    }
    uint64_t q = (addr - VIRTIO_PCI_NOTIFY_OFFSET) /
                 VIRTIO_PCI_NOTIFY_MULTIPLIER;
    if (q < vdev->nr_queues) {
        virtio_queue_kick(vdev, (unsigned)q);
    }
}

static const MemoryRegionOps bar_ops = {
    .read = bar_read,
    .write = bar_write,
    .min_access = 1,
    .max_access = 8,
};

/* ---- ioeventfd ---- */

typedef struct NotifySource {
    GSource source;
    VirtioPci *vp;
} NotifySource;

static uint64_t notify_addr(uint64_t bar, unsigned q)
{
    return bar + VIRTIO_PCI_NOTIFY_OFFSET +
           (uint64_t)q * VIRTIO_PCI_NOTIFY_MULTIPLIER;
}

/* The main loop saw kicks that KVM took for the guest. */
static gboolean notify_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    VirtioPci *vp = ((NotifySource *)src)->vp;
    VirtIODevice *vdev = vp->vdev;
    uint32_t kicked = 0;
    for (unsigned q = 0; q < vdev->nr_queues; q++) {
        uint64_t count;
        if ((g_source_query_unix_fd(src, vp->notify_tag[q]) & G_IO_IN) &&
            read(vp->notify_fd[q], &count, sizeof(count)) == sizeof(count)) {
            kicked |= 1u << q;
        }
    }
    if (kicked) {
        g_mutex_lock(&vdev->machine->lock);
        for (unsigned q = 0; q < vdev->nr_queues; q++) {
            if (kicked & (1u << q)) {
                virtio_queue_kick(vdev, q);
            }
        }
        g_mutex_unlock(&vdev->machine->lock);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs notify_funcs = {
    .dispatch = notify_dispatch,
};

/* An eventfd per queue, watched on the main loop, when the accelerator
 * has ioeventfds and the property asks for them. */
static void ioeventfd_init(VirtioPci *vp)
{
    VirtIODevice *vdev = vp->vdev;
    msix_set_irqfd(&vp->msix, vp->ioeventfd);
    if (!vp->ioeventfd || !vdev->machine->accel_io.add_ioeventfd) {
        return;
    }
    GSource *src = g_source_new(&notify_funcs, sizeof(NotifySource));
    ((NotifySource *)src)->vp = vp;
    for (unsigned q = 0; q < vdev->nr_queues; q++) {
        vp->notify_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vp->notify_fd[q] < 0) {
            warn_report("%s: eventfd: %s; queue notifications exit to user "
                        "space", vdev->name, g_strerror(errno));
            g_source_unref(src);
            return;
        }
        vp->notify_tag[q] = g_source_add_unix_fd(src, vp->notify_fd[q],
                                                 G_IO_IN);
    }
    g_source_attach(src, vdev->machine->ctx);
    vp->notify_src = src;
}

static void ioeventfd_del(VirtioPci *vp)
{
    const MachineAccelIo *io = &vp->vdev->machine->accel_io;
    if (!vp->ioeventfd_on) {
        return;
    }
    for (unsigned q = 0; q < vp->vdev->nr_queues; q++) {
        io->del_ioeventfd(io->opaque, notify_addr(vp->ioeventfd_bar, q), 2,
                          vp->notify_fd[q]);
    }
    vp->ioeventfd_on = false;
}

/* Keep the ioeventfds where BAR 4 is: registered while it is mapped, moved
 * with it, removed when it is not (device reset, decoding off). */
static void ioeventfd_sync(VirtioPci *vp)
{
    const MachineAccelIo *io = &vp->vdev->machine->accel_io;
    const PCIBar *bar = &vp->pci.bars[VIRTIO_PCI_BAR];
    bool want = vp->notify_src && !vp->ioeventfd_refused && bar->mapped;
    if (vp->ioeventfd_on && (!want || bar->addr != vp->ioeventfd_bar)) {
        ioeventfd_del(vp);
    }
    if (!want || vp->ioeventfd_on) {
        return;
    }
    for (unsigned q = 0; q < vp->vdev->nr_queues; q++) {
        /* The driver writes the 16-bit queue index (4.1.4.4). */
        if (!io->add_ioeventfd(io->opaque, notify_addr(bar->addr, q), 2,
                               vp->notify_fd[q])) {
            for (unsigned p = 0; p < q; p++) {
                io->del_ioeventfd(io->opaque, notify_addr(bar->addr, p), 2,
                                  vp->notify_fd[p]);
            }
            vp->ioeventfd_refused = true;
            warn_report("%s: the accelerator refused an ioeventfd; queue "
                        "notifications exit to user space", vp->vdev->name);
            return;
        }
    }
    vp->ioeventfd_on = true;
    vp->ioeventfd_bar = bar->addr;
}

/* ---- capabilities ---- */

static uint8_t add_vendor_cap(VirtioPci *vp, uint8_t type, uint32_t offset,
                              uint32_t length, uint8_t cap_len)
{
    uint8_t cap = pci_add_capability(&vp->pci, PCI_CAP_ID_VNDR, cap_len);
    if (!cap) {
        return 0;
    }
    uint8_t *c = vp->pci.config + cap;
    c[2] = cap_len;
    c[3] = type;
    c[4] = VIRTIO_PCI_BAR;
    pci_set_long(c + 8, offset);
    pci_set_long(c + 12, length);
    return cap;
}

/* 4.1.4.7: the driver names a BAR, offset and length in the capability and
 * accesses the data dword to reach that BAR without mapping it. */
static void pci_cfg_access(VirtioPci *vp, bool write)
{
    uint8_t *c = vp->pci.config + vp->pci_cfg_cap;
    uint32_t offset = pci_get_long(c + 8), len = pci_get_long(c + 12);
    if (c[4] != VIRTIO_PCI_BAR || (len != 1 && len != 2 && len != 4) ||
        offset % len || offset >= VIRTIO_PCI_BAR_SIZE) {
        return;
    }
    if (write) {
        bar_write(vp, offset, pci_get_long(c + 16), len);
    } else {
        pci_set_long(c + 16, (uint32_t)bar_read(vp, offset, len));
    }
}

static void config_write(PCIDevice *dev, uint32_t addr, uint32_t value,
                         unsigned size)
{
    VirtioPci *vp = (VirtioPci *)dev;
    msix_config_write(&vp->msix, addr, value, size);
    uint32_t data = vp->pci_cfg_cap + 16u;
    if (vp->pci_cfg_cap && addr < data + 4 && addr + size > data) {
        pci_cfg_access(vp, true);
    }
    ioeventfd_sync(vp); /* BAR 4 may have moved, or decoding changed */
}

static bool config_read(PCIDevice *dev, uint32_t addr, unsigned size,
                        uint32_t *value)
{
    VirtioPci *vp = (VirtioPci *)dev;
    uint32_t data = vp->pci_cfg_cap + 16u;
    if (vp->pci_cfg_cap && addr < data + 4 && addr + size > data) {
        pci_cfg_access(vp, false);
    }
    return false;
}

bool virtio_pci_realize(VirtioPci *vp, VirtIODevice *vdev,
                        uint32_t class_code, GError **errp)
{
    PCIDevice *dev = &vp->pci;
    vp->vdev = vdev;
    for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
        vp->notify_fd[q] = -1;
    }
    vdev->transport = (VirtioTransport){ transport_notify, vp };
    if (vp->disable_legacy) {
        pci_config_set_ids(dev, VIRTIO_PCI_VENDOR_ID,
                           (uint16_t)(0x1040 + vdev->ops->device_id), 1,
                           class_code);
        pci_set_word(dev->config + PCI_SUBSYSTEM_ID, 0x40);
    } else {
        /* Transitional (4.1.2.1): the legacy device ID, revision 0, the
         * device type as subsystem ID. */
        pci_config_set_ids(dev, VIRTIO_PCI_VENDOR_ID,
                           (uint16_t)(0x1000 + vdev->ops->device_id - 1), 0,
                           class_code);
        pci_set_word(dev->config + PCI_SUBSYSTEM_ID, vdev->ops->device_id);
        virtio_pci_legacy_init(vp);
    }
    pci_set_word(dev->config + PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR_ID);
    dev->config[PCI_INTERRUPT_PIN] = 1;
    dev->config_write = config_write;
    dev->config_read = config_read;

    memory_region_init_io(&vp->bar, vdev->name, &bar_ops, vp,
                          VIRTIO_PCI_BAR_SIZE);
    pci_register_bar(dev, VIRTIO_PCI_BAR, PCI_BAR_MEM64, true,
                     VIRTIO_PCI_BAR_SIZE, &vp->bar);
    if (!msix_init(&vp->msix, dev, vdev->nr_queues + 1, VIRTIO_PCI_MSIX_BAR,
                   errp)) {
        return false;
    }
    uint8_t notify = add_vendor_cap(vp, CAP_NOTIFY, VIRTIO_PCI_NOTIFY_OFFSET,
                                    VIRTIO_PCI_NOTIFY_MULTIPLIER *
                                        vdev->nr_queues, 20);
    if (notify) {
        pci_set_long(dev->config + notify + 16, VIRTIO_PCI_NOTIFY_MULTIPLIER);
    }
    vp->pci_cfg_cap = 0;
    if (!add_vendor_cap(vp, CAP_COMMON, VIRTIO_PCI_COMMON_OFFSET, COMMON_SIZE,
                        16) ||
        !add_vendor_cap(vp, CAP_ISR, VIRTIO_PCI_ISR_OFFSET, 1, 16) ||
        !add_vendor_cap(vp, CAP_DEVICE, VIRTIO_PCI_DEVICE_OFFSET,
                        vdev->ops->config_size, 16) ||
        !notify ||
        !(vp->pci_cfg_cap = add_vendor_cap(vp, CAP_PCI_CFG, 0, 0, 20))) {
        error_setg(errp, "%s: no room for the virtio capabilities",
                   vdev->name);
        return false;
    }
    uint8_t *cfg = dev->wmask + vp->pci_cfg_cap;
    cfg[4] = 0xff;                       /* bar */
    pci_set_long(cfg + 8, 0xffffffffu);  /* offset */
    pci_set_long(cfg + 12, 0xffffffffu); /* length */
    pci_set_long(cfg + 16, 0xffffffffu); /* data */
    ioeventfd_init(vp);
    return pci_device_register(dev, vdev->machine->pci, -1, errp);
}

void virtio_pci_reset(VirtioPci *vp)
{
    virtio_reset(vp->vdev);
    msix_reset(&vp->msix);
    vp->device_feature_select = vp->driver_feature_select = 0;
    vp->queue_select = 0;
    pci_device_reset(&vp->pci);
    vp->ioeventfd_refused = false;
    ioeventfd_sync(vp);
}

void virtio_pci_unrealize(VirtioPci *vp)
{
    ioeventfd_del(vp);
    if (vp->notify_src) {
        g_source_destroy(vp->notify_src);
        g_source_unref(vp->notify_src);
        vp->notify_src = NULL;
    }
    for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
        if (vp->notify_fd[q] >= 0) {
            close(vp->notify_fd[q]);
            vp->notify_fd[q] = -1;
        }
    }
    msix_cleanup(&vp->msix);
    if (vp->pci.registered) {
        pci_device_unregister(&vp->pci);
    }
}

bool virtio_pci_post_load(VirtioPci *vp, GError **errp)
{
    if (!pci_device_post_load(&vp->pci, errp)) {
        return false;
    }
    msix_post_load(&vp->msix);
    ioeventfd_sync(vp);
    return true;
}

static const VMStateField virtio_pci_fields[] = {
    VMSTATE_PCI_DEVICE(VirtioPci, pci),
    VMSTATE_MSIX(VirtioPci, msix),
    VMSTATE_U32(VirtioPci, device_feature_select),
    VMSTATE_U32(VirtioPci, driver_feature_select),
    VMSTATE_U16(VirtioPci, queue_select),
    VMSTATE_END,
};

const VMStateDescription vmstate_virtio_pci = {
    .name = "virtio-pci",
    .version = 1,
    .fields = virtio_pci_fields,
};
