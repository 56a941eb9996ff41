/*
 * "TYPE,key=value,..." option strings of -netdev/-nic (see opts.h).
 */
#include "net/opts.h"

#include <string.h>

#include "core/error.h"

/* Split at single commas; ",," is a literal comma. */
static GPtrArray *split(const char *s)
{
    GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);
    for (const char *p = s; *p; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',') {
            g_ptr_array_add(parts, g_string_free(cur, FALSE));
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    g_ptr_array_add(parts, g_string_free(cur, FALSE));
    return parts;
}

bool net_opts_parse(NetOpts *o, const char *s, GError **errp)
{
    memset(o, 0, sizeof(*o));
    GPtrArray *parts = split(s);
    bool ok = true;
    o->opts = g_new0(NetOpt, parts->len);
    for (unsigned i = 0; i < parts->len && ok; i++) {
        const char *part = parts->pdata[i];
        const char *eq = strchr(part, '=');
        if (i == 0 && !eq) {
            o->type = g_strdup(part);
            continue;
        }
        if (!*part) {
            continue;
        }
        if (!eq) {
            error_setg(errp, "'%s' needs a value (%s=...)", part, part);
            ok = false;
            break;
        }
        NetOpt *opt = &o->opts[o->nr++];
        opt->key = g_strndup(part, (gsize)(eq - part));
        opt->value = g_strdup(eq + 1);
        if (i == 0 && !strcmp(opt->key, "type")) {
            o->type = g_strdup(opt->value);
            opt->used = true;
        }
    }
    g_ptr_array_free(parts, TRUE);
    if (ok && (!o->type || !*o->type)) {
        error_setg(errp, "no network backend type given");
        ok = false;
    }
    if (!ok) {
        net_opts_free(o);
    }
    return ok;
}

void net_opts_free(NetOpts *o)
{
    for (unsigned i = 0; i < o->nr; i++) {
        g_free(o->opts[i].key);
        g_free(o->opts[i].value);
    }
    g_free(o->opts);
    g_free(o->type);
    memset(o, 0, sizeof(*o));
}

const char *net_opts_get_nth(NetOpts *o, const char *key, unsigned n)
{
    for (unsigned i = 0; i < o->nr; i++) {
        if (!strcmp(o->opts[i].key, key) && n-- == 0) {
            o->opts[i].used = true;
            return o->opts[i].value;
        }
    }
    return NULL;
}

const char *net_opts_get(NetOpts *o, const char *key)
{
    const char *v = NULL;
    for (unsigned i = 0; i < o->nr; i++) {
        if (!strcmp(o->opts[i].key, key)) {
            o->opts[i].used = true;
            v = o->opts[i].value;
        }
    }
    return v;
}

bool net_opts_get_bool(NetOpts *o, const char *key, bool def, bool *out,
                       GError **errp)
{
    const char *v = net_opts_get(o, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
        return true;
    }
    error_setg(errp, "%s expects on or off, not '%s'", key, v);
    return false;
}

bool net_opts_check_all_used(NetOpts *o, GError **errp)
{
    for (unsigned i = 0; i < o->nr; i++) {
        if (!o->opts[i].used) {
            error_setg(errp, "%s: unknown option '%s'", o->type, o->opts[i].key);
            return false;
        }
    }
    return true;
}
