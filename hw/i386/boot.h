/*
 * Direct kernel boot on the pc board: the loaders for Linux bzImage (boot
 * protocol 2.06+, 32-bit entry), ELF kernels with a PVH entry note, and
 * Multiboot v1 images.  Each writes the kernel and its boot information into
 * guest RAM and fills the boot vCPU's entry state.
 */
#ifndef KESTREL_HW_I386_BOOT_H
#define KESTREL_HW_I386_BOOT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/memory.h"
#include "cpu/x86/cpu.h"
#include "hw/i386/e820.h"

typedef struct BootEnv {
    AddressSpace *mem;
    uint64_t below_4g;        /* end of RAM below 4 GiB */
    const E820Map *e820;
    uint64_t rsdp_addr;       /* 0 if there are no ACPI tables */
    const char *kernel_path;
    const char *initrd_path;  /* Linux: one file; Multiboot: module list */
    const char *cmdline;      /* NULL: empty */
} BootEnv;

/* Recognise an image (the first bytes of the file). */
bool linux_is_bzimage(const uint8_t *img, size_t size);
bool multiboot_find_header(const uint8_t *img, size_t size, size_t *offset);
bool pvh_find_entry(const uint8_t *img, size_t size, uint32_t *entry);

bool linux_boot(const BootEnv *env, const uint8_t *img, size_t size,
                X86State *cpu, GError **errp);
bool multiboot_boot(const BootEnv *env, const uint8_t *img, size_t size,
                    X86State *cpu, GError **errp);
bool pvh_boot(const BootEnv *env, const uint8_t *img, size_t size,
              X86State *cpu, GError **errp);

/* Read the kernel file and dispatch to the right loader. */
bool pc_boot_kernel(const BootEnv *env, X86State *cpu, GError **errp);

/* Shared helpers (boot-common.c). */
bool boot_write(const BootEnv *env, uint64_t addr, const void *data,
                size_t len, const char *what, GError **errp);
bool boot_zero(const BootEnv *env, uint64_t addr, uint64_t len,
               const char *what, GError **errp);
/* The flat GDT and TSS the 32-bit entry state refers to. */
bool boot_write_gdt(const BootEnv *env, X86State *cpu, GError **errp);
bool boot_read_file(const char *path, const char *what, uint8_t **data,
                    size_t *size, GError **errp);

#endif
