/*
 * The "tap" backend: frames go to and come from a Linux TAP interface
 * (/dev/net/tun, IFF_TAP | IFF_NO_PI; Documentation/networking/tuntap.rst).
 * ifname= names the interface (default: the kernel picks tapN); bridging,
 * host-only and routed networks are host configuration on top of it.
 * script=/downscript= run a program with the interface name as argument
 * after opening and before closing it; "no" (the default in Kestrel) runs
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/error.h"
#include "net/backend.h"
#include "net/fdwatch.h"

typedef struct TapNet {
    NetClient *nc;
    int fd;
    FdWatch watch;
    bool blocked;     /* the NIC's queue holds our frames */
    bool write_wait;  /* the kernel queue was full: wait for G_IO_OUT */
    char ifname[IFNAMSIZ];
    char *downscript;
    uint8_t *buf;
} TapNet;

static void update_watch(TapNet *t)
{
    fd_watch_set(&t->watch, !t->blocked, t->write_wait);
}

static void tap_ready(void *opaque, GIOCondition cond)
{
    TapNet *t = opaque;
    if (cond & G_IO_OUT) {
        t->write_wait = false;
        net_client_flush(t->nc);
    }
    /* A bounded batch, so the guest's own traffic gets its turn too. */
    for (unsigned i = 0; i < 64 && !t->blocked && (cond & G_IO_IN); i++) {
        ssize_t n = read(t->fd, t->buf, NET_MAX_FRAME);
        if (n <= 0) {
            break;
        }
        if (net_send(t->nc, t->buf, (size_t)n) == NET_QUEUED) {
            t->blocked = true;
        }
    }
    update_watch(t);
}

static size_t tap_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    TapNet *t = nc->opaque;
    ssize_t n;
    do {
        n = write(t->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        t->write_wait = true;
        update_watch(t);
        return 0;
    }
    /* Other errors (interface down): the frame is lost as on a wire. */
    return len;
}

static void tap_resume(NetClient *nc)
{
    TapNet *t = nc->opaque;
    t->blocked = false;
    update_watch(t);
}

static bool run_script(const char *script, const char *ifname, GError **errp)
{
    gchar *argv[] = { (gchar *)script, (gchar *)ifname, NULL };
    gint status;
    GError *err = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                      &status, &err)) {
        error_setg(errp, "tap: could not run %s: %s", script, err->message);
        g_error_free(err);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        error_setg(errp, "tap: %s %s failed", script, ifname);
        return false;
    }
    return true;
}

static void tap_cleanup(NetClient *nc)
{
    TapNet *t = nc->opaque;
    fd_watch_destroy(&t->watch);
    if (t->fd >= 0) {
        close(t->fd);
    }
    if (t->downscript) {
        GError *err = NULL;
        if (!run_script(t->downscript, t->ifname, &err)) {
            error_report_err(err);
        }
    }
    g_free(t->downscript);
    g_free(t->buf);
    g_free(t);
}

static const NetClientOps tap_ops = {
    .type = "tap",
    .kind = NET_CLIENT_BACKEND,
    .receive = tap_receive,
    .resume = tap_resume,
    .cleanup = tap_cleanup,
};

static const char *script_opt(NetOpts *o, const char *key)
{
    const char *v = net_opts_get(o, key);
    return (!v || !strcmp(v, "no") || !*v) ? NULL : v;
}

NetClient *net_tap_new(const NetHost *host, const char *id, NetOpts *o,
                       GError **errp)
{
    const char *ifname = net_opts_get(o, "ifname");
    const char *script = script_opt(o, "script");
    const char *downscript = script_opt(o, "downscript");
    if (!net_opts_check_all_used(o, errp)) {
        return NULL;
    }
    if (ifname && strlen(ifname) >= IFNAMSIZ) {
        error_setg(errp, "tap: ifname=%s is longer than %d characters", ifname,
                   IFNAMSIZ - 1);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        error_setg(errp, "tap: cannot open /dev/net/tun: %s", g_strerror(errno));
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ifname) {
        g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error_setg(errp, "tap: could not set up %s: %s",
                   ifname ? ifname : "a tap interface", g_strerror(errno));
        close(fd);
        return NULL;
    }
    TapNet *t = g_new0(TapNet, 1);
    t->fd = fd;
    g_strlcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    t->buf = g_malloc(NET_MAX_FRAME);
    t->nc = net_client_new(&tap_ops, host, id, t);
    if (script && !run_script(script, t->ifname, errp)) {
        net_client_free(t->nc);
        return NULL;
    }
    t->downscript = g_strdup(downscript);
    fd_watch_init(&t->watch, host, fd, tap_ready, t);
    update_watch(t);
    return t->nc;
}
