/*
 * MSI-X for PCI devices (PCI Local Bus Specification 3.0, section 6.8.2):
 * the capability in configuration space, and the vector table and pending
 * bit array in a memory BAR of their own that this code registers and
 * serves.  A device embeds an MsixState, calls msix_init() when it
 * realizes, forwards its config_write hook to msix_config_write(), and
 * signals with msix_notify().  Messages go out through pci_send_msi(),
 * which the board routes to the interrupt controllers, or, when the
 * device asked for it (msix_set_irqfd) and the machine offers it
 * (Machine.accel_io: KVM with its in-kernel irqchip), through an irqfd:
 * each vector that fires gets an eventfd and an MSI route in the
 * accelerator holding its table entry's message; the route follows the
 * guest's table writes, the irqfd is detached while the vector is masked
 * (the pending bit then records the message, as without irqfd), and a
 * device reset releases both.
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

/* A vector delivered through the accelerator (see above). */
typedef struct MsixIrqfd {
    int fd;          /* eventfd; -1 until the vector first fires */
    int route;       /* the accelerator's MSI route; -1 none */
    bool attached;   /* signalling fd raises route's interrupt */
    bool refused;    /* the accelerator refused: pci_send_msi() until reset */
} MsixIrqfd;

typedef struct MsixState {
    PCIDevice *dev;
    bool use_irqfd;       /* msix_set_irqfd() */
    MsixIrqfd irqfd[MSIX_MAX_VECTORS];
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
/* Device reset: all entries masked and cleared, nothing pending, no irqfd
 * or MSI route left in the accelerator. */
void msix_reset(MsixState *ms);
/* Deliver through the accelerator's irqfds when the machine has them. */
void msix_set_irqfd(MsixState *ms, bool on);
/* After the table was loaded from a snapshot: drop the irqfds and routes
 * (the next message of each vector sets them up from the new table). */
void msix_post_load(MsixState *ms);
/* Device unrealize: release the irqfds and routes, close the eventfds. */
void msix_cleanup(MsixState *ms);

extern const VMStateDescription vmstate_msix;
#define VMSTATE_MSIX(st, f)                                                    \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(MsixState), .count = 1, .sub = &vmstate_msix }

#endif
