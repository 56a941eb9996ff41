/*
 * Human monitor tests: a client on a Unix socket types commands and reads
 * the answers, as a user at a terminal would; fake hooks stand in for the
 * machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chr-test-util.h"
#include "system/monitor.h"

#include <string.h>
#include <unistd.h>

typedef struct Env {
    GMainContext *ctx;
    GMutex lock;
    ChardevHost host;
    char *dir;
    char *path;
    Chardev *chr;
    Monitor *mon;
    int peer;
    GString *out;
    /* fake machine */
    bool paused;
    unsigned stops, conts, resets, powerdowns, quits, status_calls;
    char media[128];   /* the last change_medium call, as text */
    uint16_t keys[16]; /* the last send_keys call */
    unsigned nr_keys, hold_ms;
} Env;

static void h_quit(void *o) { ((Env *)o)->quits++; }
static void h_stop(void *o) { ((Env *)o)->stops++; ((Env *)o)->paused = true; }
static void h_cont(void *o) { ((Env *)o)->conts++; ((Env *)o)->paused = false; }
static void h_reset(void *o) { ((Env *)o)->resets++; }
static void h_powerdown(void *o) { ((Env *)o)->powerdowns++; }

static const char *h_status(void *o)
{
    Env *e = o;

    e->status_calls++;
    return e->paused ? "paused" : "running";
}

static unsigned h_nr_cpus(void *o)
{
    return 2;
}

static bool h_get_cpu_state(void *o, unsigned idx, X86State *st)
{
    memset(st, 0, sizeof(*st));
    st->regs[R_EAX] = 0x1234 + idx;
    st->regs[R_R15] = 0xfedcba9876543210ull;
    st->rip = 0xfff0;
    st->rflags = X86_FLAG_FIXED1 | X86_FLAG_ZF;
    st->segs[R_CS].selector = 0xf000;
    st->segs[R_CS].base = 0xf0000;
    st->segs[R_CS].limit = 0xffff;
    st->cr0 = 0x60000010;
    return true;
}

static void h_mtree(void *o, GString *out)
{
    g_string_append(out, "0000000000000000-000000000009ffff (ram)");
}

static bool h_change_medium(void *o, const char *device, const char *file,
                            const char *format, bool force, GError **errp)
{
    Env *e = o;

    if (!strcmp(device, "locked")) {
        g_set_error(errp, G_FILE_ERROR, 0, "drive is locked");
        return false;
    }
    g_snprintf(e->media, sizeof(e->media), "%s %s %s %d", device,
               file ? file : "-", format ? format : "-", force);
    return true;
}

static bool h_send_keys(void *o, const uint16_t *keys, unsigned n,
                        unsigned hold_ms, GError **errp)
{
    Env *e = o;

    memcpy(e->keys, keys, n * sizeof(keys[0]));
    e->nr_keys = n;
    e->hold_ms = hold_ms;
    return true;
}

static const MonitorHooks hooks = {
    .quit = h_quit,
    .stop = h_stop,
    .cont = h_cont,
    .system_reset = h_reset,
    .system_powerdown = h_powerdown,
    .status = h_status,
    .nr_cpus = h_nr_cpus,
    .get_cpu_state = h_get_cpu_state,
    .info_mtree = h_mtree,
    .change_medium = h_change_medium,
    .send_keys = h_send_keys,
    .version = "9.8.7",
};

static Env *env_new(const char *prefix)
{
    Env *e = g_new0(Env, 1);
    g_autofree char *spec = NULL;
    GError *err = NULL;

    e->ctx = g_main_context_new();
    g_mutex_init(&e->lock);
    e->host.ctx = e->ctx;
    e->host.lock = &e->lock;
    e->dir = chr_test_tmpdir();
    e->path = g_build_filename(e->dir, "mon.sock", NULL);
    e->out = g_string_new(NULL);
    spec = g_strdup_printf("%sunix:%s,server=on,wait=off", prefix, e->path);
    e->chr = chardev_new("monitor0", spec, &e->host, &err);
    assert_non_null(e->chr);
    return e;
}

static int setup(void **state)
{
    Env *e = env_new("");
    MonitorHooks h = hooks;
    GError *err = NULL;

    h.opaque = e;
    e->mon = monitor_new(e->chr, &h, &err);
    assert_non_null(e->mon);
    e->peer = unix_connect(e->path);
    assert_true(e->peer >= 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    Env *e = *state;

    close(e->peer);
    monitor_free(e->mon);
    chardev_free(e->chr);
    while (g_main_context_iteration(e->ctx, FALSE)) {
    }
    g_main_context_unref(e->ctx);
    g_mutex_clear(&e->lock);
    chr_test_tmp_free(e->dir);
    g_free(e->path);
    g_string_free(e->out, TRUE);
    g_free(e);
    return 0;
}

/* Read until needle; forget everything up to and including it. */
static void expect(Env *e, const char *needle)
{
    char *at;

    if (!read_until(e->ctx, e->peer, e->out, needle)) {
        fail_msg("monitor never printed '%s'; got '%s'", needle, e->out->str);
    }
    at = strstr(e->out->str, needle);
    g_string_erase(e->out, 0, at - e->out->str + strlen(needle));
}

/* Type a line and return what the monitor answered before its next prompt. */
static char *command(Env *e, const char *line)
{
    char *at;
    char *answer;

    send_str(e->peer, line);
    if (!read_until(e->ctx, e->peer, e->out, "\r\n(kestrel) ")) {
        fail_msg("no prompt after '%s'; got '%s'", line, e->out->str);
    }
    at = strstr(e->out->str, "\r\n(kestrel) ");
    answer = g_strndup(e->out->str, at - e->out->str);
    g_string_erase(e->out, 0, at - e->out->str + strlen("\r\n(kestrel) "));
    return answer;
}

static void test_banner_and_status(void **state)
{
    Env *e = *state;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_autofree char *v = NULL;

    expect(e, "Kestrel 9.8.7 monitor");
    expect(e, "(kestrel) ");
    a = command(e, "info status\r\n");
    assert_non_null(strstr(a, "VM status: running"));
    b = command(e, "stop\r");
    assert_int_equal(e->stops, 1);
    g_free(a);
    a = command(e, "info status\n");
    assert_non_null(strstr(a, "VM status: paused"));
    g_free(b);
    b = command(e, "cont\n");
    assert_int_equal(e->conts, 1);
    g_free(b);
    b = command(e, "stop\n");
    g_free(b);
    b = command(e, "c\n");
    assert_int_equal(e->conts, 2);
    v = command(e, "info version\n");
    assert_non_null(strstr(v, "9.8.7"));
}

static void test_errors(void **state)
{
    Env *e = *state;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_autofree char *c = NULL;
    g_autofree char *d = NULL;

    expect(e, "(kestrel) ");
    a = command(e, "frobnicate now\n");
    assert_non_null(strstr(a, "unknown command: 'frobnicate'"));
    b = command(e, "info nothing\n");
    assert_non_null(strstr(b, "unknown info item"));
    c = command(e, "stop please\n");
    assert_non_null(strstr(c, "too many arguments"));
    assert_int_equal(e->stops, 0);
    /* Garbage bytes never crash it and never run anything. */
    d = command(e, "\xff\x01\x02\x1b[99~\x80\n");
    assert_int_equal(e->stops + e->conts + e->quits + e->resets, 0);
}

static void test_commands(void **state)
{
    Env *e = *state;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_autofree char *c = NULL;
    g_autofree char *d = NULL;
    g_autofree char *f = NULL;
    g_autofree char *g = NULL;
    g_autofree char *h = NULL;

    expect(e, "(kestrel) ");
    a = command(e, "help\n");
    assert_non_null(strstr(a, "system_reset"));
    assert_non_null(strstr(a, "quit|q"));
    b = command(e, "system_reset\n");
    assert_int_equal(e->resets, 1);
    c = command(e, "system_powerdown\n");
    assert_int_equal(e->powerdowns, 1);
    d = command(e, "info registers\n");
    assert_non_null(strstr(d, "RAX=0000000000001234"));
    assert_non_null(strstr(d, "R15=fedcba9876543210"));
    assert_non_null(strstr(d, "RIP=000000000000fff0"));
    assert_non_null(strstr(d, "CS =f000 00000000000f0000 0000ffff"));
    assert_non_null(strstr(d, "CR0=60000010"));
    assert_non_null(strstr(d, "EFER="));
    /* cpu N selects what info registers shows. */
    g_free(command(e, "cpu 1\n"));
    f = command(e, "info registers\n");
    assert_non_null(strstr(f, "RAX=0000000000001235"));
    g = command(e, "info cpus\n");
    assert_non_null(strstr(g, "  CPU #0"));
    assert_non_null(strstr(g, "* CPU #1"));
    h = command(e, "info mtree\n");
    assert_non_null(strstr(h, "(ram)"));
    g_free(command(e, "cpu 7\n"));
    /* change / eject reach the machine with QEMU's arguments. */
    /* sendkey: QEMU's key names and numbers, pressed in order. */
    g_free(command(e, "sendkey ctrl-alt-delete\n"));
    assert_int_equal(e->nr_keys, 3);
    assert_int_equal(e->keys[0], 0x1d);
    assert_int_equal(e->keys[1], 0x38);
    assert_int_equal(e->keys[2], 0xe053);
    assert_int_equal(e->hold_ms, 100);
    g_free(command(e, "sendkey shift_r-0x1e-0xc8 250\n"));
    assert_int_equal(e->nr_keys, 3);
    assert_int_equal(e->keys[0], 0x36);
    assert_int_equal(e->keys[1], 0x1e);
    assert_int_equal(e->keys[2], 0xe048);
    assert_int_equal(e->hold_ms, 250);
    e->nr_keys = 0;
    {
        g_autofree char *bad = command(e, "sendkey ctrl-nosuchkey\n");
        g_autofree char *bad2 = command(e, "sendkey a 20000\n");
        assert_non_null(strstr(bad, "unknown key 'nosuchkey'"));
        assert_non_null(strstr(bad2, "not a hold time"));
        assert_int_equal(e->nr_keys, 0);
    }
    g_free(command(e, "change ide1-cd0 /x/a.iso\n"));
    assert_string_equal(e->media, "ide1-cd0 /x/a.iso - 0");
    g_free(command(e, "change ide1-cd0 b.iso raw\n"));
    assert_string_equal(e->media, "ide1-cd0 b.iso raw 0");
    g_free(command(e, "eject -f ide1-cd0\n"));
    assert_string_equal(e->media, "ide1-cd0 - - 1");
    g_free(command(e, "eject cd\n"));
    assert_string_equal(e->media, "cd - - 0");
    g_autofree char *i = command(e, "eject locked\n");
    assert_non_null(strstr(i, "drive is locked"));
    g_autofree char *j = command(e, "change ide1-cd0\n");
    assert_non_null(strstr(j, "usage: change DEVICE FILE"));
    assert_string_equal(e->media, "cd - - 0");
    send_str(e->peer, "q\n");
    while (e->quits == 0) {
        assert_true(read_until(e->ctx, e->peer, e->out, "q\r\n"));
    }
    assert_int_equal(e->quits, 1);
}

static void test_line_editing(void **state)
{
    Env *e = *state;

    expect(e, "(kestrel) ");
    /* Backspace (DEL and ^H) fixes a typo. */
    g_free(command(e, "stpo\x7f\x08op\n"));
    assert_int_equal(e->stops, 1);
    /* Ctrl-U throws the line away, Ctrl-W a word. */
    g_free(command(e, "quit\x15" "cont\n"));
    assert_int_equal(e->quits, 0);
    assert_int_equal(e->conts, 1);
    g_free(command(e, "info quit\x17\x17stop\n"));
    assert_int_equal(e->stops, 2);
    assert_int_equal(e->quits, 0);
    /* Up arrow brings back the last line, up twice the one before. */
    g_free(command(e, "system_reset\n"));
    g_free(command(e, "\x1b[A\n"));
    assert_int_equal(e->resets, 2);
    g_free(command(e, "\x1b[A\x1b[A\x1b[A\x1b[B\n"));
    /* history: stop, cont, stop, system_reset -> up x3, down x1 = stop */
    assert_int_equal(e->stops, 3);
}

static bool serial_opened(void *arg)
{
    FakeFe *f = arg;
    return f->events[CHR_EVENT_OPENED] > 0;
}

static bool serial_has_status(void *arg)
{
    return fake_fe_has(arg, "info status\n");
}

/* On mon:..., the monitor shows itself when Ctrl-A c gives it the focus. */
static void test_on_mux(void **state)
{
    Env *e = env_new("mon:");
    MonitorHooks h = hooks;
    GError *err = NULL;
    FakeFe serial;
    g_autofree char *a = NULL;

    fake_fe_init(&serial);
    h.opaque = e;
    assert_true(chardev_attach(e->chr, &serial.fe, &err));
    e->mon = monitor_new(e->chr, &h, &err);
    assert_non_null(e->mon);
    e->peer = unix_connect(e->path);
    assert_true(e->peer >= 0);
    *state = e;

    assert_true(run_until(e->ctx, serial_opened, &serial));
    send_str(e->peer, "info status\n");
    chardev_write(e->chr, "guest says hi", 13);
    expect(e, "guest says hi");
    assert_null(strstr(e->out->str, "(kestrel)"));
    assert_true(run_until(e->ctx, serial_has_status, &serial));
    assert_int_equal(e->status_calls, 0);

    send_str(e->peer, "\001c");
    expect(e, "Kestrel 9.8.7 monitor");
    expect(e, "(kestrel) ");
    a = command(e, "info status\n");
    assert_non_null(strstr(a, "VM status: running"));
    assert_int_equal(e->status_calls, 1);
    fake_fe_clear(&serial);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_banner_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_editing, setup, teardown),
        cmocka_unit_test_teardown(test_on_mux, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
