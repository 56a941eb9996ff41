/*
 * A file descriptor watched on the machine's main loop for input and/or
 * output, with the callback run under the machine lock.  Backends switch
 * input off while their NIC's queue is full (back-pressure) and output on
 * while they have bytes the kernel did not take.
 */
#ifndef KESTREL_NET_FDWATCH_H
#define KESTREL_NET_FDWATCH_H

#include <glib.h>
#include <stdbool.h>

#include "net/net.h"

typedef struct FdWatch {
    GSource *src;
    gpointer tag;
    int fd;
    bool want_in, want_out;
    void (*ready)(void *opaque, GIOCondition cond); /* machine lock held */
    void *opaque;
    NetHost host;
} FdWatch;

void fd_watch_init(FdWatch *w, const NetHost *host, int fd,
                   void (*ready)(void *opaque, GIOCondition cond),
                   void *opaque);
void fd_watch_set(FdWatch *w, bool want_in, bool want_out);
void fd_watch_destroy(FdWatch *w);

#endif
