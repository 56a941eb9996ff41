/*
 * Multiboot v1 loader (Multiboot Specification 0.6.96, sections 3.1 "OS
 * image format" and 3.3 "Boot information format").
 *
 * ELF images are loaded by their program headers; images with the a.out kludge
 * (flag 16) by the header's addresses.  As QEMU does, the command line is the
 * kernel path followed by -append, and -initrd lists modules as
 * "file args,file2 args".
 */
#include <string.h>

#include "core/error.h"
#include "hw/i386/boot.h"
#include "hw/i386/elf-load.h"
#include "hw/i386/pc-layout.h"

#define MB_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_SEARCH 8192
#define MB_FLAG_AOUT_KLUDGE (1u << 16)
#define MB_KNOWN_REQUIRED 0x3u /* page-aligned modules, memory info */

#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)
#define MBI_SIZE 0x58

#define MB_MAX_MODULES 16

bool multiboot_find_header(const uint8_t *img, size_t size, size_t *offset)
{
    size_t limit = MIN(size, (size_t)MB_SEARCH);
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = ld32(img + off), flags = ld32(img + off + 4);
        if (magic == MB_MAGIC &&
            (uint32_t)(magic + flags + ld32(img + off + 8)) == 0) {
            *offset = off;
            return true;
        }
    }
    return false;
}

/* Load by the a.out kludge addresses of the header at hdr_off. */
static bool load_kludge(const BootEnv *env, const uint8_t *img, size_t size,
                        size_t hdr_off, uint64_t *entry, uint64_t *end,
                        GError **errp)
{
    if (hdr_off + 32 > size) {
        error_setg(errp, "Multiboot header of '%s' is truncated",
                   env->kernel_path);
        return false;
    }
    const uint8_t *h = img + hdr_off;
    uint32_t header_addr = ld32(h + 12), load_addr = ld32(h + 16);
    uint32_t load_end = ld32(h + 20), bss_end = ld32(h + 24);
    if (load_addr > header_addr || header_addr - load_addr > hdr_off) {
        error_setg(errp, "Multiboot header of '%s' has inconsistent addresses",
                   env->kernel_path);
        return false;
    }
    size_t file_off = hdr_off - (header_addr - load_addr);
    uint64_t len = load_end ? (uint64_t)load_end - load_addr : size - file_off;
    if (load_end && load_end < load_addr) {
        error_setg(errp, "Multiboot header of '%s' has load_end before load",
                   env->kernel_path);
        return false;
    }
    if (len > size - file_off) {
        error_setg(errp, "Multiboot image '%s' is shorter than its header says",
                   env->kernel_path);
        return false;
    }
    if (!boot_write(env, load_addr, img + file_off, len, "kernel", errp)) {
        return false;
    }
    uint64_t top = load_addr + len;
    if (bss_end > top) {
        if (!boot_zero(env, top, bss_end - top, "kernel bss", errp)) {
            return false;
        }
        top = bss_end;
    }
    *entry = ld32(h + 28);
    *end = top;
    return true;
}

typedef struct MbLayout {
    uint64_t next;   /* next free byte for strings in the info area */
    uint64_t limit;
} MbLayout;

static bool put_string(const BootEnv *env, MbLayout *l, const char *s,
                       uint32_t *addr, GError **errp)
{
    size_t len = strlen(s) + 1;
    if (l->next + len > l->limit) {
        error_setg(errp, "Multiboot command lines are too long");
        return false;
    }
    *addr = (uint32_t)l->next;
    if (!boot_write(env, l->next, s, len, "command line", errp)) {
        return false;
    }
    l->next += len;
    return true;
}

static bool load_modules(const BootEnv *env, MbLayout *strings,
                         uint64_t kernel_end, uint8_t *mbi, GError **errp)
{
    if (!env->initrd_path) {
        return true;
    }
    uint8_t mods[MB_MAX_MODULES * 16];
    unsigned n = 0;
    uint64_t next = (kernel_end + 0xfff) & ~0xfffull;
    char **items = g_strsplit(env->initrd_path, ",", -1);
    bool ok = true;
    for (char **it = items; *it && ok; it++) {
        if (n == MB_MAX_MODULES) {
            error_setg(errp, "at most %d Multiboot modules", MB_MAX_MODULES);
            ok = false;
            break;
        }
        char *args = strchr(*it, ' ');
        char *path = g_strndup(*it, args ? (size_t)(args - *it) : strlen(*it));
        uint8_t *data;
        size_t size;
        uint32_t str;
        ok = boot_read_file(path, "Multiboot module", &data, &size, errp);
        if (ok) {
            ok = next + size <= env->below_4g &&
                 boot_write(env, next, data, size, "Multiboot module", errp);
            if (!ok && !(errp && *errp)) {
                error_setg(errp, "Multiboot module '%s' does not fit in guest "
                           "RAM; try a larger -m", path);
            }
            g_free(data);
        }
        if (ok) {
            ok = put_string(env, strings, *it, &str, errp);
        }
        if (ok) {
            st32(mods + n * 16, (uint32_t)next);
            st32(mods + n * 16 + 4, (uint32_t)(next + size));
            st32(mods + n * 16 + 8, str);
            st32(mods + n * 16 + 12, 0);
            n++;
            next = (next + size + 0xfff) & ~0xfffull;
        }
        g_free(path);
    }
    g_strfreev(items);
    if (!ok) {
        return false;
    }
    uint64_t mods_addr = (strings->next + 15) & ~15ull;
    if (mods_addr + n * 16 > strings->limit) {
        error_setg(errp, "too many Multiboot modules");
        return false;
    }
    strings->next = mods_addr + n * 16;
    st32(mbi + 0, ld32(mbi) | MBI_MODS);
    st32(mbi + 20, n);
    st32(mbi + 24, (uint32_t)mods_addr);
    return boot_write(env, mods_addr, mods, n * 16, "module list", errp);
}

bool multiboot_boot(const BootEnv *env, const uint8_t *img, size_t size,
                    X86State *cpu, GError **errp)
{
    size_t hdr_off;
    multiboot_find_header(img, size, &hdr_off);
    uint32_t flags = ld32(img + hdr_off + 4);
    if (flags & 0xffff & ~MB_KNOWN_REQUIRED) {
        error_setg(errp, "Multiboot image '%s' requires features Kestrel does "
                   "not provide (flags 0x%x)", env->kernel_path, flags);
        return false;
    }
    uint64_t entry, lo, end;
    if (flags & MB_FLAG_AOUT_KLUDGE) {
        if (!load_kludge(env, img, size, hdr_off, &entry, &end, errp)) {
            return false;
        }
    } else {
        ElfInfo elf;
        GError *err = NULL;
        if (!elf_parse(img, size, &elf, &err)) {
            error_setg(errp, "Multiboot image '%s': %s", env->kernel_path,
                       err->message);
            g_error_free(err);
            return false;
        }
        if (!elf_load_segments(env, img, &elf, &lo, &end, errp)) {
            return false;
        }
        entry = elf.entry;
    }
    if (end > env->below_4g || entry >= (1ull << 32)) {
        error_setg(errp, "Multiboot image '%s' does not fit below 4 GiB of RAM",
                   env->kernel_path);
        return false;
    }

    uint8_t mbi[MBI_SIZE];
    memset(mbi, 0, sizeof(mbi));
    MbLayout strings = { PC_BOOT_CMDLINE, PC_BOOT_CMDLINE + PC_BOOT_CMDLINE_MAX };
    uint32_t flags_out = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
    st32(mbi + 0, flags_out);
    st32(mbi + 4, (uint32_t)(PC_EBDA_START / 1024));
    uint64_t upper = e820_ram_between(env->e820, PC_HIGH_START, env->below_4g);
    st32(mbi + 8, (uint32_t)(upper / 1024));

    gchar *cmd = g_strdup_printf("%s%s%s", env->kernel_path,
                                 env->cmdline ? " " : "",
                                 env->cmdline ? env->cmdline : "");
    uint32_t addr;
    bool ok = put_string(env, &strings, cmd, &addr, errp);
    g_free(cmd);
    if (!ok) {
        return false;
    }
    st32(mbi + 16, addr);
    if (!put_string(env, &strings, "Kestrel", &addr, errp)) {
        return false;
    }
    st32(mbi + 64, addr);
    if (!load_modules(env, &strings, end, mbi, errp)) {
        return false;
    }

    /* Memory map right after the info structure. */
    uint8_t mmap[E820_MAX * 24];
    const E820Map *m = env->e820;
    for (unsigned i = 0; i < m->nr; i++) {
        st32(mmap + i * 24, 20);
        st64(mmap + i * 24 + 4, m->e[i].addr);
        st64(mmap + i * 24 + 12, m->e[i].size);
        st32(mmap + i * 24 + 20, m->e[i].type);
    }
    uint64_t mmap_addr = PC_BOOT_PARAMS + MBI_SIZE;
    st32(mbi + 44, m->nr * 24);
    st32(mbi + 48, (uint32_t)mmap_addr);
    if (!boot_write(env, mmap_addr, mmap, m->nr * 24, "memory map", errp) ||
        !boot_write(env, PC_BOOT_PARAMS, mbi, sizeof(mbi), "boot info", errp)) {
        return false;
    }

    x86_state_flat32(cpu);
    if (!boot_write_gdt(env, cpu, errp)) {
        return false;
    }
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = PC_BOOT_PARAMS;
    cpu->rip = entry;
    return true;
}
