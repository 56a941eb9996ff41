/*
 * The mux: one backend shared by up to four frontends (typically the serial
 * port and the monitor on the terminal, "mon:stdio").  Output from every
 * frontend goes to the backend; input goes to the frontend that has focus,
 * the first one attached at the start.  Ctrl-A starts an escape, with the
 * keys QEMU users know:
 *   Ctrl-A h  help          Ctrl-A x  quit         Ctrl-A c  switch focus
 *   Ctrl-A b  send a break  Ctrl-A Ctrl-A (or a)  send a Ctrl-A
 * Other keys after Ctrl-A are ignored.
 *
 * Each frontend has a small input buffer so that escapes are still seen
 * while the focused frontend takes nothing (a guest with a full UART).
 */
#include "chardev/chardev-internal.h"
#include "core/error.h"

#include <string.h>

#define MUX_MAX_FE 4
#define MUX_BUF 64
#define MUX_ESCAPE 0x01 /* Ctrl-A */

typedef struct MuxFrontend {
    ChardevFrontend fe;
    uint8_t buf[MUX_BUF];
    int len;
} MuxFrontend;

typedef struct MuxChardev {
    Chardev parent;
    Chardev *base;
    MuxFrontend fes[MUX_MAX_FE];
    int nr_fes;
    int focus;
    bool escape;  /* the previous byte was Ctrl-A */
} MuxChardev;

static const char mux_help[] =
    "\r\n"
    "Ctrl-A h    show these keys\r\n"
    "Ctrl-A x    quit the emulator\r\n"
    "Ctrl-A c    switch between the serial console and the monitor\r\n"
    "Ctrl-A b    send a break to the serial console\r\n"
    "Ctrl-A a    send Ctrl-A itself (Ctrl-A Ctrl-A does the same)\r\n";

static void mux_fe_event(MuxFrontend *f, ChardevEvent ev)
{
    if (f->fe.event) {
        f->fe.event(f->fe.opaque, ev);
    }
}

/* Hand the focused frontend what it can take of its buffer. */
static void mux_flush(MuxChardev *m)
{
    MuxFrontend *f;

    if (m->nr_fes == 0) {
        return;
    }
    f = &m->fes[m->focus];
    while (f->len > 0 && f->fe.can_receive && f->fe.receive) {
        int n = f->fe.can_receive(f->fe.opaque);

        if (n <= 0) {
            break;
        }
        n = MIN(n, f->len);
        f->fe.receive(f->fe.opaque, f->buf, n);
        memmove(f->buf, f->buf + n, f->len - n);
        f->len -= n;
    }
}

static void mux_switch_focus(MuxChardev *m)
{
    if (m->nr_fes < 2) {
        return;
    }
    mux_fe_event(&m->fes[m->focus], CHR_EVENT_FOCUS_OUT);
    m->focus = (m->focus + 1) % m->nr_fes;
    mux_fe_event(&m->fes[m->focus], CHR_EVENT_FOCUS_IN);
    mux_flush(m);
}

static void mux_queue(MuxChardev *m, uint8_t ch)
{
    MuxFrontend *f;

    if (m->nr_fes == 0) {
        return;
    }
    f = &m->fes[m->focus];
    if (f->len < MUX_BUF) {
        f->buf[f->len++] = ch;
    }
}

/* One byte after Ctrl-A. */
static void mux_escape(MuxChardev *m, uint8_t ch)
{
    switch (ch) {
    case MUX_ESCAPE:
    case 'a':
        mux_queue(m, MUX_ESCAPE);
        break;
    case 'h':
    case 'H':
    case '?':
        chardev_write(m->base, mux_help, sizeof(mux_help) - 1);
        break;
    case 'x':
    case 'X': {
        static const char msg[] = "\r\nkestrel: terminated by Ctrl-A x\r\n";
        chardev_write(m->base, msg, sizeof(msg) - 1);
        if (m->parent.host.quit) {
            m->parent.host.quit(m->parent.host.opaque);
        }
        break;
    }
    case 'c':
    case 'C':
        mux_flush(m);
        mux_switch_focus(m);
        break;
    case 'b':
    case 'B':
        if (m->nr_fes > 0) {
            mux_fe_event(&m->fes[m->focus], CHR_EVENT_BREAK);
        }
        break;
    default:
        break;
    }
}

static int mux_can_receive(void *opaque)
{
    MuxChardev *m = opaque;

    if (m->nr_fes == 0) {
        return 0;
    }
    mux_flush(m);
    return MUX_BUF - m->fes[m->focus].len;
}

static void mux_receive(void *opaque, const uint8_t *buf, int len)
{
    MuxChardev *m = opaque;
    int i;

    for (i = 0; i < len; i++) {
        if (m->escape) {
            m->escape = false;
            mux_escape(m, buf[i]);
        } else if (buf[i] == MUX_ESCAPE) {
            m->escape = true;
        } else {
            mux_queue(m, buf[i]);
        }
    }
    mux_flush(m);
}

static void mux_event(void *opaque, ChardevEvent ev)
{
    MuxChardev *m = opaque;
    int i;

    for (i = 0; i < m->nr_fes; i++) {
        mux_fe_event(&m->fes[i], ev);
    }
}

static size_t mux_write(Chardev *c, const uint8_t *buf, size_t len)
{
    MuxChardev *m = (MuxChardev *)c;

    return chardev_write(m->base, buf, len);
}

static void mux_resume(Chardev *c)
{
    MuxChardev *m = (MuxChardev *)c;

    mux_flush(m);
    if (m->base->cls->resume) {
        m->base->cls->resume(m->base);
    }
}

static void mux_finalize(Chardev *c)
{
    MuxChardev *m = (MuxChardev *)c;

    chardev_free(m->base);
}

static const ChardevClass mux_class = {
    .name = "mux",
    .write = mux_write,
    .resume = mux_resume,
    .finalize = mux_finalize,
};

Chardev *chr_mux_base(Chardev *mux)
{
    return ((MuxChardev *)mux)->base;
}

bool chr_mux_attach(Chardev *c, const ChardevFrontend *fe, GError **errp)
{
    MuxChardev *m = (MuxChardev *)c;
    MuxFrontend *f;

    if (m->nr_fes == MUX_MAX_FE) {
        error_setg(errp, "chardev '%s' already has %d users", c->id,
                   MUX_MAX_FE);
        return false;
    }
    f = &m->fes[m->nr_fes++];
    f->fe = *fe;
    f->len = 0;
    if (m->base->be_open) {
        mux_fe_event(f, CHR_EVENT_OPENED);
    }
    if (m->nr_fes == 1) {
        mux_fe_event(f, CHR_EVENT_FOCUS_IN);
    }
    mux_resume(c);
    return true;
}

void chr_mux_detach(Chardev *c, void *fe_opaque)
{
    MuxChardev *m = (MuxChardev *)c;
    int i;

    for (i = 0; i < m->nr_fes; i++) {
        if (m->fes[i].fe.opaque == fe_opaque) {
            break;
        }
    }
    if (i == m->nr_fes) {
        return;
    }
    memmove(&m->fes[i], &m->fes[i + 1], (m->nr_fes - i - 1) * sizeof(m->fes[0]));
    m->nr_fes--;
    if (i < m->focus) {
        m->focus--;
    } else if (i == m->focus) {
        /* The focused frontend left: the next one takes over. */
        if (m->focus >= m->nr_fes) {
            m->focus = 0;
        }
        if (m->nr_fes > 0) {
            mux_fe_event(&m->fes[m->focus], CHR_EVENT_FOCUS_IN);
        }
    }
}

Chardev *chr_mux_new(Chardev *base, const char *id, const ChardevHost *h)
{
    MuxChardev *m = chr_alloc(sizeof(*m), &mux_class, id, h);
    ChardevFrontend self = {
        .can_receive = mux_can_receive,
        .receive = mux_receive,
        .event = mux_event,
        .opaque = m,
    };
    GError *err = NULL;

    m->parent.is_mux = true;
    m->parent.desc = g_strdup(chardev_describe(base));
    m->base = base;
    chardev_attach(base, &self, &err);
    g_assert(!err); /* a fresh backend always takes its first frontend */
    return &m->parent;
}
