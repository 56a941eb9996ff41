/*
 * Test double for core/timer.c: a manually advanced clock.  CLOCK_HOST and
 * CLOCK_VIRTUAL are the same counter, which starts at 1 s.
 */
#include "fake-timer.h"

struct TimerList {
    int64_t now;
    Timer *head; /* sorted by expire */
    unsigned fired;
};

TimerList *timerlist_new(GMainContext *ctx, GMutex *lock)
{
    TimerList *tl = g_new0(TimerList, 1);
    tl->now = NS_PER_SEC;
    return tl;
}

void timerlist_free(TimerList *tl)
{
    g_free(tl);
}

int64_t clock_ns(TimerList *tl, ClockType clock)
{
    return tl->now;
}

void timerlist_pause_virtual(TimerList *tl) {}
void timerlist_resume_virtual(TimerList *tl) {}

void timer_init(Timer *t, TimerList *tl, ClockType clock,
                void (*cb)(void *opaque), void *opaque)
{
    t->tl = tl;
    t->clock = clock;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = 0;
    t->next = NULL;
    t->pending = false;
}

void timer_del(Timer *t)
{
    if (!t->pending) {
        return;
    }
    for (Timer **pp = &t->tl->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->pending = false;
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    timer_del(t);
    t->expire = expire_ns;
    Timer **pp = &t->tl->head;
    while (*pp && (*pp)->expire <= expire_ns) {
        pp = &(*pp)->next;
    }
    t->next = *pp;
    *pp = t;
    t->pending = true;
}

void fake_clock_advance(TimerList *tl, int64_t ns)
{
    int64_t target = tl->now + ns;
    while (tl->head && tl->head->expire <= target) {
        Timer *t = tl->head;
        tl->head = t->next;
        t->next = NULL;
        t->pending = false;
        if (t->expire > tl->now) {
            tl->now = t->expire;
        }
        tl->fired++;
        t->cb(t->opaque);
    }
    tl->now = target;
}

unsigned fake_clock_fired(const TimerList *tl)
{
    return tl->fired;
}
