/*
 * The BIOS E820 memory map the boot loaders hand to the guest (ACPI spec
 * "System Address Map Interfaces": type 1 usable, 2 reserved, 3 ACPI
 * reclaimable, 4 ACPI NVS).
 */
#ifndef KESTREL_HW_I386_E820_H
#define KESTREL_HW_I386_E820_H

#include <stdbool.h>
#include <stdint.h>

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4

#define E820_MAX 32

typedef struct E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} E820Entry;

typedef struct E820Map {
    E820Entry e[E820_MAX];
    unsigned nr;
} E820Map;

/* Append an entry; false if the map is full or the entry is empty. */
bool e820_add(E820Map *m, uint64_t addr, uint64_t size, uint32_t type);

/* The pc board's map: low RAM up to the EBDA, the BIOS area, RAM from 1 MiB
 * to below_4g, the KVM TSS pages, and RAM above 4 GiB. */
void e820_build_pc(E820Map *m, uint64_t below_4g, uint64_t above_4g);

/* Bytes of usable RAM in [lo, hi). */
uint64_t e820_ram_between(const E820Map *m, uint64_t lo, uint64_t hi);

#endif
