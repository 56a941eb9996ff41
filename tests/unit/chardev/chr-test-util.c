/*
 * Helpers for chardev and monitor tests (see chr-test-util.h).
 */
#include "chr-test-util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fake_can_receive(void *opaque)
{
    FakeFe *f = opaque;
    return f->room;
}

static void fake_receive(void *opaque, const uint8_t *buf, int len)
{
    FakeFe *f = opaque;

    g_assert(len > 0 && len <= f->room);
    g_byte_array_append(f->rx, buf, len);
}

static void fake_event(void *opaque, ChardevEvent ev)
{
    FakeFe *f = opaque;

    g_assert((unsigned)ev < G_N_ELEMENTS(f->events));
    f->events[ev]++;
}

void fake_fe_init(FakeFe *f)
{
    memset(f, 0, sizeof(*f));
    f->rx = g_byte_array_new();
    f->room = 4096;
    f->fe.can_receive = fake_can_receive;
    f->fe.receive = fake_receive;
    f->fe.event = fake_event;
    f->fe.opaque = f;
}

void fake_fe_clear(FakeFe *f)
{
    g_byte_array_unref(f->rx);
}

bool fake_fe_has(const FakeFe *f, const char *s)
{
    size_t n = strlen(s);
    size_t i;

    for (i = 0; i + n <= f->rx->len; i++) {
        if (!memcmp(f->rx->data + i, s, n)) {
            return true;
        }
    }
    return false;
}

char *chr_test_tmpdir(void)
{
    GError *err = NULL;
    char *dir = g_dir_make_tmp("kestrel-chr-XXXXXX", &err);

    g_assert_no_error(err);
    return dir;
}

void chr_test_tmp_free(char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        unlink(p);
    }
    if (d) {
        g_dir_close(d);
    }
    rmdir(dir);
    g_free(dir);
}

static int unix_socket(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    g_assert(strlen(path) < sizeof(sa->sun_path));
    strcpy(sa->sun_path, path);
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

int unix_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd = unix_socket(path, &sa);

    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int unix_listen(const char *path)
{
    struct sockaddr_un sa;
    int fd = unix_socket(path, &sa);

    if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                    listen(fd, 1) < 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

void send_str(int fd, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        g_assert(n > 0 || errno == EINTR);
        if (n > 0) {
            s += n;
            len -= n;
        }
    }
}

bool run_until(GMainContext *ctx, bool (*cond)(void *arg), void *arg)
{
    gint64 deadline = g_get_monotonic_time() + CHR_TEST_DEADLINE_US;

    while (!cond(arg)) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        /* Never blocks for long: a source may fire on another fd. */
        if (!g_main_context_iteration(ctx, FALSE)) {
            g_usleep(1000);
        }
    }
    return true;
}

bool read_until(GMainContext *ctx, int fd, GString *acc, const char *needle)
{
    gint64 deadline = g_get_monotonic_time() + CHR_TEST_DEADLINE_US;

    while (!strstr(acc->str, needle)) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char buf[512];

        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        while (g_main_context_iteration(ctx, FALSE)) {
        }
        if (poll(&p, 1, 5) > 0) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0) {
                return strstr(acc->str, needle) != NULL;
            }
            g_string_append_len(acc, buf, n);
        }
    }
    return true;
}
