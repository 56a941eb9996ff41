/*
 * The i440FX PCI and memory controller (host bridge 00.0) and the PIIX3
 * PCI-to-ISA bridge (01.0) of the pc machine.
 */
#ifndef KESTREL_HW_PCI_I440FX_H
#define KESTREL_HW_PCI_I440FX_H

#include <stdint.h>

#include "core/device.h"
#include "hw/pci/pci.h"

extern const DeviceClass i440fx_class;
extern const DeviceClass piix3_class;

#define I440FX_PAM0 0x59
#define I440FX_NR_PAM 7
#define I440FX_SMRAM 0x72

/* Called whenever the guest writes a PAM register (0x59-0x5f) or SMRAM, and
 * after reset and snapshot load, so that the board can switch the BIOS
 * shadow areas between ROM and RAM.  pam[i] is register 0x59 + i. */
typedef void (*I440fxPamNotify)(void *opaque, const uint8_t pam[I440FX_NR_PAM],
                                uint8_t smram);
void i440fx_set_pam_notify(PCIBus *bus, I440fxPamNotify fn, void *opaque);

#endif
