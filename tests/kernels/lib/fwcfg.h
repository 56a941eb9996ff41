/* The fw_cfg firmware configuration interface, I/O port variant. */
#ifndef KTEST_FWCFG_H
#define KTEST_FWCFG_H

#include <stddef.h>
#include <stdint.h>

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15

void fwcfg_read(uint16_t key, void *buf, size_t len);
uint16_t fwcfg_read16(uint16_t key);
uint32_t fwcfg_read32(uint16_t key);
uint64_t fwcfg_read64(uint16_t key);
/* Does the signature item read "QEMU"? */
int fwcfg_present(void);

#endif
