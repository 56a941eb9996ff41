/*
 * MSI-X (PCI Local Bus Specification 3.0, 6.8.2): capability, vector table
 * (address, data, vector control per entry) and pending bits in one 4 KiB
 * memory BAR.  A masked vector that fires sets its pending bit; unmasking
 * it (entry or function mask) sends the message and clears the bit.
 * Messages go through pci_send_msi(), or through an irqfd of the
 * accelerator (see msix.h).
 */
#include "hw/pci/msix.h"

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/error.h"
#include "hw/machine.h"

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

static void entry_message(const MsixState *ms, unsigned v, uint64_t *addr,
                          uint32_t *data)
{
    const uint8_t *e = ms->table + v * MSIX_ENTRY_SIZE;
    *addr = ld32(e) | ((uint64_t)ld32(e + 4) << 32);
    *data = ld32(e + 8);
}

/* ---- delivery through the accelerator's irqfd ---- */

static const MachineAccelIo *accel_io(const MsixState *ms)
{
    return &ms->dev->parent.machine->accel_io;
}

static void irqfd_detach(MsixState *ms, unsigned v)
{
    MsixIrqfd *f = &ms->irqfd[v];
    if (f->attached) {
        const MachineAccelIo *io = accel_io(ms);
        io->del_irqfd(io->opaque, f->fd, f->route);
        f->attached = false;
    }
}

static void irqfd_release(MsixState *ms, unsigned v)
{
    MsixIrqfd *f = &ms->irqfd[v];
    irqfd_detach(ms, v);
    if (f->route >= 0) {
        const MachineAccelIo *io = accel_io(ms);
        io->del_msi_route(io->opaque, f->route);
        f->route = -1;
    }
    f->refused = false;
}

/* Make vector v's eventfd raise its message in the accelerator; false if
 * it cannot (then the message goes through pci_send_msi). */
static bool irqfd_attach(MsixState *ms, unsigned v)
{
    MsixIrqfd *f = &ms->irqfd[v];
    if (f->attached) {
        return true;
    }
    if (!ms->use_irqfd || f->refused) {
        return false;
    }
    const MachineAccelIo *io = accel_io(ms);
    if (!io->add_irqfd || !io->add_msi_route) {
        return false;
    }
    uint64_t addr;
    uint32_t data;
    entry_message(ms, v, &addr, &data);
    if (f->fd < 0) {
        f->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
    if (f->fd >= 0 && f->route < 0) {
        f->route = io->add_msi_route(io->opaque, addr, data);
    } else if (f->route >= 0 &&
               !io->update_msi_route(io->opaque, f->route, addr, data)) {
        io->del_msi_route(io->opaque, f->route);
        f->route = -1;
    }
    if (f->fd < 0 || f->route < 0 ||
        !io->add_irqfd(io->opaque, f->fd, f->route)) {
        f->refused = true;
        return false;
    }
    f->attached = true;
    return true;
}

/* The guest rewrote entry v or its mask: the route follows the message,
 * and a masked vector keeps no irqfd. */
static void irqfd_entry_changed(MsixState *ms, unsigned v)
{
    MsixIrqfd *f = &ms->irqfd[v];
    if (f->route < 0) {
        return;
    }
    const MachineAccelIo *io = accel_io(ms);
    if (msix_is_masked(ms, v)) {
        irqfd_detach(ms, v);
    }
    uint64_t addr;
    uint32_t data;
    entry_message(ms, v, &addr, &data);
    if (!io->update_msi_route(io->opaque, f->route, addr, data)) {
        irqfd_release(ms, v);
        f->refused = true;
    }
}

static void send(MsixState *ms, unsigned v)
{
    if (irqfd_attach(ms, v)) {
        /* A message is a memory write by the device: none without bus
         * mastering, as pci_send_msi() does. */
        if (pci_get_word(ms->dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER) {
            uint64_t one = 1;
            ssize_t n = write(ms->irqfd[v].fd, &one, sizeof(one));
            (void)n; /* a full counter still raises the interrupt */
        }
        return;
    }
    uint64_t addr;
    uint32_t data;
    entry_message(ms, v, &addr, &data);
    pci_send_msi(ms->dev, addr, data);
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
    for (unsigned v = first; v <= last; v++) {
        irqfd_entry_changed(ms, v);
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
    for (unsigned v = 0; v < MSIX_MAX_VECTORS; v++) {
        ms->irqfd[v] = (MsixIrqfd){ .fd = -1, .route = -1 };
    }
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
    if (!msix_enabled(ms) || (msix_ctrl(ms) & MSIX_CTRL_MASKALL)) {
        for (unsigned v = 0; v < ms->nr_vectors; v++) {
            irqfd_detach(ms, v);
        }
    }
    flush_pending(ms, 0, ms->nr_vectors);
}

void msix_reset(MsixState *ms)
{
    if (!ms->nr_vectors) {
        return;
    }
    for (unsigned v = 0; v < ms->nr_vectors; v++) {
        irqfd_release(ms, v);
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

void msix_set_irqfd(MsixState *ms, bool on)
{
    if (!on) {
        for (unsigned v = 0; v < ms->nr_vectors; v++) {
            irqfd_release(ms, v);
        }
    }
    ms->use_irqfd = on;
}

void msix_post_load(MsixState *ms)
{
    for (unsigned v = 0; v < ms->nr_vectors; v++) {
        irqfd_release(ms, v);
    }
}

void msix_cleanup(MsixState *ms)
{
    for (unsigned v = 0; v < ms->nr_vectors; v++) {
        irqfd_release(ms, v);
        if (ms->irqfd[v].fd >= 0) {
            close(ms->irqfd[v].fd);
            ms->irqfd[v].fd = -1;
        }
    }
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
