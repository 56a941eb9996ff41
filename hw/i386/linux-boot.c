/*
 * Linux bzImage direct boot, 32-bit boot protocol (Documentation/arch/x86/
 * boot.rst, "The 32-bit boot protocol"; zero-page.rst for boot_params).
 *
 * The protected-mode kernel goes to 1 MiB, boot_params to PC_BOOT_PARAMS
 * with the image's setup header copied in, the command line to
 * PC_BOOT_CMDLINE, the initrd as high as initrd_addr_max and RAM allow.
 * The CPU enters code32_start in flat 32-bit mode with ESI = boot_params.
 */
#include <string.h>

#include "core/error.h"
#include "hw/i386/boot.h"
#include "hw/i386/linux-bootparam.h"
#include "hw/i386/pc-layout.h"

bool linux_is_bzimage(const uint8_t *img, size_t size)
{
    return size >= 0x1000 && ld16(img + BP_BOOT_FLAG) == 0xaa55 &&
           memcmp(img + BP_HEADER_MAGIC, "HdrS", 4) == 0;
}

/* Where the initrd goes: page aligned, as high as allowed. */
static bool place_initrd(const BootEnv *env, uint32_t addr_max,
                         uint64_t kernel_end, uint64_t size, uint64_t *addr,
                         GError **errp)
{
    uint64_t top = MIN(env->below_4g, (uint64_t)addr_max + 1);
    if (size > top || ((top - size) & ~0xfffull) < kernel_end) {
        error_setg(errp, "initrd '%s' (%llu MiB) does not fit in guest RAM "
                   "below 0x%llx next to the kernel; try a larger -m",
                   env->initrd_path, (unsigned long long)(size >> 20),
                   (unsigned long long)top);
        return false;
    }
    *addr = (top - size) & ~0xfffull;
    return true;
}

void linux_fill_e820(uint8_t *bp, const E820Map *map)
{
    unsigned n = MIN(map->nr, (unsigned)BP_E820_MAX);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * 20;
        st64(e, map->e[i].addr);
        st64(e + 8, map->e[i].size);
        st32(e + 16, map->e[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
}

bool linux_boot(const BootEnv *env, const uint8_t *img, size_t size,
                X86State *cpu, GError **errp)
{
    uint16_t version = ld16(img + BP_VERSION);
    if (version < 0x0206) {
        error_setg(errp, "kernel '%s' uses boot protocol %u.%02u; Kestrel needs "
                   "2.06 or later", env->kernel_path, version >> 8,
                   version & 0xff);
        return false;
    }
    if (!(img[BP_LOADFLAGS] & BP_LOADED_HIGH)) {
        error_setg(errp, "kernel '%s' is a zImage, not a bzImage",
                   env->kernel_path);
        return false;
    }
    unsigned setup_sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
    size_t setup_size = (setup_sects + 1) * 512ull;
    if (setup_size >= size) {
        error_setg(errp, "kernel '%s' is truncated", env->kernel_path);
        return false;
    }
    const uint8_t *pm = img + setup_size;
    size_t pm_size = size - setup_size;
    uint64_t init_size = version >= 0x020a ? ld32(img + BP_INIT_SIZE) : 0;
    uint64_t kernel_end = PC_HIGH_START + MAX((uint64_t)pm_size, init_size);
    if (kernel_end > env->below_4g) {
        error_setg(errp, "kernel '%s' needs %llu MiB of RAM to unpack; try a "
                   "larger -m", env->kernel_path,
                   (unsigned long long)(kernel_end >> 20) + 1);
        return false;
    }

    uint8_t bp[BP_SIZE];
    memset(bp, 0, sizeof(bp));
    size_t hdr_end = BP_HEADER_START_JUMP + 2 + img[BP_HEADER_START_JUMP + 1];
    if (hdr_end > sizeof(bp) || hdr_end > size) {
        error_setg(errp, "kernel '%s' has a malformed setup header",
                   env->kernel_path);
        return false;
    }
    memcpy(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
    bp[BP_TYPE_OF_LOADER] = 0xff;
    bp[BP_LOADFLAGS] &= ~BP_KEEP_SEGMENTS;
    st16(bp + BP_VID_MODE, 0xffff);

    const char *cmdline = env->cmdline ? env->cmdline : "";
    uint32_t cmdline_max = ld32(img + BP_CMDLINE_SIZE);
    size_t clen = strlen(cmdline);
    if (clen > cmdline_max || clen >= PC_BOOT_CMDLINE_MAX) {
        error_setg(errp, "-append: the command line is %zu bytes; this kernel "
                   "takes at most %u", clen, cmdline_max);
        return false;
    }
    if (!boot_write(env, PC_BOOT_CMDLINE, cmdline, clen + 1, "command line",
                    errp)) {
        return false;
    }
    st32(bp + BP_CMD_LINE_PTR, PC_BOOT_CMDLINE);

    if (env->initrd_path) {
        uint8_t *rd;
        size_t rd_size;
        uint64_t rd_addr;
        if (!boot_read_file(env->initrd_path, "initrd", &rd, &rd_size, errp)) {
            return false;
        }
        bool ok = place_initrd(env, ld32(img + BP_INITRD_ADDR_MAX), kernel_end,
                               rd_size, &rd_addr, errp) &&
                  boot_write(env, rd_addr, rd, rd_size, "initrd", errp);
        g_free(rd);
        if (!ok) {
            return false;
        }
        st32(bp + BP_RAMDISK_IMAGE, (uint32_t)rd_addr);
        st32(bp + BP_RAMDISK_SIZE, (uint32_t)rd_size);
    }

    linux_fill_e820(bp, env->e820);
    st64(bp + BP_ACPI_RSDP_ADDR, env->rsdp_addr);
    if (!boot_write(env, PC_HIGH_START, pm, pm_size, "kernel", errp) ||
        !boot_write(env, PC_BOOT_PARAMS, bp, sizeof(bp), "boot parameters",
                    errp)) {
        return false;
    }

    x86_state_flat32(cpu);
    if (!boot_write_gdt(env, cpu, errp)) {
        return false;
    }
    cpu->rip = ld32(img + BP_CODE32_START) ? ld32(img + BP_CODE32_START)
                                           : PC_HIGH_START;
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_ESI] = PC_BOOT_PARAMS;
    return true;
}
