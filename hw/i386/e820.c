/*
 * The E820 memory map of the pc board.
 */
#include "hw/i386/e820.h"
#include "hw/i386/pc-layout.h"

bool e820_add(E820Map *m, uint64_t addr, uint64_t size, uint32_t type)
{
    if (size == 0 || m->nr == E820_MAX) {
        return false;
    }
    m->e[m->nr++] = (E820Entry){ addr, size, type };
    return true;
}

void e820_build_pc(E820Map *m, uint64_t below_4g, uint64_t above_4g)
{
    m->nr = 0;
    e820_add(m, 0, PC_EBDA_START, E820_RAM);
    e820_add(m, PC_EBDA_START, PC_VGA_START - PC_EBDA_START, E820_RESERVED);
    e820_add(m, PC_BIOS_AREA_START, PC_HIGH_START - PC_BIOS_AREA_START,
             E820_RESERVED);
    e820_add(m, PC_HIGH_START, below_4g - PC_HIGH_START, E820_RAM);
    e820_add(m, PC_KVM_RESERVED_START, PC_KVM_RESERVED_SIZE, E820_RESERVED);
    if (above_4g) {
        e820_add(m, 1ull << 32, above_4g, E820_RAM);
    }
}

uint64_t e820_ram_between(const E820Map *m, uint64_t lo, uint64_t hi)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < m->nr; i++) {
        const E820Entry *e = &m->e[i];
        if (e->type != E820_RAM) {
            continue;
        }
        uint64_t s = e->addr > lo ? e->addr : lo;
        uint64_t end = e->addr + e->size < hi ? e->addr + e->size : hi;
        if (end > s) {
            total += end - s;
        }
    }
    return total;
}
