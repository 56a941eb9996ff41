/*
 * Clocks and timers.  CLOCK_HOST is the host's monotonic time; CLOCK_VIRTUAL
 * is guest time: it runs only while the machine runs.  Timers fire on the
 * main loop thread with the machine lock held; timer_mod() may be called from
 * any thread that holds the machine lock.
 */
#ifndef KESTREL_CORE_TIMER_H
#define KESTREL_CORE_TIMER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL

typedef enum ClockType {
    CLOCK_HOST,
    CLOCK_VIRTUAL,
} ClockType;

typedef struct TimerList TimerList;

typedef struct Timer {
    TimerList *tl;
    ClockType clock;
    int64_t expire;
    void (*cb)(void *opaque);
    void *opaque;
    struct Timer *next;
    bool pending;
} Timer;

/* Timers of one machine: callbacks run from ctx with *lock held. */
TimerList *timerlist_new(GMainContext *ctx, GMutex *lock);
void timerlist_free(TimerList *tl);

int64_t clock_ns(TimerList *tl, ClockType clock);
/* Stop and restart CLOCK_VIRTUAL (machine paused/resumed). */
void timerlist_pause_virtual(TimerList *tl);
void timerlist_resume_virtual(TimerList *tl);

void timer_init(Timer *t, TimerList *tl, ClockType clock,
                void (*cb)(void *opaque), void *opaque);
/* (Re)arm for an absolute time on the timer's clock. */
void timer_mod(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
static inline bool timer_pending(const Timer *t) { return t->pending; }

#endif
