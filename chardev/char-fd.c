/*
 * File-descriptor plumbing shared by the stdio, pty and socket backends:
 * a GSource that reads a descriptor into the frontend only while the
 * frontend can take bytes (flow control by can_receive), and a bounded
 * write-everything helper.
 */
#include "chardev/chardev-internal.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#define CHR_READ_CHUNK 4096

static gboolean reader_cb(gint fd, GIOCondition cond, gpointer opaque)
{
    ChrReader *r = opaque;
    Chardev *c = r->chr;
    uint8_t buf[CHR_READ_CHUNK];
    gboolean keep = G_SOURCE_CONTINUE;
    int room;
    ssize_t n;

    chr_lock(c);
    room = chr_be_can_receive(c);
    if (room <= 0) {
        /* Flow control: wait for chardev_accept_input(). */
        g_source_unref(r->src);
        r->src = NULL;
        keep = G_SOURCE_REMOVE;
        goto out;
    }
    do {
        n = read(fd, buf, MIN((size_t)room, sizeof(buf)));
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        chr_be_receive(c, buf, (int)n);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        /* End of input or a dead descriptor: stop watching it.  The EOF
         * handler may close fd and restart the reader on another one. */
        g_source_unref(r->src);
        r->src = NULL;
        keep = G_SOURCE_REMOVE;
        r->stopped = true;
        if (r->on_eof) {
            r->on_eof(c);
        }
    }
out:
    chr_unlock(c);
    return keep;
}

void chr_reader_init(ChrReader *r, Chardev *chr, int fd,
                     void (*on_eof)(Chardev *c))
{
    chr_reader_stop(r);
    r->chr = chr;
    r->fd = fd;
    r->stopped = fd < 0;
    r->on_eof = on_eof;
}

void chr_reader_start(ChrReader *r)
{
    if (r->src || r->stopped || r->fd < 0) {
        return;
    }
    r->src = g_unix_fd_source_new(r->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(r->src, G_SOURCE_FUNC(reader_cb), r, NULL);
    g_source_attach(r->src, r->chr->host.ctx);
}

void chr_reader_stop(ChrReader *r)
{
    if (r->src) {
        g_source_destroy(r->src);
        g_source_unref(r->src);
        r->src = NULL;
    }
}

bool chr_write_all(int fd, const uint8_t *buf, size_t len, int timeout_ms)
{
    gint64 deadline = timeout_ms < 0 ? -1 :
        g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int wait_ms = -1;

            if (deadline >= 0) {
                gint64 left = deadline - g_get_monotonic_time();
                if (left <= 0) {
                    return false;
                }
                wait_ms = (int)((left + 999) / 1000);
            }
            if (poll(&p, 1, wait_ms) < 0 && errno != EINTR) {
                return false;
            }
            continue;
        }
        return false;
    }
    return true;
}
