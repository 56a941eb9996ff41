/*
 * The "socket" backend: a cable to another emulator over a host socket,
 * without root.  listen=[HOST]:PORT waits for one peer (and for the next
 * after it leaves), connect=HOST:PORT dials one; both carry frames in QEMU's
 * stream framing (a 4-byte big-endian length, then the frame), so Kestrel
 * and QEMU guests can share a network.  mcast=GROUP:PORT joins a UDP
 * multicast group where every datagram is one frame (QEMU's mcast format),
 * so any number of VMs on the host share one segment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/error.h"
#include "net/backend.h"
#include "net/fdwatch.h"

#define IN_BUF_SIZE (NET_MAX_FRAME + 4)

typedef enum SocketMode { SOCK_LISTEN, SOCK_CONNECT, SOCK_MCAST } SocketMode;

typedef struct SocketNet {
    NetClient *nc;
    SocketMode mode;
    int listen_fd;
    int fd;             /* the connection, or the multicast socket */
    FdWatch listen_watch, watch;
    struct sockaddr_in mcast_dst;
    bool blocked;       /* the NIC's queue holds our frames */
    /* Stream input: bytes read but not yet delivered. */
    uint8_t *in;
    size_t in_len;
    /* Stream output: the rest of a frame the kernel took only partly. */
    uint8_t *out;
    size_t out_len, out_off;
} SocketNet;

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void update_watch(SocketNet *s)
{
    if (s->fd >= 0) {
        fd_watch_set(&s->watch, !s->blocked, s->out_len > s->out_off);
    }
}

static void close_conn(SocketNet *s)
{
    fd_watch_destroy(&s->watch);
    if (s->fd >= 0) {
        close(s->fd);
    }
    s->fd = -1;
    s->in_len = 0;
    s->out_len = s->out_off = 0;
    if (s->mode == SOCK_LISTEN) {
        fd_watch_set(&s->listen_watch, true, false);
    }
}

/* Deliver complete frames from the input buffer until the NIC pushes back. */
static void deliver_stream(SocketNet *s)
{
    size_t off = 0;
    while (!s->blocked && s->in_len - off >= 4) {
        uint32_t flen = ((uint32_t)s->in[off] << 24) | (s->in[off + 1] << 16) |
                        (s->in[off + 2] << 8) | s->in[off + 3];
        if (flen > NET_MAX_FRAME) {
            warn_report("netdev %s: peer sent a %u-byte frame; closing",
                        s->nc->id, flen);
            close_conn(s);
            return;
        }
        if (s->in_len - off - 4 < flen) {
            break;
        }
        if (flen > 0 && net_send(s->nc, s->in + off + 4, flen) == NET_QUEUED) {
            s->blocked = true;
        }
        off += 4 + flen;
    }
    memmove(s->in, s->in + off, s->in_len - off);
    s->in_len -= off;
}

static void flush_out(SocketNet *s)
{
    while (s->out_off < s->out_len) {
        ssize_t n = write(s->fd, s->out + s->out_off, s->out_len - s->out_off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n <= 0) {
            close_conn(s);
            return;
        }
        s->out_off += (size_t)n;
    }
    s->out_len = s->out_off = 0;
}

static void conn_ready(void *opaque, GIOCondition cond)
{
    SocketNet *s = opaque;
    if (s->mode == SOCK_MCAST) {
        while (!s->blocked) {
            ssize_t n = recv(s->fd, s->in, IN_BUF_SIZE, 0);
            if (n <= 0) {
                break;
            }
            if (net_send(s->nc, s->in, (size_t)n) == NET_QUEUED) {
                s->blocked = true;
            }
        }
        update_watch(s);
        return;
    }
    if (cond & G_IO_OUT) {
        flush_out(s);
        if (s->fd >= 0 && s->out_len == 0) {
            net_client_flush(s->nc);
        }
    }
    if (s->fd >= 0 && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !s->blocked) {
        ssize_t n = read(s->fd, s->in + s->in_len, IN_BUF_SIZE - s->in_len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            close_conn(s);
            return;
        }
        if (n > 0) {
            s->in_len += (size_t)n;
            deliver_stream(s);
        }
    }
    update_watch(s);
}

static void start_conn(SocketNet *s, int fd)
{
    s->fd = fd;
    set_nonblock(fd);
    fd_watch_init(&s->watch, &s->nc->host, fd, conn_ready, s);
    s->blocked = false;
    update_watch(s);
}

static void listen_ready(void *opaque, GIOCondition cond)
{
    SocketNet *s = opaque;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) {
        return;
    }
    if (s->fd >= 0) {
        close(fd); /* one peer at a time, as a cable has two ends */
        return;
    }
    fd_watch_set(&s->listen_watch, false, false);
    start_conn(s, fd);
}

static size_t socket_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    SocketNet *s = nc->opaque;
    if (s->mode == SOCK_MCAST) {
        ssize_t n = sendto(s->fd, buf, len, 0, (struct sockaddr *)&s->mcast_dst,
                           sizeof(s->mcast_dst));
        if (n < 0 && errno == EAGAIN) {
            fd_watch_set(&s->watch, !s->blocked, true);
            return 0;
        }
        return len;
    }
    if (s->fd < 0) {
        return len; /* nobody on the other end: the wire is unplugged */
    }
    if (s->out_len > s->out_off) {
        return 0;
    }
    uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                       (uint8_t)(len >> 8), (uint8_t)len };
    struct iovec iov[2] = { { hdr, 4 }, { (void *)buf, len } };
    ssize_t n;
    do {
        n = writev(s->fd, iov, 2);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        n = 0;
    } else if (n < 0) {
        close_conn(s);
        return len;
    }
    if ((size_t)n < len + 4) {
        /* Keep the rest: the stream must never carry half a frame. */
        memcpy(s->out, hdr, 4);
        memcpy(s->out + 4, buf, len);
        s->out_len = len + 4;
        s->out_off = (size_t)n;
        update_watch(s);
    }
    return len;
}

static void socket_resume(NetClient *nc)
{
    SocketNet *s = nc->opaque;
    s->blocked = false;
    if (s->mode != SOCK_MCAST && s->fd >= 0) {
        deliver_stream(s);
    }
    update_watch(s);
}

static void socket_cleanup(NetClient *nc)
{
    SocketNet *s = nc->opaque;
    fd_watch_destroy(&s->watch);
    fd_watch_destroy(&s->listen_watch);
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    g_free(s->in);
    g_free(s->out);
    g_free(s);
}

static const NetClientOps socket_ops = {
    .type = "socket",
    .kind = NET_CLIENT_BACKEND,
    .receive = socket_receive,
    .resume = socket_resume,
    .cleanup = socket_cleanup,
};

/* "HOST:PORT" (HOST may be empty for listen=) into an IPv4 address. */
static bool parse_hostport(const char *what, const char *v, bool host_optional,
                           struct sockaddr_in *sa, GError **errp)
{
    const char *colon = strrchr(v, ':');
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    char *end;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || !colon[1] || *end || port == 0 || port > 65535) {
        error_setg(errp, "socket: %s=%s: expected HOST:PORT", what, v);
        return false;
    }
    sa->sin_port = htons((uint16_t)port);
    gchar *host = g_strndup(v, (gsize)(colon - v));
    bool ok = true;
    if (!*host) {
        if (!host_optional) {
            error_setg(errp, "socket: %s=%s: the host is missing", what, v);
            ok = false;
        }
        sa->sin_addr.s_addr = htonl(host_optional ? INADDR_ANY : 0);
    } else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        struct addrinfo hints = { .ai_family = AF_INET }, *res;
        if (getaddrinfo(host, NULL, &hints, &res) != 0) {
            error_setg(errp, "socket: %s=%s: unknown host '%s'", what, v, host);
            ok = false;
        } else {
            sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
            freeaddrinfo(res);
        }
    }
    g_free(host);
    return ok;
}

static int open_listen(const struct sockaddr_in *sa, const char *v,
                       GError **errp)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
        listen(fd, 1) < 0) {
        error_setg(errp, "socket: listen=%s: %s", v, g_strerror(errno));
        close(fd);
        return -1;
    }
    set_nonblock(fd);
    return fd;
}

static int open_connect(const struct sockaddr_in *sa, const char *v,
                        GError **errp)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r;
    do {
        r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        error_setg(errp, "socket: connect=%s: %s", v, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int open_mcast(const struct sockaddr_in *group, const char *v,
                      const char *localaddr, GError **errp)
{
    if (!IN_MULTICAST(ntohl(group->sin_addr.s_addr))) {
        error_setg(errp, "socket: mcast=%s is not a multicast address "
                   "(224.0.0.0/4)", v);
        return -1;
    }
    struct in_addr local = { htonl(INADDR_ANY) };
    if (localaddr && inet_pton(AF_INET, localaddr, &local) != 1) {
        error_setg(errp, "socket: localaddr=%s is not an IPv4 address",
                   localaddr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    unsigned char loop = 1, ttl = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in bind_addr = *group;
    struct ip_mreq mreq = { .imr_multiaddr = group->sin_addr,
                            .imr_interface = local };
    if (bind(fd, (struct sockaddr *)&bind_addr, sizeof(bind_addr)) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
        (localaddr && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &local,
                                 sizeof(local)) < 0)) {
        error_setg(errp, "socket: mcast=%s: %s", v, g_strerror(errno));
        close(fd);
        return -1;
    }
    set_nonblock(fd);
    return fd;
}

NetClient *net_socket_new(const NetHost *host, const char *id, NetOpts *o,
                          GError **errp)
{
    const char *listen_s = net_opts_get(o, "listen");
    const char *connect_s = net_opts_get(o, "connect");
    const char *mcast_s = net_opts_get(o, "mcast");
    const char *localaddr = net_opts_get(o, "localaddr");
    if (!net_opts_check_all_used(o, errp)) {
        return NULL;
    }
    if (!!listen_s + !!connect_s + !!mcast_s != 1) {
        error_setg(errp, "socket: give exactly one of listen=, connect= or "
                   "mcast=");
        return NULL;
    }
    struct sockaddr_in sa;
    const char *v = listen_s ? listen_s : connect_s ? connect_s : mcast_s;
    if (!parse_hostport(listen_s ? "listen" : connect_s ? "connect" : "mcast",
                        v, listen_s != NULL, &sa, errp)) {
        return NULL;
    }
    int fd;
    SocketMode mode;
    if (listen_s) {
        mode = SOCK_LISTEN;
        fd = open_listen(&sa, v, errp);
    } else if (connect_s) {
        mode = SOCK_CONNECT;
        fd = open_connect(&sa, v, errp);
    } else {
        mode = SOCK_MCAST;
        fd = open_mcast(&sa, v, localaddr, errp);
    }
    if (fd < 0) {
        return NULL;
    }
    SocketNet *s = g_new0(SocketNet, 1);
    s->mode = mode;
    s->fd = s->listen_fd = -1;
    s->in = g_malloc(IN_BUF_SIZE);
    s->out = g_malloc(IN_BUF_SIZE);
    s->nc = net_client_new(&socket_ops, host, id, s);
    if (mode == SOCK_LISTEN) {
        s->listen_fd = fd;
        fd_watch_init(&s->listen_watch, host, fd, listen_ready, s);
        fd_watch_set(&s->listen_watch, true, false);
    } else {
        s->mcast_dst = sa;
        start_conn(s, fd);
    }
    return s->nc;
}
