/*
 * Minimal ELF reader for the boot loaders (System V ABI, ELF32 and ELF64,
 * little-endian x86): validated program headers and notes.
 */
#ifndef KESTREL_HW_I386_ELF_LOAD_H
#define KESTREL_HW_I386_ELF_LOAD_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/i386/boot.h"

typedef struct ElfSegment {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
} ElfSegment;

typedef struct ElfInfo {
    bool is64;
    uint64_t entry;
    unsigned nr_segments;
    ElfSegment seg[32];
} ElfInfo;

#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4

/* Parse and validate headers (every segment inside the file). */
bool elf_parse(const uint8_t *img, size_t size, ElfInfo *info, GError **errp);
/* Find a note by owner name and type; returns its descriptor. */
const uint8_t *elf_find_note(const uint8_t *img, size_t size,
                             const ElfInfo *info, const char *owner,
                             uint32_t type, uint32_t *desc_size);
/* Copy PT_LOAD segments to their physical addresses, zeroing bss; returns
 * the highest address loaded (exclusive) in *end. */
bool elf_load_segments(const BootEnv *env, const uint8_t *img,
                       const ElfInfo *info, uint64_t *lo, uint64_t *end,
                       GError **errp);

#endif
