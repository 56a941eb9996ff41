/*
 * Timers on the main loop.  A TimerList keeps armed timers in a list sorted
 * by host deadline and owns a GSource whose timeout is the earliest
 * deadline.  CLOCK_VIRTUAL is CLOCK_HOST minus the time spent paused.
 */
#include "core/timer.h"

struct TimerList {
    GSource source;
    GMutex mu;          /* protects the list and the clock offsets */
    GMutex *lock;       /* the machine lock, held around callbacks */
    Timer *head;        /* sorted by host deadline */
    int64_t paused_total;
    int64_t paused_at;  /* >= 0 while paused */
};

static int64_t host_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

static int64_t virtual_ns_locked(TimerList *tl)
{
    int64_t now = tl->paused_at >= 0 ? tl->paused_at : host_ns();
    return now - tl->paused_total;
}

int64_t clock_ns(TimerList *tl, ClockType clock)
{
    if (clock == CLOCK_HOST) {
        return host_ns();
    }
    g_mutex_lock(&tl->mu);
    int64_t v = virtual_ns_locked(tl);
    g_mutex_unlock(&tl->mu);
    return v;
}

/* Host time at which t expires; virtual timers never expire while paused. */
static int64_t host_deadline_locked(TimerList *tl, const Timer *t)
{
    if (t->clock == CLOCK_HOST) {
        return t->expire;
    }
    if (tl->paused_at >= 0) {
        return G_MAXINT64;
    }
    return t->expire + tl->paused_total;
}

static void insert_locked(TimerList *tl, Timer *t)
{
    int64_t d = host_deadline_locked(tl, t);
    Timer **pp = &tl->head;
    while (*pp && host_deadline_locked(tl, *pp) <= d) {
        pp = &(*pp)->next;
    }
    t->next = *pp;
    *pp = t;
    t->pending = true;
}

static void remove_locked(TimerList *tl, Timer *t)
{
    for (Timer **pp = &tl->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->pending = false;
}

static gboolean tl_prepare(GSource *s, gint *timeout)
{
    TimerList *tl = (TimerList *)s;
    g_mutex_lock(&tl->mu);
    int64_t d = tl->head ? host_deadline_locked(tl, tl->head) : G_MAXINT64;
    g_mutex_unlock(&tl->mu);
    if (d == G_MAXINT64) {
        *timeout = -1;
        return FALSE;
    }
    int64_t now = host_ns();
    if (d <= now) {
        *timeout = 0;
        return TRUE;
    }
    int64_t ms = (d - now + 999999) / 1000000;
    *timeout = ms > G_MAXINT ? G_MAXINT : (gint)ms;
    return FALSE;
}

static gboolean tl_check(GSource *s)
{
    gint t;
    return tl_prepare(s, &t);
}

static gboolean tl_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    TimerList *tl = (TimerList *)s;
    g_mutex_lock(tl->lock);
    for (;;) {
        g_mutex_lock(&tl->mu);
        Timer *t = tl->head;
        if (!t || host_deadline_locked(tl, t) > host_ns()) {
            g_mutex_unlock(&tl->mu);
            break;
        }
        remove_locked(tl, t);
        g_mutex_unlock(&tl->mu);
        t->cb(t->opaque);
    }
    g_mutex_unlock(tl->lock);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs tl_funcs = {
    .prepare = tl_prepare,
    .check = tl_check,
    .dispatch = tl_dispatch,
};

TimerList *timerlist_new(GMainContext *ctx, GMutex *lock)
{
    TimerList *tl = (TimerList *)g_source_new(&tl_funcs, sizeof(TimerList));
    g_mutex_init(&tl->mu);
    tl->lock = lock;
    tl->head = NULL;
    tl->paused_total = 0;
    tl->paused_at = -1;
    g_source_attach(&tl->source, ctx);
    return tl;
}

void timerlist_free(TimerList *tl)
{
    g_source_destroy(&tl->source);
    g_mutex_clear(&tl->mu);
    g_source_unref(&tl->source);
}

static void wake(TimerList *tl)
{
    GMainContext *ctx = g_source_get_context(&tl->source);
    if (ctx) {
        g_main_context_wakeup(ctx);
    }
}

void timerlist_pause_virtual(TimerList *tl)
{
    g_mutex_lock(&tl->mu);
    if (tl->paused_at < 0) {
        tl->paused_at = host_ns();
    }
    g_mutex_unlock(&tl->mu);
}

void timerlist_resume_virtual(TimerList *tl)
{
    g_mutex_lock(&tl->mu);
    if (tl->paused_at >= 0) {
        tl->paused_total += host_ns() - tl->paused_at;
        tl->paused_at = -1;
        /* Re-sort: virtual deadlines moved relative to host ones. */
        Timer *list = tl->head;
        tl->head = NULL;
        while (list) {
            Timer *next = list->next;
            insert_locked(tl, list);
            list = next;
        }
    }
    g_mutex_unlock(&tl->mu);
    wake(tl);
}

void timer_init(Timer *t, TimerList *tl, ClockType clock,
                void (*cb)(void *opaque), void *opaque)
{
    t->tl = tl;
    t->clock = clock;
    t->expire = 0;
    t->cb = cb;
    t->opaque = opaque;
    t->next = NULL;
    t->pending = false;
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    TimerList *tl = t->tl;
    g_mutex_lock(&tl->mu);
    if (t->pending) {
        remove_locked(tl, t);
    }
    t->expire = expire_ns;
    insert_locked(tl, t);
    bool first = tl->head == t;
    g_mutex_unlock(&tl->mu);
    if (first) {
        wake(tl);
    }
}

void timer_del(Timer *t)
{
    TimerList *tl = t->tl;
    if (!tl) {
        return;
    }
    g_mutex_lock(&tl->mu);
    if (t->pending) {
        remove_locked(tl, t);
    }
    g_mutex_unlock(&tl->mu);
}
