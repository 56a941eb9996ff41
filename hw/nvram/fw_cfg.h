/*
 * The firmware configuration device (fw_cfg), guest ABI as in QEMU's
 * docs/specs/fw_cfg.txt: numbered items and named files that the firmware,
 * boot loaders and test kernels read through a selector/data port pair or a
 * DMA interface.
 */
#ifndef KESTREL_HW_NVRAM_FW_CFG_H
#define KESTREL_HW_NVRAM_FW_CFG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/device.h"

typedef struct Machine Machine;
typedef struct FwCfg FwCfg;

extern const DeviceClass fw_cfg_io_class;

#define FW_CFG_IO_BASE 0x510 /* selector 0x510, data 0x511, DMA 0x514 */

/* Well-known items. */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MACHINE_ID 0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR 0x16
#define FW_CFG_SETUP_SIZE 0x17
#define FW_CFG_SETUP_DATA 0x18
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL 0x8000
/* x86 arch-local items */
#define FW_CFG_ACPI_TABLES (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET (FW_CFG_ARCH_LOCAL + 4)

#define FW_CFG_MAX_FILES 256
#define FW_CFG_MAX_FILE_NAME 56 /* including the terminating NUL */

/* FW_CFG_ID bits */
#define FW_CFG_VERSION 0x01
#define FW_CFG_VERSION_DMA 0x02

/* FWCfgDmaAccess.control bits (big-endian in guest memory). */
#define FW_CFG_DMA_CTL_ERROR 0x01
#define FW_CFG_DMA_CTL_READ 0x02
#define FW_CFG_DMA_CTL_SKIP 0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE 0x10
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ull /* "QEMU CFG" */

/* Create the device at iobase (selector iobase, data iobase + 1, DMA address
 * iobase + 4 .. + 11), map it in m->io, set m->fw_cfg and adopt it into the
 * machine.  The signature and ID items are filled in. */
FwCfg *fw_cfg_init_io(Machine *m, uint16_t iobase, GError **errp);

/* Set an item (the data is copied; a second call replaces it). */
void fw_cfg_add_bytes(FwCfg *f, uint16_t key, const void *data, size_t len);
void fw_cfg_add_string(FwCfg *f, uint16_t key, const char *s);
/* Little-endian integers, as the spec says. */
void fw_cfg_add_i16(FwCfg *f, uint16_t key, uint16_t value);
void fw_cfg_add_i32(FwCfg *f, uint16_t key, uint32_t value);
void fw_cfg_add_i64(FwCfg *f, uint16_t key, uint64_t value);
/* A named file in the directory (copied).  False if the name is empty or
 * too long, already present, or the directory is full. */
bool fw_cfg_add_file(FwCfg *f, const char *name, const void *data, size_t len);

#endif
