/*
 * PVH direct boot of an uncompressed ELF kernel (Xen's "x86/HVM direct boot
 * ABI", the XEN_ELFNOTE_PHYS32_ENTRY note, and the hvm_start_info layout of
 * xen/include/public/arch-x86/hvm/start_info.h, version 1).
 *
 * Segments load at their physical addresses, skipping decompression
 * entirely.  The initrd becomes module 0.  The CPU enters the note's
 * address in flat 32-bit mode with EBX = start_info.
 */
#include <string.h>

#include "core/error.h"
#include "hw/i386/boot.h"
#include "hw/i386/elf-load.h"
#include "hw/i386/pc-layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578u
#define START_INFO_SIZE 56
#define MODLIST_ENTRY_SIZE 32
#define MEMMAP_ENTRY_SIZE 24

bool pvh_find_entry(const uint8_t *img, size_t size, uint32_t *entry)
{
    ElfInfo info;
    uint32_t dsz;
    if (!elf_parse(img, size, &info, NULL)) {
        return false;
    }
    const uint8_t *d = elf_find_note(img, size, &info, "Xen",
                                     XEN_ELFNOTE_PHYS32_ENTRY, &dsz);
    if (!d || dsz < 4) {
        return false;
    }
    *entry = ld32(d);
    return true;
}

bool pvh_boot(const BootEnv *env, const uint8_t *img, size_t size,
              X86State *cpu, GError **errp)
{
    ElfInfo info;
    uint32_t entry;
    uint64_t lo, end;
    if (!elf_parse(img, size, &info, errp) ||
        !pvh_find_entry(img, size, &entry) ||
        !elf_load_segments(env, img, &info, &lo, &end, errp)) {
        return false;
    }
    uint8_t si[START_INFO_SIZE + MODLIST_ENTRY_SIZE + E820_MAX * MEMMAP_ENTRY_SIZE];
    memset(si, 0, sizeof(si));
    uint64_t base = PC_BOOT_PARAMS;
    st32(si + 0, HVM_START_MAGIC);
    st32(si + 4, 1);

    const char *cmdline = env->cmdline ? env->cmdline : "";
    if (strlen(cmdline) >= PC_BOOT_CMDLINE_MAX) {
        error_setg(errp, "-append: the command line is too long");
        return false;
    }
    if (!boot_write(env, PC_BOOT_CMDLINE, cmdline, strlen(cmdline) + 1,
                    "command line", errp)) {
        return false;
    }
    st64(si + 24, PC_BOOT_CMDLINE);
    st64(si + 32, env->rsdp_addr);

    if (env->initrd_path) {
        uint8_t *rd;
        size_t rd_size;
        if (!boot_read_file(env->initrd_path, "initrd", &rd, &rd_size, errp)) {
            return false;
        }
        uint64_t top = env->below_4g;
        uint64_t addr = rd_size <= top ? (top - rd_size) & ~0xfffull : 0;
        bool ok = addr >= end &&
                  boot_write(env, addr, rd, rd_size, "initrd", errp);
        g_free(rd);
        if (!ok) {
            if (errp && !*errp) {
                error_setg(errp, "initrd '%s' does not fit in guest RAM next "
                           "to the kernel; try a larger -m", env->initrd_path);
            }
            return false;
        }
        uint8_t *mod = si + START_INFO_SIZE;
        st64(mod + 0, addr);
        st64(mod + 8, rd_size);
        st32(si + 12, 1);
        st64(si + 16, base + START_INFO_SIZE);
    }

    const E820Map *m = env->e820;
    uint8_t *mm = si + START_INFO_SIZE + MODLIST_ENTRY_SIZE;
    for (unsigned i = 0; i < m->nr; i++) {
        st64(mm + i * MEMMAP_ENTRY_SIZE, m->e[i].addr);
        st64(mm + i * MEMMAP_ENTRY_SIZE + 8, m->e[i].size);
        st32(mm + i * MEMMAP_ENTRY_SIZE + 16, m->e[i].type);
    }
    st64(si + 40, base + START_INFO_SIZE + MODLIST_ENTRY_SIZE);
    st32(si + 48, m->nr);
    if (!boot_write(env, base, si, sizeof(si), "PVH start info", errp)) {
        return false;
    }

    x86_state_flat32(cpu);
    if (!boot_write_gdt(env, cpu, errp)) {
        return false;
    }
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EBX] = base;
    cpu->rip = entry;
    return true;
}
