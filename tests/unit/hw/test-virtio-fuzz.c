/*
 * Fuzz-style test of virtio-blk-pci: thousands of rounds of random
 * descriptor tables, indirect tables, avail-ring entries and request
 * headers (from a fixed seed, so failures repeat; KESTREL_FUZZ_SEED and
 * KESTREL_FUZZ_ROUNDS override).  The device must survive every round
 * (the ASan/UBSan build checks for out-of-bounds accesses), never put more
 * into the used ring than was made available, and whenever it flags
 * NEEDS_RESET it must have sent the configuration interrupt; a reset must
 * then bring it back to serve a well-formed request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtqueue.h"
#include "virtio-driver.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Addresses a fuzzer would pick: good buffers, the edges of RAM, holes,
 * the rings themselves, wrap-around. */
static uint64_t rnd_addr(void)
{
    switch (rnd() % 8) {
    case 0: return VD_RAM_SIZE - (rnd() % 64);
    case 1: return UINT64_MAX - (rnd() % 4096);
    case 2: return 0xfee00000;
    case 3: return VD_DESC + (rnd() % 0x4000);
    case 4: return rnd();
    default: return VD_DATA + (rnd() % 0x80000);
    }
}

static uint32_t rnd_len(void)
{
    switch (rnd() % 6) {
    case 0: return 0;
    case 1: return UINT32_MAX - (uint32_t)(rnd() % 16);
    case 2: return (uint32_t)rnd();
    case 3: return 16;
    case 4: return 1;
    default: return (uint32_t)(rnd() % 16) * 512;
    }
}

static uint16_t rnd_flags(void)
{
    return (uint16_t)(rnd() % 8 == 0 ? rnd() : rnd() % 8);
}

static uint16_t rnd_next(void)
{
    return (uint16_t)(rnd() % 4 == 0 ? rnd() : rnd() % VD_QUEUE_SIZE);
}

static void randomize(VirtioDriver *vd)
{
    uint8_t *ram = vd->t->m.ram;
    for (unsigned i = 0; i < VD_QUEUE_SIZE; i++) {
        vd_set_desc(vd, VD_DESC, i, rnd_addr(), rnd_len(), rnd_flags(),
                    rnd_next());
    }
    for (unsigned i = 0; i < 8; i++) {
        vd_set_desc(vd, VD_INDIRECT, i, rnd_addr(), rnd_len(), rnd_flags(),
                    (uint16_t)(rnd() % 10));
    }
    /* Some descriptors point at the indirect table, some at headers. */
    if (rnd() % 2) {
        vd_set_desc(vd, VD_DESC, (unsigned)(rnd() % VD_QUEUE_SIZE), VD_INDIRECT,
                    (uint32_t)(16 * (rnd() % 10)), VRING_DESC_F_INDIRECT,
                    rnd_next());
    }
    if (rnd() % 2) {
        vd_set_desc(vd, VD_DESC, (unsigned)(rnd() % VD_QUEUE_SIZE), VD_HDR, 16,
                    VRING_DESC_F_NEXT, rnd_next());
    }
    st32(ram + VD_HDR, (uint32_t)(rnd() % 16));
    st64(ram + VD_HDR + 8, rnd() % 4 ? rnd() % 8192 : rnd());
    /* Discard/write-zeroes segments in the data area. */
    st64(ram + VD_DATA, rnd() % 10000);
    st32(ram + VD_DATA + 8, (uint32_t)rnd());
    st32(ram + VD_DATA + 12, (uint32_t)(rnd() % 4));
}

/* A plausible request (header, data, status) at head, sometimes with one
 * field spoiled. */
static void plausible(VirtioDriver *vd, unsigned head)
{
    unsigned d = (head + 1) % VD_QUEUE_SIZE, st = (head + 2) % VD_QUEUE_SIZE;
    uint32_t len = (uint32_t)(1 + rnd() % 16) * 512;
    bool write = rnd() % 2;
    vd_set_desc(vd, VD_DESC, head, VD_HDR, 16, VRING_DESC_F_NEXT, (uint16_t)d);
    vd_set_desc(vd, VD_DESC, d, VD_DATA + 0x1000 * (rnd() % 64), len,
                VRING_DESC_F_NEXT | (write ? VRING_DESC_F_WRITE : 0),
                (uint16_t)st);
    vd_set_desc(vd, VD_DESC, st, VD_STATUS, 1, VRING_DESC_F_WRITE, 0);
    st32(vd->t->m.ram + VD_HDR, write ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT);
    if (rnd() % 4 == 0) {
        unsigned which = (unsigned)(rnd() % 3);
        unsigned i = which == 0 ? head : which == 1 ? d : st;
        uint8_t *p = vd->t->m.ram + VD_DESC + 16 * i;
        p[rnd() % 16] ^= (uint8_t)(1u << (rnd() % 8));
    }
}

static void test_fuzz(void **state)
{
    char dir[] = "/tmp/kestrel-vfuzz-XXXXXX";
    assert_non_null(g_mkdtemp(dir));
    char *image = g_strdup_printf("%s/disk.raw", dir);
    VirtioDriver vd;
    TestMachine *t = vd_machine(image, 4u << 20, false, &vd);
    const char *seed = getenv("KESTREL_FUZZ_SEED");
    const char *rounds_s = getenv("KESTREL_FUZZ_ROUNDS");
    rng_state = seed ? strtoull(seed, NULL, 0) : 0x5eed1234abcdull;
    unsigned rounds = rounds_s ? (unsigned)atoi(rounds_s) : 3000;
    uint64_t features = (1ull << VIRTIO_BLK_F_FLUSH) |
                        (1ull << VIRTIO_BLK_F_DISCARD) |
                        (1ull << VIRTIO_BLK_F_WRITE_ZEROES) |
                        (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                        (1ull << VIRTIO_RING_F_EVENT_IDX);
    assert_true(vd_init(&vd, features) & VIRTIO_STATUS_DRIVER_OK);
    unsigned resets = 0, served = 0;
    for (unsigned r = 0; r < rounds; r++) {
        randomize(&vd);
        bool nice = rnd() % 2;
        uint16_t head = (uint16_t)(rnd() % VD_QUEUE_SIZE);
        if (nice) {
            plausible(&vd, head);
        }
        unsigned msis = vd.msi_count;
        unsigned kicks = 1 + (unsigned)(rnd() % 3);
        for (unsigned k = 0; k < kicks; k++) {
            vd_kick(&vd, nice ? head
                              : (uint16_t)(rnd() % 8 == 0
                                               ? rnd() : rnd() % VD_QUEUE_SIZE));
        }
        if (rnd() % 16 == 0) { /* a wild available index */
            st16(t->m.ram + VD_AVAIL + 2, (uint16_t)rnd());
            vd_kick(&vd, 0);
        }
        /* Let submitted requests complete. */
        for (unsigned i = 0; i < 4; i++) {
            g_main_context_iteration(t->ctx, FALSE);
            g_usleep(200);
        }
        uint16_t used = vd_used_idx(&vd);
        assert_true((uint16_t)(used - 0) <= vd.avail_idx ||
                    (vd_status(&vd) & VIRTIO_STATUS_NEEDS_RESET));
        if (vd_status(&vd) & VIRTIO_STATUS_NEEDS_RESET) {
            assert_true(vd.msi_count > msis);
            assert_true(vd_init(&vd, features) & VIRTIO_STATUS_DRIVER_OK);
            resets++;
        } else if (used != 0) {
            served++;
        }
        /* Every so often, check the device still works. */
        if (r % 500 == 499) {
            assert_true(vd_init(&vd, features) & VIRTIO_STATUS_DRIVER_OK);
            assert_int_equal(vd_blk_request(&vd, VIRTIO_BLK_T_IN, 0, VD_DATA,
                                            512, false), VIRTIO_BLK_S_OK);
        }
    }
    print_message("fuzz: %u rounds, %u resets, %u rounds served requests\n",
                  rounds, resets, served);
    assert_true(resets > 0);
    vd_machine_free(t);
    unlink(image);
    rmdir(dir);
    g_free(image);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
