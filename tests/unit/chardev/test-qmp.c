/*
 * QMP tests: a client on a Unix socket speaks the protocol (greeting,
 * negotiation, commands, errors, events) and checks the parsed answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chr-test-util.h"
#include "system/qmp.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

typedef struct Env {
    GMainContext *ctx;
    GMutex lock;
    ChardevHost host;
    char *dir;
    char *path;
    Chardev *chr;
    Qmp *qmp;
    int peer;
    GString *in;
    bool paused;
    unsigned stops, conts, resets, powerdowns, quits;
    uint16_t keys[16]; /* the last send_keys call */
    unsigned nr_keys, hold_ms;
} Env;

static void h_quit(void *o) { ((Env *)o)->quits++; }
static void h_stop(void *o) { ((Env *)o)->stops++; ((Env *)o)->paused = true; }
static void h_cont(void *o) { ((Env *)o)->conts++; ((Env *)o)->paused = false; }
static void h_reset(void *o) { ((Env *)o)->resets++; }
static void h_powerdown(void *o) { ((Env *)o)->powerdowns++; }
static const char *h_status(void *o) { return ((Env *)o)->paused ? "paused" : "running"; }
static unsigned h_nr_cpus(void *o) { return 3; }

static bool h_send_keys(void *o, const uint16_t *keys, unsigned n,
                        unsigned hold_ms, GError **errp)
{
    Env *e = o;

    memcpy(e->keys, keys, n * sizeof(keys[0]));
    e->nr_keys = n;
    e->hold_ms = hold_ms;
    return true;
}

static int setup(void **state)
{
    Env *e = g_new0(Env, 1);
    g_autofree char *spec = NULL;
    MonitorHooks h = {
        .quit = h_quit, .stop = h_stop, .cont = h_cont,
        .system_reset = h_reset, .system_powerdown = h_powerdown,
        .status = h_status, .nr_cpus = h_nr_cpus, .version = "1.2.3",
        .send_keys = h_send_keys,
        .opaque = e,
    };
    GError *err = NULL;

    e->ctx = g_main_context_new();
    g_mutex_init(&e->lock);
    e->host.ctx = e->ctx;
    e->host.lock = &e->lock;
    e->dir = chr_test_tmpdir();
    e->path = g_build_filename(e->dir, "qmp.sock", NULL);
    e->in = g_string_new(NULL);
    spec = g_strdup_printf("unix:%s,server=on,wait=off", e->path);
    e->chr = chardev_new("qmp0", spec, &e->host, &err);
    assert_non_null(e->chr);
    e->qmp = qmp_new(e->chr, &h, &err);
    assert_non_null(e->qmp);
    e->peer = unix_connect(e->path);
    assert_true(e->peer >= 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    Env *e = *state;

    close(e->peer);
    qmp_free(e->qmp);
    chardev_free(e->chr);
    while (g_main_context_iteration(e->ctx, FALSE)) {
    }
    g_main_context_unref(e->ctx);
    g_mutex_clear(&e->lock);
    chr_test_tmp_free(e->dir);
    g_free(e->path);
    g_string_free(e->in, TRUE);
    g_free(e);
    return 0;
}

/* The next message from the server, parsed; an object. */
static JsonObject *next(Env *e)
{
    JsonNode *node;
    JsonObject *obj;
    char *nl;
    GError *err = NULL;
    g_autofree char *line = NULL;

    if (!read_until(e->ctx, e->peer, e->in, "\r\n")) {
        fail_msg("no message from the server; have '%s'", e->in->str);
    }
    nl = strstr(e->in->str, "\r\n");
    line = g_strndup(e->in->str, nl - e->in->str);
    g_string_erase(e->in, 0, nl - e->in->str + 2);
    node = json_from_string(line, &err);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
        fail_msg("not a JSON object: '%s'", line);
    }
    obj = json_object_ref(json_node_get_object(node));
    json_node_unref(node);
    return obj;
}

static JsonObject *request(Env *e, const char *json)
{
    send_str(e->peer, json);
    return next(e);
}

static void assert_error(JsonObject *o, const char *cls, const char *words)
{
    JsonObject *err;

    assert_true(json_object_has_member(o, "error"));
    err = json_object_get_object_member(o, "error");
    assert_string_equal(json_object_get_string_member(err, "class"), cls);
    if (!strstr(json_object_get_string_member(err, "desc"), words)) {
        fail_msg("error '%s' does not say '%s'",
                 json_object_get_string_member(err, "desc"), words);
    }
    json_object_unref(o);
}

static void assert_empty_return(JsonObject *o)
{
    assert_true(json_object_has_member(o, "return"));
    assert_int_equal(json_object_get_size(
                         json_object_get_object_member(o, "return")), 0);
    json_object_unref(o);
}

static void negotiate(Env *e)
{
    JsonObject *g = next(e);
    JsonObject *v;

    assert_true(json_object_has_member(g, "QMP"));
    v = json_object_get_object_member(
            json_object_get_object_member(
                json_object_get_object_member(g, "QMP"), "version"), "qemu");
    assert_int_equal(json_object_get_int_member(v, "major"), 1);
    assert_int_equal(json_object_get_int_member(v, "minor"), 2);
    assert_int_equal(json_object_get_int_member(v, "micro"), 3);
    json_object_unref(g);
    assert_empty_return(request(e, "{\"execute\": \"qmp_capabilities\"}\n"));
}

static void test_negotiation(void **state)
{
    Env *e = *state;
    JsonObject *g = next(e);
    JsonObject *r;

    assert_true(json_object_has_member(g, "QMP"));
    json_object_unref(g);
    /* Nothing but qmp_capabilities before negotiation. */
    assert_error(request(e, "{\"execute\": \"stop\"}"), "CommandNotFound",
                 "capabilities negotiation");
    assert_int_equal(e->stops, 0);
    r = request(e, "{\"execute\": \"qmp_capabilities\", \"id\": 42}");
    assert_int_equal(json_object_get_int_member(r, "id"), 42);
    assert_empty_return(r);
    assert_error(request(e, "{\"execute\": \"qmp_capabilities\"}"),
                 "CommandNotFound", "already complete");
}

static void test_commands(void **state)
{
    Env *e = *state;
    JsonObject *r, *s;
    JsonArray *cpus;

    negotiate(e);
    r = request(e, "{\"execute\": \"query-status\", \"id\": \"a\"}");
    assert_string_equal(json_object_get_string_member(r, "id"), "a");
    s = json_object_get_object_member(r, "return");
    assert_string_equal(json_object_get_string_member(s, "status"), "running");
    assert_true(json_object_get_boolean_member(s, "running"));
    json_object_unref(r);

    assert_empty_return(request(e, "{\"execute\": \"stop\"}"));
    assert_int_equal(e->stops, 1);
    r = request(e, "{\"execute\": \"query-status\"}");
    s = json_object_get_object_member(r, "return");
    assert_string_equal(json_object_get_string_member(s, "status"), "paused");
    assert_false(json_object_get_boolean_member(s, "running"));
    json_object_unref(r);
    assert_empty_return(request(e, "{\"execute\": \"cont\"}"));
    assert_empty_return(request(e, "{\"execute\": \"system_reset\"}"));
    assert_empty_return(request(e, "{\"execute\": \"system_powerdown\"}"));
    assert_int_equal(e->conts, 1);
    assert_int_equal(e->resets, 1);
    assert_int_equal(e->powerdowns, 1);

    r = request(e, "{\"execute\": \"query-cpus-fast\"}");
    cpus = json_object_get_array_member(r, "return");
    assert_int_equal(json_array_get_length(cpus), 3);
    assert_int_equal(json_object_get_int_member(
                         json_array_get_object_element(cpus, 2), "cpu-index"),
                     2);
    json_object_unref(r);

    /* A request split across writes, two requests in one write. */
    send_str(e->peer, "{\"execute\": \"query-ver");
    for (int i = 0; i < 20; i++) {
        g_main_context_iteration(e->ctx, FALSE);
    }
    send_str(e->peer, "sion\"}{\"execute\":\"cont\",\"id\":[1,{\"x\":\"}\"}]}");
    r = next(e);
    assert_int_equal(json_object_get_int_member(
                         json_object_get_object_member(
                             json_object_get_object_member(r, "return"),
                             "qemu"), "major"), 1);
    json_object_unref(r);
    r = next(e);
    assert_true(json_object_has_member(r, "id"));
    assert_empty_return(r);
    assert_int_equal(e->conts, 2);

    /* Events reach a negotiated client. */
    qmp_event(e->qmp, "STOP", NULL);
    qmp_event(e->qmp, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
    r = next(e);
    assert_string_equal(json_object_get_string_member(r, "event"), "STOP");
    assert_true(json_object_has_member(r, "timestamp"));
    json_object_unref(r);
    r = next(e);
    assert_string_equal(json_object_get_string_member(r, "event"), "SHUTDOWN");
    assert_true(json_object_get_boolean_member(
                    json_object_get_object_member(r, "data"), "guest"));
    json_object_unref(r);

    /* send-key: QEMU's KeyValue forms and hold-time. */
    assert_empty_return(request(e, "{\"execute\": \"send-key\", \"arguments\": "
        "{\"keys\": [{\"type\": \"qcode\", \"data\": \"ctrl\"}, "
        "{\"type\": \"qcode\", \"data\": \"alt\"}, "
        "{\"type\": \"number\", \"data\": 211}], \"hold-time\": 50}}"));
    assert_int_equal(e->nr_keys, 3);
    assert_int_equal(e->keys[0], 0x1d);
    assert_int_equal(e->keys[1], 0x38);
    assert_int_equal(e->keys[2], 0xe053);
    assert_int_equal(e->hold_ms, 50);
    assert_empty_return(request(e, "{\"execute\": \"send-key\", \"arguments\": "
        "{\"keys\": [{\"type\": \"qcode\", \"data\": \"kp_enter\"}]}}"));
    assert_int_equal(e->keys[0], 0xe01c);
    assert_int_equal(e->hold_ms, 100);

    assert_empty_return(request(e, "{\"execute\": \"quit\"}"));
    assert_int_equal(e->quits, 1);
}

static void test_bad_input(void **state)
{
    Env *e = *state;

    negotiate(e);
    assert_error(request(e, "{\"execute\": }"), "GenericError",
                 "JSON parse error");
    assert_error(request(e, "hello there\n"), "GenericError", "JSON");
    assert_error(request(e, "[1, 2]"), "GenericError", "object");
    assert_error(request(e, "{\"exec\": \"stop\"}"), "GenericError",
                 "'exec' is unexpected");
    assert_error(request(e, "{\"execute\": 7}"), "GenericError", "execute");
    assert_error(request(e, "{\"execute\": \"launch-missiles\"}"),
                 "CommandNotFound", "launch-missiles");
    assert_error(request(e, "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}"),
                 "GenericError", "'x' is unexpected");
    assert_error(request(e, "{\"execute\": \"stop\", \"arguments\": 3}"),
                 "GenericError", "arguments");
    e->nr_keys = 0;
    assert_error(request(e, "{\"execute\": \"send-key\"}"), "GenericError",
                 "'keys' is missing");
    assert_error(request(e, "{\"execute\": \"send-key\", \"arguments\": "
                 "{\"keys\": [{\"type\": \"qcode\", \"data\": \"nokey\"}]}}"),
                 "GenericError", "nokey");
    assert_error(request(e, "{\"execute\": \"send-key\", \"arguments\": "
                 "{\"keys\": [{\"type\": \"number\", \"data\": 4096}]}}"),
                 "GenericError", "4096");
    assert_error(request(e, "{\"execute\": \"send-key\", \"arguments\": "
                 "{\"keys\": [7]}}"), "GenericError", "KeyValue");
    assert_error(request(e, "{\"execute\": \"send-key\", \"arguments\": "
                 "{\"keys\": [], \"x\": 1}}"), "GenericError", "'x' is unexpected");
    assert_error(request(e, "{\"execute\": \"send-key\", \"arguments\": "
                 "{\"keys\": [{\"type\": \"qcode\", \"data\": \"a\"}], "
                 "\"hold-time\": -1}}"), "GenericError", "hold-time");
    assert_int_equal(e->nr_keys, 0);
    assert_int_equal(e->stops, 0);
    /* Still alive and answering. */
    assert_empty_return(request(e, "{\"execute\": \"stop\"}"));
    assert_int_equal(e->stops, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
