/*
 * QMP server on a chardev.  Follows the QEMU Machine Protocol specification
 * (docs/interop/qmp-spec in QEMU's documentation): a greeting on connect,
 * capabilities negotiation, then {"execute": CMD, "arguments": {...},
 * "id": ANY} requests answered by {"return": ...} or {"error": {"class",
 * "desc"}}, and asynchronous {"event", "data", "timestamp"} messages.
 *
 * The input is a stream of JSON texts with no required separator, so a small
 * framer finds where each top-level object ends (tracking strings and
 * nesting); json-glib parses it.
 */
#include "system/qmp.h"
#include "system/keys.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#define QMP_MAX_MESSAGE (64 * 1024)
#define QMP_MAX_DEPTH 64

struct Qmp {
    Chardev *chr;
    MonitorHooks hooks;
    bool negotiated;      /* qmp_capabilities done on this connection */
    bool quitting;
    /* framer */
    GString *msg;
    int depth;
    bool in_string;
    bool escape;
    bool garbage;         /* non-JSON text outside an object */
};

typedef struct QmpCmd {
    const char *name;
    /* Fill *ret (NULL = empty object) or set errp. */
    void (*run)(Qmp *q, JsonObject *args, JsonNode **ret, GError **errp);
    bool takes_args; /* run() checks its own arguments */
} QmpCmd;

/* Error classes of the protocol. */
#define QMP_GENERIC_ERROR "GenericError"
#define QMP_COMMAND_NOT_FOUND "CommandNotFound"

static GQuark qmp_error_quark(void)
{
    return g_quark_from_static_string("kestrel-qmp-error");
}

enum { QMP_ERR_GENERIC, QMP_ERR_NOT_FOUND };

static void qmp_send(Qmp *q, JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);

    chardev_write(q->chr, text, strlen(text));
    chardev_write(q->chr, "\r\n", 2);
    json_node_unref(node);
}

static void add_id(JsonBuilder *b, JsonNode *id)
{
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_value(b, json_node_copy(id));
    }
}

static void qmp_send_error(Qmp *q, JsonNode *id, const char *cls,
                           const char *desc)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, cls);
    json_builder_set_member_name(b, "desc");
    json_builder_add_string_value(b, desc);
    json_builder_end_object(b);
    add_id(b, id);
    json_builder_end_object(b);
    qmp_send(q, json_builder_get_root(b));
}

static void version_numbers(const char *v, int *major, int *minor, int *micro)
{
    *major = *minor = *micro = 0;
    if (v) {
        sscanf(v, "%d.%d.%d", major, minor, micro);
    }
}

static void build_version(Qmp *q, JsonBuilder *b)
{
    int major, minor, micro;

    version_numbers(q->hooks.version, &major, &minor, &micro);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "qemu");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "major");
    json_builder_add_int_value(b, major);
    json_builder_set_member_name(b, "minor");
    json_builder_add_int_value(b, minor);
    json_builder_set_member_name(b, "micro");
    json_builder_add_int_value(b, micro);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "package");
    json_builder_add_string_value(b, "kestrel");
    json_builder_end_object(b);
}

static void qmp_greeting(Qmp *q)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "QMP");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    build_version(q, b);
    json_builder_set_member_name(b, "capabilities");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    qmp_send(q, json_builder_get_root(b));
}

/* ---- commands ---- */

static void cmd_capabilities(Qmp *q, JsonObject *args, JsonNode **ret,
                             GError **errp)
{
    if (q->negotiated) {
        g_set_error(errp, qmp_error_quark(), QMP_ERR_NOT_FOUND,
                    "Capabilities negotiation is already complete, command "
                    "ignored");
        return;
    }
    q->negotiated = true;
}

static void cmd_query_status(Qmp *q, JsonObject *args, JsonNode **ret,
                             GError **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    const char *s = q->hooks.status ? q->hooks.status(q->hooks.opaque) : NULL;

    s = s ? s : "running";
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, s);
    json_builder_set_member_name(b, "running");
    json_builder_add_boolean_value(b, !strcmp(s, "running"));
    json_builder_set_member_name(b, "singlestep");
    json_builder_add_boolean_value(b, FALSE);
    json_builder_end_object(b);
    *ret = json_builder_get_root(b);
}

static void cmd_query_version(Qmp *q, JsonObject *args, JsonNode **ret,
                              GError **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    build_version(q, b);
    *ret = json_builder_get_root(b);
}

static void cmd_query_cpus_fast(Qmp *q, JsonObject *args, JsonNode **ret,
                                GError **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    unsigned n = q->hooks.nr_cpus ? q->hooks.nr_cpus(q->hooks.opaque) : 0;
    unsigned i;

    json_builder_begin_array(b);
    for (i = 0; i < n; i++) {
        g_autofree char *path = g_strdup_printf("/machine/cpu[%u]", i);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "cpu-index");
        json_builder_add_int_value(b, i);
        json_builder_set_member_name(b, "qom-path");
        json_builder_add_string_value(b, path);
        json_builder_set_member_name(b, "target");
        json_builder_add_string_value(b, "x86_64");
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    *ret = json_builder_get_root(b);
}

static void cmd_query_commands(Qmp *q, JsonObject *args, JsonNode **ret,
                               GError **errp);

#define HOOK_CMD(fn_name, hook)                                              \
    static void fn_name(Qmp *q, JsonObject *args, JsonNode **ret,            \
                        GError **errp)                                       \
    {                                                                        \
        if (!q->hooks.hook) {                                                \
            g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,            \
                        "this command is not available");                    \
            return;                                                          \
        }                                                                    \
        q->hooks.hook(q->hooks.opaque);                                      \
    }

HOOK_CMD(cmd_stop, stop)
HOOK_CMD(cmd_cont, cont)
HOOK_CMD(cmd_system_reset, system_reset)
HOOK_CMD(cmd_system_powerdown, system_powerdown)

static void cmd_quit(Qmp *q, JsonObject *args, JsonNode **ret, GError **errp)
{
    /* Answered before the hook runs: the process may be gone after it. */
    q->quitting = true;
}

/* One KeyValue: {"type": "qcode", "data": "ctrl"} or
 * {"type": "number", "data": 29}. */
static bool key_value(JsonNode *n, uint16_t *code, GError **errp)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    const char *type = o ? json_object_get_string_member_with_default(
                               o, "type", NULL) : NULL;
    JsonNode *data = o ? json_object_get_member(o, "data") : NULL;

    if (!type || !data || !JSON_NODE_HOLDS_VALUE(data)) {
        g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                    "Invalid parameter type for 'keys', expected: KeyValue");
        return false;
    }
    if (!strcmp(type, "qcode") &&
        json_node_get_value_type(data) == G_TYPE_STRING) {
        const char *name = json_node_get_string(data);
        if (g_ascii_isdigit(name[0]) || !key_parse(name, code, NULL)) {
            g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                        "Parameter 'keys.data' does not accept value '%s'",
                        name);
            return false;
        }
        return true;
    }
    if (!strcmp(type, "number") &&
        json_node_get_value_type(data) == G_TYPE_INT64) {
        gint64 v = json_node_get_int(data);
        if (v < 0 || !key_number((unsigned long)v, code)) {
            g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                        "key number %lld is not a key", (long long)v);
            return false;
        }
        return true;
    }
    g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                "Invalid parameter type for 'keys', expected: KeyValue");
    return false;
}

/* send-key {"keys": [KeyValue, ...], "hold-time": ms}, as in QEMU. */
static void cmd_send_key(Qmp *q, JsonObject *args, JsonNode **ret,
                         GError **errp)
{
    uint16_t codes[KEYS_MAX];
    unsigned n = 0;
    gint64 hold = 100;
    JsonNode *keys = args ? json_object_get_member(args, "keys") : NULL;
    g_autoptr(GList) names = args ? json_object_get_members(args) : NULL;

    for (GList *l = names; l; l = l->next) {
        if (strcmp(l->data, "keys") && strcmp(l->data, "hold-time")) {
            g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                        "Parameter '%s' is unexpected", (char *)l->data);
            return;
        }
    }
    if (!keys || !JSON_NODE_HOLDS_ARRAY(keys)) {
        g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                    "Parameter 'keys' is missing");
        return;
    }
    if (args && json_object_has_member(args, "hold-time")) {
        JsonNode *h = json_object_get_member(args, "hold-time");
        if (!JSON_NODE_HOLDS_VALUE(h) ||
            json_node_get_value_type(h) != G_TYPE_INT64 ||
            (hold = json_node_get_int(h)) < 0 || hold > 10000) {
            g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                        "Parameter 'hold-time' expects an integer 0-10000");
            return;
        }
    }
    JsonArray *a = json_node_get_array(keys);
    guint len = json_array_get_length(a);
    if (len == 0 || len > KEYS_MAX) {
        g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                    "Parameter 'keys' needs 1 to %d keys", KEYS_MAX);
        return;
    }
    for (guint i = 0; i < len; i++) {
        if (!key_value(json_array_get_element(a, i), &codes[n++], errp)) {
            return;
        }
    }
    if (!q->hooks.send_keys) {
        g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC,
                    "this command is not available");
        return;
    }
    GError *err = NULL;
    if (!q->hooks.send_keys(q->hooks.opaque, codes, n, (unsigned)hold, &err)) {
        g_set_error(errp, qmp_error_quark(), QMP_ERR_GENERIC, "%s",
                    err->message);
        g_error_free(err);
    }
}

static const QmpCmd qmp_cmds[] = {
    { "qmp_capabilities", cmd_capabilities },
    { "query-status", cmd_query_status },
    { "query-version", cmd_query_version },
    { "query-cpus-fast", cmd_query_cpus_fast },
    { "query-commands", cmd_query_commands },
    { "stop", cmd_stop },
    { "cont", cmd_cont },
    { "system_reset", cmd_system_reset },
    { "system_powerdown", cmd_system_powerdown },
    { "send-key", cmd_send_key, true },
    { "quit", cmd_quit },
};

static void cmd_query_commands(Qmp *q, JsonObject *args, JsonNode **ret,
                               GError **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    size_t i;

    json_builder_begin_array(b);
    for (i = 0; i < G_N_ELEMENTS(qmp_cmds); i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, qmp_cmds[i].name);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    *ret = json_builder_get_root(b);
}

/* ---- requests ---- */

static void qmp_handle(Qmp *q, const char *text)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) root = json_from_string(text, &err);
    g_autoptr(GList) members = NULL;
    JsonObject *req, *args = NULL;
    JsonNode *id = NULL, *exec, *ret = NULL;
    const QmpCmd *cmd = NULL;
    const char *name;
    GList *l;
    size_t i;

    if (!root) {
        g_autofree char *desc = g_strdup_printf("JSON parse error, %s",
                                                err->message);
        qmp_send_error(q, NULL, QMP_GENERIC_ERROR, desc);
        return;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        qmp_send_error(q, NULL, QMP_GENERIC_ERROR,
                       "QMP input must be a JSON object");
        return;
    }
    req = json_node_get_object(root);
    id = json_object_get_member(req, "id");
    members = json_object_get_members(req);
    for (l = members; l; l = l->next) {
        if (strcmp(l->data, "execute") && strcmp(l->data, "arguments") &&
            strcmp(l->data, "id")) {
            g_autofree char *desc = g_strdup_printf(
                "QMP input member '%s' is unexpected", (char *)l->data);
            qmp_send_error(q, id, QMP_GENERIC_ERROR, desc);
            return;
        }
    }
    exec = json_object_get_member(req, "execute");
    if (!exec || !JSON_NODE_HOLDS_VALUE(exec) ||
        json_node_get_value_type(exec) != G_TYPE_STRING) {
        qmp_send_error(q, id, QMP_GENERIC_ERROR,
                       "QMP input lacks member 'execute' (a string)");
        return;
    }
    if (json_object_has_member(req, "arguments")) {
        JsonNode *a = json_object_get_member(req, "arguments");
        if (!JSON_NODE_HOLDS_OBJECT(a)) {
            qmp_send_error(q, id, QMP_GENERIC_ERROR,
                           "QMP input member 'arguments' must be an object");
            return;
        }
        args = json_node_get_object(a);
    }
    name = json_node_get_string(exec);
    for (i = 0; i < G_N_ELEMENTS(qmp_cmds); i++) {
        if (!strcmp(name, qmp_cmds[i].name)) {
            cmd = &qmp_cmds[i];
        }
    }
    if (!cmd) {
        g_autofree char *desc = g_strdup_printf("The command %s has not been "
                                                "found", name);
        qmp_send_error(q, id, QMP_COMMAND_NOT_FOUND, desc);
        return;
    }
    if (!q->negotiated && cmd->run != cmd_capabilities) {
        qmp_send_error(q, id, QMP_COMMAND_NOT_FOUND,
                       "Expecting capabilities negotiation with "
                       "'qmp_capabilities'");
        return;
    }
    if (!cmd->takes_args && args && json_object_get_size(args) > 0) {
        g_autoptr(GList) names = json_object_get_members(args);
        g_autofree char *desc = g_strdup_printf("Parameter '%s' is unexpected",
                                                (char *)names->data);
        qmp_send_error(q, id, QMP_GENERIC_ERROR, desc);
        return;
    }
    cmd->run(q, args, &ret, &err);
    if (err) {
        qmp_send_error(q, id, err->code == QMP_ERR_NOT_FOUND ?
                       QMP_COMMAND_NOT_FOUND : QMP_GENERIC_ERROR, err->message);
        return;
    }
    {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "return");
        if (ret) {
            json_builder_add_value(b, ret);
        } else {
            json_builder_begin_object(b);
            json_builder_end_object(b);
        }
        add_id(b, id);
        json_builder_end_object(b);
        qmp_send(q, json_builder_get_root(b));
    }
    if (q->quitting && q->hooks.quit) {
        q->hooks.quit(q->hooks.opaque);
    }
}

/* ---- framing ---- */

static void framer_reset(Qmp *q)
{
    g_string_truncate(q->msg, 0);
    q->depth = 0;
    q->in_string = q->escape = q->garbage = false;
}

static void framer_byte(Qmp *q, char ch)
{
    if (q->depth == 0) {
        if (ch == '{' || ch == '[') {
            if (q->garbage) {
                qmp_send_error(q, NULL, QMP_GENERIC_ERROR,
                               "JSON parse error, expected a JSON object");
                q->garbage = false;
            }
            q->depth = 1;
            g_string_append_c(q->msg, ch);
        } else if (ch == '\n' && q->garbage) {
            qmp_send_error(q, NULL, QMP_GENERIC_ERROR,
                           "JSON parse error, expected a JSON object");
            q->garbage = false;
        } else if (!g_ascii_isspace(ch)) {
            q->garbage = true;
        }
        return;
    }
    g_string_append_c(q->msg, ch);
    if (q->in_string) {
        if (q->escape) {
            q->escape = false;
        } else if (ch == '\\') {
            q->escape = true;
        } else if (ch == '"') {
            q->in_string = false;
        }
    } else if (ch == '"') {
        q->in_string = true;
    } else if (ch == '{' || ch == '[') {
        q->depth++;
    } else if (ch == '}' || ch == ']') {
        q->depth--;
    }
    if (q->depth > QMP_MAX_DEPTH || q->msg->len > QMP_MAX_MESSAGE) {
        qmp_send_error(q, NULL, QMP_GENERIC_ERROR,
                       "JSON parse error, message too large or too deep");
        framer_reset(q);
        return;
    }
    if (q->depth == 0) {
        g_autofree char *text = g_strndup(q->msg->str, q->msg->len);

        framer_reset(q);
        qmp_handle(q, text);
    }
}

/* ---- chardev frontend ---- */

static int qmp_can_receive(void *opaque)
{
    return 4096;
}

static void qmp_receive(void *opaque, const uint8_t *buf, int len)
{
    Qmp *q = opaque;
    int i;

    for (i = 0; i < len && !q->quitting; i++) {
        framer_byte(q, (char)buf[i]);
    }
}

static void qmp_chr_event(void *opaque, ChardevEvent ev)
{
    Qmp *q = opaque;

    if (ev == CHR_EVENT_OPENED) {
        q->negotiated = false;
        framer_reset(q);
        qmp_greeting(q);
    } else if (ev == CHR_EVENT_CLOSED) {
        q->negotiated = false;
        framer_reset(q);
    }
}

void qmp_event(Qmp *q, const char *name, const char *data_json)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    gint64 now = g_get_real_time();
    JsonNode *data = NULL;

    if (!q->negotiated) {
        return;
    }
    if (data_json) {
        data = json_from_string(data_json, NULL);
        if (data && !JSON_NODE_HOLDS_OBJECT(data)) {
            g_clear_pointer(&data, json_node_unref);
        }
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, name);
    if (data) {
        json_builder_set_member_name(b, "data");
        json_builder_add_value(b, data);
    }
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_int_value(b, now / G_USEC_PER_SEC);
    json_builder_set_member_name(b, "microseconds");
    json_builder_add_int_value(b, now % G_USEC_PER_SEC);
    json_builder_end_object(b);
    json_builder_end_object(b);
    qmp_send(q, json_builder_get_root(b));
}

Qmp *qmp_new(Chardev *chr, const MonitorHooks *hooks, GError **errp)
{
    Qmp *q = g_new0(Qmp, 1);
    ChardevFrontend fe = {
        .can_receive = qmp_can_receive,
        .receive = qmp_receive,
        .event = qmp_chr_event,
        .opaque = q,
    };

    q->chr = chr;
    q->hooks = *hooks;
    q->msg = g_string_new(NULL);
    if (!chardev_attach(chr, &fe, errp)) {
        g_string_free(q->msg, TRUE);
        g_free(q);
        return NULL;
    }
    return q;
}

void qmp_free(Qmp *q)
{
    if (!q) {
        return;
    }
    chardev_detach(q->chr, q);
    g_string_free(q->msg, TRUE);
    g_free(q);
}
