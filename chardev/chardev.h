/*
 * Character devices: byte-stream backends that serial ports and the monitor
 * talk through.  Specs use QEMU's spelling (-serial / -chardev):
 *   stdio  mon:stdio  null  file:PATH  pty  vc (same as stdio when no display)
 *   tcp:[HOST]:PORT[,server=on|off][,wait=on|off]   unix:PATH[,server=on][,wait=off]
 *   socket,id=..,host=..,port=..,server=on  (-chardev form, see chardev_new_opts)
 *
 * A mux (mon:stdio, or several frontends on one chardev) multiplexes one
 * backend among frontends; Ctrl-A C switches focus, Ctrl-A X quits, Ctrl-A H
 * prints help, Ctrl-A Ctrl-A sends a Ctrl-A, as in QEMU.
 *
 * Input is delivered on the main loop with the machine lock held.
 * chardev_write() may be called from any thread holding the machine lock; it
 * never blocks on a disconnected peer (output is dropped, as on a real wire).
 */
#ifndef KESTREL_CHARDEV_CHARDEV_H
#define KESTREL_CHARDEV_CHARDEV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Chardev Chardev;

typedef enum ChardevEvent {
    CHR_EVENT_OPENED,    /* a peer connected */
    CHR_EVENT_CLOSED,    /* the peer went away */
    CHR_EVENT_BREAK,     /* serial break (Ctrl-A B on a mux) */
    CHR_EVENT_FOCUS_IN,  /* this frontend now owns a mux's input */
    CHR_EVENT_FOCUS_OUT,
} ChardevEvent;

typedef struct ChardevFrontend {
    /* How many bytes can be taken now (0 = stop sending). */
    int (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, ChardevEvent event);
    void *opaque;
} ChardevFrontend;

/* Host hooks a chardev needs from the machine/system. */
typedef struct ChardevHost {
    GMainContext *ctx;  /* where input is read */
    GMutex *lock;       /* taken around frontend callbacks */
    /* Ctrl-A X on a mux: quit. */
    void (*quit)(void *opaque);
    void *opaque;
} ChardevHost;

Chardev *chardev_new(const char *id, const char *spec, const ChardevHost *host,
                     GError **errp);
/* -chardev BACKEND,id=ID,opt=val,... */
Chardev *chardev_new_opts(const char *opts, const ChardevHost *host,
                          GError **errp);
const char *chardev_id(const Chardev *c);
/* True for a mux: several frontends may attach. */
bool chardev_is_mux(const Chardev *c);
/* Attach a frontend.  A plain chardev takes one; a mux takes up to four. The
 * first frontend attached to a mux receives input first. Returns false if
 * the chardev is already taken.
 * Events from inside chardev_attach(): CHR_EVENT_OPENED if the backend is
 * already open (stdio, file, pty, a connected socket); on a mux, the first
 * frontend also gets CHR_EVENT_FOCUS_IN.  Later, a mux sends FOCUS_OUT and
 * FOCUS_IN as Ctrl-A c moves the focus, so a monitor knows when to show its
 * prompt. */
bool chardev_attach(Chardev *c, const ChardevFrontend *fe, GError **errp);
/* Detach the frontend whose opaque is fe_opaque (before freeing it); no
 * callback reaches it afterwards.  On a mux, focus moves on if it had it. */
void chardev_detach(Chardev *c, void *fe_opaque);
/* Write from a frontend; returns bytes accepted (len, or 0 when dropped). */
size_t chardev_write(Chardev *c, const void *buf, size_t len);
/* A frontend's can_receive() went from 0 to >0: resume input.  Call with
 * the host lock held (as frontends run); input resumes from the main loop,
 * never from inside this call. */
void chardev_accept_input(Chardev *c);
/* Name of the host side (the pty path for "pty"), for messages. */
const char *chardev_describe(const Chardev *c);
/* Put the terminal back the way it was before a stdio chardev (or a mux over
 * stdio) made it raw; a no-op for other chardevs.  chardev_free() does it
 * too; exit() and fatal signals also restore it.  Safe to call twice. */
void chardev_stdio_restore(Chardev *c);
void chardev_free(Chardev *c);

#endif
