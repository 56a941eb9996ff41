/*
 * MSI-X (PCI Local Bus Specification 3.0, 6.8.2): capability, vector table
 * (address, data, vector control per entry) and pending bits in one 4 KiB
 * memory BAR.  A masked vector that fires sets its pending bit; unmasking
 * it (entry or function mask) sends the message and clears the bit.
 */
#include "hw/pci/msix.h"

#include <string.h>

#include "core/error.h"

static uint16_t msix_ctrl(const MsixState *ms)
{
    return pci_get_word(ms->dev->config + ms->cap + 2);
}

bool msix_enabled(const MsixState *ms)
{
    return ms->nr_vectors && (msix_ctrl(ms) & MSIX_CTRL_ENABLE);
}

static bool pending(const MsixState *ms, unsigned v)
{
    return ms->pba[v / 8] & (1u << (v % 8));
}

static void set_pending(MsixState *ms, unsigned v, bool on)
{
    if (on) {
        ms->pba[v / 8] |= (uint8_t)(1u << (v % 8));
    } else {
        ms->pba[v / 8] &= (uint8_t)~(1u << (v % 8));
    }
}

bool msix_is_masked(const MsixState *ms, unsigned vector)
{
    const uint8_t *e = ms->table + vector * MSIX_ENTRY_SIZE;
    return (msix_ctrl(ms) & MSIX_CTRL_MASKALL) ||
           (ld32(e + 12) & MSIX_ENTRY_CTRL_MASKBIT);
}

static void send(MsixState *ms, unsigned v)
{
    const uint8_t *e = ms->table + v * MSIX_ENTRY_SIZE;
    uint64_t addr = ld32(e) | ((uint64_t)ld32(e + 4) << 32);
    pci_send_msi(ms->dev, addr, ld32(e + 8));
}

void msix_notify(MsixState *ms, unsigned vector)
{
    if (vector >= ms->nr_vectors || !msix_enabled(ms)) {
        return;
    }
    if (msix_is_masked(ms, vector)) {
        set_pending(ms, vector, true);
        return;
    }
    send(ms, vector);
}

/* After a mask bit may have cleared: deliver what was held back. */
static void flush_pending(MsixState *ms, unsigned first, unsigned count)
{
    if (!msix_enabled(ms)) {
        return;
    }
    for (unsigned v = first; v < first + count && v < ms->nr_vectors; v++) {
        if (pending(ms, v) && !msix_is_masked(ms, v)) {
            set_pending(ms, v, false);
            send(ms, v);
        }
    }
}

static uint64_t msix_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    MsixState *ms = opaque;
    const uint8_t *src = NULL;
    uint64_t limit = 0;
    if (addr >= MSIX_PBA_OFFSET) {
        addr -= MSIX_PBA_OFFSET;
        src = ms->pba;
        limit = (ms->nr_vectors + 63) / 64 * 8;
        if (limit > sizeof(ms->pba)) {
            limit = sizeof(ms->pba);
        }
    } else {
        src = ms->table;
        limit = (uint64_t)ms->nr_vectors * MSIX_ENTRY_SIZE;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (addr + i < limit) {
            v |= (uint64_t)src[addr + i] << (8 * i);
        }
    }
    return v;
}

static void msix_mmio_write(void *opaque, uint64_t addr, uint64_t value,
                            unsigned size)
{
    MsixState *ms = opaque;
    uint64_t limit = (uint64_t)ms->nr_vectors * MSIX_ENTRY_SIZE;
    if (addr >= MSIX_PBA_OFFSET || addr + size > limit) {
        return; /* the PBA is read-only; beyond the table: nothing */
    }
    unsigned first = (unsigned)(addr / MSIX_ENTRY_SIZE);
    unsigned last = (unsigned)((addr + size - 1) / MSIX_ENTRY_SIZE);
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        /* Vector control: only the mask bit is writable. */
        if (a % MSIX_ENTRY_SIZE >= 12) {
            if (a % MSIX_ENTRY_SIZE == 12) {
                ms->table[a] = (uint8_t)((value >> (8 * i)) &
                                         MSIX_ENTRY_CTRL_MASKBIT);
            }
            continue;
        }
        ms->table[a] = (uint8_t)(value >> (8 * i));
    }
    flush_pending(ms, first, last - first + 1);
}

static const MemoryRegionOps msix_ops = {
    .read = msix_mmio_read,
    .write = msix_mmio_write,
    .min_access = 4,
    .max_access = 8,
};

bool msix_init(MsixState *ms, PCIDevice *dev, unsigned nr_vectors,
               unsigned bar_nr, GError **errp)
{
    if (nr_vectors == 0 || nr_vectors > MSIX_MAX_VECTORS) {
        error_setg(errp, "MSI-X: %u vectors (1 to %d)", nr_vectors,
                   MSIX_MAX_VECTORS);
        return false;
    }
    uint8_t cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, 12);
    if (!cap) {
        error_setg(errp, "MSI-X: no room in configuration space");
        return false;
    }
    ms->dev = dev;
    ms->cap = cap;
    ms->nr_vectors = nr_vectors;
    pci_set_word(dev->config + cap + 2, (uint16_t)(nr_vectors - 1));
    pci_set_word(dev->wmask + cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    pci_set_long(dev->config + cap + 4, MSIX_TABLE_OFFSET | bar_nr);
    pci_set_long(dev->config + cap + 8, MSIX_PBA_OFFSET | bar_nr);
    memory_region_init_io(&ms->mr, "msix", &msix_ops, ms, MSIX_BAR_SIZE);
    pci_register_bar(dev, bar_nr, PCI_BAR_MEM32, false, MSIX_BAR_SIZE,
                     &ms->mr);
    msix_reset(ms);
    return true;
}

void msix_config_write(MsixState *ms, uint32_t addr, uint32_t value,
                       unsigned size)
{
    if (!ms->nr_vectors || addr + size <= ms->cap + 2u ||
        addr >= ms->cap + 4u) {
        return;
    }
    /* Enable or function mask may have changed. */
    flush_pending(ms, 0, ms->nr_vectors);
}

void msix_reset(MsixState *ms)
{
    if (!ms->nr_vectors) {
        return;
    }
    uint8_t *ctrl = ms->dev->config + ms->cap + 2;
    pci_set_word(ctrl, pci_get_word(ctrl) &
                           (uint16_t)~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL));
    memset(ms->table, 0, sizeof(ms->table));
    for (unsigned v = 0; v < ms->nr_vectors; v++) {
        ms->table[v * MSIX_ENTRY_SIZE + 12] = MSIX_ENTRY_CTRL_MASKBIT;
    }
    memset(ms->pba, 0, sizeof(ms->pba));
}

static const VMStateField msix_fields[] = {
    VMSTATE_BUFFER(MsixState, table),
    VMSTATE_BUFFER(MsixState, pba),
    VMSTATE_END,
};

const VMStateDescription vmstate_msix = {
    .name = "msix",
    .version = 1,
    .fields = msix_fields,
};
