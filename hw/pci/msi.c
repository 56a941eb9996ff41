/*
 * MSI (PCI Local Bus Specification 3.0, 6.8.1), 64-bit address with
 * per-vector mask and pending bits.  Layout from the capability start:
 * +2 message control, +4 address low, +8 address high, +0xc data,
 * +0x10 mask bits, +0x14 pending bits.
 */
#include "hw/pci/msi.h"

#include "core/error.h"

uint8_t msi_init(PCIDevice *dev, unsigned nr_vectors, GError **errp)
{
    if (nr_vectors == 0 || nr_vectors > 32 ||
        (nr_vectors & (nr_vectors - 1))) {
        error_setg(errp, "MSI: %u vectors (a power of two up to 32)",
                   nr_vectors);
        return 0;
    }
    uint8_t cap = pci_add_capability(dev, PCI_CAP_ID_MSI, MSI_CAP_SIZE);
    if (!cap) {
        error_setg(errp, "MSI: no room in configuration space");
        return 0;
    }
    unsigned log2 = (unsigned)__builtin_ctz(nr_vectors);
    pci_set_word(dev->config + cap + 2,
                 (uint16_t)(MSI_CTRL_64BIT | MSI_CTRL_MASKABLE | (log2 << 1)));
    /* enable and multiple message enable */
    pci_set_word(dev->wmask + cap + 2, MSI_CTRL_ENABLE | 0x70);
    pci_set_long(dev->wmask + cap + 4, 0xfffffffcu);
    pci_set_long(dev->wmask + cap + 8, 0xffffffffu);
    pci_set_word(dev->wmask + cap + 0xc, 0xffff);
    pci_set_long(dev->wmask + cap + 0x10,
                 nr_vectors == 32 ? 0xffffffffu : (1u << nr_vectors) - 1);
    return cap;
}

bool msi_enabled(const PCIDevice *dev, uint8_t cap)
{
    return cap && (pci_get_word(dev->config + cap + 2) & MSI_CTRL_ENABLE);
}

static unsigned enabled_vectors(const PCIDevice *dev, uint8_t cap)
{
    uint16_t ctrl = pci_get_word(dev->config + cap + 2);
    unsigned mme = (ctrl >> 4) & 7, mmc = (ctrl >> 1) & 7;
    return 1u << (mme < mmc ? mme : mmc);
}

static void send(PCIDevice *dev, uint8_t cap, unsigned vector)
{
    const uint8_t *c = dev->config + cap;
    uint64_t addr = pci_get_long(c + 4) | ((uint64_t)pci_get_long(c + 8) << 32);
    unsigned n = enabled_vectors(dev, cap);
    uint32_t data = pci_get_word(c + 0xc);
    data = (data & ~(n - 1)) | (vector & (n - 1));
    pci_send_msi(dev, addr, data);
}

void msi_notify(PCIDevice *dev, uint8_t cap, unsigned vector)
{
    if (!msi_enabled(dev, cap)) {
        return;
    }
    vector &= enabled_vectors(dev, cap) - 1;
    uint8_t *c = dev->config + cap;
    if (pci_get_long(c + 0x10) & (1u << vector)) {
        pci_set_long(c + 0x14, pci_get_long(c + 0x14) | (1u << vector));
        return;
    }
    send(dev, cap, vector);
}

void msi_config_write(PCIDevice *dev, uint8_t cap, uint32_t addr,
                      uint32_t value, unsigned size)
{
    if (!cap || addr + size <= cap || addr >= cap + (uint32_t)MSI_CAP_SIZE ||
        !msi_enabled(dev, cap)) {
        return;
    }
    /* Unmasked vectors with a pending bit go out now. */
    uint8_t *c = dev->config + cap;
    uint32_t deliver = pci_get_long(c + 0x14) & ~pci_get_long(c + 0x10);
    pci_set_long(c + 0x14, pci_get_long(c + 0x14) & ~deliver);
    for (unsigned v = 0; deliver; v++, deliver >>= 1) {
        if (deliver & 1) {
            send(dev, cap, v);
        }
    }
}

void msi_reset(PCIDevice *dev, uint8_t cap)
{
    if (!cap) {
        return;
    }
    uint8_t *c = dev->config + cap;
    pci_set_word(c + 2, pci_get_word(c + 2) & (uint16_t)~(MSI_CTRL_ENABLE | 0x70));
    for (unsigned off = 4; off < MSI_CAP_SIZE; off += 4) {
        pci_set_long(c + off, 0);
    }
}
