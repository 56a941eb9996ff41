/*
 * test-l2-cache.c: the qcow2 metadata table cache: reads, least recently
 * used eviction with write-back, pinning, the dependency that writes the
 * refcount cache (and a barrier) before L2 tables, and forgetting tables.
 */
#include "block/qcow2.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define TS 4096

typedef struct Fixture {
    char *path;
    HostFile file;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->path = g_strdup_printf("%s/kestrel-cache-%d", g_get_tmp_dir(),
                              (int)getpid());
    assert_int_equal(host_file_open(&f->file, f->path,
                                    HOST_FILE_RDWR | HOST_FILE_CREATE, NULL),
                     0);
    uint8_t buf[TS];
    for (int i = 0; i < 32; i++) {
        memset(buf, i, sizeof(buf));
        assert_int_equal(host_file_pwrite(&f->file, (uint64_t)i * TS, buf, TS,
                                          NULL), 0);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    host_file_close(&f->file);
    unlink(f->path);
    g_free(f->path);
    g_free(f);
    return 0;
}

static uint8_t byte_on_disk(Fixture *f, uint64_t off)
{
    uint8_t b;
    assert_int_equal(host_file_pread(&f->file, off, &b, 1, NULL), 0);
    return b;
}

static void test_read_and_evict(void **state)
{
    Fixture *f = *state;
    Qcow2Cache *c = qcow2_cache_new(&f->file, TS, 4);
    uint8_t *t;
    assert_int_equal(qcow2_cache_get(c, 3 * TS, (void **)&t, NULL), 0);
    assert_int_equal(t[0], 3);
    assert_int_equal(t[TS - 1], 3);
    t[0] = 0xee;
    qcow2_cache_mark_dirty(c, t);
    qcow2_cache_put(c, t);
    assert_true(qcow2_cache_is_dirty(c));
    assert_int_equal(byte_on_disk(f, 3 * TS), 3);
    /* Four more tables push the dirty one out: it is written back. */
    for (int i = 4; i < 8; i++) {
        assert_int_equal(qcow2_cache_get(c, (uint64_t)i * TS, (void **)&t,
                                         NULL), 0);
        assert_int_equal(t[0], i);
        qcow2_cache_put(c, t);
    }
    assert_int_equal(byte_on_disk(f, 3 * TS), 0xee);
    assert_false(qcow2_cache_is_dirty(c));
    /* A recently used table stays while older ones leave. */
    assert_int_equal(qcow2_cache_get(c, 4 * TS, (void **)&t, NULL), 0);
    qcow2_cache_put(c, t);
    assert_int_equal(qcow2_cache_get(c, 9 * TS, (void **)&t, NULL), 0);
    qcow2_cache_put(c, t);
    assert_int_equal(qcow2_cache_get(c, 4 * TS, (void **)&t, NULL), 0);
    t[1] = 0x44;
    qcow2_cache_put(c, t);
    assert_int_equal(qcow2_cache_get(c, 4 * TS, (void **)&t, NULL), 0);
    assert_int_equal(t[1], 0x44);
    qcow2_cache_put(c, t);
    qcow2_cache_free(c);
}

static void test_pins(void **state)
{
    Fixture *f = *state;
    Qcow2Cache *c = qcow2_cache_new(&f->file, TS, 4);
    uint8_t *t[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(qcow2_cache_get(c, (uint64_t)(i + 1) * TS,
                                         (void **)&t[i], NULL), 0);
    }
    uint8_t *extra;
    GError *err = NULL;
    assert_true(qcow2_cache_get(c, 10 * TS, (void **)&extra, &err) < 0);
    g_clear_error(&err);
    qcow2_cache_put(c, t[2]);
    assert_int_equal(qcow2_cache_get(c, 10 * TS, (void **)&extra, NULL), 0);
    assert_int_equal(extra[0], 10);
    for (int i = 0; i < 4; i++) {
        if (i != 2) {
            qcow2_cache_put(c, t[i]);
        }
    }
    qcow2_cache_put(c, extra);
    assert_true(qcow2_cache_get(c, 5, (void **)&extra, &err) < 0);
    g_clear_error(&err);
    qcow2_cache_free(c);
}

static void test_dependency_order(void **state)
{
    Fixture *f = *state;
    Qcow2Cache *refblocks = qcow2_cache_new(&f->file, TS, 4);
    Qcow2Cache *l2 = qcow2_cache_new(&f->file, TS, 4);
    qcow2_cache_set_dependency(l2, refblocks);
    uint8_t *r, *t;
    assert_int_equal(qcow2_cache_get(refblocks, 20 * TS, (void **)&r, NULL), 0);
    r[0] = 0xaa;
    qcow2_cache_mark_dirty(refblocks, r);
    qcow2_cache_put(refblocks, r);
    assert_int_equal(qcow2_cache_get(l2, 21 * TS, (void **)&t, NULL), 0);
    t[0] = 0xbb;
    qcow2_cache_mark_dirty(l2, t);
    qcow2_cache_put(l2, t);
    /* Writing the L2 cache first writes the refcount cache. */
    assert_int_equal(qcow2_cache_write_dirty(l2, NULL), 0);
    assert_int_equal(byte_on_disk(f, 20 * TS), 0xaa);
    assert_int_equal(byte_on_disk(f, 21 * TS), 0xbb);
    assert_false(qcow2_cache_is_dirty(refblocks));
    /* A forgotten dirty table is never written. */
    assert_int_equal(qcow2_cache_get(l2, 22 * TS, (void **)&t, NULL), 0);
    t[0] = 0xcc;
    qcow2_cache_mark_dirty(l2, t);
    qcow2_cache_put(l2, t);
    qcow2_cache_forget(l2, 22 * TS);
    assert_int_equal(qcow2_cache_write_dirty(l2, NULL), 0);
    assert_int_equal(byte_on_disk(f, 22 * TS), 22);
    qcow2_cache_free(l2);
    qcow2_cache_free(refblocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_and_evict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dependency_order, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
