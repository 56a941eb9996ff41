/*
 * Key names -> PC keycodes for sendkey / send-key.  The names are QEMU's
 * (its QKeyCode enumeration, as users type them); the codes are set 1
 * scancodes (IBM PC AT keyboard reference), E0-prefixed keys + 0xe000.
 */
#include "system/keys.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define KEY_CODE_E0 0xe000u

typedef struct KeyName {
    const char *name;
    uint16_t code;
} KeyName;

static const KeyName key_names[] = {
    { "esc", 0x01 }, { "1", 0x02 }, { "2", 0x03 }, { "3", 0x04 },
    { "4", 0x05 }, { "5", 0x06 }, { "6", 0x07 }, { "7", 0x08 },
    { "8", 0x09 }, { "9", 0x0a }, { "0", 0x0b }, { "minus", 0x0c },
    { "equal", 0x0d }, { "backspace", 0x0e }, { "tab", 0x0f },
    { "q", 0x10 }, { "w", 0x11 }, { "e", 0x12 }, { "r", 0x13 },
    { "t", 0x14 }, { "y", 0x15 }, { "u", 0x16 }, { "i", 0x17 },
    { "o", 0x18 }, { "p", 0x19 }, { "bracket_left", 0x1a },
    { "bracket_right", 0x1b }, { "ret", 0x1c }, { "ctrl", 0x1d },
    { "a", 0x1e }, { "s", 0x1f }, { "d", 0x20 }, { "f", 0x21 },
    { "g", 0x22 }, { "h", 0x23 }, { "j", 0x24 }, { "k", 0x25 },
    { "l", 0x26 }, { "semicolon", 0x27 }, { "apostrophe", 0x28 },
    { "grave_accent", 0x29 }, { "shift", 0x2a }, { "backslash", 0x2b },
    { "z", 0x2c }, { "x", 0x2d }, { "c", 0x2e }, { "v", 0x2f },
    { "b", 0x30 }, { "n", 0x31 }, { "m", 0x32 }, { "comma", 0x33 },
    { "dot", 0x34 }, { "slash", 0x35 }, { "shift_r", 0x36 },
    { "asterisk", 0x37 }, { "kp_multiply", 0x37 }, { "alt", 0x38 },
    { "spc", 0x39 }, { "caps_lock", 0x3a },
    { "f1", 0x3b }, { "f2", 0x3c }, { "f3", 0x3d }, { "f4", 0x3e },
    { "f5", 0x3f }, { "f6", 0x40 }, { "f7", 0x41 }, { "f8", 0x42 },
    { "f9", 0x43 }, { "f10", 0x44 }, { "num_lock", 0x45 },
    { "scroll_lock", 0x46 }, { "kp_7", 0x47 }, { "kp_8", 0x48 },
    { "kp_9", 0x49 }, { "kp_subtract", 0x4a }, { "kp_4", 0x4b },
    { "kp_5", 0x4c }, { "kp_6", 0x4d }, { "kp_add", 0x4e },
    { "kp_1", 0x4f }, { "kp_2", 0x50 }, { "kp_3", 0x51 }, { "kp_0", 0x52 },
    { "kp_decimal", 0x53 }, { "sysrq", 0x54 }, { "less", 0x56 },
    { "f11", 0x57 }, { "f12", 0x58 },
    { "kp_enter", 0xe01c }, { "ctrl_r", 0xe01d }, { "kp_divide", 0xe035 },
    { "alt_r", 0xe038 }, { "home", 0xe047 }, { "up", 0xe048 },
    { "pgup", 0xe049 }, { "left", 0xe04b }, { "right", 0xe04d },
    { "end", 0xe04f }, { "down", 0xe050 }, { "pgdn", 0xe051 },
    { "insert", 0xe052 }, { "delete", 0xe053 }, { "meta_l", 0xe05b },
    { "meta_r", 0xe05c }, { "menu", 0xe05d },
};

/* QEMU's key numbers: the set 1 code, + 0x80 for the E0 keys. */
bool key_number(unsigned long number, uint16_t *code)
{
    if (number == 0 || number == 0x80 || number >= 0x100) {
        return false;
    }
    *code = number < 0x80 ? (uint16_t)number
                          : (uint16_t)(KEY_CODE_E0 | (number & 0x7f));
    return true;
}

bool key_parse(const char *name, uint16_t *code, GError **errp)
{
    for (size_t i = 0; i < G_N_ELEMENTS(key_names); i++) {
        if (!strcmp(name, key_names[i].name)) {
            *code = key_names[i].code;
            return true;
        }
    }
    if (g_ascii_isdigit(name[0])) {
        char *end;
        unsigned long v = strtoul(name, &end, 0);
        if (!*end && key_number(v, code)) {
            return true;
        }
    }
    error_setg(errp, "unknown key '%s'", name);
    return false;
}

unsigned keys_parse_combo(const char *combo, uint16_t *codes, GError **errp)
{
    char **parts = g_strsplit(combo, "-", -1);
    unsigned n = 0;
    bool ok = parts[0] != NULL;

    for (char **p = parts; *p && ok; p++) {
        if (n == KEYS_MAX) {
            error_setg(errp, "too many keys (at most %d)", KEYS_MAX);
            ok = false;
        } else {
            ok = key_parse(*p, &codes[n++], errp);
        }
    }
    if (!parts[0]) {
        error_setg(errp, "no key given");
    }
    g_strfreev(parts);
    return ok ? n : 0;
}
