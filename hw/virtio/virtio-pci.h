/*
 * The virtio PCI transport, modern interface (Virtual I/O Device 1.1,
 * 4.1): vendor 0x1af4, device 0x1040 + device type, revision 1.  Vendor
 * capabilities point into BAR 4 (64-bit memory, 16 KiB):
 *   0x0000 common configuration (4.1.4.3)
 *   0x1000 ISR status (4.1.4.5): read to acknowledge, lowers INTx
 *   0x2000 device configuration (4.1.4.6)
 *   0x3000 notifications (4.1.4.4): queue q at 0x3000 + 4 * q
 * plus the PCI configuration access capability (4.1.4.7).  MSI-X (one
 * vector per queue plus one for configuration changes) is in BAR 1.  By
 * default the device is modern-only (Linux, SeaBIOS and OVMF all drive the
 * modern interface); with disable-legacy=off it is transitional: device
 * 0x1000 + type - 1, revision 0, and the legacy registers in I/O BAR 0
 * (virtio-pci-legacy.c).
 *
 * Under KVM (property ioeventfd=on, the default) each queue's notify
 * address is an ioeventfd while BAR 4 is mapped: the guest's 16-bit write
 * completes inside KVM without a vCPU exit, and the queue's handler runs on
 * the main loop when it sees the eventfd.  The MSI-X vectors then go
 * through irqfds when KVM runs the interrupt controllers (msix.h).  Under
 * tcg, with kernel-irqchip=off (no irqfd) or with ioeventfd=off, the
 * notify write reaches bar_write() on the vCPU thread and messages go
 * through pci_send_msi().
 *
 * A device such as virtio-blk-pci has a state struct that starts with a
 * VirtioPci and holds its VirtIODevice; it realizes the device core first
 * and then calls virtio_pci_realize(); its reset calls virtio_pci_reset().
 */
#ifndef KESTREL_HW_VIRTIO_VIRTIO_PCI_H
#define KESTREL_HW_VIRTIO_VIRTIO_PCI_H

#include "hw/pci/msix.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

#define VIRTIO_PCI_VENDOR_ID 0x1af4
#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_LEGACY_BAR 0
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET 0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

typedef struct VirtioPci {
    PCIDevice pci;
    MsixState msix;
    MemoryRegion bar;
    MemoryRegion legacy_bar;  /* I/O BAR 0 of a transitional device */
    VirtIODevice *vdev;
    uint32_t device_feature_select;
    uint32_t driver_feature_select;
    uint16_t queue_select;
    uint8_t pci_cfg_cap;     /* offset of the config access capability */
    bool ioeventfd;          /* property: use ioeventfd and irqfd */
    bool disable_legacy;     /* property: no legacy interface */
    int notify_fd[VIRTIO_MAX_QUEUES];  /* eventfds; -1 none */
    GSource *notify_src;     /* watches notify_fd on the main loop */
    gpointer notify_tag[VIRTIO_MAX_QUEUES];
    bool ioeventfd_on;       /* the eventfds are registered at ... */
    uint64_t ioeventfd_bar;  /* ... this BAR 4 address */
    bool ioeventfd_refused;  /* the accelerator refused: until reset */
} VirtioPci;

/* The transport's properties, for the device's property table. */
#define DEFINE_VIRTIO_PCI_PROPS(st, vp)                                        \
    DEFINE_PROP_BOOL(st, "ioeventfd", vp.ioeventfd, "on",                      \
                     "KVM: queue notifications through ioeventfd and "        \
                     "interrupts through irqfd (off: both through user "      \
                     "space)"),                                               \
    DEFINE_PROP_BOOL(st, "disable-legacy", vp.disable_legacy, "on",            \
                     "off: a transitional device with the legacy (0.9.5) "    \
                     "interface in I/O BAR 0 as well"),                       \
    DEFINE_PROP_PCI_ADDR(st, vp.pci)

/* Put vdev on the PCI bus (class_code: e.g. 0x010000 for block). */
bool virtio_pci_realize(VirtioPci *vp, VirtIODevice *vdev,
                        uint32_t class_code, GError **errp);
void virtio_pci_reset(VirtioPci *vp);
/* virtio-pci-legacy.c: register the legacy interface's I/O BAR 0. */
void virtio_pci_legacy_init(VirtioPci *vp);
/* From the device's unrealize: off the bus, eventfds closed. */
void virtio_pci_unrealize(VirtioPci *vp);
/* From the device's post_load (before virtio_post_load()). */
bool virtio_pci_post_load(VirtioPci *vp, GError **errp);

extern const VMStateDescription vmstate_virtio_pci;
#define VMSTATE_VIRTIO_PCI(st, f)                                              \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(VirtioPci), .count = 1, .sub = &vmstate_virtio_pci }

#endif
