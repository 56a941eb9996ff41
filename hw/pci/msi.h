/*
 * MSI for PCI devices (PCI Local Bus Specification 3.0, section 6.8.1):
 * the capability with a 64-bit address and per-vector masking.  A device
 * calls msi_init() when it realizes, forwards its config_write hook to
 * msi_config_write(), and signals with msi_notify().  All state lives in
 * configuration space (so the PCI device's state description covers it).
 */
#ifndef KESTREL_HW_PCI_MSI_H
#define KESTREL_HW_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci/pci.h"

#define PCI_CAP_ID_MSI 0x05
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT 0x0080
#define MSI_CTRL_MASKABLE 0x0100
#define MSI_CAP_SIZE 0x18

/* Add the capability with nr_vectors (1, 2, 4, 8, 16 or 32); returns its
 * offset, 0 on failure. */
uint8_t msi_init(PCIDevice *dev, unsigned nr_vectors, GError **errp);
void msi_config_write(PCIDevice *dev, uint8_t cap, uint32_t addr,
                      uint32_t value, unsigned size);
bool msi_enabled(const PCIDevice *dev, uint8_t cap);
/* Vectors beyond what the guest enabled are folded as the spec says (the
 * low bits of the data carry the vector number). */
void msi_notify(PCIDevice *dev, uint8_t cap, unsigned vector);
void msi_reset(PCIDevice *dev, uint8_t cap);

#endif
