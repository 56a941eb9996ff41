/*
 * File descriptors polled on the main loop for net backends (see fdwatch.h).
 */
#include "net/fdwatch.h"

typedef struct FdSource {
    GSource src;
    FdWatch *w;
} FdSource;

static gboolean fd_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    FdWatch *w = ((FdSource *)s)->w;
    GIOCondition cond = g_source_query_unix_fd(s, w->tag);
    if (cond) {
        g_mutex_lock(w->host.lock);
        w->ready(w->opaque, cond);
        g_mutex_unlock(w->host.lock);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_funcs = {
    .dispatch = fd_dispatch,
};

void fd_watch_init(FdWatch *w, const NetHost *host, int fd,
                   void (*ready)(void *opaque, GIOCondition cond),
                   void *opaque)
{
    w->host = *host;
    w->fd = fd;
    w->ready = ready;
    w->opaque = opaque;
    w->want_in = w->want_out = false;
    w->src = g_source_new(&fd_funcs, sizeof(FdSource));
    ((FdSource *)w->src)->w = w;
    w->tag = g_source_add_unix_fd(w->src, fd, 0);
    g_source_attach(w->src, host->ctx);
}

void fd_watch_set(FdWatch *w, bool want_in, bool want_out)
{
    if (!w->src || (w->want_in == want_in && w->want_out == want_out)) {
        return;
    }
    w->want_in = want_in;
    w->want_out = want_out;
    GIOCondition c = (want_in ? G_IO_IN : 0) | (want_out ? G_IO_OUT : 0);
    g_source_modify_unix_fd(w->src, w->tag, c);
    g_main_context_wakeup(w->host.ctx);
}

void fd_watch_destroy(FdWatch *w)
{
    if (w->src) {
        g_source_destroy(w->src);
        g_source_unref(w->src);
        w->src = NULL;
    }
}
