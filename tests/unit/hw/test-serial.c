/*
 * 16550A UART: registers as a guest driver sees them, interrupts on the GSI
 * line, and the chardev path (output to a file, input from a socket).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "hw-test.h"
#include "hw/char/serial.h"

#define COM1 0x3f8
#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static TestMachine *com1_machine(void)
{
    TestMachine *t = tm_new(1 << 20, false);

    tm_add(t, &serial_isa_class, "index=0");
    return t;
}

static uint8_t rd(TestMachine *t, unsigned reg)
{
    return tm_inb(t, (uint16_t)(COM1 + reg));
}

static void wr(TestMachine *t, unsigned reg, uint8_t v)
{
    tm_outb(t, (uint16_t)(COM1 + reg), v);
}

static void test_reset_state(void **state)
{
    TestMachine *t = com1_machine();

    assert_int_equal(rd(t, IIR), 0x01); /* no interrupt, FIFOs off */
    assert_int_equal(rd(t, LSR), 0x60); /* THRE | TEMT */
    assert_int_equal(rd(t, IER), 0x00);
    assert_int_equal(rd(t, LCR), 0x00);
    assert_int_equal(t->gsi_level[4], 0);
    tm_free(t);
}

static void test_scratch(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, SCR, 0xa5);
    assert_int_equal(rd(t, SCR), 0xa5);
    wr(t, SCR, 0x5a);
    assert_int_equal(rd(t, SCR), 0x5a);
    tm_free(t);
}

static void test_divisor_latch(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, IER, 0x05);
    wr(t, LCR, 0x83); /* DLAB, 8N1 */
    wr(t, DLL, 0x01);
    wr(t, DLM, 0x02);
    assert_int_equal(rd(t, DLL), 0x01);
    assert_int_equal(rd(t, DLM), 0x02);
    wr(t, LCR, 0x03);
    assert_int_equal(rd(t, LCR), 0x03);
    /* Behind the latch, IER kept its value. */
    assert_int_equal(rd(t, IER), 0x05);
    wr(t, LCR, 0x83);
    assert_int_equal(rd(t, DLL), 0x01);
    assert_int_equal(rd(t, DLM), 0x02);
    tm_free(t);
}

static void test_thre_interrupt(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, IER, 0x02); /* THRE interrupt: THR is empty, so it fires at once */
    assert_int_equal(rd(t, IIR) & 0x0f, 0x02);
    /* Reading IIR with THRE identified clears it, and the line drops. */
    assert_int_equal(t->gsi_level[4], 0);
    assert_int_equal(rd(t, IIR), 0x01);

    wr(t, IER, 0x00);
    wr(t, IER, 0x02);
    assert_int_equal(t->gsi_level[4], 1);
    /* Writing THR (transmits at once) re-arms THRE. */
    wr(t, MCR, 0x10); /* loopback, so the byte goes nowhere else */
    wr(t, THR, 'x');
    assert_int_equal(t->gsi_level[4], 1);
    wr(t, IER, 0x00);
    assert_int_equal(t->gsi_level[4], 0);
    tm_free(t);
}

static void test_loopback_and_msr(void **state)
{
    TestMachine *t = com1_machine();

    /* Linux's 8250 loopback check: RTS and OUT2 appear as CTS and DCD. */
    wr(t, MCR, 0x10 | 0x0a);
    assert_int_equal(rd(t, MSR) & 0xf0, 0x90);
    wr(t, MCR, 0x10 | 0x05); /* DTR, OUT1 */
    assert_int_equal(rd(t, MSR) & 0xf0, 0x60);
    wr(t, MCR, 0x1f);
    assert_int_equal(rd(t, MSR) & 0xf0, 0xf0);

    wr(t, THR, 'K');
    assert_true(rd(t, LSR) & 0x01);
    assert_int_equal(rd(t, RBR), 'K');
    assert_false(rd(t, LSR) & 0x01);
    assert_true((rd(t, LSR) & 0x60) == 0x60);
    tm_free(t);
}

static void test_msr_deltas(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, MCR, 0x10); /* loopback: CTS/DSR/DCD drop */
    assert_int_equal(rd(t, MSR) & 0x0f, 0x0b); /* DCTS DDSR DDCD */
    assert_int_equal(rd(t, MSR) & 0x0f, 0x00); /* cleared by the read */
    wr(t, IER, 0x08);
    wr(t, MCR, 0x12); /* RTS -> CTS changes */
    assert_int_equal(rd(t, IIR) & 0x0f, 0x00); /* modem status interrupt */
    assert_int_equal(t->gsi_level[4], 1);
    rd(t, MSR);
    assert_int_equal(rd(t, IIR), 0x01);
    assert_int_equal(t->gsi_level[4], 0);
    tm_free(t);
}

static void test_fifo_and_iir_bits(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, FCR, 0x07);
    assert_int_equal(rd(t, IIR) & 0xc0, 0xc0); /* 16550A: FIFOs enabled */
    wr(t, MCR, 0x10);
    for (int i = 0; i < 16; i++) {
        wr(t, THR, (uint8_t)('a' + i));
    }
    assert_false(rd(t, LSR) & 0x02); /* 16 bytes fit */
    for (int i = 0; i < 16; i++) {
        assert_int_equal(rd(t, RBR), 'a' + i);
    }
    assert_false(rd(t, LSR) & 0x01);

    /* Clear the receive FIFO. */
    wr(t, THR, '1');
    wr(t, THR, '2');
    wr(t, FCR, 0x03);
    assert_false(rd(t, LSR) & 0x01);

    /* FIFOs off: IIR top bits clear, and the holding register keeps one. */
    wr(t, FCR, 0x00);
    assert_int_equal(rd(t, IIR) & 0xc0, 0x00);
    wr(t, THR, 'A');
    wr(t, THR, 'B');
    assert_true(rd(t, LSR) & 0x02); /* overrun */
    assert_int_equal(rd(t, RBR), 'A');
    tm_free(t);
}

static void test_rx_trigger_and_timeout(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, FCR, 0x41); /* FIFO on, trigger level 4 */
    wr(t, IER, 0x01);
    wr(t, MCR, 0x10);
    wr(t, THR, '1');
    assert_int_equal(rd(t, IIR), 0xcc); /* below trigger: character timeout */
    assert_int_equal(t->gsi_level[4], 1);
    wr(t, THR, '2');
    wr(t, THR, '3');
    wr(t, THR, '4');
    assert_int_equal(rd(t, IIR), 0xc4); /* trigger level reached */
    for (int i = 0; i < 4; i++) {
        rd(t, RBR);
    }
    assert_int_equal(rd(t, IIR), 0xc1);
    assert_int_equal(t->gsi_level[4], 0);
    tm_free(t);
}

static void test_interrupt_priority(void **state)
{
    TestMachine *t = com1_machine();

    wr(t, FCR, 0x01); /* trigger level 1 */
    wr(t, IER, 0x07); /* RDI, THRI, RLSI */
    wr(t, MCR, 0x10);
    for (int i = 0; i < 17; i++) { /* one more than the FIFO holds */
        wr(t, THR, (uint8_t)i);
    }
    assert_int_equal(rd(t, IIR), 0xc6); /* line status (overrun) first */
    assert_true(rd(t, LSR) & 0x02);     /* reading LSR clears OE... */
    assert_int_equal(rd(t, IIR), 0xc4); /* ...then received data */
    for (int i = 0; i < 16; i++) {
        rd(t, RBR);
    }
    assert_int_equal(rd(t, IIR), 0xc2); /* then THRE */
    assert_int_equal(rd(t, IIR), 0xc1);
    tm_free(t);
}

static void test_props(void **state)
{
    TestMachine *t = tm_new(1 << 20, false);
    GError *err = NULL;
    Device *d;

    tm_add(t, &serial_isa_class, NULL);           /* first free: COM1 */
    tm_add(t, &serial_isa_class, NULL);           /* then COM2 */
    tm_outb(t, 0x2f8 + SCR, 0x42);
    assert_int_equal(tm_inb(t, 0x2f8 + SCR), 0x42);
    assert_int_equal(tm_inb(t, 0x3f8 + SCR), 0x00);
    tm_outb(t, 0x2f8 + IER, 0x02);
    assert_int_equal(t->gsi_level[3], 1);

    d = device_new(&serial_isa_class, &t->m, NULL);
    assert_true(device_set_props(d, "index=0", NULL));
    assert_false(device_realize(d, &err)); /* 0x3f8 is taken */
    assert_non_null(strstr(err->message, "in use"));
    g_clear_error(&err);
    device_free(d);

    d = device_new(&serial_isa_class, &t->m, NULL);
    assert_true(device_set_props(d, "index=7", NULL));
    assert_false(device_realize(d, &err));
    g_clear_error(&err);
    device_free(d);

    d = device_new(&serial_isa_class, &t->m, NULL);
    assert_true(device_set_props(d, "index=2,chardev=nosuch", NULL));
    assert_false(device_realize(d, &err));
    assert_non_null(strstr(err->message, "nosuch"));
    g_clear_error(&err);
    device_free(d);
    tm_free(t);
}

/* ---- through real chardevs ---- */

static void test_output_to_file(void **state)
{
    TestMachine *t = tm_new(1 << 20, true);
    char *dir = g_dir_make_tmp("kestrel-serial-XXXXXX", NULL);
    char *path = g_build_filename(dir, "out", NULL);
    char *spec = g_strdup_printf("file:%s", path);
    ChardevHost host = { .ctx = t->ctx, .lock = &t->m.lock };
    GError *err = NULL;
    gchar *contents = NULL;
    gsize len = 0;

    Chardev *chr = chardev_new("serial0", spec, &host, &err);

    assert_non_null(chr);
    t->m.serial[0] = chr;
    tm_add(t, &serial_isa_class, "index=0");
    for (const char *p = "hello, kestrel\n"; *p; p++) {
        assert_true(rd(t, LSR) & 0x20); /* THR is free again at once */
        wr(t, THR, (uint8_t)*p);
    }
    wr(t, MCR, 0x10); /* loopback output must not reach the file */
    wr(t, THR, '!');
    tm_free_devices(t);
    chardev_free(chr);
    t->m.serial[0] = NULL;
    tm_free(t);
    assert_true(g_file_get_contents(path, &contents, &len, NULL));
    assert_string_equal(contents, "hello, kestrel\n");
    g_free(contents);
    unlink(path);
    rmdir(dir);
    g_free(spec);
    g_free(path);
    g_free(dir);
}

typedef struct RxWait {
    TestMachine *t;
    GString *got;
    size_t want;
} RxWait;

static bool drain_rx(void *arg)
{
    RxWait *w = arg;

    g_mutex_lock(&w->t->m.lock);
    while (rd(w->t, LSR) & 0x01) {
        g_string_append_c(w->got, (char)rd(w->t, RBR));
    }
    g_mutex_unlock(&w->t->m.lock);
    return w->got->len >= w->want;
}

static void test_input_from_socket(void **state)
{
    TestMachine *t = tm_new(1 << 20, true);
    char *dir = g_dir_make_tmp("kestrel-serial-XXXXXX", NULL);
    char *path = g_build_filename(dir, "sock", NULL);
    char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
    ChardevHost host = { .ctx = t->ctx, .lock = &t->m.lock };
    GError *err = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *msg = "0123456789abcdefghijklmnopqrstuvwxyz"; /* > 16 bytes */
    RxWait w = { t, g_string_new(NULL), strlen(msg) };
    Chardev *chr;
    int fd;

    chr = chardev_new("serial0", spec, &host, &err);
    if (!chr) {
        fail_msg("chardev: %s", err->message);
    }
    t->m.serial[0] = chr;
    tm_add(t, &serial_isa_class, "index=0");
    wr(t, FCR, 0x07);
    wr(t, IER, 0x01);

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));

    /* The FIFO takes 16 at a time; reading makes room for the rest. */
    assert_true(tm_run_until(t, drain_rx, &w));
    assert_string_equal(w.got->str, msg);
    assert_true(t->gsi_edges[4] >= 1);

    close(fd);
    g_string_free(w.got, TRUE);
    tm_free_devices(t);
    chardev_free(chr);
    t->m.serial[0] = NULL;
    tm_free(t);
    unlink(path);
    rmdir(dir);
    g_free(spec);
    g_free(path);
    g_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_scratch),
        cmocka_unit_test(test_divisor_latch),
        cmocka_unit_test(test_thre_interrupt),
        cmocka_unit_test(test_loopback_and_msr),
        cmocka_unit_test(test_msr_deltas),
        cmocka_unit_test(test_fifo_and_iir_bits),
        cmocka_unit_test(test_rx_trigger_and_timeout),
        cmocka_unit_test(test_interrupt_priority),
        cmocka_unit_test(test_props),
        cmocka_unit_test(test_output_to_file),
        cmocka_unit_test(test_input_from_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
