/*
 * PCI configuration mechanism #1 for bus 0, function 0 of each slot: the
 * address register at 0xcf8 (enable bit 31, device 15:11, function 10:8,
 * dword 7:2), the data window at 0xcfc-0xcff.
 */
#include "lib/io.h"
#include "lib/pci.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc

static void select_reg(unsigned slot, unsigned off)
{
    outl(CONFIG_ADDRESS, 0x80000000u | (slot << 11) | (off & 0xfc));
}

uint32_t pci_read32(unsigned slot, unsigned off)
{
    select_reg(slot, off);
    return inl(CONFIG_DATA);
}

uint16_t pci_read16(unsigned slot, unsigned off)
{
    select_reg(slot, off);
    return inw((uint16_t)(CONFIG_DATA + (off & 2)));
}

uint8_t pci_read8(unsigned slot, unsigned off)
{
    select_reg(slot, off);
    return inb((uint16_t)(CONFIG_DATA + (off & 3)));
}

void pci_write16(unsigned slot, unsigned off, uint16_t v)
{
    select_reg(slot, off);
    outw((uint16_t)(CONFIG_DATA + (off & 2)), v);
}

int pci_find(uint16_t vendor, uint16_t device)
{
    for (unsigned slot = 0; slot < 32; slot++) {
        if (pci_read32(slot, 0) == ((uint32_t)device << 16 | vendor)) {
            return (int)slot;
        }
    }
    return -1;
}

uint64_t pci_bar_addr(unsigned slot, unsigned n)
{
    uint32_t lo = pci_read32(slot, PCI_BAR0 + 4 * n);
    uint64_t addr = lo & ~0xfu;
    if ((lo & 0x6) == 0x4) {
        addr |= (uint64_t)pci_read32(slot, PCI_BAR0 + 4 * (n + 1)) << 32;
    }
    return addr;
}

uint8_t pci_find_cap(unsigned slot, uint8_t id, uint8_t after)
{
    uint8_t p = after ? pci_read8(slot, after + 1u) : pci_read8(slot, PCI_CAP_PTR);
    for (unsigned guard = 0; p && guard < 48; guard++) {
        if (pci_read8(slot, p) == id) {
            return p;
        }
        p = pci_read8(slot, p + 1u);
    }
    return 0;
}
