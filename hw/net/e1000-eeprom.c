/*
 * The 82540EM's Microwire EEPROM (see e1000-eeprom.h).  Only READ is
 * implemented; the write and erase commands are ignored, as on a part
 * whose write enable was never given.
 */
#include "hw/net/e1000-eeprom.h"

#include <string.h>

#define MW_READ 0x6 /* start bit, then opcode 10 */
#define MW_CMD_BITS 3
#define MW_ADDR_BITS 6

void e1000_eeprom_init(E1000Eeprom *e, const uint8_t mac[6],
                       uint16_t device_id)
{
    memset(e, 0, sizeof(*e));
    for (unsigned i = 0; i < 3; i++) {
        e->data[i] = (uint16_t)(mac[2 * i] | (mac[2 * i + 1] << 8));
    }
    e->data[0x04] = 0xffff;  /* LED configuration: the defaults */
    e->data[0x05] = 0x1000;  /* image version */
    e->data[0x08] = 0x4000;  /* printed board assembly number */
    e->data[0x09] = 0x0000;
    e->data[0x0a] = 0x4408;  /* initialization control 1: load IDs, FRCSPD */
    e->data[0x0b] = 0x001e;  /* subsystem ID */
    e->data[0x0c] = 0x8086;  /* subsystem vendor ID */
    e->data[0x0d] = device_id;
    e->data[0x0e] = 0x8086;  /* vendor ID */
    e->data[0x0f] = 0x3040;  /* initialization control 2: full pause support */
    e->data[0x20] = 0x0000;
    e->data[0x24] = 0x0000;  /* initialization control 3: no wake-up */
    uint16_t sum = 0;
    for (unsigned i = 0; i < EEPROM_CHECKSUM_WORD; i++) {
        sum = (uint16_t)(sum + e->data[i]);
    }
    e->data[EEPROM_CHECKSUM_WORD] = (uint16_t)(EEPROM_SUM - sum);
}

void e1000_eeprom_reset(E1000Eeprom *e)
{
    e->eecd = 0;
    e->shift = 0;
    e->nbits = 0;
    e->reading = 0;
    e->out_bit = 16;
    e->dout = 0;
}

uint32_t e1000_eecd_read(const E1000Eeprom *e)
{
    uint32_t v = e->eecd & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI |
                            E1000_EECD_FWE_MASK | E1000_EECD_REQ);
    v |= E1000_EECD_PRES;
    if (e->eecd & E1000_EECD_REQ) {
        v |= E1000_EECD_GNT; /* the EEPROM is never busy with the MAC */
    }
    if (e->dout) {
        v |= E1000_EECD_DO;
    }
    return v;
}

static void clock_edge(E1000Eeprom *e, bool di)
{
    if (e->reading) {
        if (e->out_bit == 0) {
            e->addr = (uint8_t)((e->addr + 1) % EEPROM_WORDS);
            e->out_bit = 16;
        }
        e->out_bit--;
        e->dout = (e->data[e->addr] >> e->out_bit) & 1;
        return;
    }
    if (e->nbits == 0 && !di) {
        return; /* waiting for the start bit */
    }
    e->shift = (uint16_t)((e->shift << 1) | di);
    e->nbits++;
    if (e->nbits == MW_CMD_BITS + MW_ADDR_BITS) {
        unsigned cmd = e->shift >> MW_ADDR_BITS;
        if (cmd == MW_READ) {
            e->addr = e->shift & (EEPROM_WORDS - 1);
            e->reading = 1;
            e->out_bit = 16;
            e->dout = 0; /* the dummy zero before D15 */
        } else {
            e->nbits = 0;
            e->shift = 0;
        }
    }
}

void e1000_eecd_write(E1000Eeprom *e, uint32_t v)
{
    uint32_t old = e->eecd;
    e->eecd = v;
    if (!(v & E1000_EECD_CS)) {
        e->shift = 0;
        e->nbits = 0;
        e->reading = 0;
        e->dout = 0;
        return;
    }
    if (!(old & E1000_EECD_SK) && (v & E1000_EECD_SK)) {
        clock_edge(e, (v & E1000_EECD_DI) != 0);
    }
}

uint32_t e1000_eerd_do(const E1000Eeprom *e, uint32_t v)
{
    if (!(v & E1000_EERD_START)) {
        return v & ~E1000_EERD_DONE;
    }
    uint32_t addr = (v >> E1000_EERD_ADDR_SHIFT) & 0xff;
    uint16_t data = addr < EEPROM_WORDS ? e->data[addr] : 0xffff;
    return (addr << E1000_EERD_ADDR_SHIFT) | E1000_EERD_DONE |
           ((uint32_t)data << E1000_EERD_DATA_SHIFT);
}
