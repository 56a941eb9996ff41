/*
 * test-vectored.c: requests made of many scattered buffers, as devices
 * send them (a guest's pages): the iovec cursor's slicing, qcow2 reads and
 * writes whose buffers are cut at arbitrary places (across clusters, over
 * fresh and allocated clusters, more buffers than one host writev takes)
 * read back byte for byte and leave a consistent image; raw's non-blocking
 * and qcow2's non-blocking reads return the data or decline, never
 * anything else.
 */
#include "block/block.h"
#include "block/iov-cursor.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define IMG_SIZE (8u << 20)
#define BIG_AT (6u << 20)    /* never written before the big requests */

static void test_cursor(void **state)
{
    uint8_t a[10], b[1], c[20];
    struct iovec v[4] = { { a, 10 }, { b, 0 }, { b, 1 }, { c, 20 } };
    struct iovec out[3];
    uint64_t got;
    IovCursor cur;
    iov_cursor_init(&cur, v, 4);
    /* 4 bytes from the first buffer */
    assert_int_equal(iov_cursor_take(&cur, out, 3, 4, &got), 1);
    assert_true(got == 4 && out[0].iov_base == (void *)a && out[0].iov_len == 4);
    /* across the rest of a, the empty entry, b and into c */
    assert_int_equal(iov_cursor_take(&cur, out, 3, 10, &got), 3);
    assert_true(got == 10);
    assert_true(out[0].iov_base == (void *)(a + 4) && out[0].iov_len == 6);
    assert_true(out[1].iov_base == (void *)b && out[1].iov_len == 1);
    assert_true(out[2].iov_base == (void *)c && out[2].iov_len == 3);
    /* a cap of one entry stops at the end of c */
    assert_int_equal(iov_cursor_take(&cur, out, 1, 100, &got), 1);
    assert_true(got == 17 && out[0].iov_base == (void *)(c + 3));
    /* the vector is used up */
    assert_int_equal(iov_cursor_take(&cur, out, 3, 5, &got), 0);
    assert_true(got == 0);
}

/* Cuts len bytes of buf into pieces of sizes drawn from r (1..max_piece)
 * and describes them in v (at most cap entries; the last piece takes what
 * is left).  Returns the number of entries. */
static int scatter(GRand *r, uint8_t *buf, size_t len, struct iovec *v,
                   int cap, int max_piece)
{
    int n = 0;
    size_t off = 0;
    while (off < len) {
        size_t k = (size_t)g_rand_int_range(r, 1, max_piece + 1);
        if (k > len - off || n == cap - 1) {
            k = len - off;
        }
        v[n].iov_base = buf + off;
        v[n].iov_len = k;
        n++;
        off += k;
    }
    return n;
}

static void check_whole_image(BlockDriverState *bs, const uint8_t *ref)
{
    uint8_t *back = g_malloc(IMG_SIZE);
    assert_int_equal(bdrv_pread(bs, 0, back, IMG_SIZE, NULL), 0);
    assert_memory_equal(back, ref, IMG_SIZE);
    g_free(back);
}

static void test_qcow2_scattered(void **state)
{
    char *path = g_strdup_printf("%s/kestrel-vectored-%d.qcow2",
                                 g_get_tmp_dir(), (int)getpid());
    BlockCreateOptions co = { .size = IMG_SIZE };
    assert_int_equal(bdrv_create("qcow2", path, &co, NULL), 0);
    BlockOpenOptions oo = { .format = "qcow2", .flags = BDRV_O_RDWR };
    BlockDriverState *bs = bdrv_open(path, &oo, NULL);
    assert_non_null(bs);
    uint8_t *ref = g_malloc0(IMG_SIZE);
    uint8_t *data = g_malloc(IMG_SIZE);
    enum { CAP = 4096 };
    struct iovec *v = g_new(struct iovec, CAP);
    GRand *r = g_rand_new_with_seed(42);

    for (size_t i = 0; i < IMG_SIZE; i++) {
        data[i] = (uint8_t)g_rand_int(r);
    }
    /* Writes at unaligned offsets, over fresh clusters (copy-on-write of
     * the untouched head and tail) and then over allocated ones. */
    for (int round = 0; round < 40; round++) {
        uint64_t len = (uint64_t)g_rand_int_range(r, 1, 300 * 1024);
        uint64_t off = (uint64_t)g_rand_int_range(r, 0, BIG_AT - (int)len);
        uint8_t *src = data + (off * 7 + (uint64_t)round) % (IMG_SIZE - len);
        int n = scatter(r, src, len, v, CAP, 9000);
        assert_int_equal(bdrv_pwritev(bs, off, v, n, NULL), 0);
        memcpy(ref + off, src, len);
    }
    /* 3000 buffers of 512 bytes, so that one request takes several host
     * writes: first over fresh clusters (with the old head of the first
     * one copied), then over the same, now allocated, clusters. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 3000; i++) {
            v[i].iov_base = data + (size_t)i * 1024 + (size_t)pass * 333;
            v[i].iov_len = 512;
            memcpy(ref + BIG_AT + 1000 + (size_t)i * 512, v[i].iov_base, 512);
        }
        assert_int_equal(bdrv_pwritev(bs, BIG_AT + 1000, v, 3000, NULL), 0);
        check_whole_image(bs, ref);
    }

    /* Reads cut differently, including ones over never-written clusters. */
    uint8_t *back = g_malloc(IMG_SIZE);
    for (int round = 0; round < 60; round++) {
        uint64_t len = (uint64_t)g_rand_int_range(r, 1, 600 * 1024);
        uint64_t off = (uint64_t)g_rand_int_range(r, 0, IMG_SIZE - (int)len);
        memset(back, 0xee, len);
        int n = scatter(r, back, len, v, CAP, round % 2 ? 4096 : 700);
        assert_int_equal(bdrv_preadv(bs, off, v, n, NULL), 0);
        assert_memory_equal(back, ref + off, len);
    }
    /* more buffers than one host read takes */
    for (int i = 0; i < 2500; i++) {
        v[i].iov_base = back + (size_t)i * 600;
        v[i].iov_len = 600;
    }
    assert_int_equal(bdrv_preadv(bs, 3 * 65536 + 77, v, 2500, NULL), 0);
    assert_memory_equal(back, ref + 3 * 65536 + 77, 2500 * 600);
    check_whole_image(bs, ref);
    bdrv_close(bs);

    /* Reopened, the image is consistent and holds the same bytes. */
    bs = bdrv_open(path, &oo, NULL);
    assert_non_null(bs);
    BlockCheckResult res = { 0 };
    assert_int_equal(bdrv_check(bs, &res, 0, NULL), 0);
    assert_true(res.corruptions == 0 && res.leaks == 0 &&
                res.check_errors == 0);
    check_whole_image(bs, ref);
    bdrv_close(bs);
    unlink(path);
    g_rand_free(r);
    g_free(v);
    g_free(back);
    g_free(data);
    g_free(ref);
    g_free(path);
}

static void test_try_read(void **state)
{
    char *path = g_strdup_printf("%s/kestrel-tryread-%d.raw",
                                 g_get_tmp_dir(), (int)getpid());
    BlockCreateOptions co = { .size = 1 << 20 };
    assert_int_equal(bdrv_create("raw", path, &co, NULL), 0);
    BlockOpenOptions oo = { .format = "raw", .flags = BDRV_O_RDWR };
    BlockDriverState *bs = bdrv_open(path, &oo, NULL);
    assert_non_null(bs);
    uint8_t buf[8192], back[8192];
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 13 + 1);
    }
    assert_int_equal(bdrv_pwrite(bs, 65536, buf, sizeof(buf), NULL), 0);
    /* Just written, so cached: done now (or declined, on a host file
     * system without non-blocking reads), never wrong data. */
    struct iovec v[2] = { { back, 100 }, { back + 100, sizeof(back) - 100 } };
    memset(back, 0, sizeof(back));
    int r = bdrv_try_preadv(bs, 65536, v, 2);
    assert_true(r == 0 || r == -EAGAIN);
    if (r == 0) {
        assert_memory_equal(back, buf, sizeof(buf));
    }
    /* Past the end: declined, the ordinary path reports the error. */
    assert_int_equal(bdrv_try_preadv(bs, (1 << 20) - 100, v, 2), -EAGAIN);
    bdrv_close(bs);
    unlink(path);
    g_free(path);

    /* qcow2: never-written clusters read as zeroes without any I/O;
     * written ones come from the cache or are declined; clusters of a
     * backing file are always declined. */
    char *base = g_strdup_printf("%s/kestrel-tryread-base-%d.qcow2",
                                 g_get_tmp_dir(), (int)getpid());
    assert_int_equal(bdrv_create("qcow2", base, &co, NULL), 0);
    oo.format = "qcow2";
    bs = bdrv_open(base, &oo, NULL);
    assert_non_null(bs);
    memset(back, 0x55, sizeof(back));
    assert_int_equal(bdrv_try_preadv(bs, 4096, v, 2), 0);
    for (size_t i = 0; i < sizeof(back); i++) {
        assert_int_equal(back[i], 0);
    }
    assert_int_equal(bdrv_pwrite(bs, 65536 - 512, buf, sizeof(buf), NULL), 0);
    r = bdrv_try_preadv(bs, 65536 - 512, v, 2);
    assert_true(r == 0 || r == -EAGAIN);
    if (r == 0) {
        assert_memory_equal(back, buf, sizeof(buf));
    }
    bdrv_close(bs);
    path = g_strdup_printf("%s/kestrel-tryread-%d.qcow2", g_get_tmp_dir(),
                           (int)getpid());
    BlockCreateOptions over = { .size = 1 << 20, .backing_file = base,
                                .backing_format = "qcow2" };
    assert_int_equal(bdrv_create("qcow2", path, &over, NULL), 0);
    bs = bdrv_open(path, &oo, NULL);
    assert_non_null(bs);
    assert_int_equal(bdrv_try_preadv(bs, 65536, v, 2), -EAGAIN);
    assert_int_equal(bdrv_preadv(bs, 65536 - 512, v, 2, NULL), 0);
    assert_memory_equal(back, buf, sizeof(buf));
    bdrv_close(bs);
    unlink(path);
    unlink(base);
    g_free(path);
    g_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_qcow2_scattered),
        cmocka_unit_test(test_try_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
