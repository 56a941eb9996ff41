/*
 * virtio-blk-pci on a machine whose accelerator offers ioeventfd and irqfd
 * (Machine.accel_io), played here by a fake that records what the device
 * registers and plays KVM's part: a guest notify write signals the
 * registered eventfd, and an irqfd's eventfd is read to see the interrupt.
 * Checks: ioeventfds at each queue's notify address while BAR 4 is mapped,
 * moved with the BAR and removed when decoding stops; kicks through the
 * eventfd run the queue on the main loop; MSI-X messages go through irqfds
 * whose routes follow the table, detached while masked (pending bit, then
 * delivery on unmask); a machine reset releases routes and irqfds; with
 * ioeventfd=off, or when the accelerator refuses, the ordinary paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtqueue.h"
#include "virtio-driver.h"

#define DISK_SIZE (1u << 20)
#define MAX_FAKE 16

typedef struct FakeAccel {
    unsigned nr_ioeventfds;
    struct { uint64_t addr; unsigned len; int fd; } ioeventfd[MAX_FAKE];
    struct { bool used; uint64_t addr; uint32_t data; } route[MAX_FAKE];
    struct { bool used; int fd; int route; } irqfd[MAX_FAKE];
    bool refuse_ioeventfd;
    unsigned route_updates;
} FakeAccel;

static bool fake_add_ioeventfd(void *opaque, uint64_t addr, unsigned len,
                               int fd)
{
    FakeAccel *fa = opaque;
    if (fa->refuse_ioeventfd || fa->nr_ioeventfds == MAX_FAKE) {
        return false;
    }
    fa->ioeventfd[fa->nr_ioeventfds].addr = addr;
    fa->ioeventfd[fa->nr_ioeventfds].len = len;
    fa->ioeventfd[fa->nr_ioeventfds].fd = fd;
    fa->nr_ioeventfds++;
    return true;
}

static void fake_del_ioeventfd(void *opaque, uint64_t addr, unsigned len,
                               int fd)
{
    FakeAccel *fa = opaque;
    for (unsigned i = 0; i < fa->nr_ioeventfds; i++) {
        if (fa->ioeventfd[i].addr == addr && fa->ioeventfd[i].fd == fd &&
            fa->ioeventfd[i].len == len) {
            fa->ioeventfd[i] = fa->ioeventfd[--fa->nr_ioeventfds];
            return;
        }
    }
    fail_msg("removing an ioeventfd that is not there");
}

static int fake_add_msi_route(void *opaque, uint64_t addr, uint32_t data)
{
    FakeAccel *fa = opaque;
    for (int r = 0; r < MAX_FAKE; r++) {
        if (!fa->route[r].used) {
            fa->route[r].used = true;
            fa->route[r].addr = addr;
            fa->route[r].data = data;
            return r;
        }
    }
    return -1;
}

static bool fake_update_msi_route(void *opaque, int r, uint64_t addr,
                                  uint32_t data)
{
    FakeAccel *fa = opaque;
    assert_true(r >= 0 && r < MAX_FAKE && fa->route[r].used);
    fa->route[r].addr = addr;
    fa->route[r].data = data;
    fa->route_updates++;
    return true;
}

static void fake_del_msi_route(void *opaque, int r)
{
    FakeAccel *fa = opaque;
    assert_true(r >= 0 && r < MAX_FAKE && fa->route[r].used);
    fa->route[r].used = false;
}

static bool fake_add_irqfd(void *opaque, int fd, int r)
{
    FakeAccel *fa = opaque;
    assert_true(r >= 0 && r < MAX_FAKE && fa->route[r].used);
    for (unsigned i = 0; i < MAX_FAKE; i++) {
        if (!fa->irqfd[i].used) {
            fa->irqfd[i].used = true;
            fa->irqfd[i].fd = fd;
            fa->irqfd[i].route = r;
            return true;
        }
    }
    return false;
}

static void fake_del_irqfd(void *opaque, int fd, int r)
{
    FakeAccel *fa = opaque;
    for (unsigned i = 0; i < MAX_FAKE; i++) {
        if (fa->irqfd[i].used && fa->irqfd[i].fd == fd &&
            fa->irqfd[i].route == r) {
            fa->irqfd[i].used = false;
            return;
        }
    }
    fail_msg("detaching an irqfd that is not attached");
}

typedef struct Fix {
    char dir[64];
    char image[96];
    VirtioDriver vd;
    TestMachine *t;
    FakeAccel fa;
} Fix;

static Fix *make(const char *props, bool refuse_ioeventfd)
{
    Fix *f = g_new0(Fix, 1);
    strcpy(f->dir, "/tmp/kestrel-vaccel-XXXXXX");
    assert_non_null(g_mkdtemp(f->dir));
    snprintf(f->image, sizeof(f->image), "%s/disk.raw", f->dir);
    f->fa.refuse_ioeventfd = refuse_ioeventfd;
    MachineAccelIo io = {
        .add_ioeventfd = fake_add_ioeventfd,
        .del_ioeventfd = fake_del_ioeventfd,
        .add_msi_route = fake_add_msi_route,
        .update_msi_route = fake_update_msi_route,
        .del_msi_route = fake_del_msi_route,
        .add_irqfd = fake_add_irqfd,
        .del_irqfd = fake_del_irqfd,
        .opaque = &f->fa,
    };
    f->t = vd_machine_ex(f->image, DISK_SIZE, false, &f->vd, &io, props);
    return f;
}

static int setup(void **state)
{
    *state = make(NULL, false);
    return 0;
}

static int setup_off(void **state)
{
    *state = make("ioeventfd=off", false);
    return 0;
}

static int setup_refused(void **state)
{
    *state = make(NULL, true);
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    vd_machine_free(f->t);
    /* Unrealize took everything back. */
    assert_int_equal(f->fa.nr_ioeventfds, 0);
    for (unsigned i = 0; i < MAX_FAKE; i++) {
        assert_false(f->fa.route[i].used);
        assert_false(f->fa.irqfd[i].used);
    }
    unlink(f->image);
    rmdir(f->dir);
    g_free(f);
    return 0;
}

static const uint64_t features = 1ull << VIRTIO_BLK_F_FLUSH;

/* The eventfd registered for queue 0's notify address, or -1. */
static int notify_fd(Fix *f)
{
    uint64_t addr = f->vd.bar + VIRTIO_PCI_NOTIFY_OFFSET;
    for (unsigned i = 0; i < f->fa.nr_ioeventfds; i++) {
        if (f->fa.ioeventfd[i].addr == addr) {
            assert_int_equal(f->fa.ioeventfd[i].len, 2);
            return f->fa.ioeventfd[i].fd;
        }
    }
    return -1;
}

/* The irqfd attached for the route whose message has data `data`. */
static int irqfd_for(Fix *f, uint32_t data)
{
    for (unsigned i = 0; i < MAX_FAKE; i++) {
        int r = f->fa.irqfd[i].route;
        if (f->fa.irqfd[i].used && f->fa.route[r].data == data) {
            assert_int_equal(f->fa.route[r].addr, 0xfee00000);
            return f->fa.irqfd[i].fd;
        }
    }
    return -1;
}

static uint64_t take_count(int fd)
{
    uint64_t n = 0;
    if (read(fd, &n, sizeof(n)) != sizeof(n)) {
        return 0;
    }
    return n;
}

/* One read request, made available and kicked the way KVM does it with an
 * ioeventfd: the eventfd is signalled, the MMIO handler never runs. */
static void kick_through_eventfd(Fix *f)
{
    VirtioDriver *vd = &f->vd;
    uint8_t *ram = f->t->m.ram;
    st32(ram + VD_HDR, VIRTIO_BLK_T_IN);
    st32(ram + VD_HDR + 4, 0);
    st64(ram + VD_HDR + 8, 0);
    ram[VD_STATUS] = 0xee;
    vd_set_desc(vd, VD_DESC, 0, VD_HDR, 16, VRING_DESC_F_NEXT, 1);
    vd_set_desc(vd, VD_DESC, 1, VD_DATA, 512,
                VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    vd_set_desc(vd, VD_DESC, 2, VD_STATUS, 1, VRING_DESC_F_WRITE, 0);
    uint8_t *avail = ram + VD_AVAIL;
    st16(avail + 4 + 2 * (vd->avail_idx % VD_QUEUE_SIZE), 0);
    vd->avail_idx++;
    st16(avail + 2, vd->avail_idx);
    int fd = notify_fd(f);
    assert_true(fd >= 0);
    uint64_t one = 1;
    assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static void complete_one(Fix *f)
{
    uint32_t id, len;
    assert_true(vd_wait_used(&f->vd, &id, &len));
    assert_int_equal(f->t->m.ram[VD_STATUS], VIRTIO_BLK_S_OK);
}

static void msix_write(Fix *f, unsigned v, unsigned off, uint32_t value)
{
    address_space_write_val(&f->t->m.mem, f->vd.msix_bar + 16 * v + off,
                            value, 4);
}

static bool pending(Fix *f, unsigned v)
{
    return address_space_read_val(&f->t->m.mem, f->vd.msix_bar + 0x800, 8) &
           (1ull << v);
}

static void test_ioeventfd_follows_bar(void **state)
{
    Fix *f = *state;
    PCIDevice *d = f->vd.dev;
    assert_int_equal(f->fa.nr_ioeventfds, 1); /* one queue */
    assert_true(notify_fd(f) >= 0);
    /* Decoding off: gone.  On again: back. */
    uint16_t cmd = (uint16_t)pci_config_read(d, PCI_COMMAND, 2);
    pci_config_write(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY, 2);
    assert_int_equal(f->fa.nr_ioeventfds, 0);
    pci_config_write(d, PCI_COMMAND, cmd, 2);
    assert_true(notify_fd(f) >= 0);
    /* BAR 4 moves: so does the ioeventfd. */
    uint64_t old = f->vd.bar;
    f->vd.bar = 0xe8000000;
    pci_config_write(d, PCI_BASE_ADDRESS_0 + 16, (uint32_t)f->vd.bar, 4);
    assert_int_equal(f->fa.nr_ioeventfds, 1);
    assert_true(notify_fd(f) >= 0);
    assert_int_not_equal(f->fa.ioeventfd[0].addr,
                         old + VIRTIO_PCI_NOTIFY_OFFSET);
    /* The device works at the new place, kicked through the eventfd. */
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    kick_through_eventfd(f);
    complete_one(f);
    /* A machine reset unmaps the BAR: no ioeventfd left. */
    Device *dev = &d->parent;
    dev->cls->reset(dev);
    assert_int_equal(f->fa.nr_ioeventfds, 0);
}

static void test_irqfd_routes(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    unsigned msis = f->vd.msi_count;
    kick_through_eventfd(f);
    complete_one(f);
    /* The interrupt went through queue 0's irqfd, not the MSI handler. */
    assert_int_equal(f->vd.msi_count, msis);
    int fd = irqfd_for(f, 0x31);
    assert_true(fd >= 0);
    assert_int_equal(take_count(fd), 1);

    /* The guest reprograms the vector: the route follows. */
    msix_write(f, 1, 8, 0x41);
    assert_int_equal(irqfd_for(f, 0x31), -1);
    assert_int_equal(irqfd_for(f, 0x41), fd);

    /* Masked: no irqfd, the pending bit records the message. */
    msix_write(f, 1, 12, 1);
    assert_int_equal(irqfd_for(f, 0x41), -1);
    kick_through_eventfd(f);
    complete_one(f);
    assert_int_equal(take_count(fd), 0);
    assert_true(pending(f, 1));
    /* Unmasked: attached again, and the held message goes out. */
    msix_write(f, 1, 12, 0);
    assert_int_equal(irqfd_for(f, 0x41), fd);
    assert_false(pending(f, 1));
    assert_int_equal(take_count(fd), 1);
    assert_int_equal(f->vd.msi_count, msis);

    /* Function mask: detached too. */
    uint8_t cap = 0;
    for (uint8_t p = f->vd.dev->config[PCI_CAPABILITY_LIST]; p;
         p = f->vd.dev->config[p + 1]) {
        if (f->vd.dev->config[p] == 0x11) {
            cap = p;
        }
    }
    pci_config_write(f->vd.dev, cap + 2, 0xc000, 2);
    assert_int_equal(irqfd_for(f, 0x41), -1);
    pci_config_write(f->vd.dev, cap + 2, 0x8000, 2);

    /* A virtio reset (status 0) leaves the MSI-X table, which is PCI
     * state, and so the routes; the next driver's table writes update
     * them. */
    vd_common_write(&f->vd, 0x14, 0, 1);
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    kick_through_eventfd(f);
    complete_one(f);
    fd = irqfd_for(f, 0x31);
    assert_true(fd >= 0);
    assert_int_equal(take_count(fd), 1);

    /* A machine reset releases every route and irqfd. */
    Device *dev = &f->vd.dev->parent;
    dev->cls->reset(dev);
    for (unsigned i = 0; i < MAX_FAKE; i++) {
        assert_false(f->fa.route[i].used);
        assert_false(f->fa.irqfd[i].used);
    }
}

/* The notify write through MMIO (another size, or no ioeventfd) still
 * works next to the eventfd. */
static void test_mmio_kick_still_works(void **state)
{
    Fix *f = *state;
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
}

static void test_ioeventfd_off(void **state)
{
    Fix *f = *state;
    assert_int_equal(f->fa.nr_ioeventfds, 0);
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    unsigned msis = f->vd.msi_count;
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
    /* Interrupts through the ordinary MSI path, no route taken. */
    assert_int_equal(f->vd.msi_count, msis + 1);
    for (unsigned i = 0; i < MAX_FAKE; i++) {
        assert_false(f->fa.route[i].used);
    }
}

static void test_ioeventfd_refused(void **state)
{
    Fix *f = *state;
    assert_int_equal(f->fa.nr_ioeventfds, 0);
    assert_true(vd_init(&f->vd, features) & VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(vd_blk_request(&f->vd, VIRTIO_BLK_T_IN, 0, VD_DATA, 512,
                                    false), VIRTIO_BLK_S_OK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ioeventfd_follows_bar),
        T(test_irqfd_routes),
        T(test_mmio_kick_still_works),
        cmocka_unit_test_setup_teardown(test_ioeventfd_off, setup_off,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ioeventfd_refused,
                                        setup_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
