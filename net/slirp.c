/*
 * The "user" backend: user-mode networking through libslirp (NAT to the
 * host's sockets, DHCP, DNS forwarding, host forwarding rules, ICMP echo
 * through the host's ping sockets where the host allows it).  libslirp's
 * file descriptors are polled by a GSource on the machine's main loop and
 * its timers are core/ timers; every libslirp call happens with the machine
 * lock held.  While the NIC's queue holds frames from slirp, slirp's sockets
 * are not polled for input, so TCP flow control reaches the host peer.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <slirp/libslirp.h>

#include "core/error.h"
#include "net/backend.h"

typedef struct UserNet UserNet;

typedef struct UserSource {
    GSource src;
    UserNet *u;
} UserSource;

struct UserNet {
    NetClient *nc;
    Slirp *slirp;
    UserSource *source;
    GPollFD *fds;       /* registered with source between prepare and dispatch */
    unsigned nr_fds, cap_fds;
    int64_t deadline;   /* host ns at which slirp wants to run its timers */
    bool blocked;       /* the NIC's queue holds our frames */
    char *hostname, *domainname, *tftp, *bootfile;
};

typedef struct UserTimer {
    Timer t;
    SlirpTimerCb cb;
    void *cb_opaque;
} UserTimer;

/* ---- libslirp callbacks ---- */

static ssize_t user_send_packet(const void *buf, size_t len, void *opaque)
{
    UserNet *u = opaque;
    if (net_send(u->nc, buf, len) == NET_QUEUED) {
        u->blocked = true;
    }
    return (ssize_t)len;
}

static void user_guest_error(const char *msg, void *opaque)
{
    warn_report("user network: guest error: %s", msg);
}

static int64_t user_clock_ns(void *opaque)
{
    UserNet *u = opaque;
    return clock_ns(u->nc->host.timers, CLOCK_HOST);
}

static void user_timer_fire(void *opaque)
{
    UserTimer *t = opaque;
    t->cb(t->cb_opaque);
}

static void *user_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    UserNet *u = opaque;
    UserTimer *t = g_new0(UserTimer, 1);
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    timer_init(&t->t, u->nc->host.timers, CLOCK_HOST, user_timer_fire, t);
    return t;
}

static void user_timer_free(void *timer, void *opaque)
{
    UserTimer *t = timer;
    timer_del(&t->t);
    g_free(t);
}

static void user_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    UserTimer *t = timer;
    timer_mod(&t->t, expire_ms * 1000000);
}

static void user_register_fd(int fd, void *opaque) {}
static void user_unregister_fd(int fd, void *opaque) {}

static void user_notify(void *opaque)
{
    UserNet *u = opaque;
    g_main_context_wakeup(u->nc->host.ctx);
}

static const SlirpCb user_callbacks = {
    .send_packet = user_send_packet,
    .guest_error = user_guest_error,
    .clock_get_ns = user_clock_ns,
    .timer_new = user_timer_new,
    .timer_free = user_timer_free,
    .timer_mod = user_timer_mod,
    .register_poll_fd = user_register_fd,
    .unregister_poll_fd = user_unregister_fd,
    .notify = user_notify,
};

/* ---- the GSource polling slirp's sockets ---- */

static int add_poll(int fd, int events, void *opaque)
{
    UserNet *u = opaque;
    if (u->nr_fds == u->cap_fds) {
        u->cap_fds = u->cap_fds ? u->cap_fds * 2 : 16;
        u->fds = g_renew(GPollFD, u->fds, u->cap_fds);
    }
    gushort ev = 0;
    if ((events & SLIRP_POLL_IN) && !u->blocked) {
        ev |= G_IO_IN;
    }
    if (events & SLIRP_POLL_OUT) {
        ev |= G_IO_OUT;
    }
    if ((events & SLIRP_POLL_PRI) && !u->blocked) {
        ev |= G_IO_PRI;
    }
    if (events & SLIRP_POLL_ERR) {
        ev |= G_IO_ERR;
    }
    if (events & SLIRP_POLL_HUP) {
        ev |= G_IO_HUP;
    }
    u->fds[u->nr_fds] = (GPollFD){ .fd = fd, .events = ev, .revents = 0 };
    return (int)u->nr_fds++;
}

static int get_revents(int idx, void *opaque)
{
    UserNet *u = opaque;
    if (idx < 0 || (unsigned)idx >= u->nr_fds) {
        return 0;
    }
    gushort r = u->fds[idx].revents;
    int ev = 0;
    if (r & G_IO_IN) {
        ev |= SLIRP_POLL_IN;
    }
    if (r & G_IO_OUT) {
        ev |= SLIRP_POLL_OUT;
    }
    if (r & G_IO_PRI) {
        ev |= SLIRP_POLL_PRI;
    }
    if (r & G_IO_ERR) {
        ev |= SLIRP_POLL_ERR;
    }
    if (r & G_IO_HUP) {
        ev |= SLIRP_POLL_HUP;
    }
    return ev;
}

static gboolean user_prepare(GSource *s, gint *timeout)
{
    UserNet *u = ((UserSource *)s)->u;
    for (unsigned i = 0; i < u->nr_fds; i++) {
        g_source_remove_poll(s, &u->fds[i]);
    }
    u->nr_fds = 0;
    uint32_t t = UINT32_MAX;
    g_mutex_lock(u->nc->host.lock);
    slirp_pollfds_fill(u->slirp, &t, add_poll, u);
    g_mutex_unlock(u->nc->host.lock);
    for (unsigned i = 0; i < u->nr_fds; i++) {
        g_source_add_poll(s, &u->fds[i]);
    }
    if (t == UINT32_MAX) {
        u->deadline = G_MAXINT64;
        *timeout = -1;
    } else {
        u->deadline = g_get_monotonic_time() * 1000 + (int64_t)t * 1000000;
        *timeout = t > G_MAXINT ? G_MAXINT : (gint)t;
    }
    return t == 0;
}

static gboolean user_check(GSource *s)
{
    UserNet *u = ((UserSource *)s)->u;
    for (unsigned i = 0; i < u->nr_fds; i++) {
        if (u->fds[i].revents) {
            return TRUE;
        }
    }
    return g_get_monotonic_time() * 1000 >= u->deadline;
}

static gboolean user_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    UserNet *u = ((UserSource *)s)->u;
    g_mutex_lock(u->nc->host.lock);
    slirp_pollfds_poll(u->slirp, 0, get_revents, u);
    g_mutex_unlock(u->nc->host.lock);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs user_source_funcs = {
    .prepare = user_prepare,
    .check = user_check,
    .dispatch = user_dispatch,
};

/* ---- the net client ---- */

static size_t user_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    UserNet *u = nc->opaque;
    slirp_input(u->slirp, buf, (int)len);
    /* New sockets or data to write: let the main loop poll again. */
    g_main_context_wakeup(nc->host.ctx);
    return len;
}

static void user_resume(NetClient *nc)
{
    UserNet *u = nc->opaque;
    u->blocked = false;
    g_main_context_wakeup(nc->host.ctx);
}

static void user_cleanup(NetClient *nc)
{
    UserNet *u = nc->opaque;
    if (u->source) {
        g_source_destroy(&u->source->src);
        g_source_unref(&u->source->src);
    }
    if (u->slirp) {
        slirp_cleanup(u->slirp);
    }
    g_free(u->fds);
    g_free(u->hostname);
    g_free(u->domainname);
    g_free(u->tftp);
    g_free(u->bootfile);
    g_free(u);
}

static const NetClientOps user_ops = {
    .type = "user",
    .kind = NET_CLIENT_BACKEND,
    .receive = user_receive,
    .resume = user_resume,
    .cleanup = user_cleanup,
};

/* ---- options ---- */

static bool get_addr(NetOpts *o, const char *key, struct in_addr *out,
                     GError **errp)
{
    const char *v = net_opts_get(o, key);
    if (v && inet_pton(AF_INET, v, out) != 1) {
        error_setg(errp, "user: %s=%s is not an IPv4 address", key, v);
        return false;
    }
    return true;
}

/* net=ADDR[/MASK]: MASK is a prefix length or a dotted netmask. */
static bool parse_net(const char *v, struct in_addr *net, struct in_addr *mask,
                      GError **errp)
{
    gchar **p = g_strsplit(v, "/", 2);
    bool ok = inet_pton(AF_INET, p[0], net) == 1;
    if (ok && p[1]) {
        char *end;
        unsigned long bits = strtoul(p[1], &end, 10);
        if (!*end && *p[1] && bits >= 1 && bits <= 30) {
            mask->s_addr = htonl(~0u << (32 - bits));
        } else {
            ok = inet_pton(AF_INET, p[1], mask) == 1;
            uint32_t m = ntohl(mask->s_addr);
            ok = ok && m != 0 && ((~m) & (~m + 1)) == 0 && (~m) >= 3;
        }
    } else if (ok) {
        mask->s_addr = htonl(0xffffff00u);
    }
    g_strfreev(p);
    if (!ok) {
        error_setg(errp, "user: invalid net=%s (expected ADDR[/BITS|/MASK])", v);
    }
    return ok;
}

static bool in_net(struct in_addr a, struct in_addr net, struct in_addr mask)
{
    return (a.s_addr & mask.s_addr) == (net.s_addr & mask.s_addr);
}

static struct in_addr host_in(struct in_addr net, struct in_addr mask,
                              uint32_t n)
{
    struct in_addr a = { htonl((ntohl(net.s_addr) & ntohl(mask.s_addr)) | n) };
    return a;
}

NetClient *net_user_new(const NetHost *host, const char *id, NetOpts *o,
                        GError **errp)
{
    struct in_addr net, mask;
    inet_pton(AF_INET, "10.0.2.0", &net);
    mask.s_addr = htonl(0xffffff00u);
    const char *netstr = net_opts_get(o, "net");
    if (netstr && !parse_net(netstr, &net, &mask, errp)) {
        return NULL;
    }
    struct in_addr vhost = host_in(net, mask, 2);
    struct in_addr dns = host_in(net, mask, 3);
    struct in_addr dhcp = host_in(net, mask, 15);
    bool restricted, ipv4, ipv6;
    if (!get_addr(o, "host", &vhost, errp) || !get_addr(o, "dns", &dns, errp) ||
        !get_addr(o, "dhcpstart", &dhcp, errp) ||
        !net_opts_get_bool(o, "restrict", false, &restricted, errp) ||
        !net_opts_get_bool(o, "ipv4", true, &ipv4, errp) ||
        !net_opts_get_bool(o, "ipv6", true, &ipv6, errp)) {
        g_prefix_error(errp, "user: ");
        return NULL;
    }
    const char *bad = !in_net(vhost, net, mask) ? "host"
                      : !in_net(dns, net, mask) ? "dns"
                      : !in_net(dhcp, net, mask) ? "dhcpstart" : NULL;
    if (bad) {
        error_setg(errp, "user: %s= is outside net=%s", bad,
                   netstr ? netstr : "10.0.2.0/24");
        return NULL;
    }
    if (!ipv4 && !ipv6) {
        error_setg(errp, "user: ipv4=off and ipv6=off leave no network");
        return NULL;
    }
    unsigned nr_fwd = 0;
    while (net_opts_get_nth(o, "hostfwd", nr_fwd)) {
        nr_fwd++;
    }
    NetHostFwd *fwd = g_new0(NetHostFwd, nr_fwd + 1);
    for (unsigned i = 0; i < nr_fwd; i++) {
        if (!net_parse_hostfwd(net_opts_get_nth(o, "hostfwd", i), &fwd[i],
                               errp)) {
            g_prefix_error(errp, "user: ");
            g_free(fwd);
            return NULL;
        }
    }
    const char *hostname = net_opts_get(o, "hostname");
    const char *domainname = net_opts_get(o, "domainname");
    const char *tftp = net_opts_get(o, "tftp");
    const char *bootfile = net_opts_get(o, "bootfile");
    if (!net_opts_check_all_used(o, errp)) {
        g_free(fwd);
        return NULL;
    }
    UserNet *u = g_new0(UserNet, 1);
    u->hostname = g_strdup(hostname);
    u->domainname = g_strdup(domainname);
    u->tftp = g_strdup(tftp);
    u->bootfile = g_strdup(bootfile);
    u->nc = net_client_new(&user_ops, host, id, u);

    SlirpConfig cfg = {
        .version = 4,
        .restricted = restricted,
        .in_enabled = ipv4,
        .vnetwork = net,
        .vnetmask = mask,
        .vhost = vhost,
        .in6_enabled = ipv6,
        .vprefix_len = 64,
        .vhostname = u->hostname,
        .tftp_path = u->tftp,
        .bootfile = u->bootfile,
        .vdhcp_start = dhcp,
        .vnameserver = dns,
        .vdomainname = u->domainname,
        .if_mtu = 1500,
        .if_mru = 1500,
    };
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    u->slirp = slirp_new(&cfg, &user_callbacks, u);
    if (!u->slirp) {
        error_setg(errp, "user: libslirp could not start");
        NetClient *nc = u->nc;
        u->nc = NULL;
        g_free(fwd);
        net_client_free(nc);
        return NULL;
    }
    for (unsigned i = 0; i < nr_fwd; i++) {
        struct in_addr ha = { fwd[i].host_addr };
        struct in_addr ga = { fwd[i].guest_addr ? fwd[i].guest_addr
                                                : dhcp.s_addr };
        if (slirp_add_hostfwd(u->slirp, fwd[i].udp, ha, fwd[i].host_port, ga,
                              fwd[i].guest_port) < 0) {
            error_setg(errp, "user: could not set up host forwarding rule "
                       "'%s' (is host port %u in use?)",
                       net_opts_get_nth(o, "hostfwd", i), fwd[i].host_port);
            g_free(fwd);
            net_client_free(u->nc);
            return NULL;
        }
    }
    g_free(fwd);
    u->source = (UserSource *)g_source_new(&user_source_funcs,
                                           sizeof(UserSource));
    u->source->u = u;
    g_source_attach(&u->source->src, host->ctx);
    return u->nc;
}
