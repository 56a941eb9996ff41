/*
 * 8254 PIT: mode 2 and mode 3 counting and IRQ0, mode 0 terminal count,
 * counter latch, read-back (status and count), BCD counting, and counter 2
 * through port 0x61 (gate, OUT readback, refresh toggle).  Time moves only
 * through the fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/timer/i8254.h"
#include "intc-test-util.h"

typedef struct Fixture {
    Machine *m;
    PitState *pit;
    IrqProbe irq0;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->m = test_machine_new();
    irq_probe_init(&f->irq0);
    f->pit = i8254_init(f->m, &f->irq0.line, NULL);
    assert_non_null(f->pit);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    test_machine_free(f->m);
    g_free(f);
    return 0;
}

/* Nanoseconds that hold exactly n PIT clocks (rounded up). */
static int64_t clocks(uint64_t n)
{
    return (int64_t)((n * 1000000000ULL + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static void advance(Fixture *f, uint64_t n_clocks)
{
    fake_clock_advance(f->m->timers, clocks(n_clocks));
}

static void write_count(Machine *m, unsigned ch, uint16_t v)
{
    outb(m, 0x40 + ch, v & 0xff);
    outb(m, 0x40 + ch, v >> 8);
}

static uint16_t latch_read(Machine *m, unsigned ch)
{
    outb(m, 0x43, (uint8_t)(ch << 6)); /* counter latch */
    uint8_t lo = inb(m, 0x40 + ch);
    uint8_t hi = inb(m, 0x40 + ch);
    return (uint16_t)(lo | hi << 8);
}

static void test_mode2_count_and_irq(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x34); /* counter 0, LSB/MSB, mode 2, binary */
    write_count(f->m, 0, 1000);
    assert_int_equal(latch_read(f->m, 0), 1000);
    advance(f, 100);
    assert_int_equal(latch_read(f->m, 0), 900);
    unsigned before = f->irq0.rises;
    advance(f, 900); /* one full period */
    assert_int_equal(f->irq0.rises - before, 1);
    assert_int_equal(latch_read(f->m, 0), 1000); /* reloaded */
    advance(f, 10000);
    assert_int_equal(f->irq0.rises - before, 11);
}

static void test_mode3_square_wave(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x36); /* counter 0, mode 3 */
    write_count(f->m, 0, 200);
    assert_int_equal(f->irq0.level, 1);
    advance(f, 50);
    assert_int_equal(latch_read(f->m, 0), 100); /* counts down by two */
    advance(f, 60);
    assert_int_equal(f->irq0.level, 0);         /* second half: low */
    unsigned before = f->irq0.rises;
    advance(f, 90);
    assert_int_equal(f->irq0.level, 1);
    assert_int_equal(f->irq0.rises - before, 1);
    advance(f, 2000);
    assert_int_equal(f->irq0.rises - before, 11);
}

static void test_mode0_terminal_count(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x30); /* counter 0, mode 0 */
    assert_int_equal(f->irq0.level, 0);
    write_count(f->m, 0, 500);
    advance(f, 499);
    assert_int_equal(f->irq0.level, 0);
    advance(f, 1);
    assert_int_equal(f->irq0.level, 1);
    advance(f, 100000);
    assert_int_equal(f->irq0.level, 1); /* stays high */
    assert_int_equal(f->irq0.rises, 1);
}

static void test_latch_holds_value(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x34);
    write_count(f->m, 0, 5000);
    advance(f, 1000);
    outb(f->m, 0x43, 0x00);
    advance(f, 1000);
    outb(f->m, 0x43, 0x00); /* a second latch is ignored until read */
    uint8_t lo = inb(f->m, 0x40);
    uint8_t hi = inb(f->m, 0x40);
    assert_int_equal(lo | hi << 8, 4000);
    assert_int_equal(latch_read(f->m, 0), 3000); /* live again */
}

static void test_read_back(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x34);
    outb(f->m, 0x43, 0xe2); /* read-back: status of counter 0 */
    assert_int_equal(inb(f->m, 0x40), 0x80 | 0x40 | 0x34); /* null count */
    write_count(f->m, 0, 300);
    advance(f, 100);
    outb(f->m, 0x43, 0xc2); /* count and status of counter 0 */
    assert_int_equal(inb(f->m, 0x40), 0x80 | 0x34); /* status first */
    advance(f, 50);
    assert_int_equal(inb(f->m, 0x40), 200 & 0xff);
    assert_int_equal(inb(f->m, 0x40), 200 >> 8);
    /* counters 1 and 2 in one command */
    outb(f->m, 0x43, 0x74); /* counter 1 mode 2 */
    write_count(f->m, 1, 1000);
    outb(f->m, 0x43, 0xb0); /* counter 2 mode 0 */
    outb(f->m, 0x43, 0xec); /* status of counters 1 and 2 */
    assert_int_equal(inb(f->m, 0x41), 0x80 | 0x34);
    assert_int_equal(inb(f->m, 0x42), 0x40 | 0x30); /* OUT low, null */
}

static void test_bcd(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x35); /* mode 2, BCD */
    write_count(f->m, 0, 0x1000);
    advance(f, 1);
    assert_int_equal(latch_read(f->m, 0), 0x0999);
    advance(f, 99);
    assert_int_equal(latch_read(f->m, 0), 0x0900);
    unsigned before = f->irq0.rises;
    advance(f, 900);
    assert_int_equal(f->irq0.rises - before, 1);
}

static void test_lsb_only_and_msb_only(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x14); /* counter 0, LSB only, mode 2 */
    outb(f->m, 0x40, 0x80);
    advance(f, 0x10);
    assert_int_equal(inb(f->m, 0x40), 0x70);
    outb(f->m, 0x43, 0x24); /* MSB only */
    outb(f->m, 0x40, 0x02);
    advance(f, 0x10);
    assert_int_equal(inb(f->m, 0x40), 0x01); /* 0x200 - 0x10 = 0x1f0 */
}

static void test_port61_gate_and_out(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x61, 0x00);                /* gate low */
    outb(f->m, 0x43, 0xb0);                /* counter 2, mode 0 */
    write_count(f->m, 2, 1000);
    advance(f, 5000);
    assert_int_equal(inb(f->m, 0x61) & 0x20, 0); /* gate low: no counting */
    assert_int_equal(latch_read(f->m, 2), 1000);
    outb(f->m, 0x61, 0x01);                /* gate high, speaker off */
    assert_int_equal(inb(f->m, 0x61) & 0x03, 0x01);
    advance(f, 600);
    assert_int_equal(inb(f->m, 0x61) & 0x20, 0);
    outb(f->m, 0x61, 0x00);                /* pause at 400 left */
    advance(f, 5000);
    assert_int_equal(latch_read(f->m, 2), 400);
    outb(f->m, 0x61, 0x01);
    advance(f, 399);
    assert_int_equal(inb(f->m, 0x61) & 0x20, 0);
    advance(f, 1);
    assert_int_equal(inb(f->m, 0x61) & 0x20, 0x20); /* terminal count */
}

static void test_port61_mode2_gate_reload(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x61, 0x01);
    outb(f->m, 0x43, 0xb4); /* counter 2, mode 2 */
    write_count(f->m, 2, 100);
    advance(f, 30);
    assert_int_equal(latch_read(f->m, 2), 70);
    outb(f->m, 0x61, 0x00);
    outb(f->m, 0x61, 0x01); /* rising gate reloads */
    assert_int_equal(latch_read(f->m, 2), 100);
    advance(f, 99);
    assert_int_equal(inb(f->m, 0x61) & 0x20, 0); /* the one low clock */
    advance(f, 1);
    assert_int_equal(inb(f->m, 0x61) & 0x20, 0x20);
}

static void test_refresh_toggle(void **state)
{
    Fixture *f = *state;
    uint8_t a = inb(f->m, 0x61) & 0x10;
    fake_clock_advance(f->m->timers, 15085);
    uint8_t b = inb(f->m, 0x61) & 0x10;
    assert_int_not_equal(a, b);
}

/* A snapshot loaded into a fresh machine keeps counting and interrupting. */
static void test_snapshot_round_trip(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x43, 0x34);
    write_count(f->m, 0, 1000);
    advance(f, 100);
    Device *dev = f->m->devices[0];
    GByteArray *buf = g_byte_array_new();
    vmstate_save(dev->cls->vmsd, dev, buf);

    Fixture g = { 0 };
    g.m = test_machine_new();
    fake_clock_advance(g.m->timers, clocks(100));
    irq_probe_init(&g.irq0);
    g.pit = i8254_init(g.m, &g.irq0.line, NULL);
    size_t used;
    GError *err = NULL;
    Device *gdev = g.m->devices[0];
    assert_true(vmstate_load(gdev->cls->vmsd, gdev, buf->data, buf->len,
                             &used, &err));
    assert_int_equal(latch_read(g.m, 0), 900);
    unsigned before = g.irq0.rises;
    advance(&g, 900);
    assert_int_equal(g.irq0.rises - before, 1);
    test_machine_free(g.m);
    g_byte_array_free(buf, TRUE);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mode2_count_and_irq),
        T(test_mode3_square_wave),
        T(test_mode0_terminal_count),
        T(test_latch_holds_value),
        T(test_read_back),
        T(test_bcd),
        T(test_lsb_only_and_msb_only),
        T(test_port61_gate_and_out),
        T(test_port61_mode2_gate_reload),
        T(test_refresh_toggle),
        T(test_snapshot_round_trip),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
