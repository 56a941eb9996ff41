/*
 * img-writer.c: a test-only client of the block layer's device API
 * (block-backend.h).  Script mode applies operations given on the
 * command line through the asynchronous calls and a glib main loop;
 * crash mode writes self-describing blocks at random (fixed seed),
 * logging each operation before it starts, and kills itself with
 * SIGKILL just before its Nth write-like system call, so that a test can
 * stop it at any point in the middle of a metadata update.
 */
#include "block/block-backend.h"
#include "tests/functional/img/syscall-counter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- block contents ---- */

#define MAGIC "KSTRLBLK"

/* Header (magic, index, generation), then one 64-bit value repeated. */
static void fill_block(uint8_t *p, size_t size, uint32_t idx, uint32_t gen)
{
    memcpy(p, MAGIC, 8);
    memcpy(p + 8, &idx, 4);
    memcpy(p + 12, &gen, 4);
    uint64_t x = ((uint64_t)idx << 32 | gen) * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 16; i + 8 <= size; i += 8) {
        memcpy(p + i, &x, 8);
    }
}

static void logf_line(int fd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void logf_line(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    size_t len = strlen(s);
    ssize_t w = write(fd, s, len);
    (void)w;
    g_free(s);
}

static int crash_mode(BlockBackend *blk, int log_fd, uint32_t seed, int ops,
                      uint32_t block_size)
{
    uint64_t nblocks = blk_getlength(blk) / block_size;
    GRand *rand = g_rand_new_with_seed(seed);
    uint8_t *buf = g_malloc(block_size * 8);
    uint32_t gen = 0;
    GError *err = NULL;
    for (int i = 0; i < ops; i++) {
        int kind = g_rand_int_range(rand, 0, 100);
        uint32_t count = (uint32_t)g_rand_int_range(rand, 1, 9);
        uint64_t idx = (uint64_t)g_rand_int_range(rand, 0,
                                                  (gint32)(nblocks - count));
        int r;
        if (kind < 70) {
            gen++;
            logf_line(log_fd, "W %" PRIu64 " %u %u\n", idx, count, gen);
            for (uint32_t k = 0; k < count; k++) {
                fill_block(buf + (size_t)k * block_size, block_size,
                           (uint32_t)(idx + k), gen);
            }
            r = blk_pwrite(blk, idx * block_size, buf,
                           (size_t)count * block_size, &err);
        } else if (kind < 80) {
            logf_line(log_fd, "Z %" PRIu64 " %u\n", idx, count);
            r = blk_pwrite_zeroes(blk, idx * block_size,
                                  (uint64_t)count * block_size, true, &err);
        } else if (kind < 90) {
            logf_line(log_fd, "D %" PRIu64 " %u\n", idx, count);
            r = blk_pdiscard(blk, idx * block_size,
                             (uint64_t)count * block_size, &err);
        } else {
            r = blk_flush(blk, &err);
            if (r == 0) {
                logf_line(log_fd, "F\n");
            }
        }
        if (r < 0) {
            fprintf(stderr, "img-writer: operation %d failed: %s\n", i,
                    err->message);
            return 1;
        }
    }
    int r = blk_flush(blk, &err);
    if (r == 0) {
        logf_line(log_fd, "F\n");
    }
    g_free(buf);
    g_rand_free(rand);
    return r < 0 ? 1 : 0;
}

/* ---- script mode, through the asynchronous API ---- */

typedef struct Pending {
    GMainLoop *loop;
    int outstanding;
    int failures;
} Pending;

static void done(void *opaque, int ret)
{
    Pending *p = opaque;
    if (ret < 0) {
        p->failures++;
    }
    if (--p->outstanding == 0) {
        g_main_loop_quit(p->loop);
    }
}

static bool parse_op(const char *op, char *kind, uint64_t *off, uint64_t *len,
                     unsigned *pattern)
{
    *pattern = 0;
    int n = sscanf(op, "%c:%" SCNu64 ":%" SCNu64 ":%u", kind, off, len,
                   pattern);
    return n >= 3 || (n >= 1 && *kind == 'f');
}

static int script_mode(BlockBackend *blk, char **ops, int nops, bool parallel)
{
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    Pending p = { .loop = loop };
    GPtrArray *buffers = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < nops; i++) {
        char kind;
        uint64_t off = 0, len = 0;
        unsigned pattern;
        if (!parse_op(ops[i], &kind, &off, &len, &pattern)) {
            fprintf(stderr, "img-writer: bad operation '%s'\n", ops[i]);
            return 2;
        }
        p.outstanding++;
        if (kind == 'w') {
            uint8_t *b = g_malloc(len);
            memset(b, (int)pattern, len);
            g_ptr_array_add(buffers, b);
            /* Two halves: the vectored path is exercised too. */
            struct iovec iov[2] = { { b, len / 2 }, { b + len / 2, len - len / 2 } };
            blk_aio_pwritev(blk, off, iov, 2, done, &p);
        } else if (kind == 'z') {
            blk_aio_pwrite_zeroes(blk, off, len, true, done, &p);
        } else if (kind == 'd') {
            blk_aio_pdiscard(blk, off, len, done, &p);
        } else if (kind == 'f') {
            blk_aio_flush(blk, done, &p);
        } else {
            fprintf(stderr, "img-writer: bad operation '%s'\n", ops[i]);
            return 2;
        }
        if (!parallel) {
            g_main_loop_run(loop);
        }
    }
    if (parallel && p.outstanding) {
        g_main_loop_run(loop);
    }
    g_ptr_array_free(buffers, TRUE);
    g_main_loop_unref(loop);
    if (p.failures) {
        char *msg = blk_last_error(blk);
        fprintf(stderr, "img-writer: %d operations failed: %s\n", p.failures,
                msg ? msg : "?");
        g_free(msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *format = NULL, *cache = "writeback", *log_path = NULL;
    int seed = 1, ops = 100, block_size = 4096;
    long kill_after = -1;
    gboolean parallel = FALSE, crash = FALSE, snapshot = FALSE;
    GOptionEntry entries[] = {
        { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "image format", NULL },
        { "cache", 't', 0, G_OPTION_ARG_STRING, &cache, "cache mode", NULL },
        { "parallel", 'P', 0, G_OPTION_ARG_NONE, &parallel,
          "submit all operations at once", NULL },
        { "snapshot", 's', 0, G_OPTION_ARG_NONE, &snapshot,
          "write to a throw-away overlay", NULL },
        { "crash", 'c', 0, G_OPTION_ARG_NONE, &crash, "random writer", NULL },
        { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "random seed", NULL },
        { "ops", 0, 0, G_OPTION_ARG_INT, &ops, "operations", NULL },
        { "block-size", 0, 0, G_OPTION_ARG_INT, &block_size, "bytes", NULL },
        { "kill-after", 0, 0, G_OPTION_ARG_INT64, &kill_after,
          "SIGKILL before this write-like system call", NULL },
        { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path, "operation log", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionContext *ctx = g_option_context_new(
        "IMAGE [w:OFF:LEN:BYTE | z:OFF:LEN | d:OFF:LEN | f]...");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc < 2) {
        fprintf(stderr, "img-writer: %s\n", err ? err->message : "no image");
        return 2;
    }
    g_option_context_free(ctx);
    BlockBackendOptions o = { .format = format, .cache = cache,
                              .snapshot = snapshot, .discard_unmap = true };
    BlockBackend *blk = blk_open(argv[1], &o, &err);
    if (!blk) {
        fprintf(stderr, "img-writer: %s\n", err->message);
        return 1;
    }
    int r;
    if (crash) {
        int log_fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_TRUNC |
                                     O_APPEND, 0644) : 2;
        syscall_counter_arm(kill_after);
        r = crash_mode(blk, log_fd, (uint32_t)seed, ops, (uint32_t)block_size);
    } else {
        r = script_mode(blk, argv + 2, argc - 2, parallel);
    }
    blk_close(blk);
    if (crash) {
        printf("syscalls %ld\n", syscall_counter_value());
    }
    return r;
}
