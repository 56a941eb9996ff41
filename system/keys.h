/*
 * Key names of the monitor's sendkey and QMP's send-key, as QEMU spells
 * them ("a", "ret", "ctrl", "kp_add", "f12", ...), and their PC keycodes
 * (set 1 scancodes, + 0xe000 for E0-prefixed keys; hw/input/scancode.h).
 */
#ifndef KESTREL_SYSTEM_KEYS_H
#define KESTREL_SYSTEM_KEYS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define KEYS_MAX 16 /* keys pressed together in one sendkey */

/* QEMU's key numbers: the set 1 code, 0x80 + code for the E0 keys (0xd3
 * is delete).  False for numbers that are no key code. */
bool key_number(unsigned long number, uint16_t *code);
/* A key name, or a key number ("0x1e", "30"). */
bool key_parse(const char *name, uint16_t *code, GError **errp);
/* "ctrl-alt-delete": the keys in press order; returns how many. */
unsigned keys_parse_combo(const char *combo, uint16_t *codes, GError **errp);

#endif
