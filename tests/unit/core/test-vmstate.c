/*
 * State descriptions: a saved record loads back into a fresh instance, and
 * records for another device, version or size are refused untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/vmstate.h"

typedef struct Chan {
    uint16_t count;
    uint8_t mode;
} Chan;

static const VMStateField chan_fields[] = {
    VMSTATE_U16(Chan, count),
    VMSTATE_U8(Chan, mode),
    VMSTATE_END,
};
static const VMStateDescription chan_vmsd = { "chan", 1, chan_fields, NULL };

typedef struct Dev {
    uint8_t a;
    uint32_t b;
    uint64_t c[3];
    bool d;
    uint8_t buf[5];
    Chan ch[2];
    int post_loads;
} Dev;

static bool dev_post_load(void *opaque, GError **errp)
{
    ((Dev *)opaque)->post_loads++;
    return true;
}

static const VMStateField dev_fields[] = {
    VMSTATE_U8(Dev, a),
    VMSTATE_U32(Dev, b),
    VMSTATE_U64_ARRAY(Dev, c),
    VMSTATE_BOOL(Dev, d),
    VMSTATE_BUFFER(Dev, buf),
    VMSTATE_STRUCT_ARRAY(Dev, ch, &chan_vmsd),
    VMSTATE_END,
};
static const VMStateDescription dev_vmsd = { "dev", 2, dev_fields, dev_post_load };
static const VMStateDescription dev_v3 = { "dev", 3, dev_fields, NULL };
static const VMStateDescription other = { "other", 2, dev_fields, NULL };

static void test_round_trip(void **state)
{
    Dev d = { 7, 0x12345678, { 1, 2, 3 }, true, "abcd", { { 10, 1 }, { 20, 2 } }, 0 };
    GByteArray *out = g_byte_array_new();
    vmstate_save(&dev_vmsd, &d, out);
    Dev e;
    memset(&e, 0, sizeof(e));
    size_t used = 0;
    assert_true(vmstate_load(&dev_vmsd, &e, out->data, out->len, &used, NULL));
    assert_int_equal(used, out->len);
    assert_int_equal(e.a, 7);
    assert_int_equal(e.b, 0x12345678);
    assert_int_equal(e.c[2], 3);
    assert_true(e.d);
    assert_memory_equal(e.buf, "abcd", 5);
    assert_int_equal(e.ch[1].count, 20);
    assert_int_equal(e.ch[1].mode, 2);
    assert_int_equal(e.post_loads, 1);
    g_byte_array_free(out, TRUE);
}

static void test_refusals(void **state)
{
    Dev d = { 0 };
    d.a = 1;
    GByteArray *out = g_byte_array_new();
    vmstate_save(&dev_vmsd, &d, out);
    Dev e;
    memset(&e, 0x5a, sizeof(e));
    size_t used = 0;
    GError *err = NULL;
    assert_false(vmstate_load(&dev_v3, &e, out->data, out->len, &used, &err));
    assert_non_null(strstr(err->message, "version 2"));
    g_clear_error(&err);
    assert_false(vmstate_load(&other, &e, out->data, out->len, &used, &err));
    g_clear_error(&err);
    for (size_t cut = 0; cut < out->len; cut++) {
        assert_false(vmstate_load(&dev_vmsd, &e, out->data, cut, &used, &err));
        g_clear_error(&err);
    }
    assert_int_equal(e.a, 0x5a);
    g_byte_array_free(out, TRUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
