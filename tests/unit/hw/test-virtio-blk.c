/*
 * virtio-blk-pci driven by a small guest driver (virtio-driver.c): PCI
 * identity and virtio capabilities, feature negotiation, reads and writes
 * (direct and indirect chains) that reach the image file, flush, get-id,
 * write-zeroes, discard, out-of-range and unsupported requests, read-only
 * drives, MSI-X interrupts, and a malformed chain that sets NEEDS_RESET,
 * sends the configuration interrupt, and is cured by a device reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtqueue.h"
#include "virtio-driver.h"

#define DISK_SIZE (4u << 20)

typedef struct Fix {
    char dir[64];
    char image[96];
    VirtioDriver vd;
    TestMachine *t;
} Fix;

static Fix *make(bool read_only)
{
    Fix *f = g_new0(Fix, 1);
    strcpy(f->dir, "/tmp/kestrel-vblk-XXXXXX");
    assert_non_null(g_mkdtemp(f->dir));
    snprintf(f->image, sizeof(f->image), "%s/disk.raw", f->dir);
    f->t = vd_machine(f->image, DISK_SIZE, read_only, &f->vd);
    return f;
}

static int setup(void **state)
{
    *state = make(false);
    return 0;
}

static int setup_ro(void **state)
{
    *state = make(true);
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    vd_machine_free(f->t);
    unlink(f->image);
    rmdir(f->dir);
    g_free(f);
    return 0;
}

static const uint64_t blk_features =
    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
    (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_DISCARD) |
    (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_RING_F_INDIRECT_DESC);

static void test_identity(void **state)
{
    Fix *f = *state;
    PCIDevice *d = f->vd.dev;
    assert_int_equal(pci_get_word(d->config + PCI_VENDOR_ID), 0x1af4);
    assert_int_equal(pci_get_word(d->config + PCI_DEVICE_ID), 0x1042);
    assert_int_equal(d->config[PCI_REVISION_ID], 1);
    /* Vendor capabilities of types 1-5, all pointing at BAR 4 but type 5. */
    unsigned seen = 0;
    for (uint8_t p = d->config[PCI_CAPABILITY_LIST]; p; p = d->config[p + 1]) {
        if (d->config[p] == 0x09) {
            seen |= 1u << d->config[p + 3];
            if (d->config[p + 3] != 5) {
                assert_int_equal(d->config[p + 4], 4);
            }
        }
    }
    assert_int_equal(seen, 0x3e);
    assert_int_equal(vd_common_read(&f->vd, 0x12, 2), 1); /* num_queues */
    assert_int_equal(vd_config_read(&f->vd, VIRTIO_BLK_CFG_CAPACITY, 8),
                     DISK_SIZE / 512);
    assert_int_equal(vd_config_read(&f->vd, VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
    /* Outside the device config: zero. */
    assert_int_equal(vd_config_read(&f->vd, 0x800, 4), 0);
}

static void test_negotiation(void **state)
{
    Fix *f = *state;
    /* A feature the device does not offer: FEATURES_OK does not stick. */
    uint8_t st = vd_init(&f->vd, 1ull << 40);
    assert_false(st & VIRTIO_STATUS_FEATURES_OK);
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    assert_true(f->vd.features & (1ull << VIRTIO_F_VERSION_1));
    assert_true(f->vd.features & (1ull << VIRTIO_RING_F_EVENT_IDX));
    assert_false(f->vd.features & (1ull << VIRTIO_BLK_F_RO));
    /* Writing 0 resets. */
    vd_common_write(&f->vd, 0x14, 0, 1);
    assert_int_equal(vd_status(&f->vd), 0);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 7 + seed);
    }
}

static void test_write_read(void **state)
{
    Fix *f = *state;
    uint8_t *ram = f->t->m.ram;
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    fill(ram + VD_DATA, 8192, 3);
    unsigned before = f->vd.msi_count;
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_OUT, 10, VD_DATA,
                                    8192, false), VIRTIO_BLK_S_OK);
    assert_true(f->vd.msi_count > before);
    assert_int_equal(f->vd.last_msi_data, 0x31); /* queue 0's vector */
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_FLUSH, 0, 0, 0,
                                    false), VIRTIO_BLK_S_OK);
    /* The file holds it at sector 10. */
    uint8_t file[8192];
    int fd = open(f->image, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, file, sizeof(file), 10 * 512), sizeof(file));
    close(fd);
    assert_memory_equal(file, ram + VD_DATA, sizeof(file));
    /* Read back through an indirect chain into another buffer. */
    memset(ram + VD_DATA + 0x10000, 0, 8192);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 10,
                                    VD_DATA + 0x10000, 8192, true),
                     VIRTIO_BLK_S_OK);
    assert_memory_equal(ram + VD_DATA + 0x10000, ram + VD_DATA, 8192);
    /* The used length of a read counts the data and the status byte. */
    const uint8_t *used = ram + VD_USED + 4 + 8 * ((f->vd.used_seen - 1) % VD_QUEUE_SIZE);
    assert_int_equal(ld32(used + 4), 8193);
}

static void test_zeroes_and_discard(void **state)
{
    Fix *f = *state;
    uint8_t *ram = f->t->m.ram;
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    fill(ram + VD_DATA, 4096, 9);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_OUT, 0, VD_DATA, 4096,
                                    false), VIRTIO_BLK_S_OK);
    /* One segment: sector 2, 4 sectors, unmap allowed. */
    uint8_t *seg = ram + VD_DATA + 0x8000;
    st64(seg, 2);
    st32(seg + 8, 4);
    st32(seg + 12, 1);
    /* The segment travels as device-readable data after the header. */
    uint8_t *hdr = ram + VD_HDR;
    st32(hdr, VIRTIO_BLK_T_WRITE_ZEROES);
    st64(hdr + 8, 0);
    vd_set_desc(&f->vd, VD_DESC, 0, VD_HDR, 16, VRING_DESC_F_NEXT, 1);
    vd_set_desc(&f->vd, VD_DESC, 1, VD_DATA + 0x8000, 16, VRING_DESC_F_NEXT, 2);
    vd_set_desc(&f->vd, VD_DESC, 2, VD_STATUS, 1, VRING_DESC_F_WRITE, 0);
    ram[VD_STATUS] = 0xee;
    vd_kick(&f->vd, 0);
    uint32_t id, len;
    assert_true(vd_wait_used(&f->vd, &id, &len));
    assert_int_equal(ram[VD_STATUS], VIRTIO_BLK_S_OK);
    memset(ram + VD_DATA + 0x10000, 0xff, 4096);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0,
                                    VD_DATA + 0x10000, 4096, false),
                     VIRTIO_BLK_S_OK);
    assert_memory_equal(ram + VD_DATA + 0x10000, ram + VD_DATA, 1024);
    for (unsigned i = 1024; i < 3072; i++) {
        assert_int_equal(ram[VD_DATA + 0x10000 + i], 0);
    }
    assert_memory_equal(ram + VD_DATA + 0x10000 + 3072, ram + VD_DATA + 3072,
                        1024);
    /* Discard with the unmap flag is not allowed (5.2.6.2). */
    st32(hdr, VIRTIO_BLK_T_DISCARD);
    vd_set_desc(&f->vd, VD_DESC, 0, VD_HDR, 16, VRING_DESC_F_NEXT, 1);
    vd_set_desc(&f->vd, VD_DESC, 1, VD_DATA + 0x8000, 16, VRING_DESC_F_NEXT, 2);
    vd_set_desc(&f->vd, VD_DESC, 2, VD_STATUS, 1, VRING_DESC_F_WRITE, 0);
    ram[VD_STATUS] = 0xee;
    vd_kick(&f->vd, 0);
    assert_true(vd_wait_used(&f->vd, &id, &len));
    assert_int_equal(ram[VD_STATUS], VIRTIO_BLK_S_UNSUPP);
    st32(seg + 12, 0);
    ram[VD_STATUS] = 0xee;
    vd_kick(&f->vd, 0);
    assert_true(vd_wait_used(&f->vd, &id, &len));
    assert_int_equal(ram[VD_STATUS], VIRTIO_BLK_S_OK);
}

static void test_bad_requests(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    uint64_t sectors = DISK_SIZE / 512;
    /* Past the end, straddling the end, a length that is not whole sectors,
     * a sector number that would overflow. */
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, sectors, VD_DATA,
                                    512, false), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_OUT, sectors - 1,
                                    VD_DATA, 1024, false), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 100,
                                    false), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, UINT64_MAX / 256,
                                    VD_DATA, 512, false), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vd_blk_request(&f->vd, 77, 0, VD_DATA, 512, false),
                     VIRTIO_BLK_S_UNSUPP);
    /* get-id without a serial: zeroes. */
    memset(f->t->m.ram + VD_DATA, 0x55, 20);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_GET_ID, 0, VD_DATA,
                                    20, false), VIRTIO_BLK_S_OK);
    assert_int_equal(f->t->m.ram[VD_DATA], 0);
    /* None of that broke the device. */
    assert_false(vd_status(&f->vd) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_read_only(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, blk_features | (1ull << VIRTIO_BLK_F_RO)) &
                VIRTIO_STATUS_DRIVER_OK);
    assert_true(f->vd.features & (1ull << VIRTIO_BLK_F_RO));
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_OUT, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_IOERR);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
}

static void test_broken_chain_needs_reset(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    unsigned msis = f->vd.msi_count;
    /* A chain that loops. */
    vd_set_desc(&f->vd, VD_DESC, 0, VD_HDR, 16, VRING_DESC_F_NEXT, 1);
    vd_set_desc(&f->vd, VD_DESC, 1, VD_STATUS, 1,
                VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0);
    vd_kick(&f->vd, 0);
    assert_true(vd_status(&f->vd) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(f->vd.msi_count, msis + 1);
    assert_int_equal(f->vd.last_msi_data, 0x30); /* the config vector */
    assert_int_equal(vd_used_idx(&f->vd), 0);
    /* The driver cannot clear NEEDS_RESET but by resetting. */
    vd_common_write(&f->vd, 0x14, vd_status(&f->vd) & ~VIRTIO_STATUS_NEEDS_RESET, 1);
    assert_true(vd_status(&f->vd) & VIRTIO_STATUS_NEEDS_RESET);
    /* Kicks are ignored meanwhile. */
    vd_kick(&f->vd, 0);
    assert_int_equal(vd_used_idx(&f->vd), 0);
    /* Reset and go on. */
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    assert_false(vd_status(&f->vd) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
}

static void test_request_without_status(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, blk_features) & VIRTIO_STATUS_DRIVER_OK);
    vd_set_desc(&f->vd, VD_DESC, 0, VD_HDR, 16, 0, 0); /* header only */
    vd_kick(&f->vd, 0);
    assert_true(vd_status(&f->vd) & VIRTIO_STATUS_NEEDS_RESET);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_identity),
        T(test_negotiation),
        T(test_write_read),
        T(test_zeroes_and_discard),
        T(test_bad_requests),
        cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
        T(test_broken_chain_needs_reset),
        T(test_request_without_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
