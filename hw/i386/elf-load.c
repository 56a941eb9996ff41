/*
 * ELF program headers and notes for the direct-boot loaders
 * (System V gABI, chapter 5: program header, note section).
 */
#include <string.h>

#include "core/error.h"
#include "hw/i386/elf-load.h"

bool elf_parse(const uint8_t *img, size_t size, ElfInfo *info, GError **errp)
{
    memset(info, 0, sizeof(*info));
    if (size < 52 || memcmp(img, "\177ELF", 4) != 0) {
        error_setg(errp, "not an ELF file");
        return false;
    }
    if (img[5] != 1) {
        error_setg(errp, "ELF file is not little-endian");
        return false;
    }
    info->is64 = img[4] == 2;
    uint64_t phoff;
    unsigned phentsize, phnum;
    if (info->is64) {
        if (size < 64) {
            error_setg(errp, "truncated ELF header");
            return false;
        }
        info->entry = ld64(img + 24);
        phoff = ld64(img + 32);
        phentsize = ld16(img + 54);
        phnum = ld16(img + 56);
    } else {
        info->entry = ld32(img + 24);
        phoff = ld32(img + 28);
        phentsize = ld16(img + 42);
        phnum = ld16(img + 44);
    }
    unsigned need = info->is64 ? 56 : 32;
    if (phentsize < need || phnum == 0 ||
        phoff > size || (uint64_t)phnum * phentsize > size - phoff) {
        error_setg(errp, "ELF program headers are missing or truncated");
        return false;
    }
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
        ElfSegment s;
        s.type = ld32(ph);
        if (info->is64) {
            s.offset = ld64(ph + 8);
            s.paddr = ld64(ph + 24);
            s.filesz = ld64(ph + 32);
            s.memsz = ld64(ph + 40);
        } else {
            s.offset = ld32(ph + 4);
            s.paddr = ld32(ph + 12);
            s.filesz = ld32(ph + 16);
            s.memsz = ld32(ph + 20);
        }
        if (s.type != ELF_PT_LOAD && s.type != ELF_PT_NOTE) {
            continue;
        }
        if (s.offset > size || s.filesz > size - s.offset ||
            (s.type == ELF_PT_LOAD && s.filesz > s.memsz)) {
            error_setg(errp, "ELF segment %u lies outside the file", i);
            return false;
        }
        if (info->nr_segments == G_N_ELEMENTS(info->seg)) {
            error_setg(errp, "too many ELF segments");
            return false;
        }
        info->seg[info->nr_segments++] = s;
    }
    return true;
}

const uint8_t *elf_find_note(const uint8_t *img, size_t size,
                             const ElfInfo *info, const char *owner,
                             uint32_t type, uint32_t *desc_size)
{
    size_t olen = strlen(owner) + 1;
    for (unsigned i = 0; i < info->nr_segments; i++) {
        const ElfSegment *s = &info->seg[i];
        if (s->type != ELF_PT_NOTE) {
            continue;
        }
        const uint8_t *p = img + s->offset;
        uint64_t left = s->filesz;
        while (left >= 12) {
            uint32_t namesz = ld32(p), descsz = ld32(p + 4), ntype = ld32(p + 8);
            uint64_t nsz = (namesz + 3ull) & ~3ull, dsz = (descsz + 3ull) & ~3ull;
            if (12 + nsz + dsz > left) {
                break;
            }
            if (ntype == type && namesz == olen &&
                memcmp(p + 12, owner, olen) == 0) {
                *desc_size = descsz;
                return p + 12 + nsz;
            }
            p += 12 + nsz + dsz;
            left -= 12 + nsz + dsz;
        }
    }
    return NULL;
}

bool elf_load_segments(const BootEnv *env, const uint8_t *img,
                       const ElfInfo *info, uint64_t *lo, uint64_t *end,
                       GError **errp)
{
    uint64_t low = UINT64_MAX, high = 0;
    for (unsigned i = 0; i < info->nr_segments; i++) {
        const ElfSegment *s = &info->seg[i];
        if (s->type != ELF_PT_LOAD || s->memsz == 0) {
            continue;
        }
        if (s->paddr + s->memsz < s->paddr) {
            error_setg(errp, "ELF segment at 0x%llx wraps around",
                       (unsigned long long)s->paddr);
            return false;
        }
        if (!boot_write(env, s->paddr, img + s->offset, s->filesz,
                        "kernel segment", errp) ||
            !boot_zero(env, s->paddr + s->filesz, s->memsz - s->filesz,
                       "kernel bss", errp)) {
            return false;
        }
        low = MIN(low, s->paddr);
        high = MAX(high, s->paddr + s->memsz);
    }
    if (high == 0) {
        error_setg(errp, "ELF kernel has nothing to load");
        return false;
    }
    *lo = low;
    *end = high;
    return true;
}
