/*
 * MC146818 RTC: CMOS memory size fields, setting and reading the time in
 * BCD, binary and 12-hour modes, UIP, periodic and update interrupts.
 * Waits use generous deadlines; nothing asserts how fast time passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hw-test.h"
#include "hw/timer/mc146818rtc.h"

static TestMachine *with_rtc(RtcState **s)
{
    TestMachine *t = tm_new(1 << 20, true);

    *s = (RtcState *)tm_add(t, &mc146818rtc_class, NULL);
    return t;
}

static uint8_t cmos(TestMachine *t, uint8_t index)
{
    tm_outb(t, 0x70, index);
    return tm_inb(t, 0x71);
}

static void cmos_set(TestMachine *t, uint8_t index, uint8_t v)
{
    tm_outb(t, 0x70, index);
    tm_outb(t, 0x71, v);
}

static void test_memory_fields(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);

    rtc_set_memory(s, 3ull << 30, 1ull << 30, 4);
    assert_int_equal(cmos(t, 0x15) | cmos(t, 0x16) << 8, 640);
    assert_int_equal(cmos(t, 0x17) | cmos(t, 0x18) << 8, 0xffff); /* capped */
    assert_int_equal(cmos(t, 0x30) | cmos(t, 0x31) << 8, 0xffff);
    assert_int_equal(cmos(t, 0x34) | cmos(t, 0x35) << 8, ((3u << 30) - (16u << 20)) >> 16);
    assert_int_equal(cmos(t, 0x5b) | cmos(t, 0x5c) << 8 | cmos(t, 0x5d) << 16,
                     (1u << 30) >> 16);
    assert_int_equal(cmos(t, 0x5f), 3);

    rtc_set_memory(s, 32u << 20, 0, 1);
    assert_int_equal(cmos(t, 0x17) | cmos(t, 0x18) << 8, 31 * 1024);
    assert_int_equal(cmos(t, 0x30) | cmos(t, 0x31) << 8, 31 * 1024);
    assert_int_equal(cmos(t, 0x34) | cmos(t, 0x35) << 8, 0x100);
    assert_int_equal(cmos(t, 0x5b) | cmos(t, 0x5c) | cmos(t, 0x5d), 0);
    assert_int_equal(cmos(t, 0x5f), 0);

    /* The NMI mask bit of port 0x70 does not change the index. */
    tm_outb(t, 0x70, 0x80 | 0x34);
    assert_int_equal(tm_inb(t, 0x71), 0x00);
    tm_outb(t, 0x70, 0x80 | 0x35);
    assert_int_equal(tm_inb(t, 0x71), 0x01);

    /* CMOS RAM survives a reset, like a battery-backed one. */
    machine_reset_devices(&t->m);
    assert_int_equal(cmos(t, 0x35), 0x01);
    assert_int_equal(cmos(t, 0x0d), 0x80); /* valid RAM and time */
    tm_free(t);
}

static void set_time_bcd(TestMachine *t)
{
    cmos_set(t, 0x0b, 0x82); /* SET, 24h, BCD */
    cmos_set(t, 0x00, 0x30);
    cmos_set(t, 0x02, 0x59);
    cmos_set(t, 0x04, 0x23);
    cmos_set(t, 0x07, 0x29);
    cmos_set(t, 0x08, 0x02);
    cmos_set(t, 0x09, 0x24);
    cmos_set(t, 0x32, 0x20);
    cmos_set(t, 0x0b, 0x02);
}

static void test_set_and_read_time(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);
    uint8_t sec;

    set_time_bcd(t); /* 2024-02-29 23:59:30 */
    sec = cmos(t, 0x00);
    assert_true(sec >= 0x30 && sec <= 0x39); /* a few seconds may pass */
    assert_int_equal(cmos(t, 0x02), 0x59);
    assert_int_equal(cmos(t, 0x04), 0x23);
    assert_int_equal(cmos(t, 0x07), 0x29);
    assert_int_equal(cmos(t, 0x08), 0x02);
    assert_int_equal(cmos(t, 0x09), 0x24);
    assert_int_equal(cmos(t, 0x32), 0x20);
    assert_int_equal(cmos(t, 0x06), 0x05); /* Thursday */

    cmos_set(t, 0x0b, 0x06); /* binary, 24h */
    assert_int_equal(cmos(t, 0x04), 23);
    assert_int_equal(cmos(t, 0x07), 29);
    assert_int_equal(cmos(t, 0x09), 24);
    assert_int_equal(cmos(t, 0x32), 20);
    cmos_set(t, 0x0b, 0x04); /* binary, 12h: 11 PM */
    assert_int_equal(cmos(t, 0x04), 0x80 | 11);
    cmos_set(t, 0x0b, 0x00); /* BCD, 12h */
    assert_int_equal(cmos(t, 0x04), 0x80 | 0x11);

    /* While SET is on the clock stands still and shows what was written. */
    cmos_set(t, 0x0b, 0x86);
    cmos_set(t, 0x00, 5);
    assert_int_equal(cmos(t, 0x00), 5);
    tm_free(t);
}

static void test_host_time(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);
    GDateTime *now = g_date_time_new_now_utc();
    unsigned year = (unsigned)g_date_time_get_year(now);
    uint8_t y = cmos(t, 0x09);

    /* Power-on time is the host's UTC time, in BCD. */
    assert_int_equal(y, ((year % 100) / 10) << 4 | (year % 10));
    assert_int_equal(cmos(t, 0x32), ((year / 100) / 10) << 4 | ((year / 100) % 10));
    g_date_time_unref(now);
    tm_free(t);
}

static bool uip_seen(void *arg)
{
    TestMachine *t = arg;

    for (int i = 0; i < 100000; i++) {
        if (cmos(t, 0x0a) & 0x80) {
            return true;
        }
    }
    return false;
}

static void test_update_in_progress(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);

    assert_int_equal(cmos(t, 0x0a) & 0x7f, 0x26); /* 32.768 kHz, 1024 Hz */
    assert_true(tm_run_until(t, uip_seen, t));
    tm_free(t);
}

static void test_periodic_rates(void **state)
{
    assert_int_equal(rtc_periodic_period_ns(0), 0);
    assert_int_equal(rtc_periodic_period_ns(3), 122070);     /* 8192 Hz */
    assert_int_equal(rtc_periodic_period_ns(6), 976562);     /* 1024 Hz */
    assert_int_equal(rtc_periodic_period_ns(15), 500000000); /* 2 Hz */
    assert_int_equal(rtc_periodic_period_ns(1), rtc_periodic_period_ns(8));
    assert_int_equal(rtc_periodic_period_ns(2), rtc_periodic_period_ns(9));
}

typedef struct IrqWait {
    TestMachine *t;
    unsigned flags_seen;
    unsigned count;
    uint8_t want;
    unsigned want_count;
} IrqWait;

static bool got_irqs(void *arg)
{
    IrqWait *w = arg;

    g_mutex_lock(&w->t->m.lock);
    if (w->t->gsi_level[8]) {
        uint8_t c = cmos(w->t, 0x0c);

        w->flags_seen |= c;
        if (c & w->want) {
            w->count++;
        }
        assert_int_equal(w->t->gsi_level[8], 0); /* reading C lowers IRQ 8 */
    }
    g_mutex_unlock(&w->t->m.lock);
    return w->count >= w->want_count;
}

static void test_periodic_interrupt(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);
    IrqWait w = { .t = t, .want = 0x40, .want_count = 3 };

    cmos_set(t, 0x0a, 0x26);
    cmos_set(t, 0x0b, 0x42); /* PIE */
    assert_true(tm_run_until(t, got_irqs, &w));
    assert_true(w.flags_seen & 0x80); /* IRQF */
    cmos_set(t, 0x0b, 0x02);
    tm_free(t);
}

static void test_update_interrupt(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);
    IrqWait w = { .t = t, .want = 0x10, .want_count = 1 };

    cmos(t, 0x0c);
    cmos_set(t, 0x0b, 0x12); /* UIE */
    assert_true(tm_run_until(t, got_irqs, &w));
    tm_free(t);
}

static bool uf_polled(void *arg)
{
    TestMachine *t = arg;

    return (cmos(t, 0x0c) & 0x10) != 0;
}

static void test_update_flag_polling(void **state)
{
    RtcState *s;
    TestMachine *t = with_rtc(&s);

    cmos(t, 0x0c);
    assert_true(tm_run_until(t, uf_polled, t));
    assert_int_equal(t->gsi_level[8], 0); /* UIE off: flag only */
    tm_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_fields),
        cmocka_unit_test(test_set_and_read_time),
        cmocka_unit_test(test_host_time),
        cmocka_unit_test(test_update_in_progress),
        cmocka_unit_test(test_periodic_rates),
        cmocka_unit_test(test_periodic_interrupt),
        cmocka_unit_test(test_update_interrupt),
        cmocka_unit_test(test_update_flag_polling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
