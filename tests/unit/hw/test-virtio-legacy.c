/*
 * virtio-blk-pci with disable-legacy=off: a transitional device (1af4:1001,
 * revision 0, subsystem ID 2) driven through the legacy registers of I/O
 * BAR 0 (Virtual I/O Device 1.1, 4.1.4.8): 32-bit feature negotiation
 * without FEATURES_OK, a queue given by page number with the legacy ring
 * layout, requests that reach the image, INTx with the ISR read, then
 * MSI-X vectors and the device configuration moving from 0x14 to 0x18; a
 * modern driver still works on the same device, and the default device
 * stays modern-only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtqueue.h"
#include "virtio-driver.h"

#define DISK_SIZE (1u << 20)
#define RING_PFN 0x40u          /* rings at 0x40000 */
#define QSIZE 256u              /* the device's default queue size */
#define L_DESC (RING_PFN * 4096u)
#define L_AVAIL (L_DESC + 16u * QSIZE)
#define L_USED 0x42000u         /* next page after the available ring */

typedef struct Fix {
    char dir[64];
    char image[96];
    VirtioDriver vd;
    TestMachine *t;
    uint16_t io;                /* BAR 0 */
    uint16_t avail_idx;
} Fix;

static Fix *make(const char *props)
{
    Fix *f = g_new0(Fix, 1);
    strcpy(f->dir, "/tmp/kestrel-vlegacy-XXXXXX");
    assert_non_null(g_mkdtemp(f->dir));
    snprintf(f->image, sizeof(f->image), "%s/disk.raw", f->dir);
    f->t = vd_machine_ex(f->image, DISK_SIZE, false, &f->vd, NULL, props);
    f->io = (uint16_t)(pci_config_read(f->vd.dev, PCI_BASE_ADDRESS_0, 4) &
                       ~3u);
    return f;
}

static int setup(void **state)
{
    *state = make("disable-legacy=off");
    return 0;
}

static int setup_default(void **state)
{
    *state = make(NULL);
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

static uint8_t status(Fix *f)
{
    return tm_inb(f->t, (uint16_t)(f->io + 0x12));
}

static uint64_t capacity(Fix *f, unsigned cfg)
{
    return tm_inl(f->t, (uint16_t)(f->io + cfg)) |
           ((uint64_t)tm_inl(f->t, (uint16_t)(f->io + cfg + 4)) << 32);
}

/* Legacy bring-up (no FEATURES_OK): queue 0's rings at RING_PFN. */
static void legacy_init(Fix *f, uint32_t features)
{
    TestMachine *t = f->t;
    memset(t->m.ram + L_DESC, 0, 0x3000);
    f->avail_idx = 0;
    tm_outb(t, (uint16_t)(f->io + 0x12), 0);
    assert_int_equal(status(f), 0);
    tm_outb(t, (uint16_t)(f->io + 0x12), VIRTIO_STATUS_ACKNOWLEDGE |
                                         VIRTIO_STATUS_DRIVER);
    uint32_t offered = tm_inl(t, f->io);
    assert_true(offered & (1u << VIRTIO_BLK_F_FLUSH));
    tm_outl(t, (uint16_t)(f->io + 4), features & offered);
    assert_int_equal(tm_inl(t, (uint16_t)(f->io + 4)), features & offered);
    tm_outw(t, (uint16_t)(f->io + 0x0e), 0);
    assert_int_equal(tm_inw(t, (uint16_t)(f->io + 0x0c)), QSIZE);
    tm_outl(t, (uint16_t)(f->io + 8), RING_PFN);
    assert_int_equal(tm_inl(t, (uint16_t)(f->io + 8)), RING_PFN);
    tm_outb(t, (uint16_t)(f->io + 0x12), VIRTIO_STATUS_ACKNOWLEDGE |
                                         VIRTIO_STATUS_DRIVER |
                                         VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(status(f), VIRTIO_STATUS_ACKNOWLEDGE |
                                VIRTIO_STATUS_DRIVER |
                                VIRTIO_STATUS_DRIVER_OK);
}

static bool used_reached(void *arg)
{
    Fix *f = arg;
    return ld16(f->t->m.ram + L_USED + 2) == f->avail_idx;
}

/* One request through the legacy rings; returns its status byte. */
static int legacy_request(Fix *f, uint32_t type, uint64_t sector,
                          uint32_t len)
{
    uint8_t *ram = f->t->m.ram;
    st32(ram + VD_HDR, type);
    st32(ram + VD_HDR + 4, 0);
    st64(ram + VD_HDR + 8, sector);
    ram[VD_STATUS] = 0xee;
    uint16_t w = type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0;
    vd_set_desc(&f->vd, L_DESC, 0, VD_HDR, 16, VRING_DESC_F_NEXT, 1);
    vd_set_desc(&f->vd, L_DESC, 1, VD_DATA, len, VRING_DESC_F_NEXT | w, 2);
    vd_set_desc(&f->vd, L_DESC, 2, VD_STATUS, 1, VRING_DESC_F_WRITE, 0);
    st16(ram + L_AVAIL + 4 + 2 * (f->avail_idx % QSIZE), 0);
    f->avail_idx++;
    st16(ram + L_AVAIL + 2, f->avail_idx);
    tm_outw(f->t, (uint16_t)(f->io + 0x10), 0);
    if (!tm_run_until(f->t, used_reached, f)) {
        return -1;
    }
    return ram[VD_STATUS];
}

static void test_transitional_identity(void **state)
{
    Fix *f = *state;
    PCIDevice *d = f->vd.dev;
    assert_int_equal(pci_get_word(d->config + PCI_DEVICE_ID), 0x1001);
    assert_int_equal(d->config[PCI_REVISION_ID], 0);
    assert_int_equal(pci_get_word(d->config + PCI_SUBSYSTEM_ID), 2);
    assert_int_equal(pci_config_read(d, PCI_BASE_ADDRESS_0, 4) & 1, 1);
    assert_true(f->io >= 0xc000);
    /* The modern capabilities are there too. */
    unsigned seen = 0;
    for (uint8_t p = d->config[PCI_CAPABILITY_LIST]; p; p = d->config[p + 1]) {
        if (d->config[p] == 0x09) {
            seen |= 1u << d->config[p + 3];
        }
    }
    assert_int_equal(seen, 0x3e);
    /* Without MSI-X the device configuration starts at 0x14. */
    assert_int_equal(capacity(f, 0x14), DISK_SIZE / 512);
}

static void test_legacy_requests(void **state)
{
    Fix *f = *state;
    TestMachine *t = f->t;
    uint8_t *ram = t->m.ram;
    legacy_init(f, 1u << VIRTIO_BLK_F_FLUSH);
    for (unsigned i = 0; i < 4096; i++) {
        ram[VD_DATA + i] = (uint8_t)(i * 13 + 5);
    }
    assert_int_equal(legacy_request(f, VIRTIO_BLK_T_OUT, 20, 4096),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(legacy_request(f, VIRTIO_BLK_T_FLUSH, 0, 512),
                     VIRTIO_BLK_S_OK);
    uint8_t file[4096];
    int fd = open(f->image, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, file, sizeof(file), 20 * 512), sizeof(file));
    close(fd);
    assert_memory_equal(file, ram + VD_DATA, sizeof(file));
    /* INTx is up until the ISR is read. */
    unsigned gsi = 16 + pci_swizzle(PCI_SLOT(f->vd.dev->devfn), 1);
    assert_int_equal(t->gsi_level[gsi], 1);
    assert_int_equal(tm_inb(t, (uint16_t)(f->io + 0x13)) & 1, 1);
    assert_int_equal(t->gsi_level[gsi], 0);
    memset(ram + VD_DATA, 0, 4096);
    assert_int_equal(legacy_request(f, VIRTIO_BLK_T_IN, 20, 4096),
                     VIRTIO_BLK_S_OK);
    assert_memory_equal(file, ram + VD_DATA, sizeof(file));
    /* A reset takes the queue back. */
    tm_outb(t, (uint16_t)(f->io + 0x12), 0);
    assert_int_equal(tm_inl(t, (uint16_t)(f->io + 8)), 0);
}

static void test_legacy_msix(void **state)
{
    Fix *f = *state;
    TestMachine *t = f->t;
    PCIDevice *d = f->vd.dev;
    uint8_t cap = 0;
    for (uint8_t p = d->config[PCI_CAPABILITY_LIST]; p; p = d->config[p + 1]) {
        if (d->config[p] == 0x11) {
            cap = p;
        }
    }
    AddressSpace *as = &t->m.mem;
    for (unsigned v = 0; v < 2; v++) {
        address_space_write_val(as, f->vd.msix_bar + 16 * v, 0xfee00000, 4);
        address_space_write_val(as, f->vd.msix_bar + 16 * v + 8, 0x50 + v, 4);
        address_space_write_val(as, f->vd.msix_bar + 16 * v + 12, 0, 4);
    }
    pci_config_write(d, cap + 2, 0x8000, 2);
    /* With MSI-X on, the configuration moves to 0x18. */
    assert_int_equal(capacity(f, 0x18), DISK_SIZE / 512);
    legacy_init(f, 0);
    tm_outw(t, (uint16_t)(f->io + 0x14), 0);
    tm_outw(t, (uint16_t)(f->io + 0x16), 1);
    assert_int_equal(tm_inw(t, (uint16_t)(f->io + 0x14)), 0);
    assert_int_equal(tm_inw(t, (uint16_t)(f->io + 0x16)), 1);
    tm_outw(t, (uint16_t)(f->io + 0x16), 9); /* no such vector */
    assert_int_equal(tm_inw(t, (uint16_t)(f->io + 0x16)), VIRTIO_NO_VECTOR);
    tm_outw(t, (uint16_t)(f->io + 0x16), 1);
    unsigned before = f->vd.msi_count;
    assert_int_equal(legacy_request(f, VIRTIO_BLK_T_IN, 0, 512),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(f->vd.msi_count, before + 1);
    assert_int_equal(f->vd.last_msi_data, 0x51);
}

static void test_modern_driver_on_transitional(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, 1ull << VIRTIO_BLK_F_FLUSH) &
                VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
}

static void test_default_is_modern_only(void **state)
{
    Fix *f = *state;
    PCIDevice *d = f->vd.dev;
    assert_int_equal(pci_get_word(d->config + PCI_DEVICE_ID), 0x1042);
    assert_int_equal(d->config[PCI_REVISION_ID], 1);
    assert_int_equal(pci_config_read(d, PCI_BASE_ADDRESS_0, 4), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_transitional_identity),
        T(test_legacy_requests),
        T(test_legacy_msix),
        T(test_modern_driver_on_transitional),
        cmocka_unit_test_setup_teardown(test_default_is_modern_only,
                                        setup_default, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
