/*
 * MSI-X for PCI devices (PCI Local Bus Specification 3.0, section 6.8.2):
 * the capability in configuration space, and the vector table and pending
 * bit array in a memory BAR of their own that this code registers and
 * serves.  A device embeds an MsixState, calls msix_init() when it
 * realizes, forwards its config_write hook to msix_config_write(), and
 * signals with msix_notify().  Messages go out through pci_send_msi(),
 * which the board routes to the interrupt controllers.
 */
#ifndef KESTREL_HW_PCI_MSIX_H
#define KESTREL_HW_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/memory.h"
#include "core/vmstate.h"
#include "hw/pci/pci.h"

#define PCI_CAP_ID_MSIX 0x11
#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16
#define MSIX_BAR_SIZE 0x1000
#define MSIX_TABLE_OFFSET 0x000
#define MSIX_PBA_OFFSET 0x800

/* Message control (capability + 2). */
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_CTRL_MASKBIT 0x1

typedef struct MsixState {
    PCIDevice *dev;
    unsigned nr_vectors;  /* 0: no MSI-X */
    uint8_t cap;          /* capability offset in config space */
    MemoryRegion mr;      /* the table + PBA BAR */
    uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
    uint8_t pba[MSIX_MAX_VECTORS / 8];
} MsixState;

/* Add the capability and register BAR bar_nr (32-bit memory, 4 KiB) with
 * nr_vectors entries (1..MSIX_MAX_VECTORS), all masked. */
bool msix_init(MsixState *ms, PCIDevice *dev, unsigned nr_vectors,
               unsigned bar_nr, GError **errp);
/* Call from the device's config_write hook. */
void msix_config_write(MsixState *ms, uint32_t addr, uint32_t value,
                       unsigned size);
/* MSI-X is enabled by the guest (then INTx must stay quiet). */
bool msix_enabled(const MsixState *ms);
/* Signal vector: sent now, or remembered in the PBA while masked.  Vectors
 * beyond the table are ignored. */
void msix_notify(MsixState *ms, unsigned vector);
/* Is vector masked (by its entry or by the function mask)? */
bool msix_is_masked(const MsixState *ms, unsigned vector);
/* Device reset: all entries masked and cleared, nothing pending. */
void msix_reset(MsixState *ms);

extern const VMStateDescription vmstate_msix;
#define VMSTATE_MSIX(st, f)                                                    \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(MsixState), .count = 1, .sub = &vmstate_msix }

#endif
