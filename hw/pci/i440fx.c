/*
 * Intel 82441FX (i440FX) PCI and memory controller, the host bridge at 00.0
 * (Intel 440FX PCIset datasheet, 82441FX PMC section): it decodes PCI
 * configuration mechanism #1 at ports 0xcf8 (address) and 0xcfc-0xcff
 * (data), identifies as 8086:1237 revision 02, and keeps the PAM registers
 * (0x59-0x5f, BIOS shadow attributes) and SMRAM (0x72) for the board, which
 * is told about every change through i440fx_set_pam_notify().
 *
 * pci_i440fx_init() builds the chipset: bus, host bridge, PIIX3.
 */
#include "hw/pci/i440fx.h"

#include "core/error.h"
#include "hw/machine.h"

#define CONFIG_ADDR_PORT 0xcf8
#define CONFIG_DATA_PORT 0xcfc
#define CONFIG_ADDR_MASK 0x80fffffcu

typedef struct I440fxState {
    PCIDevice pci;
    uint32_t config_addr;
    MemoryRegion addr_mr;
    MemoryRegion data_mr;
    I440fxPamNotify pam_notify;
    void *pam_opaque;
} I440fxState;

static void pam_changed(I440fxState *s)
{
    if (s->pam_notify) {
        s->pam_notify(s->pam_opaque, s->pci.config + I440FX_PAM0,
                      s->pci.config[I440FX_SMRAM]);
    }
}

void i440fx_set_pam_notify(PCIBus *bus, I440fxPamNotify fn, void *opaque)
{
    PCIDevice *dev = pci_bus_find(bus, PCI_DEVFN(0, 0));
    I440fxState *s;

    if (!dev || dev->parent.cls != &i440fx_class) {
        return;
    }
    s = (I440fxState *)dev;
    s->pam_notify = fn;
    s->pam_opaque = opaque;
    pam_changed(s);
}

/* 0xcf8: a dword is the config address; a byte at 0xcf9 is the PIIX3's
 * reset control register; other widths reach nothing. */
static uint64_t addr_read(void *opaque, uint64_t addr, unsigned size)
{
    I440fxState *s = opaque;

    if (addr == 0 && size == 4) {
        return s->config_addr;
    }
    if (addr == 1 && size == 1) {
        return pci_bus_cf9_read(s->pci.bus);
    }
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void addr_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    I440fxState *s = opaque;

    if (addr == 0 && size == 4) {
        s->config_addr = (uint32_t)value & CONFIG_ADDR_MASK;
    } else if (addr == 1 && size == 1) {
        pci_bus_cf9_write(s->pci.bus, (uint8_t)value);
    }
}

static const MemoryRegionOps addr_ops = {
    .read = addr_read,
    .write = addr_write,
    .min_access = 1,
    .max_access = 4,
};

static uint64_t data_read(void *opaque, uint64_t addr, unsigned size)
{
    I440fxState *s = opaque;

    return pci_bus_config_read(s->pci.bus, s->config_addr, (unsigned)addr, size);
}

static void data_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    I440fxState *s = opaque;

    pci_bus_config_write(s->pci.bus, s->config_addr, (unsigned)addr,
                         (uint32_t)value, size);
}

static const MemoryRegionOps data_ops = {
    .read = data_read,
    .write = data_write,
    .min_access = 1,
    .max_access = 4,
};

static void i440fx_config_write(PCIDevice *dev, uint32_t addr, uint32_t value,
                                unsigned size)
{
    if (addr < I440FX_SMRAM + 1 && addr + size > I440FX_PAM0) {
        pam_changed((I440fxState *)dev);
    }
}

static void i440fx_reset(Device *d)
{
    I440fxState *s = (I440fxState *)d;

    pci_device_reset(&s->pci);
    pci_set_word(s->pci.config + PCI_COMMAND,
                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(s->pci.config + PCI_STATUS, 0x0280); /* fast b2b, medium DEVSEL */
    for (unsigned i = 0; i < I440FX_NR_PAM; i++) {
        s->pci.config[I440FX_PAM0 + i] = 0;
    }
    s->pci.config[I440FX_SMRAM] = 0x02; /* C_BASE_SEG: 0xa0000 */
    s->config_addr = 0;
    pam_changed(s);
}

static bool i440fx_realize(Device *d, GError **errp)
{
    I440fxState *s = (I440fxState *)d;
    Machine *m = d->machine;

    pci_config_set_ids(&s->pci, 0x8086, 0x1237, 0x02, 0x060000);
    if (!pci_device_register(&s->pci, m->pci, PCI_DEVFN(0, 0), errp)) {
        return false;
    }
    /* PAM0 has only the high nibble (0xf0000 segment); PAM1-6 two areas. */
    s->pci.wmask[I440FX_PAM0] = 0x30;
    for (unsigned i = 1; i < I440FX_NR_PAM; i++) {
        s->pci.wmask[I440FX_PAM0 + i] = 0x33;
    }
    s->pci.wmask[I440FX_SMRAM] = 0x78; /* D_OPEN D_CLS D_LCK G_SMRAME */
    s->pci.config_write = i440fx_config_write;

    memory_region_init_io(&s->addr_mr, "pci-config-addr", &addr_ops, s, 4);
    memory_region_init_io(&s->data_mr, "pci-config-data", &data_ops, s, 4);
    if (!address_space_map(&m->io, &s->addr_mr, CONFIG_ADDR_PORT, 0) ||
        !address_space_map(&m->io, &s->data_mr, CONFIG_DATA_PORT, 0)) {
        error_setg(errp, "i440fx: cannot map the PCI configuration ports");
        pci_device_unregister(&s->pci);
        return false;
    }
    i440fx_reset(d);
    return true;
}

static void i440fx_unrealize(Device *d)
{
    I440fxState *s = (I440fxState *)d;

    address_space_unmap(&d->machine->io, &s->addr_mr);
    address_space_unmap(&d->machine->io, &s->data_mr);
    pci_device_unregister(&s->pci);
}

static bool i440fx_post_load(void *opaque, GError **errp)
{
    I440fxState *s = opaque;

    s->config_addr &= CONFIG_ADDR_MASK;
    pam_changed(s);
    return pci_device_post_load(&s->pci, errp);
}

static const VMStateField i440fx_fields[] = {
    VMSTATE_PCI_DEVICE(I440fxState, pci),
    VMSTATE_U32(I440fxState, config_addr),
    VMSTATE_END,
};

static const VMStateDescription i440fx_vmsd = {
    .name = "i440fx",
    .version = 1,
    .fields = i440fx_fields,
    .post_load = i440fx_post_load,
};

const DeviceClass i440fx_class = {
    .name = "i440fx",
    .description = "Intel 82441FX host bridge (PCI 00.0)",
    .instance_size = sizeof(I440fxState),
    .realize = i440fx_realize,
    .unrealize = i440fx_unrealize,
    .reset = i440fx_reset,
    .vmsd = &i440fx_vmsd,
};

PCIBus *pci_i440fx_init(Machine *m, GError **errp)
{
    Device *host, *isa;

    if (m->pci) {
        error_setg(errp, "the machine already has a PCI bus");
        return NULL;
    }
    m->pci = pci_bus_new(m);
    host = device_new(&i440fx_class, m, "i440fx");
    if (!machine_plug_device(m, host, errp)) {
        goto fail;
    }
    isa = device_new(&piix3_class, m, "piix3");
    if (!machine_plug_device(m, isa, errp)) {
        return NULL; /* the host bridge belongs to the machine now */
    }
    return m->pci;

fail:
    pci_bus_free(m->pci);
    m->pci = NULL;
    return NULL;
}
