/*
 * -netdev/-nic options and the default network (see net-options.h).
 */
#include "system/net-options.h"

#include <string.h>

#include "core/error.h"
#include "net/backend.h"
#include "net/opts.h"

static const char *const nic_models[] = { "e1000", "virtio-net-pci", NULL };

static bool known_model(const char *m)
{
    for (const char *const *p = nic_models; *p; p++) {
        if (!strcmp(*p, m)) {
            /* Only models this build has (virtio-net may be missing). */
            return device_class_find(machine_device_types, m) != NULL;
        }
    }
    return false;
}

/* Syntax checks that need no host resources: type, id, hostfwd rules. */
static bool check_spec(const char *opt, const char *arg, bool is_nic,
                       GError **errp)
{
    NetOpts no;
    if (!net_opts_parse(&no, arg, errp)) {
        g_prefix_error(errp, "-%s %s: ", opt, arg);
        return false;
    }
    bool ok = true;
    const char *type = no.type;
    if (strcmp(type, "user") && strcmp(type, "socket") && strcmp(type, "tap") &&
        !(is_nic && !strcmp(type, "none"))) {
        error_setg(errp, "-%s %s: '%s' is not a network backend (user, socket "
                   "or tap%s)", opt, arg, type, is_nic ? ", or none" : "");
        ok = false;
    }
    const char *id = net_opts_get(&no, "id");
    if (ok && !is_nic && (!id || !*id)) {
        error_setg(errp, "-netdev %s: id= is required", arg);
        ok = false;
    }
    const char *model = net_opts_get(&no, "model");
    if (ok && is_nic && model && !known_model(model)) {
        error_setg(errp, "-nic %s: unknown NIC model '%s' (supported: e1000%s)",
                   arg, model,
                   device_class_find(machine_device_types, "virtio-net-pci")
                       ? ", virtio-net-pci" : "");
        ok = false;
    }
    for (unsigned i = 0; ok; i++) {
        const char *fwd = net_opts_get_nth(&no, "hostfwd", i);
        NetHostFwd f;
        if (!fwd) {
            break;
        }
        if (strcmp(type, "user") != 0) {
            error_setg(errp, "-%s %s: hostfwd= is only for the user backend",
                       opt, arg);
            ok = false;
        } else if (!net_parse_hostfwd(fwd, &f, errp)) {
            g_prefix_error(errp, "-%s: ", opt);
            ok = false;
        }
    }
    net_opts_free(&no);
    return ok;
}

static gchar *id_of(const char *arg)
{
    NetOpts no;
    gchar *id = NULL;
    if (net_opts_parse(&no, arg, NULL)) {
        id = g_strdup(net_opts_get(&no, "id"));
        net_opts_free(&no);
    }
    return id;
}

bool net_option_add(Options *o, const char *opt, const char *arg,
                    GError **errp)
{
    bool is_nic = !strcmp(opt, "nic");
    if (!check_spec(opt, arg, is_nic, errp)) {
        return false;
    }
    if (is_nic) {
        if (!strcmp(arg, "none") || g_str_has_prefix(arg, "none,")) {
            o->nic_none = true;
            return true;
        }
        if (o->nr_nics == OPT_MAX_NICS) {
            error_setg(errp, "-nic: at most %d", OPT_MAX_NICS);
            return false;
        }
        o->nics[o->nr_nics++] = arg;
        return true;
    }
    if (o->nr_netdevs == OPT_MAX_NETDEVS) {
        error_setg(errp, "-netdev: at most %d", OPT_MAX_NETDEVS);
        return false;
    }
    gchar *id = id_of(arg);
    for (unsigned i = 0; i < o->nr_netdevs; i++) {
        gchar *other = id_of(o->netdevs[i]);
        bool dup = other && !strcmp(other, id);
        g_free(other);
        if (dup) {
            error_setg(errp, "-netdev %s: duplicate id '%s'", arg, id);
            g_free(id);
            return false;
        }
    }
    g_free(id);
    o->netdevs[o->nr_netdevs++] = arg;
    return true;
}

/* Split "-nic TYPE,model=M,mac=X,opts" into a backend and a device. */
static bool add_nic(Machine *m, const NetHost *host, const char *arg,
                    unsigned idx, GPtrArray *nic_devices, GError **errp)
{
    NetOpts no;
    if (!net_opts_parse(&no, arg, errp)) {
        return false;
    }
    gchar *id = g_strdup_printf("__nic%u", idx);
    GString *backend = g_string_new(no.type);
    const char *model = "e1000", *mac = NULL;
    for (unsigned i = 0; i < no.nr; i++) {
        const NetOpt *p = &no.opts[i];
        if (!strcmp(p->key, "model")) {
            model = p->value;
        } else if (!strcmp(p->key, "mac")) {
            mac = p->value;
        } else if (!strcmp(p->key, "id")) {
            g_free(id);
            id = g_strdup(p->value);
        } else if (strcmp(p->key, "type") != 0) {
            gchar **parts = g_strsplit(p->value, ",", -1);
            gchar *escaped = g_strjoinv(",,", parts);
            g_strfreev(parts);
            g_string_append_printf(backend, ",%s=%s", p->key, escaped);
            g_free(escaped);
        }
    }
    g_string_append_printf(backend, ",id=%s", id);
    NetClient *nc = net_backend_new(host, backend->str, errp);
    bool ok = nc != NULL;
    if (ok) {
        net_backends_add(m->net, nc);
        g_ptr_array_add(nic_devices,
                        mac ? g_strdup_printf("%s,netdev=%s,mac=%s", model, id, mac)
                            : g_strdup_printf("%s,netdev=%s", model, id));
    } else {
        g_prefix_error(errp, "-nic %s: ", arg);
    }
    g_string_free(backend, TRUE);
    g_free(id);
    net_opts_free(&no);
    return ok;
}

bool net_options_create(Machine *m, const Options *o, GPtrArray *nic_devices,
                        GError **errp)
{
    NetHost host = { m->ctx, &m->lock, m->timers };
    m->net = g_new0(NetBackends, 1);
    for (unsigned i = 0; i < o->nr_netdevs; i++) {
        NetClient *nc = net_backend_new(&host, o->netdevs[i], errp);
        if (!nc) {
            g_prefix_error(errp, "-netdev %s: ", o->netdevs[i]);
            return false;
        }
        net_backends_add(m->net, nc);
    }
    if (o->nic_none) {
        return true;
    }
    for (unsigned i = 0; i < o->nr_nics; i++) {
        if (!add_nic(m, &host, o->nics[i], i, nic_devices, errp)) {
            return false;
        }
    }
    /* QEMU's default: no network option at all means "-nic user". */
    if (o->nr_nics == 0 && o->nr_netdevs == 0 && !o->nodefaults &&
        !add_nic(m, &host, "user", 0, nic_devices, errp)) {
        return false;
    }
    return true;
}

void net_options_check_peers(Machine *m)
{
    for (unsigned i = 0; m->net && i < m->net->nr; i++) {
        if (!m->net->used[i]) {
            warn_report("netdev %s has no peer (no -device ...,netdev=%s)",
                        m->net->clients[i]->id, m->net->clients[i]->id);
        }
    }
}
