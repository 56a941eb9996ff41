/*
 * Chardev tests: spec parsing errors, the file backend, Unix sockets (server
 * and client, both directions, flow control, peer loss), the pty, and the
 * Ctrl-A escapes of the mux.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chr-test-util.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct Env {
    GMainContext *ctx;
    GMutex lock;
    ChardevHost host;
    unsigned quits;
    char *dir;
} Env;

static void env_quit(void *opaque)
{
    Env *e = opaque;
    e->quits++;
}

static int env_setup(void **state)
{
    Env *e = g_new0(Env, 1);

    e->ctx = g_main_context_new();
    g_mutex_init(&e->lock);
    e->host.ctx = e->ctx;
    e->host.lock = &e->lock;
    e->host.quit = env_quit;
    e->host.opaque = e;
    e->dir = chr_test_tmpdir();
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    Env *e = *state;

    /* Let destroyed sources go before the context does. */
    while (g_main_context_iteration(e->ctx, FALSE)) {
    }
    g_main_context_unref(e->ctx);
    g_mutex_clear(&e->lock);
    chr_test_tmp_free(e->dir);
    g_free(e);
    return 0;
}

static void expect_error(Env *e, const char *spec, const char *what)
{
    GError *err = NULL;
    Chardev *c = chardev_new("serial0", spec, &e->host, &err);

    assert_null(c);
    assert_non_null(err);
    if (!strstr(err->message, what)) {
        fail_msg("'%s': error '%s' does not mention '%s'", spec, err->message,
                 what);
    }
    g_error_free(err);
}

static void test_spec_errors(void **state)
{
    Env *e = *state;
    g_autofree char *nosock = g_build_filename(e->dir, "none", NULL);
    g_autofree char *spec = g_strdup_printf("unix:%s", nosock);
    GError *err = NULL;

    expect_error(e, "bogus", "unknown character device");
    expect_error(e, "tcp:localhost", "HOST:PORT");
    expect_error(e, "tcp:localhost:http-ish", "port");
    expect_error(e, "file:", "needs an argument");
    expect_error(e, "unix:/tmp/x,server=maybe", "on or off");
    expect_error(e, "null,path=/x", "takes no path");
    expect_error(e, "stdio,colour=on", "invalid parameter 'colour'");
    expect_error(e, spec, "could not connect");
    assert_null(chardev_new_opts("socket,port=4000,server=on", &e->host, &err));
    assert_non_null(strstr(err->message, "id="));
    g_clear_error(&err);
    assert_null(chardev_new_opts("file,id=f", &e->host, &err));
    assert_non_null(strstr(err->message, "path"));
    g_clear_error(&err);
}

static void test_null(void **state)
{
    Env *e = *state;
    GError *err = NULL;
    Chardev *c = chardev_new("serial0", "null", &e->host, &err);
    FakeFe f;

    assert_non_null(c);
    fake_fe_init(&f);
    assert_true(chardev_attach(c, &f.fe, &err));
    /* A plain chardev has one user. */
    assert_false(chardev_attach(c, &f.fe, &err));
    assert_non_null(strstr(err->message, "already in use"));
    g_clear_error(&err);
    assert_int_equal(chardev_write(c, "abc", 3), 3);
    assert_false(chardev_is_mux(c));
    chardev_free(c);
    fake_fe_clear(&f);
}

static char *slurp(const char *path)
{
    char *text = NULL;

    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void test_file(void **state)
{
    Env *e = *state;
    g_autofree char *path = g_build_filename(e->dir, "out.txt", NULL);
    g_autofree char *spec = g_strdup_printf("file:%s", path);
    g_autofree char *opts = g_strdup_printf("file,id=log,path=%s,append=on",
                                            path);
    g_autofree char *t1 = NULL;
    g_autofree char *t2 = NULL;
    g_autofree char *t3 = NULL;
    GError *err = NULL;
    Chardev *c;

    c = chardev_new("serial0", spec, &e->host, &err);
    assert_non_null(c);
    assert_int_equal(chardev_write(c, "hello\n", 6), 6);
    chardev_free(c);
    t1 = slurp(path);
    assert_string_equal(t1, "hello\n");

    /* append=on keeps what is there. */
    c = chardev_new_opts(opts, &e->host, &err);
    assert_non_null(c);
    assert_string_equal(chardev_id(c), "log");
    chardev_write(c, "world\n", 6);
    chardev_free(c);
    t2 = slurp(path);
    assert_string_equal(t2, "hello\nworld\n");

    /* The -serial spelling truncates, as QEMU does. */
    c = chardev_new("serial0", spec, &e->host, &err);
    chardev_write(c, "new\n", 4);
    chardev_free(c);
    t3 = slurp(path);
    assert_string_equal(t3, "new\n");
}

typedef struct RxWait {
    FakeFe *f;
    const char *text;
    ChardevEvent ev;
    unsigned count;
} RxWait;

static bool has_text(void *arg)
{
    RxWait *w = arg;
    return fake_fe_has(w->f, w->text);
}

static bool has_event(void *arg)
{
    RxWait *w = arg;
    return w->f->events[w->ev] >= w->count;
}

static void wait_text(Env *e, FakeFe *f, const char *text)
{
    RxWait w = { .f = f, .text = text };
    if (!run_until(e->ctx, has_text, &w)) {
        fail_msg("frontend never received '%s'", text);
    }
}

static void wait_event(Env *e, FakeFe *f, ChardevEvent ev, unsigned count)
{
    RxWait w = { .f = f, .ev = ev, .count = count };
    if (!run_until(e->ctx, has_event, &w)) {
        fail_msg("event %d never reached %u", ev, count);
    }
}

static void test_socket_server(void **state)
{
    Env *e = *state;
    g_autofree char *path = g_build_filename(e->dir, "s.sock", NULL);
    g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off",
                                            path);
    GString *acc = g_string_new(NULL);
    GError *err = NULL;
    Chardev *c;
    FakeFe f;
    int peer;

    c = chardev_new("serial0", spec, &e->host, &err);
    assert_non_null(c);
    assert_non_null(strstr(chardev_describe(c), "server=on"));
    fake_fe_init(&f);
    assert_true(chardev_attach(c, &f.fe, &err));
    /* Without a peer, output is dropped and nothing blocks. */
    assert_int_equal(f.events[CHR_EVENT_OPENED], 0);
    assert_int_equal(chardev_write(c, "lost", 4), 0);

    peer = unix_connect(path);
    assert_true(peer >= 0);
    wait_event(e, &f, CHR_EVENT_OPENED, 1);
    send_str(peer, "ping");
    wait_text(e, &f, "ping");
    assert_int_equal(chardev_write(c, "pong", 4), 4);
    assert_true(read_until(e->ctx, peer, acc, "pong"));
    assert_null(strstr(acc->str, "lost"));

    /* Flow control: nothing is taken while the frontend has no room... */
    f.room = 0;
    send_str(peer, "held");
    for (int i = 0; i < 50; i++) {
        g_main_context_iteration(e->ctx, FALSE);
    }
    assert_false(fake_fe_has(&f, "held"));
    /* ...and all of it arrives once it has. */
    f.room = 4096;
    g_mutex_lock(&e->lock);
    chardev_accept_input(c);
    g_mutex_unlock(&e->lock);
    wait_text(e, &f, "held");

    /* The peer goes away: a CLOSED event, output dropped, no crash. */
    close(peer);
    wait_event(e, &f, CHR_EVENT_CLOSED, 1);
    assert_int_equal(chardev_write(c, "nobody", 6), 0);

    /* The server takes the next peer. */
    peer = unix_connect(path);
    assert_true(peer >= 0);
    wait_event(e, &f, CHR_EVENT_OPENED, 2);
    send_str(peer, "again");
    wait_text(e, &f, "again");
    close(peer);

    chardev_free(c);
    /* The server removes its socket. */
    assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    fake_fe_clear(&f);
    g_string_free(acc, TRUE);
}

static void test_socket_client(void **state)
{
    Env *e = *state;
    g_autofree char *path = g_build_filename(e->dir, "c.sock", NULL);
    g_autofree char *opts = g_strdup_printf("socket,id=ch0,path=%s", path);
    GString *acc = g_string_new(NULL);
    GError *err = NULL;
    Chardev *c;
    FakeFe f;
    int lfd = unix_listen(path), peer;

    assert_true(lfd >= 0);
    c = chardev_new_opts(opts, &e->host, &err);
    assert_non_null(c);
    peer = accept(lfd, NULL, NULL);
    assert_true(peer >= 0);
    fake_fe_init(&f);
    assert_true(chardev_attach(c, &f.fe, &err));
    assert_int_equal(f.events[CHR_EVENT_OPENED], 1);

    chardev_write(c, "to-server", 9);
    assert_true(read_until(e->ctx, peer, acc, "to-server"));
    send_str(peer, "to-client");
    wait_text(e, &f, "to-client");

    close(peer);
    wait_event(e, &f, CHR_EVENT_CLOSED, 1);
    assert_int_equal(chardev_write(c, "x", 1), 0);
    chardev_free(c);
    close(lfd);
    fake_fe_clear(&f);
    g_string_free(acc, TRUE);
}

/* Two chardevs talking over TCP on loopback: a server on a port the kernel
 * picks (port 0) and a client given that port. */
static void test_tcp_pair(void **state)
{
    Env *e = *state;
    GError *err = NULL;
    Chardev *srv, *cli;
    FakeFe fs, fc;
    const char *desc;
    g_autofree char *spec = NULL;

    srv = chardev_new("serial0", "tcp:127.0.0.1:0,server=on,wait=off",
                      &e->host, &err);
    assert_non_null(srv);
    desc = chardev_describe(srv);
    assert_true(g_str_has_prefix(desc, "tcp:127.0.0.1:"));
    assert_null(strstr(desc, ":0,"));
    /* "tcp:127.0.0.1:PORT,server=on" -> "tcp:127.0.0.1:PORT" */
    spec = g_strndup(desc, strchr(desc, ',') - desc);
    cli = chardev_new("serial1", spec, &e->host, &err);
    assert_non_null(cli);
    fake_fe_init(&fs);
    fake_fe_init(&fc);
    assert_true(chardev_attach(srv, &fs.fe, &err));
    assert_true(chardev_attach(cli, &fc.fe, &err));
    wait_event(e, &fs, CHR_EVENT_OPENED, 1);
    assert_int_equal(chardev_write(cli, "c2s", 3), 3);
    assert_int_equal(chardev_write(srv, "s2c", 3), 3);
    wait_text(e, &fs, "c2s");
    wait_text(e, &fc, "s2c");
    chardev_free(cli);
    wait_event(e, &fs, CHR_EVENT_CLOSED, 1);
    chardev_free(srv);
    fake_fe_clear(&fs);
    fake_fe_clear(&fc);
}

typedef struct Dialer {
    const char *path;
    int fd;
} Dialer;

static gpointer dial_thread(gpointer opaque)
{
    Dialer *d = opaque;
    gint64 deadline = g_get_monotonic_time() + CHR_TEST_DEADLINE_US;

    /* The socket appears once the chardev listens; keep trying. */
    while ((d->fd = unix_connect(d->path)) < 0 &&
           g_get_monotonic_time() < deadline) {
        g_usleep(2000);
    }
    if (d->fd >= 0) {
        send_str(d->fd, "early");
    }
    return NULL;
}

/* server=on without wait=off: creation returns only once a peer is there,
 * and what it sent is waiting for the frontend. */
static void test_socket_wait(void **state)
{
    Env *e = *state;
    g_autofree char *path = g_build_filename(e->dir, "w.sock", NULL);
    g_autofree char *spec = g_strdup_printf("unix:%s,server=on", path);
    Dialer d = { .path = path, .fd = -1 };
    GThread *t = g_thread_new("dial", dial_thread, &d);
    GError *err = NULL;
    Chardev *c;
    FakeFe f;

    c = chardev_new("serial0", spec, &e->host, &err);
    g_thread_join(t);
    assert_non_null(c);
    assert_true(d.fd >= 0);
    fake_fe_init(&f);
    assert_true(chardev_attach(c, &f.fe, &err));
    assert_int_equal(f.events[CHR_EVENT_OPENED], 1);
    wait_text(e, &f, "early");
    close(d.fd);
    chardev_free(c);
    fake_fe_clear(&f);
}

static void test_pty(void **state)
{
    Env *e = *state;
    GError *err = NULL;
    Chardev *c = chardev_new("serial0", "pty", &e->host, &err);
    GString *acc = g_string_new(NULL);
    FakeFe f;
    int slave;

    if (!c) {
        /* A host without /dev/ptmx cannot run this test. */
        print_message("skipped: %s\n", err->message);
        g_error_free(err);
        skip();
    }
    assert_true(g_str_has_prefix(chardev_describe(c), "/dev/pts/"));
    assert_true(g_file_test(chardev_describe(c), G_FILE_TEST_EXISTS));
    fake_fe_init(&f);
    assert_true(chardev_attach(c, &f.fe, &err));

    slave = open(chardev_describe(c), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    assert_int_equal(chardev_write(c, "to-terminal", 11), 11);
    assert_true(read_until(e->ctx, slave, acc, "to-terminal"));
    assert_int_equal(write(slave, "typed", 5), 5);
    wait_text(e, &f, "typed");
    close(slave);

    /* With nobody reading, writes are dropped instead of blocking. */
    for (int i = 0; i < 1000; i++) {
        char buf[256];
        memset(buf, 'x', sizeof(buf));
        chardev_write(c, buf, sizeof(buf));
    }
    chardev_free(c);
    fake_fe_clear(&f);
    g_string_free(acc, TRUE);
}

/* The mux over a socket, so the test plays the terminal. */
static void test_mux_escapes(void **state)
{
    Env *e = *state;
    g_autofree char *path = g_build_filename(e->dir, "m.sock", NULL);
    g_autofree char *spec = g_strdup_printf("mon:unix:%s,server=on,wait=off",
                                            path);
    GString *acc = g_string_new(NULL);
    GError *err = NULL;
    FakeFe serial, mon;
    Chardev *c;
    int peer;

    c = chardev_new("serial0", spec, &e->host, &err);
    assert_non_null(c);
    assert_true(chardev_is_mux(c));
    fake_fe_init(&serial);
    fake_fe_init(&mon);
    assert_true(chardev_attach(c, &serial.fe, &err));
    assert_true(chardev_attach(c, &mon.fe, &err));
    /* The first frontend has the focus. */
    assert_int_equal(serial.events[CHR_EVENT_FOCUS_IN], 1);
    assert_int_equal(mon.events[CHR_EVENT_FOCUS_IN], 0);

    peer = unix_connect(path);
    assert_true(peer >= 0);
    wait_event(e, &serial, CHR_EVENT_OPENED, 1);
    wait_event(e, &mon, CHR_EVENT_OPENED, 1);

    send_str(peer, "to-serial");
    wait_text(e, &serial, "to-serial");
    assert_int_equal(mon.rx->len, 0);

    /* Ctrl-A c: focus moves to the monitor. */
    send_str(peer, "\001cto-monitor");
    wait_text(e, &mon, "to-monitor");
    assert_int_equal(serial.events[CHR_EVENT_FOCUS_OUT], 1);
    assert_int_equal(mon.events[CHR_EVENT_FOCUS_IN], 1);
    assert_false(fake_fe_has(&serial, "to-monitor"));
    assert_false(fake_fe_has(&serial, "c"));

    /* Ctrl-A a and Ctrl-A Ctrl-A send one Ctrl-A. */
    send_str(peer, "[\001a]");
    wait_text(e, &mon, "[\001]");
    send_str(peer, "(\001\001)");
    wait_text(e, &mon, "(\001)");

    /* Back to the serial port; Ctrl-A b is a break there. */
    send_str(peer, "\001cback");
    wait_text(e, &serial, "back");
    send_str(peer, "\001b");
    wait_event(e, &serial, CHR_EVENT_BREAK, 1);
    assert_int_equal(mon.events[CHR_EVENT_BREAK], 0);

    /* Ctrl-A h prints the keys; both frontends' output reaches the peer. */
    send_str(peer, "\001h");
    assert_true(read_until(e->ctx, peer, acc, "Ctrl-A x"));
    chardev_write(c, "from-serial", 11);
    chardev_write(c, "from-monitor", 12);
    assert_true(read_until(e->ctx, peer, acc, "from-serialfrom-monitor"));

    /* Ctrl-A x asks the host to quit. */
    assert_int_equal(e->quits, 0);
    send_str(peer, "\001x");
    /* The quit hook runs in the same input callback that prints this. */
    assert_true(read_until(e->ctx, peer, acc, "terminated"));
    assert_int_equal(e->quits, 1);

    /* A frontend can leave; the other keeps the focus. */
    chardev_detach(c, &mon);
    send_str(peer, "\001clast");
    wait_text(e, &serial, "last");
    assert_false(fake_fe_has(&mon, "last"));

    close(peer);
    wait_event(e, &serial, CHR_EVENT_CLOSED, 1);
    chardev_free(c);
    fake_fe_clear(&serial);
    fake_fe_clear(&mon);
    g_string_free(acc, TRUE);
}

/* Escapes work while the focused frontend takes nothing (full guest UART). */
static void test_mux_escape_when_full(void **state)
{
    Env *e = *state;
    g_autofree char *path = g_build_filename(e->dir, "f.sock", NULL);
    g_autofree char *spec = g_strdup_printf("mon:unix:%s,server=on,wait=off",
                                            path);
    GError *err = NULL;
    FakeFe serial, mon;
    Chardev *c;
    int peer;

    c = chardev_new("serial0", spec, &e->host, &err);
    assert_non_null(c);
    fake_fe_init(&serial);
    fake_fe_init(&mon);
    serial.room = 0;
    assert_true(chardev_attach(c, &serial.fe, &err));
    assert_true(chardev_attach(c, &mon.fe, &err));
    peer = unix_connect(path);
    assert_true(peer >= 0);
    wait_event(e, &serial, CHR_EVENT_OPENED, 1);
    send_str(peer, "queued\001cmonitor");
    wait_text(e, &mon, "monitor");
    assert_int_equal(serial.rx->len, 0);
    /* Switch back: the queued bytes arrive once the guest takes them. */
    send_str(peer, "\001c");
    wait_event(e, &serial, CHR_EVENT_FOCUS_IN, 2);
    serial.room = 4096;
    g_mutex_lock(&e->lock);
    chardev_accept_input(c);
    g_mutex_unlock(&e->lock);
    wait_text(e, &serial, "queued");
    close(peer);
    chardev_free(c);
    fake_fe_clear(&serial);
    fake_fe_clear(&mon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spec_errors, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_null, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_file, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_socket_server, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_socket_client, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_pair, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_socket_wait, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pty, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_mux_escapes, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_mux_escape_when_full, env_setup,
                                        env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
