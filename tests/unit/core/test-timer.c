/*
 * Timers: fire in deadline order on the main context, can be re-armed and
 * deleted, and the virtual clock stands still while paused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timer.h"

typedef struct Log {
    char order[8];
    int n;
} Log;

typedef struct Tick {
    Log *log;
    char name;
} Tick;

static void fire(void *opaque)
{
    Tick *t = opaque;
    t->log->order[t->log->n++] = t->name;
}

static void run_until(GMainContext *ctx, Log *log, int n)
{
    int64_t deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (log->n < n && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(ctx, TRUE);
    }
}

static void test_order_and_delete(void **state)
{
    GMainContext *ctx = g_main_context_new();
    GMutex lock;
    g_mutex_init(&lock);
    TimerList *tl = timerlist_new(ctx, &lock);
    Log log = { { 0 }, 0 };
    Tick a = { &log, 'a' }, b = { &log, 'b' }, c = { &log, 'c' };
    Timer ta, tb, tc;
    timer_init(&ta, tl, CLOCK_VIRTUAL, fire, &a);
    timer_init(&tb, tl, CLOCK_HOST, fire, &b);
    timer_init(&tc, tl, CLOCK_VIRTUAL, fire, &c);
    int64_t now = clock_ns(tl, CLOCK_VIRTUAL);
    timer_mod(&ta, now + 20 * 1000000);
    timer_mod(&tb, clock_ns(tl, CLOCK_HOST) + 5 * 1000000);
    timer_mod(&tc, now + 1000000);
    timer_del(&tc);
    assert_false(timer_pending(&tc));
    run_until(ctx, &log, 2);
    assert_int_equal(log.n, 2);
    assert_memory_equal(log.order, "ba", 2);
    assert_false(timer_pending(&ta));
    timerlist_free(tl);
    g_main_context_unref(ctx);
}

static void test_virtual_pause(void **state)
{
    GMainContext *ctx = g_main_context_new();
    GMutex lock;
    g_mutex_init(&lock);
    TimerList *tl = timerlist_new(ctx, &lock);
    timerlist_pause_virtual(tl);
    int64_t v0 = clock_ns(tl, CLOCK_VIRTUAL);
    g_usleep(20000);
    assert_int_equal(clock_ns(tl, CLOCK_VIRTUAL), v0);
    Log log = { { 0 }, 0 };
    Tick a = { &log, 'a' };
    Timer ta;
    timer_init(&ta, tl, CLOCK_VIRTUAL, fire, &a);
    timer_mod(&ta, v0);
    /* Paused: even an expired virtual timer does not fire. */
    for (int i = 0; i < 5; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    assert_int_equal(log.n, 0);
    timerlist_resume_virtual(tl);
    assert_true(clock_ns(tl, CLOCK_VIRTUAL) >= v0);
    run_until(ctx, &log, 1);
    assert_int_equal(log.n, 1);
    timerlist_free(tl);
    g_main_context_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_delete),
        cmocka_unit_test(test_virtual_pause),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
