/*
 * The socket backend: TCP (tcp:HOST:PORT, -chardev socket,host=,port=) and
 * Unix stream sockets (unix:PATH, -chardev socket,path=), as a client that
 * connects at start-up or as a server (server=on) that takes one peer at a
 * time.  A server waits for its first peer before the machine starts unless
 * wait=off, as in QEMU.  Without a peer, output is dropped like bytes on an
 * unplugged wire; a peer that stops reading for a second is treated the same
 * until its socket drains, so a stuck client never stalls the guest.
 */
#include "chardev/chardev-internal.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* How long a write may wait for a peer that does not read. */
#define SOCKET_STALL_MS 1000

typedef struct SocketChardev {
    Chardev parent;
    bool server;
    char *unix_path;     /* server: removed at the end */
    int listen_fd;
    GSource *listen_src;
    int fd;              /* the connected peer, or -1 */
    bool stalled;        /* the peer stopped reading: drop output */
    ChrReader in;
} SocketChardev;

static void socket_listen_start(SocketChardev *s);

static void socket_set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static size_t socket_write(Chardev *c, const uint8_t *buf, size_t len)
{
    SocketChardev *s = (SocketChardev *)c;
    size_t done = 0;

    if (s->fd < 0) {
        return 0;
    }
    if (s->stalled) {
        struct pollfd p = { .fd = s->fd, .events = POLLOUT };
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) {
            return 0;
        }
        s->stalled = false;
    }
    while (done < len) {
        ssize_t n = send(s->fd, buf + done, len - done, MSG_NOSIGNAL);

        if (n > 0) {
            done += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = s->fd, .events = POLLOUT };
            if (poll(&p, 1, SOCKET_STALL_MS) <= 0) {
                s->stalled = true;
                return 0;
            }
        } else {
            /* The peer is gone; the reader notices and cleans up. */
            return 0;
        }
    }
    return len;
}

static void socket_peer_gone(Chardev *c)
{
    SocketChardev *s = (SocketChardev *)c;

    close(s->fd);
    s->fd = -1;
    s->stalled = false;
    chr_reader_init(&s->in, c, -1, NULL);
    chr_be_event(c, CHR_EVENT_CLOSED);
    if (s->server) {
        socket_listen_start(s);
    }
}

static void socket_peer_connected(SocketChardev *s, int fd)
{
    socket_set_nonblock(fd);
    s->fd = fd;
    s->stalled = false;
    chr_reader_init(&s->in, &s->parent, fd, socket_peer_gone);
    chr_be_event(&s->parent, CHR_EVENT_OPENED);
    if (s->parent.has_fe) {
        chr_reader_start(&s->in);
    }
}

static gboolean socket_accept_cb(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketChardev *s = opaque;
    gboolean keep = G_SOURCE_CONTINUE;
    int peer;

    chr_lock(&s->parent);
    peer = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (peer >= 0) {
        /* One peer at a time: stop listening until it leaves. */
        g_source_unref(s->listen_src);
        s->listen_src = NULL;
        keep = G_SOURCE_REMOVE;
        socket_peer_connected(s, peer);
    }
    chr_unlock(&s->parent);
    return keep;
}

static void socket_listen_start(SocketChardev *s)
{
    if (s->listen_src || s->listen_fd < 0) {
        return;
    }
    s->listen_src = g_unix_fd_source_new(s->listen_fd, G_IO_IN);
    g_source_set_callback(s->listen_src, G_SOURCE_FUNC(socket_accept_cb), s,
                          NULL);
    g_source_attach(s->listen_src, s->parent.host.ctx);
}

static void socket_resume(Chardev *c)
{
    SocketChardev *s = (SocketChardev *)c;

    chr_reader_start(&s->in);
}

static void socket_finalize(Chardev *c)
{
    SocketChardev *s = (SocketChardev *)c;

    chr_reader_stop(&s->in);
    if (s->listen_src) {
        g_source_destroy(s->listen_src);
        g_source_unref(s->listen_src);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        if (s->unix_path) {
            unlink(s->unix_path);
        }
    }
    g_free(s->unix_path);
}

static const ChardevClass socket_class = {
    .name = "socket",
    .write = socket_write,
    .resume = socket_resume,
    .finalize = socket_finalize,
};

/* A Unix socket: connected (client) or bound and listening (server). */
static int socket_open_unix(const char *path, bool server, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        error_setg(errp, "socket path '%s' is too long (at most %zu bytes)",
                   path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg(errp, "could not create a socket: %s", strerror(errno));
        return -1;
    }
    if (server) {
        /* A socket left behind by an earlier run; never remove other files. */
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            unlink(path);
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(fd, 1) < 0) {
            error_setg(errp, "could not listen on '%s': %s", path,
                       strerror(errno));
            close(fd);
            return -1;
        }
    } else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        error_setg(errp, "could not connect to 'unix:%s': %s", path,
                   strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int socket_open_tcp(const char *host, const char *port, bool server,
                           GError **errp)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = server ? AI_PASSIVE : 0 };
    struct addrinfo *res, *ai;
    const char *node = host && host[0] ? host : (server ? NULL : "localhost");
    int err, fd = -1, saved_errno = 0;

    if (!port || !port[0] || strspn(port, "0123456789") != strlen(port) ||
        strlen(port) > 5 || atoi(port) > 65535) {
        error_setg(errp, "'%s' is not a TCP port number", port ? port : "");
        return -1;
    }
    err = getaddrinfo(node, port, &hints, &res);
    if (err) {
        error_setg(errp, "could not resolve '%s': %s", node ? node : "",
                   gai_strerror(err));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        if (server) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
                listen(fd, 1) == 0) {
                break;
            }
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        saved_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        error_setg(errp, "could not %s 'tcp:%s:%s': %s",
                   server ? "listen on" : "connect to", host ? host : "",
                   port, strerror(saved_errno));
    }
    return fd;
}

/* "tcp:HOST:PORT" with the port actually bound (port=0 picks one). */
static char *socket_tcp_name(int fd, const char *host, const char *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char serv[NI_MAXSERV];

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
        getnameinfo((struct sockaddr *)&ss, len, NULL, 0, serv, sizeof(serv),
                    NI_NUMERICSERV) == 0) {
        port = serv;
    }
    return g_strdup_printf("tcp:%s:%s", host ? host : "", port);
}

Chardev *chr_socket_new(const ChardevOpts *o, const ChardevHost *h, GError **errp)
{
    SocketChardev *s;
    bool server = o->server == 1;
    bool wait = o->wait != 0;
    char *name;
    int fd;

    if (o->path && (o->host || o->port)) {
        error_setg(errp, "socket: give either path= or host=/port=, not both");
        return NULL;
    }
    if (!o->path && !o->port) {
        error_setg(errp, "socket: path= or port= is required");
        return NULL;
    }
    if (!server && o->wait >= 0) {
        error_setg(errp, "socket: wait= is for server=on only");
        return NULL;
    }
    if (o->path) {
        fd = socket_open_unix(o->path, server, errp);
        name = g_strdup_printf("unix:%s", o->path);
    } else {
        fd = socket_open_tcp(o->host, o->port, server, errp);
        name = fd >= 0 ? socket_tcp_name(fd, o->host, o->port) : NULL;
    }
    if (fd < 0) {
        g_free(name);
        return NULL;
    }

    s = chr_alloc(sizeof(*s), &socket_class, o->id, h);
    s->server = server;
    s->listen_fd = -1;
    s->fd = -1;
    chr_reader_init(&s->in, &s->parent, -1, NULL);
    if (server) {
        s->parent.desc = g_strdup_printf("%s,server=on", name);
        s->unix_path = g_strdup(o->path);
        s->listen_fd = fd;
        s->parent.be_open = false;
        if (wait) {
            int peer;

            fprintf(stderr, "kestrel: waiting for a connection on %s\n",
                    s->parent.desc);
            do {
                peer = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
            } while (peer < 0 && errno == EINTR);
            if (peer < 0) {
                error_setg(errp, "could not accept on %s: %s", s->parent.desc,
                           strerror(errno));
                g_free(name);
                chardev_free(&s->parent);
                return NULL;
            }
            socket_set_nonblock(fd);
            socket_peer_connected(s, peer);
        } else {
            socket_set_nonblock(fd);
            socket_listen_start(s);
        }
    } else {
        s->parent.desc = g_strdup(name);
        socket_peer_connected(s, fd);
    }
    g_free(name);
    return &s->parent;
}
