/* The Multiboot v1 information structure (Multiboot specification 0.6.96,
 * section 3.3), as far as the test kernels use it. */
#ifndef KTEST_MULTIBOOT_H
#define KTEST_MULTIBOOT_H

#include <stdint.h>

#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB below 1 MiB */
    uint32_t mem_upper; /* KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
} __attribute__((packed));

#endif
