/*
 * PS/2 keyboard command set (IBM PS/2 Technical Reference, keyboard
 * commands): reset (0xff: ACK then BAT 0xaa), resend (0xfe), defaults
 * (0xf6), disable/enable scanning (0xf5/0xf4), typematic (0xf3 n), scancode
 * set (0xf0 n; 0 reports the set), identify (0xf2: ACK, 0xab 0x83), echo
 * (0xee), LEDs (0xed n).  Unknown commands answer 0xfe.  Key presses and
 * releases become make/break codes of the current set: set 1 (break = make
 * | 0x80) or set 2 (break = 0xf0 then make), after 0xe0 for extended keys.
 */
#include "hw/input/ps2.h"
#include "hw/input/scancode.h"

#include <stddef.h>

#define KBD_ACK 0xfa
#define KBD_RESEND 0xfe
#define KBD_BAT_OK 0xaa
#define KBD_ECHO 0xee

#define CMD_SET_LEDS 0xed
#define CMD_ECHO 0xee
#define CMD_SCAN_SET 0xf0
#define CMD_IDENTIFY 0xf2
#define CMD_TYPEMATIC 0xf3
#define CMD_ENABLE 0xf4
#define CMD_DISABLE 0xf5
#define CMD_DEFAULTS 0xf6
#define CMD_RESEND 0xfe
#define CMD_RESET 0xff

static void push(PS2Kbd *k, uint8_t b)
{
    if (k->count >= PS2_QUEUE_SIZE) {
        return; /* overrun: the byte is lost */
    }
    k->queue[(k->head + k->count) % PS2_QUEUE_SIZE] = b;
    k->count++;
}

static void notify(PS2Kbd *k)
{
    if (k->notify) {
        k->notify(k->opaque);
    }
}

static void set_defaults(PS2Kbd *k)
{
    k->scan_set = 2;
    k->typematic = 0x2b; /* 10.9 cps, 500 ms */
    k->scanning = 1;
}

void ps2_kbd_init(PS2Kbd *k, void (*fn)(void *opaque), void *opaque)
{
    k->notify = fn;
    k->opaque = opaque;
    ps2_kbd_reset(k);
}

void ps2_kbd_reset(PS2Kbd *k)
{
    k->head = 0;
    k->count = 0;
    k->param_cmd = 0;
    k->leds = 0;
    k->last_sent = 0;
    set_defaults(k);
}

static void param_byte(PS2Kbd *k, uint8_t cmd, uint8_t b)
{
    switch (cmd) {
    case CMD_SET_LEDS:
        k->leds = b & 0x07;
        push(k, KBD_ACK);
        break;
    case CMD_TYPEMATIC:
        k->typematic = b & 0x7f;
        push(k, KBD_ACK);
        break;
    case CMD_SCAN_SET:
        if (b == 0) {
            push(k, KBD_ACK);
            push(k, k->scan_set);
        } else if (b <= 3) {
            k->scan_set = b;
            push(k, KBD_ACK);
        } else {
            push(k, KBD_RESEND);
        }
        break;
    }
}

void ps2_kbd_write(PS2Kbd *k, uint8_t b)
{
    if (k->param_cmd) {
        uint8_t cmd = k->param_cmd;

        k->param_cmd = 0;
        /* A command byte instead of a parameter aborts and runs as usual. */
        if (b < 0xed) {
            param_byte(k, cmd, b);
            notify(k);
            return;
        }
    }
    switch (b) {
    case CMD_SET_LEDS:
    case CMD_TYPEMATIC:
    case CMD_SCAN_SET:
        k->param_cmd = b;
        push(k, KBD_ACK);
        break;
    case CMD_ECHO:
        push(k, KBD_ECHO);
        break;
    case CMD_IDENTIFY:
        push(k, KBD_ACK);
        push(k, 0xab);
        push(k, 0x83);
        break;
    case CMD_ENABLE:
        k->count = 0; /* enabling clears the output buffer */
        k->scanning = 1;
        push(k, KBD_ACK);
        break;
    case CMD_DISABLE:
        set_defaults(k);
        k->scanning = 0;
        push(k, KBD_ACK);
        break;
    case CMD_DEFAULTS:
        set_defaults(k);
        push(k, KBD_ACK);
        break;
    case CMD_RESEND:
        push(k, k->last_sent);
        break;
    case CMD_RESET:
        ps2_kbd_reset(k);
        push(k, KBD_ACK);
        push(k, KBD_BAT_OK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        push(k, KBD_ACK); /* scancode set 3 key attributes: accepted */
        break;
    default:
        push(k, KBD_RESEND);
        break;
    }
    notify(k);
}

bool ps2_kbd_read(PS2Kbd *k, uint8_t *byte)
{
    if (!k->count) {
        return false;
    }
    *byte = k->queue[k->head];
    k->head = (k->head + 1) % PS2_QUEUE_SIZE;
    k->count--;
    k->last_sent = *byte;
    return true;
}

bool ps2_kbd_has_data(const PS2Kbd *k)
{
    return k->count != 0;
}

void ps2_kbd_put_scancodes(PS2Kbd *k, const uint8_t *codes, unsigned n)
{
    if (!k->scanning || k->count + n > PS2_QUEUE_SIZE) {
        return; /* never split a key's sequence */
    }
    for (unsigned i = 0; i < n; i++) {
        push(k, codes[i]);
    }
    notify(k);
}

bool ps2_kbd_key(PS2Kbd *k, uint16_t key, bool down)
{
    uint8_t codes[3];
    unsigned n = 0;
    uint8_t base = (uint8_t)(key & 0x7f);

    if ((key & ~(KEY_E0 | 0x7fu)) || !base) {
        return true;
    }
    if (key & KEY_E0) {
        codes[n++] = 0xe0;
    }
    if (k->scan_set == 1) {
        codes[n++] = (uint8_t)(base | (down ? 0 : 0x80));
    } else {
        uint8_t code = scancode_set1_to_set2(base);
        if (!code) {
            return true;
        }
        if (!down) {
            codes[n++] = 0xf0;
        }
        codes[n++] = code;
    }
    if (k->scanning && k->count + n > PS2_QUEUE_SIZE) {
        return false;
    }
    ps2_kbd_put_scancodes(k, codes, n);
    return true;
}

bool ps2_kbd_post_load(PS2Kbd *k)
{
    if (k->head >= PS2_QUEUE_SIZE || k->count > PS2_QUEUE_SIZE) {
        return false;
    }
    if (k->scan_set < 1 || k->scan_set > 3) {
        k->scan_set = 2;
    }
    return true;
}

static const VMStateField ps2_kbd_fields[] = {
    VMSTATE_U8_ARRAY(PS2Kbd, queue),
    VMSTATE_U8(PS2Kbd, head),
    VMSTATE_U8(PS2Kbd, count),
    VMSTATE_U8(PS2Kbd, param_cmd),
    VMSTATE_U8(PS2Kbd, scan_set),
    VMSTATE_U8(PS2Kbd, leds),
    VMSTATE_U8(PS2Kbd, typematic),
    VMSTATE_U8(PS2Kbd, scanning),
    VMSTATE_U8(PS2Kbd, last_sent),
    VMSTATE_END,
};

const VMStateDescription vmstate_ps2_kbd = {
    .name = "ps2-kbd",
    .version = 1,
    .fields = ps2_kbd_fields,
};
