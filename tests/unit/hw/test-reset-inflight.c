/*
 * Resets with disk requests in flight: a virtio-blk-pci device reset (the
 * driver writes 0 to device_status, or a machine reset) and a PIIX3 IDE
 * machine reset while bus-master DMA reads are under way must not let those
 * reads write guest RAM, or push used-ring entries, once the reset has
 * returned.  Saving virtio-blk's state with reads in flight finishes them
 * first, and the state loads back into a reset device.
 *
 * To have requests really in flight, this test is linked with
 * -Wl,--wrap=pread64,--wrap=preadv64,--wrap=preadv64v2: while `slow_reads`
 * is set, the devices' non-blocking reads find nothing in the page cache
 * (preadv2 with RWF_NOWAIT fails with EAGAIN) and every read of a block
 * worker thread sleeps before it reads, so the reads are still pending
 * when the test resets the device right after starting them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "block/block-backend.h"
#include "hw/block/drive.h"
#include "hw/ide/ide.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtqueue.h"
#include "virtio-driver.h"

#define DISK_SIZE (4u << 20)
#define SLOW_READ_US 150000
#define NR_REQS 5           /* 3 descriptors each: 15 of the 16 */
#define REQ_BYTES 0x10000
#define GUEST_FILL 0x11
#define DISK_FILL 0xa5

static volatile int slow_reads;

ssize_t __real_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __real_preadv64(int fd, const struct iovec *iov, int niov, off_t off);
ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_preadv64(int fd, const struct iovec *iov, int niov, off_t off);
ssize_t __real_preadv64v2(int fd, const struct iovec *iov, int niov, off_t off,
                          int flags);
ssize_t __wrap_preadv64v2(int fd, const struct iovec *iov, int niov, off_t off,
                          int flags);

ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off)
{
    if (slow_reads) {
        g_usleep(SLOW_READ_US);
    }
    return __real_pread64(fd, buf, n, off);
}

ssize_t __wrap_preadv64(int fd, const struct iovec *iov, int niov, off_t off)
{
    if (slow_reads) {
        g_usleep(SLOW_READ_US);
    }
    return __real_preadv64(fd, iov, niov, off);
}

ssize_t __wrap_preadv64v2(int fd, const struct iovec *iov, int niov, off_t off,
                          int flags)
{
    if (slow_reads && (flags & RWF_NOWAIT)) {
        errno = EAGAIN;
        return -1;
    }
    return __real_preadv64v2(fd, iov, niov, off, flags);
}

static void fill_file(const char *path, uint8_t v, size_t size)
{
    uint8_t *buf = g_malloc(size);
    memset(buf, v, size);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, size), (ssize_t)size);
    close(fd);
    g_free(buf);
}

/* ---- virtio-blk ---- */

typedef struct VFix {
    char dir[64];
    char image[96];
    VirtioDriver vd;
    TestMachine *t;
} VFix;

static int vsetup(void **state)
{
    VFix *f = g_new0(VFix, 1);
    strcpy(f->dir, "/tmp/kestrel-vreset-XXXXXX");
    assert_non_null(g_mkdtemp(f->dir));
    snprintf(f->image, sizeof(f->image), "%s/disk.raw", f->dir);
    f->t = vd_machine(f->image, DISK_SIZE, false, &f->vd);
    fill_file(f->image, DISK_FILL, DISK_SIZE);
    *state = f;
    return 0;
}

static int vteardown(void **state)
{
    VFix *f = *state;
    slow_reads = 0;
    vd_machine_free(f->t);
    unlink(f->image);
    rmdir(f->dir);
    g_free(f);
    return 0;
}

/* NR_REQS reads of REQ_BYTES into VD_DATA + i * REQ_BYTES, one kick. */
static void start_reads(VFix *f)
{
    VirtioDriver *vd = &f->vd;
    uint8_t *ram = f->t->m.ram;
    uint8_t *avail = ram + VD_AVAIL;
    for (unsigned i = 0; i < NR_REQS; i++) {
        uint64_t hdr = VD_HDR + 16 * i;
        st32(ram + hdr, VIRTIO_BLK_T_IN);
        st32(ram + hdr + 4, 0);
        st64(ram + hdr + 8, (uint64_t)i * (REQ_BYTES / 512));
        ram[VD_STATUS + i] = 0xee;
        unsigned d = 3 * i;
        vd_set_desc(vd, VD_DESC, d, hdr, 16, VRING_DESC_F_NEXT, d + 1);
        vd_set_desc(vd, VD_DESC, d + 1, VD_DATA + i * REQ_BYTES, REQ_BYTES,
                    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, d + 2);
        vd_set_desc(vd, VD_DESC, d + 2, VD_STATUS + i, 1, VRING_DESC_F_WRITE,
                    0);
        st16(avail + 4 + 2 * (vd->avail_idx % VD_QUEUE_SIZE), (uint16_t)d);
        vd->avail_idx++;
    }
    st16(avail + 2, vd->avail_idx);
    address_space_write_val(&f->t->m.mem, vd->bar + VIRTIO_PCI_NOTIFY_OFFSET,
                            0, 2);
}

static const uint64_t features = (1ull << VIRTIO_BLK_F_FLUSH);

static BlockBackend *vblk(VFix *f)
{
    return f->t->m.drives[0]->blk;
}

/* Reset with the reads pending; then let every completion run and check
 * that guest RAM and the used ring did not change after the reset. */
static void reset_with_reads_in_flight(VFix *f, bool machine_reset)
{
    uint8_t *ram = f->t->m.ram;
    const size_t span = NR_REQS * REQ_BYTES;
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    memset(ram + VD_DATA, GUEST_FILL, span);
    slow_reads = 1;
    start_reads(f);
    if (machine_reset) {
        Device *dev = &f->vd.dev->parent;
        dev->cls->reset(dev);
    } else {
        vd_common_write(&f->vd, 0x14, 0, 1);
    }
    uint8_t *after_reset = g_memdup2(ram, VD_RAM_SIZE);
    slow_reads = 0;
    blk_drain(vblk(f));                 /* every completion callback runs */
    g_main_context_iteration(f->t->ctx, FALSE); /* and the device's batch */
    g_main_context_iteration(f->t->ctx, FALSE);
    assert_memory_equal(after_reset, ram, VD_RAM_SIZE);
    g_free(after_reset);
    assert_int_equal(vd_used_idx(&f->vd), 0);
    for (unsigned i = 0; i < NR_REQS; i++) {
        assert_int_equal(ram[VD_STATUS + i], 0xee);
    }
    /* The device works after the reset (a machine reset leaves the BARs
     * to the firmware), and the disk was never written. */
    assert_true(pci_assign_bars(f->t->m.pci, 0xe0000000, 0xefffffff, 0xc000,
                                0xffff));
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    memset(ram + VD_DATA, 0, 4096);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 8, VD_DATA, 4096,
                                    false), VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < 4096; i++) {
        assert_int_equal(ram[VD_DATA + i], DISK_FILL);
    }
}

static void test_virtio_status_reset(void **state)
{
    reset_with_reads_in_flight(*state, false);
}

static void test_virtio_machine_reset(void **state)
{
    reset_with_reads_in_flight(*state, true);
}

/* Saving the device's state with reads in flight: they finish first, so
 * the state and guest RAM agree; loading it into the reset device lets the
 * driver carry on from where the used ring stood. */
static void test_virtio_save_with_reads_in_flight(void **state)
{
    VFix *f = *state;
    uint8_t *ram = f->t->m.ram;
    Device *dev = &f->vd.dev->parent;
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    memset(ram + VD_DATA, GUEST_FILL, NR_REQS * REQ_BYTES);
    slow_reads = 1;
    start_reads(f);
    GByteArray *saved = g_byte_array_new();
    vmstate_save(dev->cls->vmsd, dev, saved);
    slow_reads = 0;
    /* Everything in flight completed into guest RAM and the used ring. */
    assert_int_equal(vd_used_idx(&f->vd), NR_REQS);
    for (unsigned i = 0; i < NR_REQS; i++) {
        assert_int_equal(ram[VD_STATUS + i], VIRTIO_BLK_S_OK);
    }
    for (unsigned i = 0; i < NR_REQS * REQ_BYTES; i++) {
        assert_int_equal(ram[VD_DATA + i], DISK_FILL);
    }
    f->vd.used_seen = NR_REQS;
    /* A machine reset, then the saved state back. */
    dev->cls->reset(dev);
    size_t used = 0;
    GError *err = NULL;
    assert_true(vmstate_load(dev->cls->vmsd, dev, saved->data, saved->len,
                             &used, &err));
    assert_int_equal(used, saved->len);
    g_byte_array_unref(saved);
    assert_true(vd_status(&f->vd) & VIRTIO_STATUS_DRIVER_OK);
    /* The next request's used entry follows the saved ones. */
    memset(ram + VD_DATA, 0, 512);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 1, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
    assert_int_equal(vd_used_idx(&f->vd), NR_REQS + 1);
    assert_int_equal(ram[VD_DATA], DISK_FILL);
}

/* ---- IDE bus-master DMA ---- */

#define IDE_RAM (4u << 20)
#define PRD_TABLE 0x1000u
#define DMA_BUF 0x10000u
#define DMA_SECTORS 128u

static void test_ide_machine_reset(void **state)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-ide-reset-XXXXXX", &path, NULL);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(truncate(path, 1 << 20), 0);
    fill_file(path, DISK_FILL, 1 << 20);

    TestMachine *t = tm_new(IDE_RAM, true);
    assert_non_null(pci_i440fx_init(&t->m, NULL));
    Device *ide = tm_add(t, &piix3_ide_class, NULL);
    BlockBackendOptions o = { .format = "raw", .context = t->ctx };
    BlockBackend *blk = blk_open(path, &o, NULL);
    assert_non_null(blk);
    assert_true(ide_attach(ide, 0, 0, IDE_MEDIA_DISK, blk, NULL, NULL, NULL));
    assert_true(pci_assign_bars(t->m.pci, 0xe0000000, 0xefffffff, 0xc000,
                                0xffff));
    PCIDevice *pd = pci_bus_find(t->m.pci, PCI_DEVFN(1, 1));
    assert_non_null(pd);
    uint16_t bm = (uint16_t)(pci_config_read(pd, PCI_BASE_ADDRESS_0 + 16, 4) &
                             ~3u);

    uint8_t *ram = t->m.ram;
    memset(ram + DMA_BUF, GUEST_FILL, DMA_SECTORS * 512);
    st32(ram + PRD_TABLE, DMA_BUF);
    st32(ram + PRD_TABLE + 4, 0x80000000u | (DMA_SECTORS * 512 & 0xffff));
    /* READ DMA of DMA_SECTORS at LBA 0, engine started towards memory. */
    tm_outl(t, (uint16_t)(bm + 4), PRD_TABLE);
    tm_outb(t, (uint16_t)(bm + 2), 0x06);
    tm_outb(t, bm, 0x09);
    tm_outb(t, 0x1f6, 0xe0);
    tm_outb(t, 0x1f2, DMA_SECTORS);
    tm_outb(t, 0x1f3, 0);
    tm_outb(t, 0x1f4, 0);
    tm_outb(t, 0x1f5, 0);
    slow_reads = 1;
    tm_outb(t, 0x1f7, 0xc8);
    ide->cls->reset(ide);
    uint8_t *after_reset = g_memdup2(ram, IDE_RAM);
    slow_reads = 0;
    blk_drain(blk);
    g_main_context_iteration(t->ctx, FALSE);
    assert_memory_equal(after_reset, ram, IDE_RAM);
    g_free(after_reset);
    /* The drive leaves reset once the read is over. */
    assert_true(pci_assign_bars(t->m.pci, 0xe0000000, 0xefffffff, 0xc000,
                                0xffff));
    assert_int_equal(tm_inb(t, 0x1f7) & 0x80, 0);

    tm_free_devices(t);
    pci_bus_free(t->m.pci);
    t->m.pci = NULL;
    blk_close(blk);
    tm_free(t);
    unlink(path);
    g_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_virtio_status_reset, vsetup,
                                        vteardown),
        cmocka_unit_test_setup_teardown(test_virtio_machine_reset, vsetup,
                                        vteardown),
        cmocka_unit_test_setup_teardown(test_virtio_save_with_reads_in_flight,
                                        vsetup, vteardown),
        cmocka_unit_test(test_ide_machine_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
