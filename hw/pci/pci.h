/*
 * PCI bus 0 of the pc machine: configuration mechanism #1 (ports 0xcf8 and
 * 0xcfc-0xcff, PCI Local Bus Specification 3.0 section 3.2.2.3.2), 256-byte
 * type-0 configuration spaces with per-bit write masks, BARs that are mapped
 * into the machine's address spaces while the command register enables
 * decoding, and INTx routing.
 *
 * A PCI device's state struct starts with a PCIDevice (whose first member is
 * the Device), realizes by calling pci_device_register() and resets by
 * calling pci_device_reset().
 *
 * INTx routing (chosen here, simple and fixed): the INTx pin p (0 = INTA) of
 * the device in slot s drives PIRQ (s + p) mod 4.  PIRQ n is wired to GSI
 * 16 + n (IOAPIC inputs 16-19, level, active high); when the PIIX3 routes it
 * to an ISA IRQ (registers 0x60-0x63 with bit 7 clear) it drives that GSI as
 * well, for guests that use the 8259s.  Several devices on one PIRQ are
 * wired-OR.  MSI and MSI-X (hw/pci/msi.h, msix.h) send their messages with
 * pci_send_msi(), which the board routes (pci_bus_set_msi_handler).
 */
#ifndef KESTREL_HW_PCI_PCI_H
#define KESTREL_HW_PCI_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/memory.h"
#include "core/vmstate.h"

typedef struct Machine Machine;
typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

/* Standard configuration header offsets (type 0). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a /* sub-class, then base class */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_STATUS_W1C 0xf900 /* parity, aborts, SERR: write one to clear */

#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80

#define PCI_CONFIG_SPACE_SIZE 256
#define PCI_NUM_BARS 6
#define PCI_NUM_PIRQ 4
#define PCI_PIRQ_GSI_BASE 16

#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 7)

typedef enum PCIBarType {
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64, /* takes two BAR slots: n and n + 1 */
} PCIBarType;

typedef struct PCIBar {
    MemoryRegion *mr; /* NULL: BAR not implemented */
    uint64_t size;    /* power of two */
    PCIBarType type;
    bool prefetchable;
    bool mapped;
    uint64_t addr;    /* where mr is mapped, if mapped */
} PCIBar;

struct PCIDevice {
    Device parent;
    PCIBus *bus;
    uint8_t devfn;
    bool registered;
    char *addr_prop; /* "slot[.fn]" from -device ...,addr=; NULL: first free */

    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];   /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* bits a written one clears */
    PCIBar bars[PCI_NUM_BARS];
    uint8_t intx_level; /* what the device drives on its INTx pin */
    uint8_t cap_end;    /* end of the capability area used so far */

    /* Optional hooks: a device with registers in config space sees every
     * write after it was applied through the masks; config_read may
     * override a read (return false to use the stored bytes). */
    void (*config_write)(PCIDevice *dev, uint32_t addr, uint32_t value,
                         unsigned size);
    bool (*config_read)(PCIDevice *dev, uint32_t addr, unsigned size,
                        uint32_t *value);
};

/* A string property "addr" for PCI devices: -device foo,addr=3 or addr=3.1 */
#define DEFINE_PROP_PCI_ADDR(st, field)                                        \
    DEFINE_PROP_STRING(st, "addr", field.addr_prop, NULL,                      \
                       "PCI slot[.function] on bus 0 (default: first free)")

/* The part of a PCI device's state to put in its VMStateDescription with
 * VMSTATE_PCI_DEVICE(); the device's post_load must call
 * pci_device_post_load() so that BAR mappings and INTx follow. */
extern const VMStateDescription vmstate_pci_device;
#define VMSTATE_PCI_DEVICE(st, f)                                              \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(PCIDevice), .count = 1, .sub = &vmstate_pci_device }

/* Create the (single) bus.  The host bridge decodes the configuration ports
 * and passes accesses on with pci_bus_config_read/write(). */
PCIBus *pci_bus_new(Machine *m);
void pci_bus_free(PCIBus *bus);
Machine *pci_bus_machine(PCIBus *bus);
PCIDevice *pci_bus_find(PCIBus *bus, uint8_t devfn);

/* The i440FX host bridge (00.0) and PIIX3 (01.0) on a new bus; stores the bus
 * in m->pci and adopts the two devices into the machine. (hw/pci/i440fx.c) */
PCIBus *pci_i440fx_init(Machine *m, GError **errp);

/* Configuration mechanism #1: addr is the value of the 0xcf8 register
 * (enable bit 31, bus 23:16, devfn 15:8, dword 7:2), offset 0..3 the byte
 * within the 0xcfc data dword.  Absent functions read all-ones. */
uint32_t pci_bus_config_read(PCIBus *bus, uint32_t addr, unsigned offset,
                             unsigned size);
void pci_bus_config_write(PCIBus *bus, uint32_t addr, unsigned offset,
                          uint32_t value, unsigned size);

/* Byte access to port 0xcf9 shares the dword at 0xcf8 with the config
 * address register; the PIIX3 puts its reset control register there. */
void pci_bus_set_cf9_handler(PCIBus *bus,
                             uint8_t (*read)(void *opaque),
                             void (*write)(void *opaque, uint8_t value),
                             void *opaque);
/* Used by the host bridge for byte accesses to 0xcf9 (no handler: 0xff). */
uint8_t pci_bus_cf9_read(PCIBus *bus);
void pci_bus_cf9_write(PCIBus *bus, uint8_t value);

/* Where MSI writes go: the board installs the interrupt controllers'
 * entry (the userspace APIC bus, or KVM's in-kernel irqchip). */
void pci_bus_set_msi_handler(PCIBus *bus,
                             void (*send)(void *opaque, uint64_t addr,
                                          uint32_t data),
                             void *opaque);
/* A message-signalled interrupt from dev: dropped unless bus mastering is
 * enabled (an MSI is a memory write by the device). */
void pci_send_msi(PCIDevice *dev, uint64_t addr, uint32_t data);

/* PIIX3 PIRQ routing: PIRQ pirq (0..3) also drives ISA IRQ isa_irq, or no
 * ISA IRQ for isa_irq < 0. */
void pci_bus_set_pirq_route(PCIBus *bus, unsigned pirq, int isa_irq);
/* The PIRQ (0..3) that INTx pin (1 = INTA .. 4 = INTD) of slot drives. */
unsigned pci_swizzle(unsigned slot, unsigned pin);

/* Program BARs like firmware: memory BARs inside [mmio_base, mmio_last],
 * I/O BARs inside [io_base, io_last] (inclusive bounds), each naturally
 * aligned (memory at least 4 KiB), then enable decoding and bus mastering
 * and set the interrupt line register to the PIRQ's GSI.  Returns false if
 * the windows are too small (the BARs that did not fit stay disabled). */
bool pci_assign_bars(PCIBus *bus, uint64_t mmio_base, uint64_t mmio_last,
                     uint16_t io_base, uint16_t io_last);

/* Device side.  devfn < 0 (and no addr property): first free slot, fn 0. */
bool pci_device_register(PCIDevice *dev, PCIBus *bus, int devfn,
                         GError **errp);
void pci_device_unregister(PCIDevice *dev);
void pci_config_set_ids(PCIDevice *dev, uint16_t vendor, uint16_t device,
                        uint8_t revision, uint32_t class_code);
/* Declare BAR n (0..5; a 64-bit BAR uses n and n + 1).  size must be a power
 * of two (I/O: 4..256 bytes is usual; memory: at least 16). */
void pci_register_bar(PCIDevice *dev, unsigned n, PCIBarType type,
                      bool prefetchable, uint64_t size, MemoryRegion *mr);
/* Drive the device's INTx pin (config byte 0x3d says which). */
void pci_set_irq(PCIDevice *dev, int level);
/* Append a capability of size bytes with the given id; returns its offset
 * in config space (0 if full).  The next pointer is chained. */
uint8_t pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t size);
/* Reset the standard header: command, status, BARs (unmapped), INTx low. */
void pci_device_reset(PCIDevice *dev);
bool pci_device_post_load(PCIDevice *dev, GError **errp);

/* Configuration space access as the guest sees it (masks, hooks, BAR
 * remapping).  addr + size beyond 256 reads all-ones / is ignored. */
uint32_t pci_config_read(PCIDevice *dev, uint32_t addr, unsigned size);
void pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t value,
                      unsigned size);

/* Little-endian helpers into config space (emulator side, no masks). */
static inline void pci_set_byte(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    pci_set_word(p, (uint16_t)v);
    pci_set_word(p + 2, (uint16_t)(v >> 16));
}
static inline uint16_t pci_get_word(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t pci_get_long(const uint8_t *p)
{
    return pci_get_word(p) | ((uint32_t)pci_get_word(p + 2) << 16);
}

#endif
