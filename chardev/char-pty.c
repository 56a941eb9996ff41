/*
 * The pty backend: a new pseudo-terminal (posix_openpt(3), POSIX "Pseudo-
 * Terminals"); the user attaches a terminal program (screen, minicom) to the
 * slave side whose path is printed at start-up.
 *
 * We keep our own descriptor of the slave open, in raw mode, for the life of
 * the chardev: without it the master reports a hang-up for as long as no
 * terminal program is attached, which would make the reader spin.  Output is
 * written without blocking; what does not fit in the pty's buffer (nobody is
 * reading) is dropped.
 */
#include "chardev/chardev-internal.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

typedef struct PtyChardev {
    Chardev parent;
    int master;
    int slave;
    ChrReader in;
} PtyChardev;

static size_t pty_write(Chardev *c, const uint8_t *buf, size_t len)
{
    PtyChardev *p = (PtyChardev *)c;

    return chr_write_all(p->master, buf, len, 0) ? len : 0;
}

static void pty_resume(Chardev *c)
{
    PtyChardev *p = (PtyChardev *)c;

    chr_reader_start(&p->in);
}

static void pty_finalize(Chardev *c)
{
    PtyChardev *p = (PtyChardev *)c;

    chr_reader_stop(&p->in);
    close(p->slave);
    close(p->master);
}

static const ChardevClass pty_class = {
    .name = "pty",
    .write = pty_write,
    .resume = pty_resume,
    .finalize = pty_finalize,
};

Chardev *chr_pty_new(const ChardevOpts *o, const ChardevHost *h, GError **errp)
{
    PtyChardev *p;
    struct termios t;
    const char *name;
    int master, slave;

    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
        !(name = ptsname(master))) {
        error_setg(errp, "could not create a pseudo-terminal: %s",
                   strerror(errno));
        if (master >= 0) {
            close(master);
        }
        return NULL;
    }
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        error_setg(errp, "could not open '%s': %s", name, strerror(errno));
        close(master);
        return NULL;
    }
    if (tcgetattr(slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

    p = chr_alloc(sizeof(*p), &pty_class, o->id, h);
    p->master = master;
    p->slave = slave;
    p->parent.desc = g_strdup(name);
    chr_reader_init(&p->in, &p->parent, master, NULL);
    fprintf(stderr, "char device redirected to %s (label %s)\n", name,
            p->parent.id);
    return &p->parent;
}
