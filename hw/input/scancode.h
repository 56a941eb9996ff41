/*
 * PC keyboard scancodes.  Kestrel names a key by its scancode in set 1 (the
 * XT set): the code of its make byte, with 0xe000 added for the keys whose
 * make is E0-prefixed (KEY_E0).  A PS/2 keyboard sends set 2 by default and
 * the i8042 translates set 2 back to set 1 for the host; these functions
 * convert the base codes (without E0 prefix or release marker) both ways.
 */
#ifndef KESTREL_HW_INPUT_SCANCODE_H
#define KESTREL_HW_INPUT_SCANCODE_H

#include <stdint.h>

#define KEY_E0 0xe000u

/* Set 2 code of a set 1 base code (0x01..0x7f); 0 if no key has it. */
uint8_t scancode_set1_to_set2(uint8_t code);
/* The i8042's translation of a byte from the keyboard to set 1: key codes
 * to their set 1 codes, 0x00 (overrun) to 0xff, anything else (replies,
 * prefixes) unchanged.  The break prefix 0xf0 is the caller's business. */
uint8_t scancode_set2_to_set1(uint8_t code);

#endif
