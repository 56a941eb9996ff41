/*
 * The key event queue of sendkey / send-key.  A PS/2 keyboard holds 16
 * bytes; a guest that is slow to read (a busy host) would lose keys typed
 * faster than it reads them, so events wait here, in order, until
 * Machine.kbd_event takes them, retried every KBDQ_RETRY_NS.  Releases wait
 * for their hold time as well, as QEMU's sendkey does.
 */
#include "system/keyboard-queue.h"

#include "core/error.h"

#define KBDQ_RETRY_NS 5000000 /* 5 ms */

static void pump(void *opaque)
{
    KeyboardQueue *q = opaque;
    Machine *m = q->m;
    int64_t now = clock_ns(m->timers, CLOCK_HOST);

    while (q->count) {
        KeyEvent *e = &q->ev[q->head];
        if (e->not_before > now) {
            timer_mod(&q->timer, e->not_before);
            return;
        }
        if (m->kbd_event && !m->kbd_event(m->kbd_opaque, e->key, e->down)) {
            timer_mod(&q->timer, now + KBDQ_RETRY_NS);
            return;
        }
        q->head = (q->head + 1) % KBDQ_MAX_EVENTS;
        q->count--;
    }
}

void kbdq_init(KeyboardQueue *q, Machine *m)
{
    q->m = m;
    q->head = 0;
    q->count = 0;
    timer_init(&q->timer, m->timers, CLOCK_HOST, pump, q);
}

static void push(KeyboardQueue *q, uint16_t key, bool down, int64_t when)
{
    KeyEvent *e = &q->ev[(q->head + q->count) % KBDQ_MAX_EVENTS];
    e->key = key;
    e->down = down;
    e->not_before = when;
    q->count++;
}

bool kbdq_send(KeyboardQueue *q, const uint16_t *keys, unsigned n,
               unsigned hold_ms, GError **errp)
{
    if (!q->m->kbd_event) {
        error_setg(errp, "the machine has no keyboard");
        return false;
    }
    if (q->count + 2 * n > KBDQ_MAX_EVENTS) {
        error_setg(errp, "too many keys waiting for the guest to read them");
        return false;
    }
    int64_t now = clock_ns(q->m->timers, CLOCK_HOST);
    for (unsigned i = 0; i < n; i++) {
        push(q, keys[i], true, now);
    }
    for (unsigned i = n; i-- > 0;) {
        push(q, keys[i], false, now + (int64_t)hold_ms * 1000000);
    }
    timer_del(&q->timer);
    pump(q);
    return true;
}
