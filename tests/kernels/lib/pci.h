/* PCI configuration space of bus 0 through mechanism #1 (ports 0xcf8 and
 * 0xcfc, PCI Local Bus Specification 3.0, 3.2.2.3.2). */
#ifndef KTEST_PCI_H
#define KTEST_PCI_H

#include <stdint.h>

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34

uint32_t pci_read32(unsigned slot, unsigned off);
uint16_t pci_read16(unsigned slot, unsigned off);
uint8_t pci_read8(unsigned slot, unsigned off);
void pci_write16(unsigned slot, unsigned off, uint16_t v);
/* The slot of function 0 with these IDs, or -1. */
int pci_find(uint16_t vendor, uint16_t device);
/* Memory address BAR n decodes (both halves of a 64-bit BAR). */
uint64_t pci_bar_addr(unsigned slot, unsigned n);
/* The first capability with this ID after offset `after` (0: from the
 * start of the list); 0 when there is none. */
uint8_t pci_find_cap(unsigned slot, uint8_t id, uint8_t after);

#endif
