/*
 * test-backend.c: the device API (block-backend.h): asynchronous requests
 * complete on the main context's thread with the data written, many in
 * flight at once, on raw and qcow2; cache modes parse; snapshot=on
 * leaves the image alone; compression round trips.
 */
#include "block/block-backend.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

typedef struct Waiter {
    GMainLoop *loop;
    int pending;
    int errors;
    GThread *main_thread;
    bool wrong_thread;
} Waiter;

static void done(void *opaque, int ret)
{
    Waiter *w = opaque;
    if (g_thread_self() != w->main_thread) {
        w->wrong_thread = true;
    }
    if (ret < 0) {
        w->errors++;
    }
    if (--w->pending == 0) {
        g_main_loop_quit(w->loop);
    }
}

static void run_format(const char *format)
{
    char *path = g_strdup_printf("%s/kestrel-backend-%d.%s", g_get_tmp_dir(),
                                 (int)getpid(), format);
    BlockCreateOptions co = { .size = 16 << 20 };
    assert_int_equal(bdrv_create(format, path, &co, NULL), 0);
    BlockBackendOptions o = { .format = format, .cache = "writeback" };
    GError *err = NULL;
    BlockBackend *blk = blk_open(path, &o, &err);
    if (!blk) {
        fail_msg("%s", err->message);
    }
    assert_true(blk_getlength(blk) == 16 << 20);
    Waiter w = { .loop = g_main_loop_new(NULL, FALSE),
                 .main_thread = g_thread_self() };
    enum { N = 64, LEN = 96 * 1024 };
    uint8_t *bufs[N];
    for (int i = 0; i < N; i++) {
        bufs[i] = g_malloc(LEN);
        memset(bufs[i], i + 1, LEN);
        struct iovec iov[3] = { { bufs[i], 1000 }, { bufs[i] + 1000, 50000 },
                                { bufs[i] + 51000, LEN - 51000 } };
        w.pending++;
        blk_aio_pwritev(blk, (uint64_t)i * 200 * 1024 + 512, iov, 3, done, &w);
    }
    g_main_loop_run(w.loop);
    assert_int_equal(w.errors, 0);
    assert_false(w.wrong_thread);
    w.pending = 1;
    blk_aio_flush(blk, done, &w);
    g_main_loop_run(w.loop);
    uint8_t *back = g_malloc(LEN);
    for (int i = 0; i < N; i++) {
        memset(back, 0, LEN);
        struct iovec iov = { back, LEN };
        w.pending = 1;
        blk_aio_preadv(blk, (uint64_t)i * 200 * 1024 + 512, &iov, 1, done, &w);
        g_main_loop_run(w.loop);
        assert_memory_equal(back, bufs[i], LEN);
    }
    /* Zeroes and discards complete too; zeroes read back as zeroes. */
    w.pending = 2;
    blk_aio_pwrite_zeroes(blk, 512, 4096, false, done, &w);
    blk_aio_pdiscard(blk, 8 << 20, 1 << 20, done, &w);
    g_main_loop_run(w.loop);
    assert_int_equal(w.errors, 0);
    assert_int_equal(blk_pread(blk, 512, back, 4096, NULL), 0);
    for (int k = 0; k < 4096; k++) {
        assert_int_equal(back[k], 0);
    }
    /* A request past the end fails cleanly. */
    w.pending = 1;
    struct iovec iov = { back, 4096 };
    blk_aio_preadv(blk, (16 << 20) - 100, &iov, 1, done, &w);
    g_main_loop_run(w.loop);
    assert_int_equal(w.errors, 1);
    char *msg = blk_last_error(blk);
    assert_non_null(msg);
    g_free(msg);
    blk_close(blk);
    for (int i = 0; i < N; i++) {
        g_free(bufs[i]);
    }
    g_free(back);
    g_main_loop_unref(w.loop);
    unlink(path);
    g_free(path);
}

static void test_raw(void **state)
{
    run_format("raw");
}

static void test_qcow2(void **state)
{
    run_format("qcow2");
}

static void test_cache_modes(void **state)
{
    int flags = 0;
    assert_true(bdrv_parse_cache_mode("none", &flags, NULL));
    assert_true(flags & BDRV_O_NOCACHE);
    assert_true(bdrv_parse_cache_mode("unsafe", &flags, NULL));
    assert_true((flags & BDRV_O_NO_FLUSH) && !(flags & BDRV_O_NOCACHE));
    assert_true(bdrv_parse_cache_mode("directsync", &flags, NULL));
    assert_true((flags & BDRV_O_NOCACHE) && (flags & BDRV_O_WRITETHROUGH));
    GError *err = NULL;
    assert_false(bdrv_parse_cache_mode("sometimes", &flags, &err));
    g_error_free(err);
}

static void test_snapshot_mode(void **state)
{
    char *path = g_strdup_printf("%s/kestrel-snapmode-%d.qcow2",
                                 g_get_tmp_dir(), (int)getpid());
    BlockCreateOptions co = { .size = 1 << 20 };
    assert_int_equal(bdrv_create("qcow2", path, &co, NULL), 0);
    BlockBackendOptions o = { .snapshot = true };
    BlockBackend *blk = blk_open(path, &o, NULL);
    assert_non_null(blk);
    uint8_t buf[4096];
    memset(buf, 7, sizeof(buf));
    assert_int_equal(blk_pwrite(blk, 0, buf, sizeof(buf), NULL), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(blk_pread(blk, 0, buf, sizeof(buf), NULL), 0);
    assert_int_equal(buf[100], 7);
    blk_close(blk);
    BlockBackendOptions ro = { .read_only = true };
    blk = blk_open(path, &ro, NULL);
    assert_int_equal(blk_pread(blk, 0, buf, sizeof(buf), NULL), 0);
    assert_int_equal(buf[100], 0);
    GError *err = NULL;
    assert_true(blk_pwrite(blk, 0, buf, 1, &err) < 0);
    g_error_free(err);
    blk_close(blk);
    unlink(path);
    g_free(path);
}

static void test_compressor(void **state)
{
    enum { CS = 65536 };
    uint8_t *text = g_malloc(CS), *noise = g_malloc(CS), *out = g_malloc(CS);
    for (int i = 0; i < CS; i++) {
        text[i] = "kestrel hovering "[i % 17];
    }
    GRand *r = g_rand_new_with_seed(3);
    for (int i = 0; i < CS; i++) {
        noise[i] = (uint8_t)g_rand_int(r);
    }
    BlockCompressor *c = block_compressor_new();
    size_t n = block_compressor_deflate(c, text, CS, out, CS - 1);
    assert_true(n > 0 && n < CS / 10);
    /* Raw deflate with a 4 KiB window, as qcow2 stores it. */
    z_stream zs = { 0 };
    assert_int_equal(inflateInit2(&zs, -12), Z_OK);
    uint8_t *back = g_malloc(CS);
    zs.next_in = out;
    zs.avail_in = (uInt)n;
    zs.next_out = back;
    zs.avail_out = CS;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    inflateEnd(&zs);
    assert_memory_equal(back, text, CS);
    assert_false(block_compressor_hopeless(c, text, CS));
    assert_true(block_compressor_hopeless(c, noise, CS));
    assert_int_equal(block_compressor_deflate(c, noise, CS, out, CS - 1), 0);
    block_compressor_free(c);
    g_rand_free(r);
    g_free(text);
    g_free(noise);
    g_free(out);
    g_free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_qcow2),
        cmocka_unit_test(test_cache_modes),
        cmocka_unit_test(test_snapshot_mode),
        cmocka_unit_test(test_compressor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
