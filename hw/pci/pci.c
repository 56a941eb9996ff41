/*
 * PCI bus 0: configuration space of type-0 functions, BAR decoding into the
 * machine's address spaces, INTx to PIRQ to GSI routing, and a firmware-like
 * BAR allocator for direct kernel boot.  Follows the PCI Local Bus
 * Specification 3.0, chapter 6 (configuration space); see pci.h for the
 * interrupt wiring this machine uses.
 */
#include "hw/pci/pci.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "hw/machine.h"

#define PCI_DEVFN_MAX 256

struct PCIBus {
    Machine *m;
    PCIDevice *devs[PCI_DEVFN_MAX];
    /* Which functions assert each PIRQ: one bit per devfn. */
    uint64_t pirq_assert[PCI_NUM_PIRQ][PCI_DEVFN_MAX / 64];
    bool pirq_level[PCI_NUM_PIRQ];
    int pirq_isa[PCI_NUM_PIRQ]; /* ISA IRQ the PIIX3 routes to, or -1 */
    uint8_t (*cf9_read)(void *opaque);
    void (*cf9_write)(void *opaque, uint8_t value);
    void *cf9_opaque;
    void (*msi_send)(void *opaque, uint64_t addr, uint32_t data);
    void *msi_opaque;
};

PCIBus *pci_bus_new(Machine *m)
{
    PCIBus *bus = g_new0(PCIBus, 1);

    bus->m = m;
    for (unsigned i = 0; i < PCI_NUM_PIRQ; i++) {
        bus->pirq_isa[i] = -1;
    }
    return bus;
}

void pci_bus_free(PCIBus *bus)
{
    g_free(bus);
}

Machine *pci_bus_machine(PCIBus *bus)
{
    return bus->m;
}

PCIDevice *pci_bus_find(PCIBus *bus, uint8_t devfn)
{
    return bus->devs[devfn];
}

void pci_bus_set_cf9_handler(PCIBus *bus, uint8_t (*read)(void *opaque),
                             void (*write)(void *opaque, uint8_t value),
                             void *opaque)
{
    bus->cf9_read = read;
    bus->cf9_write = write;
    bus->cf9_opaque = opaque;
}

uint8_t pci_bus_cf9_read(PCIBus *bus)
{
    return bus->cf9_read ? bus->cf9_read(bus->cf9_opaque) : 0xff;
}

void pci_bus_cf9_write(PCIBus *bus, uint8_t value)
{
    if (bus->cf9_write) {
        bus->cf9_write(bus->cf9_opaque, value);
    }
}

/* ---- interrupts ---- */

void pci_bus_set_msi_handler(PCIBus *bus,
                             void (*send)(void *opaque, uint64_t addr,
                                          uint32_t data),
                             void *opaque)
{
    bus->msi_send = send;
    bus->msi_opaque = opaque;
}

void pci_send_msi(PCIDevice *dev, uint64_t addr, uint32_t data)
{
    PCIBus *bus = dev->bus;
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);

    if (bus && bus->msi_send && (cmd & PCI_COMMAND_MASTER)) {
        bus->msi_send(bus->msi_opaque, addr, data);
    }
}

unsigned pci_swizzle(unsigned slot, unsigned pin)
{
    return (slot + pin - 1) & (PCI_NUM_PIRQ - 1);
}

static void pirq_drive(PCIBus *bus, unsigned pirq, int level)
{
    Machine *m = bus->m;

    irq_set(&m->gsi[PCI_PIRQ_GSI_BASE + pirq], level);
    if (bus->pirq_isa[pirq] >= 0) {
        irq_set(&m->gsi[bus->pirq_isa[pirq]], level);
    }
}

static void pirq_update(PCIBus *bus, unsigned pirq)
{
    bool level = false;

    for (unsigned i = 0; i < PCI_DEVFN_MAX / 64; i++) {
        level |= bus->pirq_assert[pirq][i] != 0;
    }
    if (level != bus->pirq_level[pirq]) {
        bus->pirq_level[pirq] = level;
        pirq_drive(bus, pirq, level);
    }
}

void pci_bus_set_pirq_route(PCIBus *bus, unsigned pirq, int isa_irq)
{
    if (pirq >= PCI_NUM_PIRQ) {
        return;
    }
    if (isa_irq >= 16) {
        isa_irq = -1;
    }
    if (bus->pirq_isa[pirq] == isa_irq) {
        return;
    }
    if (bus->pirq_level[pirq] && bus->pirq_isa[pirq] >= 0) {
        irq_set(&bus->m->gsi[bus->pirq_isa[pirq]], 0);
    }
    bus->pirq_isa[pirq] = isa_irq;
    if (bus->pirq_level[pirq] && isa_irq >= 0) {
        irq_set(&bus->m->gsi[isa_irq], 1);
    }
}

/* Recompute what the device contributes to its PIRQ. */
static void intx_update(PCIDevice *dev)
{
    uint8_t pin = dev->config[PCI_INTERRUPT_PIN];
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);
    PCIBus *bus = dev->bus;

    if (dev->intx_level) {
        dev->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    } else {
        dev->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    }
    if (!bus || pin < 1 || pin > 4) {
        return;
    }
    unsigned pirq = pci_swizzle(PCI_SLOT(dev->devfn), pin);
    uint64_t bit = 1ull << (dev->devfn % 64);
    uint64_t *word = &bus->pirq_assert[pirq][dev->devfn / 64];

    if (dev->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE)) {
        *word |= bit;
    } else {
        *word &= ~bit;
    }
    pirq_update(bus, pirq);
}

void pci_set_irq(PCIDevice *dev, int level)
{
    dev->intx_level = level ? 1 : 0;
    intx_update(dev);
}

/* ---- BARs ---- */

static bool bar_is_upper_half(const PCIDevice *dev, unsigned n)
{
    return n > 0 && dev->bars[n - 1].mr && dev->bars[n - 1].type == PCI_BAR_MEM64;
}

/* The address the BAR decodes now, or false if it decodes nothing. */
static bool bar_decoded_addr(const PCIDevice *dev, unsigned n, uint64_t *out)
{
    const PCIBar *bar = &dev->bars[n];
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * n;
    uint64_t lo = pci_get_long(dev->config + off);
    uint64_t addr, mask, limit;

    if (bar->type == PCI_BAR_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return false;
        }
        addr = lo & ~3ull;
        mask = pci_get_long(dev->wmask + off);
        limit = 0x10000;
    } else {
        if (!(cmd & PCI_COMMAND_MEMORY)) {
            return false;
        }
        addr = lo & ~0xfull;
        mask = pci_get_long(dev->wmask + off);
        limit = 1ull << 32;
        if (bar->type == PCI_BAR_MEM64) {
            addr |= (uint64_t)pci_get_long(dev->config + off + 4) << 32;
            mask |= (uint64_t)pci_get_long(dev->wmask + off + 4) << 32;
            limit = 0; /* the whole 64-bit space */
        }
    }
    /* Zero means unprogrammed; all writable bits set is a sizing probe. */
    if (addr == 0 || addr == mask) {
        return false;
    }
    if (addr + bar->size < addr) {
        return false;
    }
    if (limit && addr + bar->size > limit) {
        return false;
    }
    *out = addr;
    return true;
}

static void update_mappings(PCIDevice *dev)
{
    Machine *m;

    if (!dev->bus) {
        return;
    }
    m = dev->bus->m;
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        PCIBar *bar = &dev->bars[n];
        AddressSpace *as;
        uint64_t addr;
        bool want;

        if (!bar->mr) {
            continue;
        }
        as = bar->type == PCI_BAR_IO ? &m->io : &m->mem;
        want = bar_decoded_addr(dev, n, &addr);
        if (bar->mapped && (!want || addr != bar->addr)) {
            if (want && address_space_remap(as, bar->mr, addr)) {
                bar->addr = addr;
                continue;
            }
            address_space_unmap(as, bar->mr);
            bar->mapped = false;
        }
        if (want && !bar->mapped) {
            if (address_space_map(as, bar->mr, addr, 1)) {
                bar->mapped = true;
                bar->addr = addr;
            }
        }
    }
}

static void unmap_all(PCIDevice *dev)
{
    if (!dev->bus) {
        return;
    }
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        PCIBar *bar = &dev->bars[n];

        if (bar->mr && bar->mapped) {
            address_space_unmap(bar->type == PCI_BAR_IO ? &dev->bus->m->io
                                                        : &dev->bus->m->mem,
                                bar->mr);
            bar->mapped = false;
        }
    }
}

void pci_register_bar(PCIDevice *dev, unsigned n, PCIBarType type,
                      bool prefetchable, uint64_t size, MemoryRegion *mr)
{
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * n;
    uint64_t min = type == PCI_BAR_IO ? 4 : 16;
    uint32_t low_bits;
    uint64_t mask;

    g_assert(n < PCI_NUM_BARS && (type != PCI_BAR_MEM64 || n + 1 < PCI_NUM_BARS));
    g_assert(mr != NULL && size != 0);
    if (size < min) {
        size = min;
    }
    size = 1ull << g_bit_storage(size - 1); /* round up to a power of two */
    if (type == PCI_BAR_IO) {
        g_assert(size <= 0x10000);
        low_bits = 0x1;
    } else {
        g_assert(type == PCI_BAR_MEM64 || size <= (1ull << 31));
        low_bits = (type == PCI_BAR_MEM64 ? 0x4 : 0x0) | (prefetchable ? 0x8 : 0);
    }
    dev->bars[n] = (PCIBar){ .mr = mr, .size = size, .type = type,
                             .prefetchable = prefetchable };
    mask = ~(size - 1);
    pci_set_long(dev->config + off, low_bits);
    pci_set_long(dev->wmask + off,
                 (uint32_t)mask & (type == PCI_BAR_IO ? ~3u : ~0xfu));
    if (type == PCI_BAR_MEM64) {
        pci_set_long(dev->config + off + 4, 0);
        pci_set_long(dev->wmask + off + 4, (uint32_t)(mask >> 32));
    }
}

/* ---- configuration space ---- */

void pci_config_set_ids(PCIDevice *dev, uint16_t vendor, uint16_t device,
                        uint8_t revision, uint32_t class_code)
{
    pci_set_word(dev->config + PCI_VENDOR_ID, vendor);
    pci_set_word(dev->config + PCI_DEVICE_ID, device);
    dev->config[PCI_REVISION_ID] = revision;
    dev->config[PCI_CLASS_PROG] = (uint8_t)class_code;
    pci_set_word(dev->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
}

uint32_t pci_config_read(PCIDevice *dev, uint32_t addr, unsigned size)
{
    uint32_t v = 0;

    if ((size != 1 && size != 2 && size != 4) || addr >= PCI_CONFIG_SPACE_SIZE ||
        size > PCI_CONFIG_SPACE_SIZE - addr) {
        return 0xffffffffu;
    }
    if (dev->config_read && dev->config_read(dev, addr, size, &v)) {
        return v;
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint32_t)dev->config[addr + i] << (8 * i);
    }
    return v;
}

static bool overlaps(uint32_t addr, unsigned size, uint32_t start, uint32_t end)
{
    return addr < end && addr + size > start;
}

void pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t value,
                      unsigned size)
{
    if ((size != 1 && size != 2 && size != 4) || addr >= PCI_CONFIG_SPACE_SIZE ||
        size > PCI_CONFIG_SPACE_SIZE - addr) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(value >> (8 * i));
        uint32_t a = addr + i;

        dev->config[a] = (uint8_t)((dev->config[a] & ~dev->wmask[a]) |
                                   (b & dev->wmask[a]));
        dev->config[a] &= (uint8_t)~(b & dev->w1cmask[a]);
    }
    if (overlaps(addr, size, PCI_COMMAND, PCI_COMMAND + 2) ||
        overlaps(addr, size, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_0 + 24)) {
        update_mappings(dev);
    }
    if (overlaps(addr, size, PCI_COMMAND, PCI_COMMAND + 2)) {
        intx_update(dev);
    }
    if (dev->config_write) {
        dev->config_write(dev, addr, value, size);
    }
}

static PCIDevice *config_target(PCIBus *bus, uint32_t addr)
{
    if (!(addr & 0x80000000u) || ((addr >> 16) & 0xff) != 0) {
        return NULL; /* disabled, or a bus that does not exist */
    }
    return bus->devs[(addr >> 8) & 0xff];
}

uint32_t pci_bus_config_read(PCIBus *bus, uint32_t addr, unsigned offset,
                             unsigned size)
{
    PCIDevice *dev = config_target(bus, addr);
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

    if (!dev || offset > 3 || size > 4 - offset) {
        return ones;
    }
    return pci_config_read(dev, (addr & 0xfc) + offset, size) & ones;
}

void pci_bus_config_write(PCIBus *bus, uint32_t addr, unsigned offset,
                          uint32_t value, unsigned size)
{
    PCIDevice *dev = config_target(bus, addr);

    if (!dev || offset > 3 || size > 4 - offset) {
        return;
    }
    pci_config_write(dev, (addr & 0xfc) + offset, value, size);
}

uint8_t pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t size)
{
    unsigned start = dev->cap_end ? dev->cap_end : 0x40;
    uint8_t *link = dev->config + PCI_CAPABILITY_LIST;

    start = (start + 3) & ~3u;
    if (size < 2 || start + size > PCI_CONFIG_SPACE_SIZE) {
        return 0;
    }
    while (*link) {
        link = dev->config + *link + 1;
    }
    *link = (uint8_t)start;
    dev->config[start] = cap_id;
    dev->config[start + 1] = 0;
    dev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    dev->cap_end = (uint8_t)((start + size) & 0xff);
    if (start + size >= PCI_CONFIG_SPACE_SIZE) {
        dev->cap_end = 0xfc;
    }
    return (uint8_t)start;
}

/* ---- device lifecycle ---- */

static bool parse_addr(const char *s, int *devfn, GError **errp)
{
    char *end;
    unsigned long slot, fn = 0;

    slot = strtoul(s, &end, 16);
    if (end == s) {
        goto bad;
    }
    if (*end == '.') {
        const char *f = end + 1;

        fn = strtoul(f, &end, 16);
        if (end == f) {
            goto bad;
        }
    }
    if (*end || slot > 31 || fn > 7) {
        goto bad;
    }
    *devfn = PCI_DEVFN(slot, fn);
    return true;
bad:
    error_setg(errp, "invalid PCI address '%s' (want slot[.fn], hex, slot < 0x20)", s);
    return false;
}

bool pci_device_register(PCIDevice *dev, PCIBus *bus, int devfn, GError **errp)
{
    if (!bus) {
        error_setg(errp, "%s: this machine has no PCI bus", dev->parent.cls->name);
        return false;
    }
    if (dev->addr_prop && !parse_addr(dev->addr_prop, &devfn, errp)) {
        return false;
    }
    if (devfn < 0) {
        for (unsigned slot = 0; slot < 32; slot++) {
            if (!bus->devs[PCI_DEVFN(slot, 0)]) {
                devfn = PCI_DEVFN(slot, 0);
                break;
            }
        }
        if (devfn < 0) {
            error_setg(errp, "%s: no free PCI slot", dev->parent.cls->name);
            return false;
        }
    }
    if (devfn >= PCI_DEVFN_MAX || bus->devs[devfn]) {
        error_setg(errp, "%s: PCI address %02x.%x is in use",
                   dev->parent.cls->name, PCI_SLOT(devfn), PCI_FUNC(devfn));
        return false;
    }
    dev->bus = bus;
    dev->devfn = (uint8_t)devfn;
    dev->registered = true;
    bus->devs[devfn] = dev;

    pci_set_word(dev->wmask + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                     0x0040 /* parity */ | PCI_COMMAND_SERR |
                     PCI_COMMAND_INTX_DISABLE);
    pci_set_word(dev->w1cmask + PCI_STATUS, PCI_STATUS_W1C);
    dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    dev->wmask[PCI_LATENCY_TIMER] = 0xff;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
    return true;
}

void pci_device_unregister(PCIDevice *dev)
{
    if (!dev->registered) {
        return;
    }
    dev->intx_level = 0;
    intx_update(dev);
    unmap_all(dev);
    dev->bus->devs[dev->devfn] = NULL;
    dev->registered = false;
}

void pci_device_reset(PCIDevice *dev)
{
    pci_set_word(dev->config + PCI_COMMAND, 0);
    pci_set_word(dev->config + PCI_STATUS,
                 pci_get_word(dev->config + PCI_STATUS) & PCI_STATUS_CAP_LIST);
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        uint32_t off = PCI_BASE_ADDRESS_0 + 4 * n;

        if (dev->bars[n].mr || bar_is_upper_half(dev, n)) {
            pci_set_long(dev->config + off,
                         pci_get_long(dev->config + off) &
                             ~pci_get_long(dev->wmask + off));
        }
    }
    dev->config[PCI_CACHE_LINE_SIZE] = 0;
    dev->config[PCI_LATENCY_TIMER] = 0;
    dev->config[PCI_INTERRUPT_LINE] = 0;
    unmap_all(dev);
    dev->intx_level = 0;
    intx_update(dev);
}

bool pci_device_post_load(PCIDevice *dev, GError **errp)
{
    update_mappings(dev);
    intx_update(dev);
    return true;
}

static const VMStateField pci_device_fields[] = {
    VMSTATE_BUFFER(PCIDevice, config),
    VMSTATE_U8(PCIDevice, intx_level),
    VMSTATE_END,
};

const VMStateDescription vmstate_pci_device = {
    .name = "pci-device",
    .version = 1,
    .fields = pci_device_fields,
};

/* ---- firmware-like BAR assignment ---- */

typedef struct BarSlot {
    PCIDevice *dev;
    unsigned n;
    uint64_t size;
} BarSlot;

static int bar_slot_cmp(const void *a, const void *b)
{
    const BarSlot *x = a, *y = b;

    if (x->size != y->size) {
        return x->size > y->size ? -1 : 1;
    }
    if (x->dev->devfn != y->dev->devfn) {
        return x->dev->devfn < y->dev->devfn ? -1 : 1;
    }
    return (int)x->n - (int)y->n;
}

static bool alloc_range(uint64_t *next, uint64_t last, uint64_t size,
                        uint64_t align, uint64_t *out)
{
    uint64_t a = (*next + align - 1) & ~(align - 1);

    if (a < *next || a > last || size - 1 > last - a) {
        return false;
    }
    *out = a;
    *next = a + size;
    return true;
}

bool pci_assign_bars(PCIBus *bus, uint64_t mmio_base, uint64_t mmio_last,
                     uint16_t io_base, uint16_t io_last)
{
    BarSlot *slots = g_new(BarSlot, PCI_DEVFN_MAX * PCI_NUM_BARS);
    unsigned nr = 0;
    uint64_t next_mem = mmio_base, next_io = io_base;
    bool ok = true;

    for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *dev = bus->devs[devfn];

        if (!dev) {
            continue;
        }
        for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
            if (dev->bars[n].mr) {
                slots[nr++] = (BarSlot){ dev, n, dev->bars[n].size };
            }
        }
    }
    qsort(slots, nr, sizeof(*slots), bar_slot_cmp);

    for (unsigned i = 0; i < nr; i++) {
        PCIDevice *dev = slots[i].dev;
        PCIBar *bar = &dev->bars[slots[i].n];
        uint32_t off = PCI_BASE_ADDRESS_0 + 4 * slots[i].n;
        uint64_t addr;
        uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);

        if (bar->type == PCI_BAR_IO) {
            if (!alloc_range(&next_io, io_last, bar->size, bar->size, &addr)) {
                ok = false;
                continue;
            }
            cmd |= PCI_COMMAND_IO;
        } else {
            uint64_t align = bar->size < 4096 ? 4096 : bar->size;

            if (!alloc_range(&next_mem, mmio_last, bar->size, align, &addr)) {
                ok = false;
                continue;
            }
            cmd |= PCI_COMMAND_MEMORY;
        }
        pci_config_write(dev, off, (uint32_t)addr, 4);
        if (bar->type == PCI_BAR_MEM64) {
            pci_config_write(dev, off + 4, (uint32_t)(addr >> 32), 4);
        }
        pci_config_write(dev, PCI_COMMAND, cmd | PCI_COMMAND_MASTER, 2);
    }

    for (unsigned devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *dev = bus->devs[devfn];
        uint8_t pin;

        if (!dev) {
            continue;
        }
        pin = dev->config[PCI_INTERRUPT_PIN];
        if (pin >= 1 && pin <= 4) {
            pci_config_write(dev, PCI_INTERRUPT_LINE,
                             PCI_PIRQ_GSI_BASE + pci_swizzle(PCI_SLOT(devfn), pin), 1);
        }
    }
    g_free(slots);
    return ok;
}
