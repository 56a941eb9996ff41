/*
 * Offsets in the Linux setup header and boot_params ("zero page"), from
 * Documentation/arch/x86/boot.rst and zero-page.rst.
 */
#ifndef KESTREL_HW_I386_LINUX_BOOTPARAM_H
#define KESTREL_HW_I386_LINUX_BOOTPARAM_H

#include "hw/i386/e820.h"

#define BP_SIZE 4096
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_VID_MODE 0x1fa
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER_START_JUMP 0x200
#define BP_HEADER_MAGIC 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_CMDLINE_SIZE 0x238
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define BP_LOADED_HIGH 0x01
#define BP_KEEP_SEGMENTS 0x40

/* Write the E820 map into a boot_params page. */
void linux_fill_e820(uint8_t *bp, const E820Map *map);

#endif
