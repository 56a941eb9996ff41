/*
 * The stdio backend: input from standard input, output to standard output.
 *
 * When standard input is a terminal it is put in raw mode (no line editing,
 * no echo, 8-bit clean) so that keys reach the guest one by one; ISIG stays
 * on unless signal=off (mon:stdio sets signal=off, so Ctrl-C goes to the
 * guest, as users expect from QEMU).  Output post-processing (OPOST) is kept
 * so that a bare "\n" still returns the carriage.  The original settings come
 * back on chardev_stdio_restore(), chardev_free(), exit() and fatal signals
 * (termios(3), POSIX "General Terminal Interface").
 */
#include "chardev/chardev-internal.h"
#include "core/error.h"

#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

/*
 * Process-wide state, and the only one in the chardev library: the terminal
 * settings to put back, and whether standard input already has a reader.  It must be global because a signal handler and an
 * atexit() handler cannot be given a Chardev.  The terminal is one per
 * process, so this is not per-machine state in disguise.
 */
static struct {
    struct termios saved;              /* settings before raw mode */
    volatile sig_atomic_t raw;         /* raw mode is in effect */
    bool handlers_installed;           /* atexit + signal handlers */
    bool in_use;                       /* a stdio chardev reads stdin */
} stdio_tty;

static void tty_restore(void)
{
    if (stdio_tty.raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &stdio_tty.saved);
        stdio_tty.raw = 0;
    }
}

/* Async-signal-safe: tcsetattr() and raise() only. */
static void tty_signal(int sig)
{
    if (stdio_tty.raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &stdio_tty.saved);
        stdio_tty.raw = 0;
    }
    raise(sig); /* default action now: SA_RESETHAND */
}

static void tty_install_handlers(void)
{
    /* Crashes: always restore, then die as before. */
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    /* Termination: only if nobody (the main loop) handles it already. */
    static const int term[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
    struct sigaction sa = { .sa_handler = tty_signal,
                            .sa_flags = SA_RESETHAND | SA_NODEFER };
    size_t i;

    if (stdio_tty.handlers_installed) {
        return;
    }
    stdio_tty.handlers_installed = true;
    atexit(tty_restore);
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < G_N_ELEMENTS(fatal); i++) {
        sigaction(fatal[i], &sa, NULL);
    }
    for (i = 0; i < G_N_ELEMENTS(term); i++) {
        struct sigaction old;

        if (sigaction(term[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
            !(old.sa_flags & SA_SIGINFO)) {
            sigaction(term[i], &sa, NULL);
        }
    }
}

static void tty_make_raw(bool allow_signals)
{
    struct termios t;

    if (!isatty(STDIN_FILENO) || stdio_tty.raw ||
        tcgetattr(STDIN_FILENO, &stdio_tty.saved) < 0) {
        return;
    }
    tty_install_handlers();
    t = stdio_tty.saved;
    t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
                   IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    if (!allow_signals) {
        t.c_lflag &= ~ISIG;
    }
    t.c_cflag &= ~(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    stdio_tty.raw = 1;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

typedef struct StdioChardev {
    Chardev parent;
    ChrReader in;
} StdioChardev;

static size_t stdio_write(Chardev *c, const uint8_t *buf, size_t len)
{
    return chr_write_all(STDOUT_FILENO, buf, len, -1) ? len : 0;
}

static void stdio_resume(Chardev *c)
{
    StdioChardev *s = (StdioChardev *)c;

    chr_reader_start(&s->in);
}

static void stdio_finalize(Chardev *c)
{
    StdioChardev *s = (StdioChardev *)c;

    chr_reader_stop(&s->in);
    tty_restore();
    stdio_tty.in_use = false;
}

static const ChardevClass stdio_class = {
    .name = "stdio",
    .write = stdio_write,
    .resume = stdio_resume,
    .finalize = stdio_finalize,
};

bool chr_stdio_is(const Chardev *c)
{
    return c->cls == &stdio_class;
}

void chardev_stdio_restore(Chardev *c)
{
    if (c && chardev_is_mux(c)) {
        c = chr_mux_base(c);
    }
    if (c && chr_stdio_is(c)) {
        tty_restore();
    }
}

Chardev *chr_stdio_new(const ChardevOpts *o, const ChardevHost *h, GError **errp)
{
    if (stdio_tty.in_use) {
        /* Two readers of one terminal would steal each other's keys;
         * mon:stdio shares it (QEMU's message). */
        error_setg(errp, "cannot use stdio by multiple character devices");
        return NULL;
    }
    stdio_tty.in_use = true;

    StdioChardev *s = chr_alloc(sizeof(*s), &stdio_class, o->id, h);

    s->parent.desc = g_strdup("stdio");
    /* Standard input at its end (</dev/null) simply gives no input. */
    chr_reader_init(&s->in, &s->parent, STDIN_FILENO, NULL);
    tty_make_raw(o->signal != 0);
    return &s->parent;
}
