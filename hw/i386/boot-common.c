/*
 * Helpers shared by the direct-boot loaders: checked writes into guest RAM,
 * reading files with clear errors, the flat GDT, and choosing a loader.
 */
#include <errno.h>
#include <string.h>

#include "core/error.h"
#include "hw/i386/boot.h"
#include "hw/i386/pc-layout.h"

bool boot_write(const BootEnv *env, uint64_t addr, const void *data,
                size_t len, const char *what, GError **errp)
{
    if (!dma_write(env->mem, addr, data, len)) {
        error_setg(errp, "%s does not fit in guest RAM (%zu bytes at 0x%llx); "
                   "try a larger -m", what, len, (unsigned long long)addr);
        return false;
    }
    return true;
}

bool boot_zero(const BootEnv *env, uint64_t addr, uint64_t len,
               const char *what, GError **errp)
{
    uint8_t *p = address_space_ram_ptr(env->mem, addr, len);
    if (!p) {
        if (len == 0) {
            return true;
        }
        error_setg(errp, "%s does not fit in guest RAM (%llu bytes at 0x%llx); "
                   "try a larger -m", what, (unsigned long long)len,
                   (unsigned long long)addr);
        return false;
    }
    memset(p, 0, len);
    return true;
}

static void put_desc(uint8_t *p, uint32_t base, uint32_t limit, uint32_t flags)
{
    uint32_t lo = (limit & 0xffff) | ((base & 0xffff) << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (flags & 0x00f0ff00) |
                  (limit & 0x000f0000) | (base & 0xff000000);
    st32(p, lo);
    st32(p + 4, hi);
}

bool boot_write_gdt(const BootEnv *env, X86State *cpu, GError **errp)
{
    uint8_t gdt[5 * 8] = { 0 };
    put_desc(gdt + 0x10, 0, 0xfffff, cpu->segs[R_CS].flags);
    put_desc(gdt + 0x18, 0, 0xfffff, cpu->segs[R_DS].flags);
    put_desc(gdt + 0x20, PC_BOOT_TSS, 0x67, cpu->tr.flags);
    cpu->gdt.base = PC_BOOT_GDT;
    cpu->gdt.limit = sizeof(gdt) - 1;
    cpu->tr.base = PC_BOOT_TSS;
    return boot_write(env, PC_BOOT_GDT, gdt, sizeof(gdt), "boot GDT", errp) &&
           boot_zero(env, PC_BOOT_TSS, 0x68, "boot TSS", errp);
}

bool boot_read_file(const char *path, const char *what, uint8_t **data,
                    size_t *size, GError **errp)
{
    GError *err = NULL;
    gchar *buf;
    gsize len;
    if (!g_file_get_contents(path, &buf, &len, &err)) {
        error_setg(errp, "could not load %s '%s': %s", what, path,
                   err->message);
        g_error_free(err);
        return false;
    }
    *data = (uint8_t *)buf;
    *size = len;
    return true;
}

bool pc_boot_kernel(const BootEnv *env, X86State *cpu, GError **errp)
{
    uint8_t *img;
    size_t size;
    size_t mb_off;
    uint32_t entry;
    bool ok;
    if (!boot_read_file(env->kernel_path, "kernel", &img, &size, errp)) {
        return false;
    }
    if (linux_is_bzimage(img, size)) {
        ok = linux_boot(env, img, size, cpu, errp);
    } else if (multiboot_find_header(img, size, &mb_off)) {
        ok = multiboot_boot(env, img, size, cpu, errp);
    } else if (pvh_find_entry(img, size, &entry)) {
        ok = pvh_boot(env, img, size, cpu, errp);
    } else {
        error_setg(errp, "kernel '%s' is not a Linux bzImage, a Multiboot "
                   "image or an ELF kernel with a PVH entry note",
                   env->kernel_path);
        ok = false;
    }
    g_free(img);
    return ok;
}
