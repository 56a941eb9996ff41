/*
 * virtio-net-pci (hw/net/virtio-net.c).
 */
#ifndef KESTREL_HW_NET_VIRTIO_NET_H
#define KESTREL_HW_NET_VIRTIO_NET_H

#include "core/device.h"

extern const DeviceClass virtio_net_pci_class;

#endif
