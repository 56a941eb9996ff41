/*
 * The virtio PCI transport, modern interface (Virtual I/O Device 1.1,
 * 4.1): vendor 0x1af4, device 0x1040 + device type, revision 1.  Vendor
 * capabilities point into BAR 4 (64-bit memory, 16 KiB):
 *   0x0000 common configuration (4.1.4.3)
 *   0x1000 ISR status (4.1.4.5): read to acknowledge, lowers INTx
 *   0x2000 device configuration (4.1.4.6)
 *   0x3000 notifications (4.1.4.4): queue q at 0x3000 + 4 * q
 * plus the PCI configuration access capability (4.1.4.7).  MSI-X (one
 * vector per queue plus one for configuration changes) is in BAR 1.  No
 * legacy (0.9.5) interface: Linux, SeaBIOS and OVMF all drive the modern
 * one.
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
    VirtIODevice *vdev;
    uint32_t device_feature_select;
    uint32_t driver_feature_select;
    uint16_t queue_select;
    uint8_t pci_cfg_cap;     /* offset of the config access capability */
} VirtioPci;

/* Put vdev on the PCI bus (class_code: e.g. 0x010000 for block). */
bool virtio_pci_realize(VirtioPci *vp, VirtIODevice *vdev,
                        uint32_t class_code, GError **errp);
void virtio_pci_reset(VirtioPci *vp);

extern const VMStateDescription vmstate_virtio_pci;
#define VMSTATE_VIRTIO_PCI(st, f)                                              \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(VirtioPci), .count = 1, .sub = &vmstate_virtio_pci }

#endif
