/*
 * Key events from the monitor (sendkey, send-key) on their way to the
 * guest's keyboard: a FIFO of presses and releases, each with the earliest
 * time it may go, delivered from a timer as the keyboard takes them.
 */
#ifndef KESTREL_SYSTEM_KEYBOARD_QUEUE_H
#define KESTREL_SYSTEM_KEYBOARD_QUEUE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/machine.h"

#define KBDQ_MAX_EVENTS 256

typedef struct KeyEvent {
    uint16_t key;
    bool down;
    int64_t not_before; /* CLOCK_HOST ns */
} KeyEvent;

typedef struct KeyboardQueue {
    Machine *m;
    Timer timer;
    KeyEvent ev[KBDQ_MAX_EVENTS];
    unsigned head, count;
} KeyboardQueue;

void kbdq_init(KeyboardQueue *q, Machine *m);
/* Press keys[0..n) in order now (after what is queued), release them in
 * reverse order hold_ms later.  With the machine lock held. */
bool kbdq_send(KeyboardQueue *q, const uint16_t *keys, unsigned n,
               unsigned hold_ms, GError **errp);

#endif
