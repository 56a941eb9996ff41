/*
 * fw_cfg through I/O ports (QEMU's documented fw_cfg interface: a 16-bit
 * selector at 0x510, byte-wise data at 0x511, little-endian items).
 */
#include "lib/fwcfg.h"
#include "lib/io.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511

void fwcfg_read(uint16_t key, void *buf, size_t len)
{
    uint8_t *p = buf;

    outw(FW_CFG_PORT_SEL, key);
    for (size_t i = 0; i < len; i++) {
        p[i] = inb(FW_CFG_PORT_DATA);
    }
}

uint16_t fwcfg_read16(uint16_t key)
{
    uint8_t b[2];
    fwcfg_read(key, b, sizeof(b));
    return (uint16_t)(b[0] | (b[1] << 8));
}

uint32_t fwcfg_read32(uint16_t key)
{
    uint8_t b[4];
    fwcfg_read(key, b, sizeof(b));
    return b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24);
}

uint64_t fwcfg_read64(uint16_t key)
{
    uint8_t b[8];
    uint64_t v = 0;
    fwcfg_read(key, b, sizeof(b));
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | b[i];
    }
    return v;
}

int fwcfg_present(void)
{
    char sig[4];
    fwcfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
    return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}
