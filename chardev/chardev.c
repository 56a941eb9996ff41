/*
 * Chardev specs and the common chardev object.
 *
 * Parses the two spellings users know from QEMU — the -serial/-monitor form
 * ("stdio", "mon:stdio", "file:PATH", "tcp:HOST:PORT,server=on,wait=off",
 * "unix:PATH,server=on", "pty", "null") and the -chardev form
 * ("socket,id=ID,port=N,server=on,...") — into ChardevOpts, creates the
 * backend, wraps it in a mux when asked (mon: prefix or mux=on), and
 * implements the backend-independent parts of chardev.h.
 */
#include "chardev/chardev-internal.h"
#include "core/error.h"

#include <string.h>

static void opts_clear(ChardevOpts *o)
{
    g_free(o->backend);
    g_free(o->id);
    g_free(o->path);
    g_free(o->host);
    g_free(o->port);
}

static void opts_init(ChardevOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->server = o->wait = o->signal = o->append = o->mux = -1;
}

static bool parse_bool(const char *key, const char *v, int *out, GError **errp)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = 1;
    } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = 0;
    } else {
        error_setg(errp, "parameter '%s' expects on or off, not '%s'", key, v);
        return false;
    }
    return true;
}

static bool set_string(char **slot, const char *key, const char *v,
                       GError **errp)
{
    if (*slot) {
        error_setg(errp, "parameter '%s' given twice", key);
        return false;
    }
    *slot = g_strdup(v);
    return true;
}

/* One key=value (or bare flag) of an option list. */
static bool opts_set(ChardevOpts *o, const char *key, const char *v,
                     GError **errp)
{
    if (!v) {
        /* Bare flags of the old spelling: "server", "nowait", "mux". */
        if (!strcmp(key, "nowait")) {
            o->wait = 0;
            return true;
        }
        if (!strcmp(key, "server") || !strcmp(key, "wait") ||
            !strcmp(key, "mux") || !strcmp(key, "append") ||
            !strcmp(key, "signal")) {
            v = "on";
        } else {
            error_setg(errp, "parameter '%s' needs a value", key);
            return false;
        }
    }
    if (!strcmp(key, "id")) {
        return set_string(&o->id, key, v, errp);
    } else if (!strcmp(key, "path")) {
        return set_string(&o->path, key, v, errp);
    } else if (!strcmp(key, "host")) {
        return set_string(&o->host, key, v, errp);
    } else if (!strcmp(key, "port")) {
        return set_string(&o->port, key, v, errp);
    } else if (!strcmp(key, "server")) {
        return parse_bool(key, v, &o->server, errp);
    } else if (!strcmp(key, "wait")) {
        return parse_bool(key, v, &o->wait, errp);
    } else if (!strcmp(key, "signal")) {
        return parse_bool(key, v, &o->signal, errp);
    } else if (!strcmp(key, "append")) {
        return parse_bool(key, v, &o->append, errp);
    } else if (!strcmp(key, "mux")) {
        return parse_bool(key, v, &o->mux, errp);
    }
    error_setg(errp, "invalid parameter '%s'", key);
    return false;
}

/* Split "a=b,c,d=e" (",," is a literal comma inside a value) and apply each
 * item to o. */
static bool opts_parse_list(ChardevOpts *o, const char *list, GError **errp)
{
    const char *p = list;

    while (*p) {
        GString *item = g_string_new(NULL);
        bool ok;
        char *eq;

        for (; *p; p++) {
            if (*p == ',') {
                if (p[1] == ',') {
                    g_string_append_c(item, ',');
                    p++;
                    continue;
                }
                p++;
                break;
            }
            g_string_append_c(item, *p);
        }
        if (item->len == 0) {
            g_string_free(item, TRUE);
            continue;
        }
        eq = strchr(item->str, '=');
        if (eq) {
            *eq = '\0';
        }
        ok = opts_set(o, item->str, eq ? eq + 1 : NULL, errp);
        g_string_free(item, TRUE);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* "HOST:PORT" with HOST possibly empty or a bracketed IPv6 address. */
static bool parse_host_port(ChardevOpts *o, const char *hp, GError **errp)
{
    const char *colon;

    if (hp[0] == '[') {
        const char *end = strchr(hp, ']');
        if (!end || end[1] != ':') {
            error_setg(errp, "'%s' is not [IPV6]:PORT", hp);
            return false;
        }
        o->host = g_strndup(hp + 1, end - hp - 1);
        colon = end + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon) {
            error_setg(errp, "'%s' is not HOST:PORT", hp);
            return false;
        }
        o->host = g_strndup(hp, colon - hp);
    }
    o->port = g_strdup(colon + 1);
    return true;
}

/* The -serial spelling, without a "mon:" prefix. */
static bool parse_legacy(ChardevOpts *o, const char *spec, GError **errp)
{
    size_t n = strcspn(spec, ":,");
    const char *rest = spec + n;
    g_autofree char *name = g_strndup(spec, n);
    g_autofree char *first = NULL;
    const char *list;

    if (!strcmp(name, "stdio") || !strcmp(name, "null") ||
        !strcmp(name, "pty") || !strcmp(name, "vc")) {
        if (!strcmp(name, "vc")) {
            /* A virtual console: without one of our own, the terminal.  A
             * size suffix (vc:80Cx24C) is accepted and ignored. */
            if (*rest == ':') {
                rest += strcspn(rest, ",");
            }
            o->backend = g_strdup("stdio");
        } else {
            o->backend = g_strdup(name);
        }
        if (*rest == ':') {
            error_setg(errp, "'%s' takes no ':' argument", name);
            return false;
        }
        return opts_parse_list(o, rest, errp);
    }
    if (strcmp(name, "file") && strcmp(name, "tcp") && strcmp(name, "unix")) {
        error_setg(errp, "unknown character device '%s' (known: stdio, "
                   "mon:stdio, null, pty, file:PATH, tcp:HOST:PORT, "
                   "unix:PATH)", spec);
        return false;
    }
    if (*rest != ':' || rest[1] == '\0' || rest[1] == ',') {
        error_setg(errp, "'%s' needs an argument: %s:%s", spec, name,
                   strcmp(name, "tcp") ? "PATH" : "HOST:PORT");
        return false;
    }
    rest++;
    list = rest + strcspn(rest, ",");
    first = g_strndup(rest, list - rest);
    if (!strcmp(name, "file")) {
        o->backend = g_strdup("file");
        o->path = g_steal_pointer(&first);
    } else if (!strcmp(name, "unix")) {
        o->backend = g_strdup("socket");
        o->path = g_steal_pointer(&first);
    } else {
        o->backend = g_strdup("socket");
        if (!parse_host_port(o, first, errp)) {
            return false;
        }
    }
    return opts_parse_list(o, list, errp);
}

/* Reject options that make no sense for the chosen backend. */
static bool opts_check(const ChardevOpts *o, GError **errp)
{
    bool sock = !strcmp(o->backend, "socket");
    bool file = !strcmp(o->backend, "file");

    if (!sock && (o->host || o->port || o->server >= 0 || o->wait >= 0)) {
        error_setg(errp, "chardev '%s': host/port/server/wait are for "
                   "sockets only", o->backend);
        return false;
    }
    if (!sock && !file && o->path) {
        error_setg(errp, "chardev '%s' takes no path", o->backend);
        return false;
    }
    if (!file && o->append >= 0) {
        error_setg(errp, "chardev '%s': append is for files only", o->backend);
        return false;
    }
    if (strcmp(o->backend, "stdio") && o->signal >= 0) {
        error_setg(errp, "chardev '%s': signal is for stdio only", o->backend);
        return false;
    }
    return true;
}

static Chardev *chardev_create(ChardevOpts *o, const ChardevHost *host,
                               GError **errp)
{
    Chardev *c;

    if (!opts_check(o, errp)) {
        return NULL;
    }
    if (!strcmp(o->backend, "null")) {
        c = chr_null_new(o, host, errp);
    } else if (!strcmp(o->backend, "stdio")) {
        c = chr_stdio_new(o, host, errp);
    } else if (!strcmp(o->backend, "file")) {
        c = chr_file_new(o, host, errp);
    } else if (!strcmp(o->backend, "pty")) {
        c = chr_pty_new(o, host, errp);
    } else if (!strcmp(o->backend, "socket")) {
        c = chr_socket_new(o, host, errp);
    } else {
        error_setg(errp, "unknown chardev backend '%s' (known: stdio, null, "
                   "file, pty, socket)", o->backend);
        return NULL;
    }
    if (c && o->mux == 1) {
        c = chr_mux_new(c, o->id, host);
    }
    return c;
}

Chardev *chardev_new(const char *id, const char *spec, const ChardevHost *host,
                     GError **errp)
{
    ChardevOpts o;
    Chardev *c = NULL;
    bool mon = g_str_has_prefix(spec, "mon:");

    opts_init(&o);
    if (parse_legacy(&o, mon ? spec + 4 : spec, errp)) {
        if (o.id) {
            error_setg(errp, "'%s': id= is for -chardev", spec);
        } else {
            o.id = g_strdup(id);
            if (mon) {
                o.mux = 1;
                /* The guest may want Ctrl-C when it shares the terminal
                 * with the monitor. */
                if (!strcmp(o.backend, "stdio") && o.signal < 0) {
                    o.signal = 0;
                }
            }
            c = chardev_create(&o, host, errp);
        }
    }
    opts_clear(&o);
    return c;
}

Chardev *chardev_new_opts(const char *opts, const ChardevHost *host,
                          GError **errp)
{
    ChardevOpts o;
    Chardev *c = NULL;
    size_t n = strcspn(opts, ",");

    opts_init(&o);
    o.backend = g_strndup(opts, n);
    if (!strcmp(o.backend, "vc")) {
        g_free(o.backend);
        o.backend = g_strdup("stdio");
    }
    if (opts_parse_list(&o, opts + n, errp)) {
        if (!o.id || !o.id[0]) {
            error_setg(errp, "-chardev %s: an id= is required", opts);
        } else {
            c = chardev_create(&o, host, errp);
        }
    }
    opts_clear(&o);
    return c;
}

void *chr_alloc(size_t sz, const ChardevClass *cls, const char *id,
                const ChardevHost *host)
{
    Chardev *c = g_malloc0(sz);

    c->cls = cls;
    c->id = g_strdup(id ? id : cls->name);
    c->host = *host;
    if (!c->host.ctx) {
        c->host.ctx = g_main_context_default();
    }
    c->be_open = true;
    return c;
}

void chr_lock(Chardev *c)
{
    if (c->host.lock) {
        g_mutex_lock(c->host.lock);
    }
}

void chr_unlock(Chardev *c)
{
    if (c->host.lock) {
        g_mutex_unlock(c->host.lock);
    }
}

int chr_be_can_receive(Chardev *c)
{
    if (!c->has_fe || !c->fe.can_receive || !c->fe.receive) {
        return 0;
    }
    return c->fe.can_receive(c->fe.opaque);
}

void chr_be_receive(Chardev *c, const uint8_t *buf, int len)
{
    if (c->has_fe && c->fe.receive && len > 0) {
        c->fe.receive(c->fe.opaque, buf, len);
    }
}

void chr_be_event(Chardev *c, ChardevEvent ev)
{
    if (ev == CHR_EVENT_OPENED) {
        c->be_open = true;
    } else if (ev == CHR_EVENT_CLOSED) {
        c->be_open = false;
    }
    if (c->has_fe && c->fe.event) {
        c->fe.event(c->fe.opaque, ev);
    }
}

const char *chardev_id(const Chardev *c)
{
    return c->id;
}

bool chardev_is_mux(const Chardev *c)
{
    return c->is_mux;
}

bool chardev_attach(Chardev *c, const ChardevFrontend *fe, GError **errp)
{
    if (c->is_mux) {
        return chr_mux_attach(c, fe, errp);
    }
    if (c->has_fe) {
        error_setg(errp, "chardev '%s' is already in use (use mon: or "
                   "mux=on to share it)", c->id);
        return false;
    }
    c->fe = *fe;
    c->has_fe = true;
    if (c->be_open && fe->event) {
        fe->event(fe->opaque, CHR_EVENT_OPENED);
    }
    if (c->cls->resume) {
        c->cls->resume(c);
    }
    return true;
}

void chardev_detach(Chardev *c, void *fe_opaque)
{
    if (c->is_mux) {
        chr_mux_detach(c, fe_opaque);
    } else if (c->has_fe && c->fe.opaque == fe_opaque) {
        c->has_fe = false;
        memset(&c->fe, 0, sizeof(c->fe));
    }
}

size_t chardev_write(Chardev *c, const void *buf, size_t len)
{
    if (len == 0) {
        return 0;
    }
    return c->cls->write(c, buf, len);
}

static gboolean resume_cb(gpointer opaque)
{
    Chardev *c = opaque;

    chr_lock(c);
    g_source_unref(c->resume_src);
    c->resume_src = NULL;
    if (c->cls->resume) {
        c->cls->resume(c);
    }
    chr_unlock(c);
    return G_SOURCE_REMOVE;
}

void chardev_accept_input(Chardev *c)
{
    /* Never call back into the frontend from here: it is usually inside one
     * of its own register handlers.  Resume from the main loop instead. */
    if (c->resume_src) {
        return;
    }
    c->resume_src = g_idle_source_new();
    g_source_set_callback(c->resume_src, resume_cb, c, NULL);
    g_source_attach(c->resume_src, c->host.ctx);
}

const char *chardev_describe(const Chardev *c)
{
    return c->desc ? c->desc : c->cls->name;
}

void chardev_free(Chardev *c)
{
    if (!c) {
        return;
    }
    if (c->resume_src) {
        g_source_destroy(c->resume_src);
        g_source_unref(c->resume_src);
    }
    if (c->cls->finalize) {
        c->cls->finalize(c);
    }
    g_free(c->id);
    g_free(c->desc);
    g_free(c);
}
