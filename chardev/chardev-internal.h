/*
 * Inside the chardev library: the common Chardev object every backend
 * embeds as its first member, the class of operations a backend provides,
 * and the helpers backends use to hand input and events to their frontend.
 * Not for use outside chardev/ (and its unit tests).
 *
 * Threading: every field below is protected by the host lock (ChardevHost.lock)
 * except during creation and destruction, which happen on the main thread
 * before/after any other thread can see the chardev.  Input is read by
 * GSources attached to ChardevHost.ctx; their callbacks take the host lock.
 */
#ifndef KESTREL_CHARDEV_INTERNAL_H
#define KESTREL_CHARDEV_INTERNAL_H

#include "chardev/chardev.h"

#include <glib-unix.h>

/* Options shared by the -serial and -chardev spellings, after parsing.
 * Tri-state flags: -1 = not given. */
typedef struct ChardevOpts {
    char *backend;   /* "stdio", "null", "file", "pty", "socket" */
    char *id;
    char *path;      /* file path, unix socket path */
    char *host;      /* tcp host ("" = any/localhost) */
    char *port;      /* tcp port, digits */
    int server;
    int wait;
    int signal;
    int append;
    int mux;
} ChardevOpts;

typedef struct ChardevClass {
    const char *name;
    /* Write; returns len or 0 when the data is dropped.  Never blocks forever. */
    size_t (*write)(Chardev *c, const uint8_t *buf, size_t len);
    /* Start (again) reading input if the frontend may take some. */
    void (*resume)(Chardev *c);
    /* Release backend resources (not the Chardev itself). */
    void (*finalize)(Chardev *c);
} ChardevClass;

struct Chardev {
    const ChardevClass *cls;
    char *id;
    char *desc;             /* chardev_describe() */
    ChardevHost host;
    ChardevFrontend fe;     /* the one frontend of a plain chardev */
    bool has_fe;
    bool be_open;           /* a peer is there (always true but for sockets) */
    bool is_mux;
    GSource *resume_src;    /* pending chardev_accept_input() work */
};

/* Reading a file descriptor into a chardev's frontend, honouring can_receive:
 * the watch is removed when the frontend takes nothing and re-added by
 * chr_reader_start() (called from the backend's resume). */
typedef struct ChrReader {
    Chardev *chr;
    int fd;
    GSource *src;
    bool stopped;                   /* end of input: never read again */
    void (*on_eof)(Chardev *c);     /* read returned 0 or a hard error */
} ChrReader;

void chr_reader_init(ChrReader *r, Chardev *chr, int fd,
                     void (*on_eof)(Chardev *c));
void chr_reader_start(ChrReader *r);
void chr_reader_stop(ChrReader *r);

/* Write everything to a blocking or non-blocking fd; on EAGAIN wait for at
 * most timeout_ms in total (-1: no limit).  Returns false if not all of it
 * was written. */
bool chr_write_all(int fd, const uint8_t *buf, size_t len, int timeout_ms);

/* Backend → frontend, called with the host lock held. */
int chr_be_can_receive(Chardev *c);
void chr_be_receive(Chardev *c, const uint8_t *buf, int len);
void chr_be_event(Chardev *c, ChardevEvent ev);

void chr_lock(Chardev *c);
void chr_unlock(Chardev *c);

/* Allocate a backend object of size sz (>= sizeof(Chardev)), first member a
 * Chardev, and fill the common part. */
void *chr_alloc(size_t sz, const ChardevClass *cls, const char *id,
                const ChardevHost *host);

/* Backend constructors: return the new chardev or NULL with errp set. */
Chardev *chr_null_new(const ChardevOpts *o, const ChardevHost *h, GError **errp);
Chardev *chr_stdio_new(const ChardevOpts *o, const ChardevHost *h, GError **errp);
Chardev *chr_file_new(const ChardevOpts *o, const ChardevHost *h, GError **errp);
Chardev *chr_pty_new(const ChardevOpts *o, const ChardevHost *h, GError **errp);
Chardev *chr_socket_new(const ChardevOpts *o, const ChardevHost *h, GError **errp);
/* Wrap base (taken over) in a mux. */
Chardev *chr_mux_new(Chardev *base, const char *id, const ChardevHost *h);
bool chr_mux_attach(Chardev *mux, const ChardevFrontend *fe, GError **errp);
void chr_mux_detach(Chardev *mux, void *fe_opaque);
Chardev *chr_mux_base(Chardev *mux);

bool chr_stdio_is(const Chardev *c);

#endif
