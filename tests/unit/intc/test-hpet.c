/*
 * HPET registers (IA-PC HPET 1.0a): capabilities, the main counter (halt,
 * run, write), one-shot and periodic comparators, 32-bit mode with its wrap
 * interrupt, level-triggered status, legacy replacement routing, route
 * capabilities, reset, and a hostile one-tick period.  Time moves only
 * through the fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/timer/hpet.h"
#include "intc-test-util.h"

#define CAP 0x000
#define CONFIG 0x010
#define ISR 0x020
#define COUNTER 0x0f0
#define TCFG(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))

#define ENABLE 0x1
#define LEGACY 0x2
#define T_LEVEL (1u << 1)
#define T_ENB (1u << 2)
#define T_PERIODIC (1u << 3)
#define T_VAL_SET (1u << 6)
#define T_32BIT (1u << 8)
#define T_ROUTE(n) ((uint32_t)(n) << 9)

typedef struct Fixture {
    Machine *m;
    HpetState *hpet;
    IrqProbe irq0, irq8, gsi20, gsi21;
    unsigned legacy_calls;
    bool legacy_on;
} Fixture;

static void legacy_changed(void *opaque, bool on)
{
    Fixture *f = opaque;
    f->legacy_calls++;
    f->legacy_on = on;
}

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->m = test_machine_new();
    irq_probe_init(&f->irq0);
    irq_probe_init(&f->irq8);
    irq_probe_init(&f->gsi20);
    irq_probe_init(&f->gsi21);
    f->m->gsi[20] = f->gsi20.line;
    f->m->gsi[21] = f->gsi21.line;
    HpetWiring w = {
        .irq0 = f->irq0.line, .irq8 = f->irq8.line,
        .legacy_changed = legacy_changed, .opaque = f,
    };
    f->hpet = hpet_init(f->m, &w, NULL);
    assert_non_null(f->hpet);
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

static uint32_t rd(Fixture *f, uint32_t off)
{
    return mmio_read32(f->m, HPET_BASE + off);
}

static void wr(Fixture *f, uint32_t off, uint32_t v)
{
    mmio_write32(f->m, HPET_BASE + off, v);
}

static uint64_t rd64(Fixture *f, uint32_t off)
{
    return address_space_read_val(&f->m->mem, HPET_BASE + off, 8);
}

static void wr64(Fixture *f, uint32_t off, uint64_t v)
{
    address_space_write_val(&f->m->mem, HPET_BASE + off, v, 8);
}

/* Move the clock by n counter ticks (10 ns each). */
static void ticks(Fixture *f, uint64_t n)
{
    fake_clock_advance(f->m->timers, (int64_t)n * 10);
}

static void test_capabilities(void **state)
{
    Fixture *f = *state;
    assert_int_equal(rd(f, CAP), 0x8086a201u); /* rev 1, 3 timers, 64-bit, legacy */
    assert_int_equal(rd(f, CAP + 4), 10000000u); /* 10 ns in femtoseconds */
    assert_int_equal(rd64(f, CAP), 0x009896808086a201ull);
    for (unsigned n = 0; n < 3; n++) {
        uint32_t cfg = rd(f, TCFG(n));
        assert_true(cfg & (1u << 4));  /* periodic capable */
        assert_true(cfg & (1u << 5));  /* 64-bit */
        assert_false(cfg & (1u << 15)); /* no FSB delivery */
        assert_int_equal(rd(f, TCFG(n) + 4), n == 2 ? 0x00f00800u : 0x00f00000u);
    }
    assert_int_equal(rd(f, CONFIG), 0);
    assert_int_equal(rd64(f, TCMP(0)), ~0ull);
}

static void test_main_counter(void **state)
{
    Fixture *f = *state;
    ticks(f, 1000);
    assert_int_equal(rd64(f, COUNTER), 0); /* halted */
    wr(f, CONFIG, ENABLE);
    ticks(f, 1234);
    assert_int_equal(rd64(f, COUNTER), 1234);
    wr(f, CONFIG, 0);
    ticks(f, 5000);
    assert_int_equal(rd64(f, COUNTER), 1234); /* halted again */
    wr64(f, COUNTER, 0xfffffffffffffff0ull);
    assert_int_equal(rd(f, COUNTER + 4), 0xffffffffu);
    wr(f, COUNTER + 4, 0x1); /* one half at a time */
    wr(f, COUNTER, 0x10);
    assert_int_equal(rd64(f, COUNTER), 0x100000010ull);
    wr(f, CONFIG, ENABLE);
    ticks(f, 0x10);
    assert_int_equal(rd64(f, COUNTER), 0x100000020ull);
}

static void test_one_shot(void **state)
{
    Fixture *f = *state;
    wr64(f, TCMP(0), 1000);
    wr(f, TCFG(0), T_ENB | T_ROUTE(20));
    assert_int_equal(rd(f, TCFG(0)) & 0x3e00, T_ROUTE(20));
    wr(f, CONFIG, ENABLE);
    ticks(f, 999);
    assert_int_equal(f->gsi20.rises, 0);
    ticks(f, 1);
    assert_int_equal(f->gsi20.rises, 1);
    assert_int_equal(f->gsi20.level, 0); /* edge: a pulse */
    ticks(f, 100000);
    assert_int_equal(f->gsi20.rises, 1); /* one shot */
    assert_int_equal(rd64(f, TCMP(0)), 1000); /* unchanged */
    assert_int_equal(rd(f, ISR), 0); /* edge mode sets no status */
    /* A new comparator value arms it again. */
    wr64(f, TCMP(0), rd64(f, COUNTER) + 500);
    ticks(f, 500);
    assert_int_equal(f->gsi20.rises, 2);
    /* Disabled interrupts: no pulse. */
    wr(f, TCFG(0), T_ROUTE(20));
    wr64(f, TCMP(0), rd64(f, COUNTER) + 500);
    ticks(f, 1000);
    assert_int_equal(f->gsi20.rises, 2);
}

static void test_periodic(void **state)
{
    Fixture *f = *state;
    /* As Linux does: VAL_SET with the first match, then the period. */
    wr(f, TCFG(0), T_ENB | T_PERIODIC | T_VAL_SET | T_ROUTE(21));
    wr64(f, TCMP(0), 3000);
    assert_false(rd(f, TCFG(0)) & T_VAL_SET); /* cleared by the write */
    wr64(f, TCMP(0), 2000);
    assert_int_equal(rd64(f, TCMP(0)), 3000); /* the period went aside */
    wr(f, CONFIG, ENABLE);
    ticks(f, 2999);
    assert_int_equal(f->gsi21.rises, 0);
    ticks(f, 1);
    assert_int_equal(f->gsi21.rises, 1);
    assert_int_equal(rd64(f, TCMP(0)), 5000); /* next match */
    ticks(f, 2000 * 10);
    assert_int_equal(f->gsi21.rises, 11);
    assert_int_equal(rd64(f, TCMP(0)), 25000);
    /* Halting the counter stops the interrupts; resuming goes on. */
    wr(f, CONFIG, 0);
    ticks(f, 100000);
    assert_int_equal(f->gsi21.rises, 11);
    wr(f, CONFIG, ENABLE);
    ticks(f, 2000);
    assert_int_equal(f->gsi21.rises, 12);
}

static void test_32bit_mode(void **state)
{
    Fixture *f = *state;
    wr(f, TCFG(1), T_32BIT | T_ROUTE(20));
    wr64(f, TCMP(1), 0x1234567800000010ull);
    assert_int_equal(rd64(f, TCMP(1)), 0x10); /* upper half dropped */
    /* One-shot in 32-bit mode: the wrap of the low half interrupts too. */
    wr64(f, COUNTER, 0x2ffffff00ull);
    wr(f, TCFG(1), T_32BIT | T_ENB | T_ROUTE(20));
    wr(f, CONFIG, ENABLE);
    ticks(f, 0xff);
    assert_int_equal(f->gsi20.rises, 0);
    ticks(f, 1);
    assert_int_equal(f->gsi20.rises, 1); /* 0x2ffffffff -> 0x300000000 */
    ticks(f, 0x10);
    assert_int_equal(f->gsi20.rises, 2); /* the match at 0x300000010 */
    ticks(f, 0x1000);
    assert_int_equal(f->gsi20.rises, 2);
    /* Periodic 32-bit: the comparator wraps through 0. */
    wr(f, CONFIG, 0);
    wr64(f, COUNTER, 0xfffff000ull);
    wr(f, TCFG(1), T_32BIT | T_ENB | T_PERIODIC | T_VAL_SET | T_ROUTE(21));
    wr(f, TCMP(1), 0xfffff800u);
    wr(f, TCMP(1), 0x1000);
    wr(f, CONFIG, ENABLE);
    ticks(f, 0x800);
    assert_int_equal(f->gsi21.rises, 1);
    assert_int_equal(rd(f, TCMP(1)), 0x800); /* 0xfffff800 + 0x1000 wrapped */
    ticks(f, 0x1000);
    assert_int_equal(f->gsi21.rises, 2);
}

static void test_level_status(void **state)
{
    Fixture *f = *state;
    wr64(f, TCMP(2), 100);
    wr(f, TCFG(2), T_LEVEL | T_ENB | T_ROUTE(20));
    wr(f, CONFIG, ENABLE);
    ticks(f, 100);
    assert_int_equal(rd(f, ISR), 1u << 2);
    assert_int_equal(f->gsi20.level, 1);
    wr(f, ISR, 1u << 0); /* another timer's bit: nothing */
    assert_int_equal(f->gsi20.level, 1);
    wr(f, ISR, 1u << 2); /* write 1 to clear */
    assert_int_equal(rd(f, ISR), 0);
    assert_int_equal(f->gsi20.level, 0);
    /* Changing the route moves a held line. */
    wr64(f, TCMP(2), rd64(f, COUNTER) + 100);
    ticks(f, 100);
    assert_int_equal(f->gsi20.level, 1);
    wr(f, TCFG(2), T_LEVEL | T_ENB | T_ROUTE(21));
    assert_int_equal(f->gsi20.level, 0);
    assert_int_equal(f->gsi21.level, 1);
    wr(f, TCFG(2), T_LEVEL | T_ROUTE(21)); /* interrupt disabled */
    assert_int_equal(f->gsi21.level, 0);
}

static void test_legacy_replacement(void **state)
{
    Fixture *f = *state;
    wr(f, TCFG(0), T_ENB | T_PERIODIC | T_VAL_SET | T_ROUTE(20));
    wr64(f, TCMP(0), 1000);
    wr64(f, TCMP(0), 1000);
    wr64(f, TCMP(1), 1500);
    wr(f, TCFG(1), T_ENB | T_ROUTE(21));
    wr(f, CONFIG, ENABLE | LEGACY);
    assert_int_equal(f->legacy_calls, 1);
    assert_true(f->legacy_on);
    ticks(f, 5000);
    assert_int_equal(f->irq0.rises, 5);  /* timer 0 -> IRQ0 */
    assert_int_equal(f->irq8.rises, 1);  /* timer 1 -> IRQ8 */
    assert_int_equal(f->gsi20.rises, 0); /* not their own routes */
    assert_int_equal(f->gsi21.rises, 0);
    wr(f, CONFIG, ENABLE);
    assert_int_equal(f->legacy_calls, 2);
    assert_false(f->legacy_on);
    ticks(f, 1000);
    assert_int_equal(f->gsi20.rises, 1);
    assert_int_equal(f->irq0.rises, 5);
}

static void test_route_capability(void **state)
{
    Fixture *f = *state;
    wr(f, TCFG(0), T_ROUTE(22));
    wr(f, TCFG(0), T_ROUTE(5)); /* not in timer 0's capability */
    assert_int_equal(rd(f, TCFG(0)) & 0x3e00, T_ROUTE(22));
    wr(f, TCFG(2), T_ROUTE(11)); /* timer 2 may use IRQ 11 */
    assert_int_equal(rd(f, TCFG(2)) & 0x3e00, T_ROUTE(11));
    wr(f, TCFG(0), 0xffffffffu); /* read-only bits stay */
    assert_int_equal(rd(f, TCFG(0)) & 0xc030, 0x0030);
}

static void test_reset(void **state)
{
    Fixture *f = *state;
    wr64(f, TCMP(2), 10);
    wr(f, TCFG(2), T_LEVEL | T_ENB | T_ROUTE(20));
    wr(f, CONFIG, ENABLE | LEGACY);
    ticks(f, 100);
    assert_int_equal(f->gsi20.level, 1);
    device_reset((Device *)f->hpet);
    assert_int_equal(f->gsi20.level, 0);
    assert_false(f->legacy_on);
    assert_int_equal(rd(f, CONFIG), 0);
    assert_int_equal(rd(f, ISR), 0);
    assert_int_equal(rd64(f, COUNTER), 0);
    assert_int_equal(rd(f, TCFG(2)) & 0xffff, 0x0030);
    ticks(f, 1000);
    assert_int_equal(rd64(f, COUNTER), 0);
}

static void test_tiny_period(void **state)
{
    Fixture *f = *state;
    /* A one-tick period must not flood the machine: events merge. */
    wr(f, TCFG(0), T_ENB | T_PERIODIC | T_VAL_SET | T_ROUTE(20));
    wr64(f, TCMP(0), 1);
    wr64(f, TCMP(0), 1);
    wr(f, CONFIG, ENABLE);
    ticks(f, 100000); /* 1 ms */
    assert_true(f->gsi20.rises >= 50);
    assert_true(f->gsi20.rises <= 101);
    assert_true(fake_clock_fired(f->m->timers) <= 101);
}

static void test_bad_accesses(void **state)
{
    Fixture *f = *state;
    /* Unaligned and unknown registers read 0 and ignore writes. */
    assert_int_equal(address_space_read_val(&f->m->mem, HPET_BASE + 2, 4), 0);
    address_space_write_val(&f->m->mem, HPET_BASE + 0x12, 0xffffffff, 4);
    assert_int_equal(rd(f, CONFIG), 0);
    wr(f, 0x3f8, 0xffffffff);
    assert_int_equal(rd(f, 0x3f8), 0);
    assert_int_equal(rd(f, 0x160), 0); /* a fourth timer does not exist */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_main_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_shot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_32bit_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_capability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiny_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_accesses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
