/*
 * i8042 keyboard controller and PS/2 keyboard, plus the small ISA devices
 * (port 0x80, isa-debug-exit): the command sequences Linux and firmware use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hw-test.h"
#include "hw/input/i8042.h"
#include "hw/misc/misc.h"

#define DATA 0x60
#define STATUS 0x64
#define OBF 0x01

static TestMachine *with_kbc(void)
{
    TestMachine *t = tm_new(1 << 20, false);

    tm_add(t, &i8042_class, NULL);
    return t;
}

/* Read one byte as a driver does: wait for OBF (here: it must be set). */
static int read_byte(TestMachine *t)
{
    if (!(tm_inb(t, STATUS) & OBF)) {
        return -1;
    }
    return tm_inb(t, DATA);
}

static void command(TestMachine *t, uint8_t cmd)
{
    tm_outb(t, STATUS, cmd);
}

static void test_self_tests(void **state)
{
    TestMachine *t = with_kbc();

    assert_int_equal(read_byte(t), -1); /* nothing pending after reset */
    command(t, 0xaa);
    assert_int_equal(read_byte(t), 0x55);
    assert_true(tm_inb(t, STATUS) & 0x04); /* system flag */
    command(t, 0xab);
    assert_int_equal(read_byte(t), 0x00);
    assert_int_equal(read_byte(t), -1);
    tm_free(t);
}

static void test_command_byte(void **state)
{
    TestMachine *t = with_kbc();
    int ctr;

    command(t, 0x20);
    ctr = read_byte(t);
    assert_true(ctr >= 0);
    assert_true(ctr & 0x01); /* keyboard interrupt on */
    command(t, 0x60);
    tm_outb(t, DATA, 0x74);
    assert_false(tm_inb(t, STATUS) & 0x08); /* last write: data */
    command(t, 0x20);
    assert_true(tm_inb(t, STATUS) & 0x08);
    assert_int_equal(read_byte(t), 0x74);
    /* 0xa7/0xa8 toggle the aux disable bit, 0xad/0xae the keyboard's. */
    command(t, 0xa8);
    command(t, 0xae);
    command(t, 0x20);
    assert_int_equal(read_byte(t), 0x44);
    tm_free(t);
}

static void test_keyboard_reset_and_interrupt(void **state)
{
    TestMachine *t = with_kbc();

    tm_outb(t, DATA, 0xff);             /* keyboard reset */
    assert_int_equal(t->gsi_level[1], 1);
    assert_int_equal(read_byte(t), 0xfa);
    /* The line drops on the read and rises again for the next byte. */
    assert_int_equal(t->gsi_level[1], 1);
    assert_int_equal(t->gsi_edges[1], 2);
    assert_int_equal(read_byte(t), 0xaa);
    assert_int_equal(t->gsi_level[1], 0);
    assert_int_equal(read_byte(t), -1);
    tm_free(t);
}

static void test_keyboard_commands(void **state)
{
    TestMachine *t = with_kbc();

    tm_outb(t, DATA, 0xed);             /* set LEDs */
    assert_int_equal(read_byte(t), 0xfa);
    tm_outb(t, DATA, 0x07);
    assert_int_equal(read_byte(t), 0xfa);
    tm_outb(t, DATA, 0xf2);             /* identify (translated: 0x83 -> 0x41) */
    assert_int_equal(read_byte(t), 0xfa);
    assert_int_equal(read_byte(t), 0xab);
    assert_int_equal(read_byte(t), 0x41);
    command(t, 0x60);                   /* translation off */
    tm_outb(t, DATA, 0x05);
    tm_outb(t, DATA, 0xf2);
    assert_int_equal(read_byte(t), 0xfa);
    assert_int_equal(read_byte(t), 0xab);
    assert_int_equal(read_byte(t), 0x83);
    tm_outb(t, DATA, 0xf0);             /* scancode set: query */
    assert_int_equal(read_byte(t), 0xfa);
    tm_outb(t, DATA, 0x00);
    assert_int_equal(read_byte(t), 0xfa);
    assert_int_equal(read_byte(t), 0x02);
    tm_outb(t, DATA, 0xee);             /* echo */
    assert_int_equal(read_byte(t), 0xee);
    tm_outb(t, DATA, 0x42);             /* not a command */
    assert_int_equal(read_byte(t), 0xfe);
    tm_free(t);
}

static void key(TestMachine *t, uint16_t code, bool down)
{
    assert_non_null(t->m.kbd_event);
    t->m.kbd_event(t->m.kbd_opaque, code, down);
}

/* Read every byte waiting; returns how many (at most max). */
static unsigned drain(TestMachine *t, uint8_t *buf, unsigned max)
{
    unsigned n = 0;
    int b;

    while (n < max && (b = read_byte(t)) >= 0) {
        buf[n++] = (uint8_t)b;
    }
    return n;
}

#define EXPECT_BYTES(t, ...)                                             \
    do {                                                                 \
        static const uint8_t want_[] = { __VA_ARGS__ };                  \
        uint8_t got_[32];                                                \
        unsigned n_ = drain(t, got_, sizeof(got_));                      \
        assert_int_equal(n_, sizeof(want_));                             \
        assert_memory_equal(got_, want_, sizeof(want_));                 \
    } while (0)

static void test_key_events(void **state)
{
    TestMachine *t = with_kbc();

    /* Translation on (the power-on command byte): the host sees set 1. */
    key(t, 0x1e, true);                 /* A */
    key(t, 0x1e, false);
    EXPECT_BYTES(t, 0x1e, 0x9e);
    key(t, 0x1d, true);                 /* Ctrl-Alt-Delete */
    key(t, 0x38, true);
    key(t, 0xe053, true);
    key(t, 0xe053, false);
    key(t, 0x38, false);
    key(t, 0x1d, false);
    EXPECT_BYTES(t, 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d);
    key(t, 0x41, true);                 /* F7: set 2 0x83 */
    key(t, 0x41, false);
    EXPECT_BYTES(t, 0x41, 0xc1);
    assert_true(t->gsi_edges[1] > 0);

    /* Translation off: the keyboard's own set 2. */
    command(t, 0x60);
    tm_outb(t, DATA, 0x05);
    key(t, 0x1e, true);
    key(t, 0x1e, false);
    key(t, 0xe048, true);               /* Up */
    key(t, 0xe048, false);
    EXPECT_BYTES(t, 0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75);

    /* The keyboard switched to set 1, translation still off. */
    tm_outb(t, DATA, 0xf0);
    tm_outb(t, DATA, 0x01);
    EXPECT_BYTES(t, 0xfa, 0xfa);
    key(t, 0x10, true);                 /* Q */
    key(t, 0x10, false);
    EXPECT_BYTES(t, 0x10, 0x90);

    /* Scanning disabled: keys are dropped; unknown keys never queue. */
    tm_outb(t, DATA, 0xf5);
    EXPECT_BYTES(t, 0xfa);
    key(t, 0x1e, true);
    EXPECT_BYTES(t);
    tm_outb(t, DATA, 0xf4);
    EXPECT_BYTES(t, 0xfa);
    tm_outb(t, DATA, 0xf0);
    tm_outb(t, DATA, 0x02);
    EXPECT_BYTES(t, 0xfa, 0xfa);
    key(t, 0x55, true);                 /* no key has set 1 code 0x55 */
    key(t, 0x1ff, true);                /* not a key code */
    EXPECT_BYTES(t);
    tm_free(t);
}

/* A guest that does not read: whole key sequences fit or are dropped,
 * never split. */
static void test_key_queue_full(void **state)
{
    TestMachine *t = with_kbc();
    uint8_t buf[64];
    unsigned n;

    command(t, 0x60);
    tm_outb(t, DATA, 0x05);             /* translation off: set 2 bytes */
    for (unsigned i = 0; i < 20; i++) {
        key(t, 0xe053, false);          /* 3 bytes each: e0 f0 71 */
    }
    n = drain(t, buf, sizeof(buf));
    assert_int_equal(n % 3, 0);
    assert_true(n >= 15 && n <= 18);
    for (unsigned i = 0; i < n; i += 3) {
        assert_int_equal(buf[i], 0xe0);
        assert_int_equal(buf[i + 1], 0xf0);
        assert_int_equal(buf[i + 2], 0x71);
    }
    tm_free(t);
}

static void test_reset_lines(void **state)
{
    TestMachine *t = with_kbc();

    command(t, 0xd1);                   /* output port: A20 on, no reset */
    tm_outb(t, DATA, 0xdf);
    assert_int_equal(machine_take_requests(&t->m), 0);
    command(t, 0xd0);
    assert_int_equal(read_byte(t) & 0x03, 0x03);
    command(t, 0xff);                   /* null command: pulses nothing */
    assert_int_equal(machine_take_requests(&t->m), 0);
    command(t, 0xfe);                   /* pulse the reset line */
    assert_int_equal(machine_take_requests(&t->m), MACHINE_REQ_RESET);
    command(t, 0xd1);
    tm_outb(t, DATA, 0xde);             /* bit 0 low: reset */
    assert_int_equal(machine_take_requests(&t->m), MACHINE_REQ_RESET);
    tm_free(t);
}

static void test_aux_port_without_device(void **state)
{
    TestMachine *t = with_kbc();

    command(t, 0x60);
    tm_outb(t, DATA, 0x47);             /* aux interrupts on */
    command(t, 0xd4);
    tm_outb(t, DATA, 0xf2);             /* to the (absent) mouse */
    assert_true(tm_inb(t, STATUS) & 0x40); /* timeout */
    assert_true(tm_inb(t, STATUS) & 0x20); /* aux data */
    assert_int_equal(t->gsi_level[12], 1);
    assert_int_equal(read_byte(t), 0xfe);
    assert_int_equal(t->gsi_level[12], 0);
    tm_free(t);
}

static void test_port80(void **state)
{
    TestMachine *t = tm_new(1 << 20, false);

    tm_add(t, &port80_class, NULL);
    tm_outb(t, 0x80, 0x55);
    assert_int_equal(tm_inb(t, 0x80), 0x00);
    tm_free(t);
}

static void test_debug_exit(void **state)
{
    TestMachine *t = tm_new(1 << 20, false);
    GError *err = NULL;
    Device *d;

    tm_add(t, &debugexit_class, "iobase=0xf4,iosize=0x04");
    tm_outb(t, 0xf4, 0x10);
    assert_int_equal(machine_take_requests(&t->m), MACHINE_REQ_EXIT);
    assert_int_equal(t->m.exit_status, (0x10 << 1) | 1);
    tm_outl(t, 0xf4, 0);
    assert_int_equal(t->m.exit_status, 1);
    tm_add(t, &debugexit_class, NULL); /* default 0x501 */
    tm_outb(t, 0x501, 3);
    assert_int_equal(t->m.exit_status, 7);

    d = device_new(&debugexit_class, &t->m, NULL);
    assert_true(device_set_props(d, "iosize=3", NULL));
    assert_false(device_realize(d, &err));
    g_clear_error(&err);
    device_free(d);
    tm_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_tests),
        cmocka_unit_test(test_command_byte),
        cmocka_unit_test(test_keyboard_reset_and_interrupt),
        cmocka_unit_test(test_keyboard_commands),
        cmocka_unit_test(test_key_events),
        cmocka_unit_test(test_key_queue_full),
        cmocka_unit_test(test_reset_lines),
        cmocka_unit_test(test_aux_port_without_device),
        cmocka_unit_test(test_port80),
        cmocka_unit_test(test_debug_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
