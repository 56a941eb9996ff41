/*
 * The -netdev front door: split the spec, check the common keys, and hand
 * it to the backend named by its type.
 */
#include "net/backend.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

NetClient *net_backend_new(const NetHost *host, const char *spec,
                           GError **errp)
{
    NetOpts o;
    if (!net_opts_parse(&o, spec, errp)) {
        return NULL;
    }
    NetClient *nc = NULL;
    const char *id = net_opts_get(&o, "id");
    if (!id || !*id) {
        error_setg(errp, "%s: id= is required", o.type);
    } else if (!strcmp(o.type, "user")) {
        nc = net_user_new(host, id, &o, errp);
    } else if (!strcmp(o.type, "socket")) {
        nc = net_socket_new(host, id, &o, errp);
    } else if (!strcmp(o.type, "tap")) {
        nc = net_tap_new(host, id, &o, errp);
    } else {
        error_setg(errp, "'%s' is not a network backend (user, socket or tap)",
                   o.type);
    }
    net_opts_free(&o);
    return nc;
}

static bool parse_port(const char *s, bool zero_ok, uint16_t *out)
{
    char *end;
    if (!*s) {
        return false;
    }
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > 65535 || (!zero_ok && v == 0)) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

static bool parse_addr(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!*s) {
        *out = 0;
        return true;
    }
    if (inet_pton(AF_INET, s, &a) != 1) {
        return false;
    }
    *out = a.s_addr;
    return true;
}

bool net_parse_hostfwd(const char *s, NetHostFwd *out, GError **errp)
{
    memset(out, 0, sizeof(*out));
    gchar **halves = g_strsplit(s, "-", 2);
    bool ok = false;
    if (!halves[0] || !halves[1]) {
        goto done;
    }
    /* Host side: PROTO:ADDR:PORT (PROTO may be empty). */
    gchar **h = g_strsplit(halves[0], ":", 3);
    gchar **g = g_strsplit(halves[1], ":", 2);
    if (g_strv_length(h) == 3 && g_strv_length(g) == 2) {
        bool proto_ok = !strcmp(h[0], "tcp") || !strcmp(h[0], "udp") ||
                        !*h[0];
        out->udp = !strcmp(h[0], "udp");
        ok = proto_ok && parse_addr(h[1], &out->host_addr) &&
             parse_port(h[2], true, &out->host_port) &&
             parse_addr(g[0], &out->guest_addr) &&
             parse_port(g[1], false, &out->guest_port);
    }
    g_strfreev(h);
    g_strfreev(g);
done:
    g_strfreev(halves);
    if (!ok) {
        error_setg(errp, "invalid hostfwd '%s' (expected "
                   "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)", s);
    }
    return ok;
}
