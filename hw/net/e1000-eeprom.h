/*
 * The 82540EM's 64-word Microwire EEPROM (8254x developer's manual 5.5 and
 * 5.6): read through EECD by driving its pins (SK clock, CS select, DI in,
 * DO out) with the 3-bit READ command (start bit + opcode 10) and a 6-bit
 * address, or through the EERD register.  The image holds the MAC address
 * and the device identity, and its words sum to 0xBABA.
 */
#ifndef KESTREL_HW_NET_E1000_EEPROM_H
#define KESTREL_HW_NET_E1000_EEPROM_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/net/e1000-regs.h"

typedef struct E1000Eeprom {
    uint16_t data[EEPROM_WORDS];
    uint32_t eecd;    /* the pins and request bits the driver last wrote */
    uint16_t shift;   /* command bits clocked in so far */
    uint8_t nbits;
    uint8_t reading;  /* a READ is clocking data out */
    uint8_t addr;
    uint8_t out_bit;  /* data bit on DO: 15..0; 16 before the first */
    uint8_t dout;
} E1000Eeprom;

void e1000_eeprom_init(E1000Eeprom *e, const uint8_t mac[6],
                       uint16_t device_id);
/* Back to idle (chip deselected), keeping the contents. */
void e1000_eeprom_reset(E1000Eeprom *e);
uint32_t e1000_eecd_read(const E1000Eeprom *e);
void e1000_eecd_write(E1000Eeprom *e, uint32_t v);
/* EERD: a write with START set reads the word at once. */
uint32_t e1000_eerd_do(const E1000Eeprom *e, uint32_t v);

#endif
