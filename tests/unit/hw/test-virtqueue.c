/*
 * Split virtqueues on their own: well-formed chains (direct, indirect,
 * mixed directions) become the right iovecs; every kind of malformed chain
 * (loops, buffers outside RAM, lengths that wrap, indirect inside
 * indirect, indices beyond the queue, bad ring addresses) breaks the queue
 * with a reason and touches nothing; used ring updates and the
 * notification rules with and without event index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hw/virtio/virtqueue.h"

#define RAM_SIZE (1u << 20)
#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define IND 0x4000
#define BUF 0x10000

typedef struct Fix {
    AddressSpace as;
    MemoryRegion ram_mr;
    uint8_t *ram;
    VirtQueue vq;
    VirtQueueElement elem;
    unsigned broken_calls;
    uint16_t avail_idx;
} Fix;

static void on_broken(void *opaque, VirtQueue *vq)
{
    ((Fix *)opaque)->broken_calls++;
}

static int setup(void **state)
{
    Fix *f = g_new0(Fix, 1);
    f->ram = g_malloc0(RAM_SIZE);
    address_space_init(&f->as, "memory", UINT64_MAX);
    memory_region_init_ram(&f->ram_mr, "ram", f->ram, 0, RAM_SIZE);
    assert_true(address_space_map(&f->as, &f->ram_mr, 0, 0));
    virtqueue_init(&f->vq, &f->as, QSZ, on_broken, f);
    f->vq.desc_addr = DESC;
    f->vq.avail_addr = AVAIL;
    f->vq.used_addr = USED;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    address_space_destroy(&f->as);
    g_free(f->ram);
    g_free(f);
    return 0;
}

static void desc(Fix *f, uint64_t table, unsigned i, uint64_t addr,
                 uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = f->ram + table + 16 * i;
    st64(p, addr);
    st32(p + 8, len);
    st16(p + 12, flags);
    st16(p + 14, next);
}

static void make_avail(Fix *f, uint16_t head)
{
    st16(f->ram + AVAIL + 4 + 2 * (f->avail_idx % QSZ), head);
    f->avail_idx++;
    st16(f->ram + AVAIL + 2, f->avail_idx);
}

static void enable(Fix *f, bool indirect, bool event_idx)
{
    assert_true(virtqueue_enable(&f->vq, indirect, event_idx));
}

static void test_direct_chain(void **state)
{
    Fix *f = *state;
    enable(f, false, false);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_EMPTY);
    desc(f, DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 5);
    desc(f, DESC, 5, BUF + 0x100, 0, VRING_DESC_F_NEXT, 1); /* empty: skipped */
    desc(f, DESC, 1, BUF + 0x200, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    desc(f, DESC, 2, BUF + 0x2000, 1, VRING_DESC_F_WRITE, 0);
    make_avail(f, 3);
    assert_int_equal(virtqueue_pending(&f->vq), 1);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_POPPED);
    VirtQueueElement *e = &f->elem;
    assert_int_equal(e->head, 3);
    assert_int_equal(e->out_num, 1);
    assert_int_equal(e->in_num, 2);
    assert_ptr_equal(e->out[0].iov_base, f->ram + BUF);
    assert_int_equal(e->out_len, 16);
    assert_int_equal(e->in_len, 4097);
    assert_ptr_equal(e->in[1].iov_base, f->ram + BUF + 0x2000);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_EMPTY);

    /* Used ring: entry then index. */
    virtqueue_push(&f->vq, 3, 4097);
    assert_int_equal(ld16(f->ram + USED + 2), 1);
    assert_int_equal(ld32(f->ram + USED + 4), 3);
    assert_int_equal(ld32(f->ram + USED + 8), 4097);
    assert_int_equal(f->broken_calls, 0);
}

static void test_indirect_chain(void **state)
{
    Fix *f = *state;
    enable(f, true, false);
    desc(f, IND, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
    desc(f, IND, 2, BUF + 0x100, 512, VRING_DESC_F_NEXT, 1);
    desc(f, IND, 1, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0);
    desc(f, DESC, 0, IND, 3 * 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(f, 0);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_POPPED);
    assert_int_equal(f->elem.out_num, 2);
    assert_int_equal(f->elem.in_num, 1);
    assert_int_equal(f->elem.out_len, 528);
}

typedef void (*BadSetup)(Fix *f);

static void expect_broken(Fix *f, bool indirect, const char *needle)
{
    enable(f, indirect, false);
    uint8_t before[64];
    memcpy(before, f->ram + USED, sizeof(before));
    make_avail(f, 0);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_BROKEN);
    assert_true(f->vq.broken);
    assert_false(f->vq.ready);
    assert_int_equal(f->broken_calls, 1);
    assert_non_null(f->vq.broken_reason);
    if (!strstr(f->vq.broken_reason, needle)) {
        fail_msg("reason '%s' lacks '%s'", f->vq.broken_reason, needle);
    }
    /* Nothing was used, and the queue stays dead. */
    assert_memory_equal(before, f->ram + USED, sizeof(before));
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_BROKEN);
    virtqueue_push(&f->vq, 0, 1);
    assert_memory_equal(before, f->ram + USED, sizeof(before));
    assert_int_equal(f->broken_calls, 1);
    /* A reset revives it. */
    virtqueue_reset(&f->vq);
    assert_false(f->vq.broken);
}

static void test_loop(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
    desc(f, DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
    expect_broken(f, false, "loops");
}

static void test_self_loop(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 0);
    expect_broken(f, false, "loops");
}

static void test_buffer_outside_ram(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, RAM_SIZE - 8, 16, 0, 0); /* straddles the end */
    expect_broken(f, false, "not in RAM");
}

static void test_buffer_far_outside_ram(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, 0xfee00000, 4, 0, 0); /* the LAPIC page, not RAM */
    expect_broken(f, false, "not in RAM");
}

static void test_length_wraps(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, UINT64_MAX - 10, 0x100, 0, 0);
    expect_broken(f, false, "wraps");
}

static void test_next_beyond_queue(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, QSZ);
    expect_broken(f, false, "beyond the queue size");
}

static void test_head_beyond_queue(void **state)
{
    Fix *f = *state;
    enable(f, false, false);
    make_avail(f, QSZ + 3);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_BROKEN);
    assert_non_null(strstr(f->vq.broken_reason, "head is beyond"));
}

static void test_avail_index_jump(void **state)
{
    Fix *f = *state;
    enable(f, false, false);
    st16(f->ram + AVAIL + 2, QSZ + 1);
    assert_int_equal(virtqueue_pending(&f->vq), 0);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_BROKEN);
    assert_non_null(strstr(f->vq.broken_reason, "available index"));
}

static void test_indirect_inside_indirect(void **state)
{
    Fix *f = *state;
    desc(f, IND, 0, IND + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
    desc(f, DESC, 0, IND, 16, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, true, "inside an indirect table");
}

static void test_indirect_not_negotiated(void **state)
{
    Fix *f = *state;
    desc(f, IND, 0, BUF, 16, 0, 0);
    desc(f, DESC, 0, IND, 16, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, false, "without VIRTIO_RING_F_INDIRECT_DESC");
}

static void test_indirect_bad_length(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, IND, 24, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, true, "bad length");
}

static void test_indirect_table_outside_ram(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, RAM_SIZE - 16, 64, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, true, "not in RAM");
}

static void test_indirect_loop(void **state)
{
    Fix *f = *state;
    desc(f, IND, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
    desc(f, IND, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
    desc(f, DESC, 0, IND, 32, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, true, "loops");
}

static void test_indirect_next_outside_table(void **state)
{
    Fix *f = *state;
    desc(f, IND, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
    desc(f, DESC, 0, IND, 32, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, true, "outside its table");
}

static void test_indirect_in_middle_of_chain(void **state)
{
    Fix *f = *state;
    desc(f, IND, 0, BUF, 16, 0, 0);
    desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
    desc(f, DESC, 1, IND, 16, VRING_DESC_F_INDIRECT, 0);
    expect_broken(f, true, "inside a chain");
}

static void test_readable_after_writable(void **state)
{
    Fix *f = *state;
    desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    desc(f, DESC, 1, BUF, 16, 0, 0);
    expect_broken(f, false, "follows a device-writable");
}

static void test_bad_rings(void **state)
{
    Fix *f = *state;
    f->vq.used_addr = RAM_SIZE - 8; /* used ring runs off RAM */
    assert_false(virtqueue_enable(&f->vq, false, false));
    assert_true(f->vq.broken);
    virtqueue_reset(&f->vq);
    f->vq.desc_addr = DESC + 8; /* misaligned */
    f->vq.avail_addr = AVAIL;
    f->vq.used_addr = USED;
    assert_false(virtqueue_enable(&f->vq, false, false));
    virtqueue_reset(&f->vq);
    f->vq.desc_addr = DESC;
    f->vq.num = 6; /* not a power of two */
    assert_false(virtqueue_enable(&f->vq, false, false));
    virtqueue_reset(&f->vq);
    f->vq.num = QSZ * 2; /* above the maximum */
    assert_false(virtqueue_enable(&f->vq, false, false));
}

static void test_notify_flags(void **state)
{
    Fix *f = *state;
    enable(f, false, false);
    virtqueue_push(&f->vq, 0, 0);
    assert_true(virtqueue_should_notify(&f->vq));
    st16(f->ram + AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
    virtqueue_push(&f->vq, 0, 0);
    assert_false(virtqueue_should_notify(&f->vq));
}

static void test_notify_event_idx(void **state)
{
    Fix *f = *state;
    enable(f, false, true);
    /* used_event lives after the avail ring: ask for an interrupt when the
     * used index passes 2 (i.e. reaches 3). */
    st16(f->ram + AVAIL + 4 + 2 * QSZ, 2);
    virtqueue_push(&f->vq, 0, 0);
    assert_true(virtqueue_should_notify(&f->vq)); /* the first one always */
    virtqueue_push(&f->vq, 0, 0);
    assert_false(virtqueue_should_notify(&f->vq)); /* used 2: not past 2 */
    virtqueue_push(&f->vq, 0, 0);
    assert_true(virtqueue_should_notify(&f->vq)); /* used 3 */
    virtqueue_push(&f->vq, 0, 0);
    assert_false(virtqueue_should_notify(&f->vq));
    /* avail_event goes after the used ring. */
    make_avail(f, 0);
    desc(f, DESC, 0, BUF, 16, 0, 0);
    assert_int_equal(virtqueue_pop(&f->vq, &f->elem), VQ_POPPED);
    virtqueue_set_avail_event(&f->vq);
    assert_int_equal(ld16(f->ram + USED + 4 + 8 * QSZ), 1);
}

static void test_iov_helpers(void **state)
{
    uint8_t a[5] = "abcde", b[3] = "fgh", out[8] = { 0 };
    struct iovec iov[2] = { { a, 5 }, { b, 3 } };
    assert_int_equal(iov_to_buf(iov, 2, 3, out, 4), 4);
    assert_memory_equal(out, "defg", 4);
    assert_int_equal(iov_to_buf(iov, 2, 7, out, 4), 1);
    struct iovec s[2];
    unsigned n = iov_slice(s, 2, iov, 2, 4, 3);
    assert_int_equal(n, 2);
    assert_ptr_equal(s[0].iov_base, a + 4);
    assert_int_equal(s[0].iov_len, 1);
    assert_int_equal(s[1].iov_len, 2);
    assert_int_equal(iov_from_buf(iov, 2, 4, "XYZ", 3), 3);
    assert_memory_equal(a, "abcdX", 5);
    assert_memory_equal(b, "YZh", 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_direct_chain),
        T(test_indirect_chain),
        T(test_loop),
        T(test_self_loop),
        T(test_buffer_outside_ram),
        T(test_buffer_far_outside_ram),
        T(test_length_wraps),
        T(test_next_beyond_queue),
        T(test_head_beyond_queue),
        T(test_avail_index_jump),
        T(test_indirect_inside_indirect),
        T(test_indirect_not_negotiated),
        T(test_indirect_bad_length),
        T(test_indirect_table_outside_ram),
        T(test_indirect_loop),
        T(test_indirect_next_outside_table),
        T(test_indirect_in_middle_of_chain),
        T(test_readable_after_writable),
        T(test_bad_rings),
        T(test_notify_flags),
        T(test_notify_event_idx),
        T(test_iov_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
