/*
 * A PS/2 keyboard as seen over its serial link: the host (the i8042) writes
 * command bytes, the keyboard queues reply and scancode bytes for the host
 * to take.  Not a device of its own: the i8042 embeds it.
 */
#ifndef KESTREL_HW_INPUT_PS2_H
#define KESTREL_HW_INPUT_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vmstate.h"

#define PS2_QUEUE_SIZE 16

typedef struct PS2Kbd {
    uint8_t queue[PS2_QUEUE_SIZE];
    uint8_t head;
    uint8_t count;
    uint8_t param_cmd;  /* command waiting for its parameter byte, or 0 */
    uint8_t scan_set;   /* 1, 2 or 3 */
    uint8_t leds;
    uint8_t typematic;
    uint8_t scanning;   /* scanning enabled */
    uint8_t last_sent;  /* for the resend command */
    /* Told when bytes were queued (the controller may take them). */
    void (*notify)(void *opaque);
    void *opaque;
} PS2Kbd;

extern const VMStateDescription vmstate_ps2_kbd;

void ps2_kbd_init(PS2Kbd *k, void (*notify)(void *opaque), void *opaque);
/* Power-on state: set 2, scanning on, LEDs off, queue empty. */
void ps2_kbd_reset(PS2Kbd *k);
/* A byte from the host. */
void ps2_kbd_write(PS2Kbd *k, uint8_t byte);
/* Take the next byte for the host; false if none. */
bool ps2_kbd_read(PS2Kbd *k, uint8_t *byte);
bool ps2_kbd_has_data(const PS2Kbd *k);
/* Key events (scancodes of the current set); dropped while scanning is off
 * or the queue is full. */
void ps2_kbd_put_scancodes(PS2Kbd *k, const uint8_t *codes, unsigned n);
/* A key pressed or released (key: hw/input/scancode.h), sent in the
 * keyboard's current scan code set (set 3 is sent as set 2).  False when
 * the queue has no room for it now (try again later); a key no set has, or
 * one typed while scanning is off, is taken and dropped. */
bool ps2_kbd_key(PS2Kbd *k, uint16_t key, bool down);
/* Validate state after a snapshot load. */
bool ps2_kbd_post_load(PS2Kbd *k);

#endif
