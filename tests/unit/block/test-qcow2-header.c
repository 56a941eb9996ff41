/*
 * test-qcow2-header.c: qcow2 header parsing and writing (qcow2
 * specification, "Header" and "Header extensions"): round trips, and
 * refusal of damaged or unsupported headers with a useful message.
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#define CS 65536

static void make_header(Qcow2Header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = 3;
    h->cluster_bits = 16;
    h->size = 1 << 30;
    h->l1_size = 2;
    h->l1_table_offset = 3 * CS;
    h->refcount_table_offset = CS;
    h->refcount_table_clusters = 1;
    h->refcount_order = 4;
}

static uint8_t *serialized(Qcow2Header *h)
{
    uint8_t *buf = g_malloc(CS);
    assert_true(qcow2_header_serialize(h, buf, CS, NULL) > 0);
    return buf;
}

static void test_round_trip(void **state)
{
    Qcow2Header h;
    make_header(&h);
    h.backing_file = "../base/disk.qcow2";
    h.backing_format = "qcow2";
    h.compatible_features = QCOW2_COMPAT_LAZY_REFCOUNTS;
    uint8_t *buf = serialized(&h);
    Qcow2Header p;
    GError *err = NULL;
    assert_int_equal(qcow2_header_parse(&p, buf, CS, 4 * CS, &err), 0);
    assert_int_equal(p.version, 3);
    assert_int_equal(p.cluster_bits, 16);
    assert_true(p.size == (1u << 30));
    assert_int_equal(p.l1_size, 2);
    assert_true(p.l1_table_offset == 3 * CS);
    assert_string_equal(p.backing_file, "../base/disk.qcow2");
    assert_string_equal(p.backing_format, "qcow2");
    assert_true(p.compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
    assert_int_equal(p.header_length, QCOW2_V3_HEADER_LENGTH);
    /* The feature name table we write is read back. */
    assert_true(p.feature_names->len >= 5);
    qcow2_header_clear(&p);
    g_free(buf);
}

static void test_version2(void **state)
{
    Qcow2Header h;
    make_header(&h);
    h.version = 2;
    uint8_t *buf = serialized(&h);
    assert_int_equal(load_be32(buf + 4), 2);
    Qcow2Header p;
    assert_int_equal(qcow2_header_parse(&p, buf, CS, 4 * CS, NULL), 0);
    assert_int_equal(p.refcount_order, 4);
    assert_int_equal(p.header_length, QCOW2_V2_HEADER_LENGTH);
    qcow2_header_clear(&p);
    g_free(buf);
}

/* Patches one field, parses, and expects failure naming `words`. */
static void expect_refusal(size_t off, int width, uint64_t value,
                           uint64_t file_size, const char *words)
{
    Qcow2Header h;
    make_header(&h);
    uint8_t *buf = serialized(&h);
    if (width == 4) {
        store_be32(buf + off, (uint32_t)value);
    } else {
        store_be64(buf + off, value);
    }
    Qcow2Header p;
    GError *err = NULL;
    assert_true(qcow2_header_parse(&p, buf, CS, file_size, &err) < 0);
    assert_non_null(err);
    if (!strstr(err->message, words)) {
        fail_msg("message '%s' does not mention '%s'", err->message, words);
    }
    g_error_free(err);
    qcow2_header_clear(&p);
    g_free(buf);
}

static void test_refusals(void **state)
{
    expect_refusal(QCOW2_HDR_MAGIC, 4, 0x12345678, 4 * CS, "not in qcow2");
    expect_refusal(QCOW2_HDR_VERSION, 4, 4, 4 * CS, "version 4");
    expect_refusal(QCOW2_HDR_CLUSTER_BITS, 4, 8, 4 * CS, "cluster size");
    expect_refusal(QCOW2_HDR_CLUSTER_BITS, 4, 30, 4 * CS, "cluster size");
    expect_refusal(QCOW2_HDR_SIZE, 8, UINT64_C(1) << 62, 4 * CS, "too large");
    expect_refusal(QCOW2_HDR_CRYPT_METHOD, 4, 1, 4 * CS, "Encrypted");
    expect_refusal(QCOW2_HDR_L1_SIZE, 4, 0x10000000, 4 * CS, "L1");
    expect_refusal(QCOW2_HDR_L1_SIZE, 4, 0, 4 * CS, "too small");
    expect_refusal(QCOW2_HDR_L1_OFFSET, 8, 100 * CS, 4 * CS, "L1");
    expect_refusal(QCOW2_HDR_L1_OFFSET, 8, 3 * CS + 8, 4 * CS, "L1");
    expect_refusal(QCOW2_HDR_REFTABLE_OFFSET, 8, 100 * CS, 4 * CS, "refcount");
    expect_refusal(QCOW2_HDR_REFTABLE_CLUSTERS, 4, 0, 4 * CS, "refcount");
    expect_refusal(QCOW2_HDR_REFTABLE_OFFSET, 8, 3 * CS, 4 * CS, "overlap");
    expect_refusal(QCOW2_HDR_NB_SNAPSHOTS, 4, 100000, 4 * CS, "snapshots");
    expect_refusal(QCOW2_HDR_REFCOUNT_ORDER, 4, 7, 4 * CS, "refcount order");
    expect_refusal(QCOW2_HDR_HEADER_LENGTH, 4, 12, 4 * CS, "header length");
    expect_refusal(QCOW2_HDR_INCOMPAT, 8, UINT64_C(1) << 20, 4 * CS,
                   "unknown incompatible feature 20");
    expect_refusal(QCOW2_HDR_INCOMPAT, 8, QCOW2_INCOMPAT_EXTL2, 4 * CS,
                   "extended L2");
    expect_refusal(QCOW2_HDR_MAGIC, 4, QCOW2_MAGIC, 50, "too short");
}

static void test_feature_names_from_image(void **state)
{
    /* A name given by the image's own table wins. */
    Qcow2Header h;
    make_header(&h);
    h.incompatible_features = UINT64_C(1) << 9;
    uint8_t *buf = serialized(&h);
    size_t off = QCOW2_V3_HEADER_LENGTH;
    store_be32(buf + off, QCOW2_EXT_FEATURE_TABLE);
    store_be32(buf + off + 4, QCOW2_FEATURE_ENTRY_SIZE);
    memset(buf + off + 8, 0, QCOW2_FEATURE_ENTRY_SIZE + 8);
    buf[off + 8] = QCOW2_FEATURE_INCOMPAT;
    buf[off + 9] = 9;
    memcpy(buf + off + 10, "time travel", 11);
    Qcow2Header p;
    GError *err = NULL;
    assert_true(qcow2_header_parse(&p, buf, CS, 4 * CS, &err) < 0);
    assert_non_null(strstr(err->message, "time travel"));
    g_error_free(err);
    qcow2_header_clear(&p);
    g_free(buf);
}

static void test_bad_extension_and_backing(void **state)
{
    Qcow2Header h;
    make_header(&h);
    uint8_t *buf = serialized(&h);
    store_be32(buf + QCOW2_V3_HEADER_LENGTH, 0x11111111);
    store_be32(buf + QCOW2_V3_HEADER_LENGTH + 4, 0x7fffffff);
    Qcow2Header p;
    GError *err = NULL;
    assert_true(qcow2_header_parse(&p, buf, CS, 4 * CS, &err) < 0);
    assert_non_null(strstr(err->message, "extension"));
    g_clear_error(&err);
    qcow2_header_clear(&p);

    make_header(&h);
    g_free(buf);
    buf = serialized(&h);
    store_be64(buf + QCOW2_HDR_BACKING_OFFSET, CS - 4);
    store_be32(buf + QCOW2_HDR_BACKING_SIZE, 100);
    assert_true(qcow2_header_parse(&p, buf, CS, 4 * CS, &err) < 0);
    assert_non_null(strstr(err->message, "backing file name"));
    g_clear_error(&err);
    qcow2_header_clear(&p);
    g_free(buf);
}

static void test_too_big_for_cluster(void **state)
{
    Qcow2Header h;
    make_header(&h);
    h.cluster_bits = 9;
    h.l1_table_offset = 3 * 512;
    h.refcount_table_offset = 512;
    h.size = 1 << 20;
    h.l1_size = 16;
    char name[600];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    h.backing_file = name;
    uint8_t buf[512];
    GError *err = NULL;
    assert_true(qcow2_header_serialize(&h, buf, sizeof(buf), &err) < 0);
    g_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_version2),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_feature_names_from_image),
        cmocka_unit_test(test_bad_extension_and_backing),
        cmocka_unit_test(test_too_big_for_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
