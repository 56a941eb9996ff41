/*
 * I/O APIC redirection table access (Intel 82093AA I/O APIC datasheet:
 * IOREGSEL at +0x00, IOWIN at +0x10, IOAPICVER at index 1, redirection
 * entries at 0x10 + 2 * pin).
 */
#include "lib/io.h"
#include "lib/ioapic.h"

#define IOAPIC_BASE 0xfec00000u
#define IOREGSEL 0x00
#define IOWIN 0x10
#define REDIR_MASKED (1u << 16)

static uint32_t ioapic_read(uint32_t index)
{
    mmio_write32(IOAPIC_BASE + IOREGSEL, index);
    return mmio_read32(IOAPIC_BASE + IOWIN);
}

static void ioapic_write(uint32_t index, uint32_t v)
{
    mmio_write32(IOAPIC_BASE + IOREGSEL, index);
    mmio_write32(IOAPIC_BASE + IOWIN, v);
}

unsigned ioapic_pins(void)
{
    return ((ioapic_read(1) >> 16) & 0xff) + 1;
}

void ioapic_route(unsigned pin, uint8_t vector, uint32_t apic_id)
{
    ioapic_write(0x10 + 2 * pin + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * pin, vector);
}

void ioapic_mask(unsigned pin)
{
    ioapic_write(0x10 + 2 * pin, REDIR_MASKED);
}
