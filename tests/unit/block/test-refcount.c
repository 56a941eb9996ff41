/*
 * test-refcount.c: qcow2 refcounts (qcow2 specification, "Host cluster
 * management"): packing of every refcount width, cluster allocation with
 * new refcount blocks and refcount table growth, deferred frees and
 * reuse, and a clean check of the result.
 */
#include "block/qcow2.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void test_packing(void **state)
{
    uint8_t block[512];
    for (uint32_t order = 0; order <= 6; order++) {
        uint64_t entries = sizeof(block) * 8 >> order;
        uint64_t max = order == 6 ? UINT64_MAX
                                  : (UINT64_C(1) << (1u << order)) - 1;
        memset(block, 0, sizeof(block));
        for (uint64_t i = 0; i < entries; i++) {
            qcow2_refblock_set(block, order, i, (i * 7 + 3) & max);
        }
        for (uint64_t i = 0; i < entries; i++) {
            assert_true(qcow2_refblock_get(block, order, i) == ((i * 7 + 3) & max));
        }
        qcow2_refblock_set(block, order, 5, max);
        assert_true(qcow2_refblock_get(block, order, 5) == max);
        assert_true(qcow2_refblock_get(block, order, 4) == ((4 * 7 + 3) & max));
        assert_true(qcow2_refblock_get(block, order, 6) == ((6 * 7 + 3) & max));
    }
    /* Sub-byte widths start at the least significant bit. */
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(block, 0, 0, 1);
    qcow2_refblock_set(block, 0, 3, 1);
    assert_int_equal(block[0], 0x09);
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(block, 2, 1, 0xa);
    assert_int_equal(block[0], 0xa0);
    qcow2_refblock_set(block, 4, 1, 0x1234);
    assert_int_equal(block[2], 0x12);
    assert_int_equal(block[3], 0x34);
}

static char *temp_image(const char *cluster_size_name, uint32_t cluster_size,
                        int refcount_bits)
{
    char *path = g_strdup_printf("%s/kestrel-refcount-%s-%d.qcow2",
                                 g_get_tmp_dir(), cluster_size_name,
                                 (int)getpid());
    BlockCreateOptions o = { .size = 64 << 20, .cluster_size = cluster_size,
                             .refcount_bits = refcount_bits };
    assert_int_equal(bdrv_create("qcow2", path, &o, NULL), 0);
    return path;
}

static BlockDriverState *open_rw(const char *path)
{
    BlockOpenOptions oo = { .format = "qcow2",
                            .flags = BDRV_O_RDWR | BDRV_O_NO_FLUSH };
    GError *err = NULL;
    BlockDriverState *bs = bdrv_open(path, &oo, &err);
    if (!bs) {
        fail_msg("open: %s", err->message);
    }
    return bs;
}

static void test_allocation_and_growth(void **state)
{
    char *path = temp_image("512", 512, 16);
    BlockDriverState *bs = open_rw(path);
    Qcow2State *s = bs->opaque;
    uint32_t table_clusters = s->h.refcount_table_clusters;
    /* 512-byte clusters: a refcount block covers 256 clusters and one
     * table cluster 64 blocks; 40000 clusters need a bigger table. */
    uint64_t first = 0, last = 0;
    for (int i = 0; i < 40000; i++) {
        int64_t off = qcow2_alloc_clusters(s, 1, NULL);
        assert_true(off > 0);
        assert_int_equal(off % 512, 0);
        if (i == 0) {
            first = (uint64_t)off;
        }
        last = (uint64_t)off;
    }
    assert_true(s->h.refcount_table_clusters > table_clusters);
    uint64_t rc = 0;
    assert_int_equal(qcow2_get_refcount(s, first / 512, &rc, NULL), 0);
    assert_true(rc == 1);
    assert_int_equal(qcow2_get_refcount(s, last / 512, &rc, NULL), 0);
    assert_true(rc == 1);
    /* Contiguous runs come back contiguous. */
    int64_t run = qcow2_alloc_clusters(s, 100, NULL);
    assert_true(run > 0);
    for (int k = 0; k < 100; k++) {
        assert_int_equal(qcow2_get_refcount(s, (uint64_t)run / 512 + k, &rc,
                                            NULL), 0);
        assert_true(rc == 1);
    }
    /* A freed cluster is reused once the free is applied, not before. */
    qcow2_free_later(s, first, 512);
    assert_int_equal(qcow2_get_refcount(s, first / 512, &rc, NULL), 0);
    assert_true(rc == 1);
    assert_int_equal(qcow2_apply_pending_frees(s, NULL), 0);
    assert_int_equal(qcow2_get_refcount(s, first / 512, &rc, NULL), 0);
    assert_true(rc == 0);
    assert_true(qcow2_alloc_clusters(s, 1, NULL) == (int64_t)first);
    /* Over- and underflow are refused. */
    GError *err = NULL;
    assert_true(qcow2_update_refcount(s, 0, 512, -2, &err) < 0);
    g_clear_error(&err);
    /* Extend the file over the allocations so that the check sees them. */
    uint8_t zeros[512] = { 0 };
    assert_int_equal(host_file_pwrite(&s->file, (uint64_t)run + 99 * 512,
                                      zeros, sizeof(zeros), NULL), 0);
    bdrv_close(bs);

    /* The image stays consistent: only leaks (nothing references them). */
    BlockOpenOptions oo = { .format = "qcow2", .flags = BDRV_O_CHECK };
    bs = bdrv_open(path, &oo, NULL);
    BlockCheckResult res = { 0 };
    assert_int_equal(bdrv_check(bs, &res, 0, NULL), 0);
    assert_int_equal(res.corruptions, 0);
    assert_true(res.leaks > 40000);
    bdrv_close(bs);
    unlink(path);
    g_free(path);
}

static void test_narrow_refcounts(void **state)
{
    char *path = temp_image("1bit", 4096, 1);
    BlockDriverState *bs = open_rw(path);
    Qcow2State *s = bs->opaque;
    int64_t off = qcow2_alloc_clusters(s, 3, NULL);
    assert_true(off > 0);
    GError *err = NULL;
    /* One bit: a second reference does not fit. */
    assert_true(qcow2_update_refcount(s, (uint64_t)off, 4096, 1, &err) < 0);
    g_clear_error(&err);
    bdrv_close(bs);
    unlink(path);
    g_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packing),
        cmocka_unit_test(test_allocation_and_growth),
        cmocka_unit_test(test_narrow_refcounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
