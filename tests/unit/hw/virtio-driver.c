/*
 * The test-side virtio driver (see virtio-driver.h).
 */
#include "virtio-driver.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "block/block-backend.h"
#include "hw/block/drive.h"
#include "hw/pci/i440fx.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio.h"

static void record_msi(void *opaque, uint64_t addr, uint32_t data)
{
    VirtioDriver *vd = opaque;
    vd->msi_count++;
    vd->last_msi_data = data;
}

TestMachine *vd_machine(const char *image, uint64_t size, bool read_only,
                        VirtioDriver *vd)
{
    return vd_machine_ex(image, size, read_only, vd, NULL, NULL);
}

TestMachine *vd_machine_ex(const char *image, uint64_t size, bool read_only,
                           VirtioDriver *vd, const MachineAccelIo *io,
                           const char *props)
{
    memset(vd, 0, sizeof(*vd));
    TestMachine *t = tm_new(VD_RAM_SIZE, true);
    vd->t = t;
    assert_non_null(pci_i440fx_init(&t->m, NULL));
    pci_bus_set_msi_handler(t->m.pci, record_msi, vd);
    BlockCreateOptions co = { .size = size };
    assert_int_equal(bdrv_create("raw", image, &co, NULL), 0);
    Drive *d = g_new0(Drive, 1);
    d->id = g_strdup("d0");
    d->iface = DRIVE_IF_NONE;
    d->index = -1;
    d->read_only = read_only;
    d->filename = g_strdup(image);
    BlockBackendOptions bo = { .format = "raw", .read_only = read_only,
                               .context = t->ctx };
    d->blk = blk_open(image, &bo, NULL);
    assert_non_null(d->blk);
    d->format = "raw";
    assert_true(drive_add(&t->m, d, NULL));
    if (io) {
        t->m.accel_io = *io;
    }
    gchar *all = g_strdup_printf("drive=d0%s%s", props ? "," : "",
                                 props ? props : "");
    vd->dev = (PCIDevice *)tm_add(t, &virtio_blk_pci_class, all);
    g_free(all);
    assert_true(pci_assign_bars(t->m.pci, 0xe0000000, 0xefffffff, 0xc000,
                                0xffff));
    uint8_t *c = vd->dev->config;
    vd->bar = (pci_get_long(c + PCI_BASE_ADDRESS_0 + 16) & ~0xfull) |
              ((uint64_t)pci_get_long(c + PCI_BASE_ADDRESS_0 + 20) << 32);
    vd->msix_bar = pci_get_long(c + PCI_BASE_ADDRESS_0 + 4) & ~0xfull;
    return t;
}

void vd_machine_free(TestMachine *t)
{
    Machine *m = &t->m;
    tm_free_devices(t);
    for (unsigned i = 0; i < m->nr_drives; i++) {
        Drive *d = m->drives[i];
        blk_close(d->blk);
        g_free(d->id);
        g_free(d->filename);
        g_free(d);
    }
    m->nr_drives = 0;
    pci_bus_free(m->pci);
    m->pci = NULL;
    tm_free(t);
}

uint32_t vd_common_read(VirtioDriver *vd, unsigned off, unsigned size)
{
    return (uint32_t)address_space_read_val(&vd->t->m.mem, vd->bar + off, size);
}

void vd_common_write(VirtioDriver *vd, unsigned off, uint32_t v, unsigned size)
{
    address_space_write_val(&vd->t->m.mem, vd->bar + off, v, size);
}

uint64_t vd_config_read(VirtioDriver *vd, unsigned off, unsigned size)
{
    return address_space_read_val(&vd->t->m.mem,
                                  vd->bar + VIRTIO_PCI_DEVICE_OFFSET + off,
                                  size);
}

uint8_t vd_status(VirtioDriver *vd)
{
    return (uint8_t)vd_common_read(vd, 0x14, 1);
}

static void msix_entry(VirtioDriver *vd, unsigned v, uint32_t data)
{
    AddressSpace *as = &vd->t->m.mem;
    address_space_write_val(as, vd->msix_bar + v * 16, 0xfee00000, 4);
    address_space_write_val(as, vd->msix_bar + v * 16 + 4, 0, 4);
    address_space_write_val(as, vd->msix_bar + v * 16 + 8, data, 4);
    address_space_write_val(as, vd->msix_bar + v * 16 + 12, 0, 4);
}

uint8_t vd_init(VirtioDriver *vd, uint64_t features)
{
    memset(vd->t->m.ram + VD_DESC, 0, 0x4000);
    vd->avail_idx = vd->used_seen = 0;
    vd_common_write(vd, 0x14, 0, 1); /* reset */
    vd_common_write(vd, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    vd_common_write(vd, 0x00, 0, 4);
    uint64_t offered = vd_common_read(vd, 0x04, 4);
    vd_common_write(vd, 0x00, 1, 4);
    offered |= (uint64_t)vd_common_read(vd, 0x04, 4) << 32;
    vd->features = offered;
    features |= 1ull << VIRTIO_F_VERSION_1;
    vd_common_write(vd, 0x08, 0, 4);
    vd_common_write(vd, 0x0c, (uint32_t)features, 4);
    vd_common_write(vd, 0x08, 1, 4);
    vd_common_write(vd, 0x0c, (uint32_t)(features >> 32), 4);
    vd_common_write(vd, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                              VIRTIO_STATUS_FEATURES_OK, 1);
    if (!(vd_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
        return vd_status(vd);
    }
    /* MSI-X on: vector 0 config, vector 1 queue 0. */
    uint8_t cap = 0;
    for (uint8_t p = vd->dev->config[PCI_CAPABILITY_LIST]; p;
         p = vd->dev->config[p + 1]) {
        if (vd->dev->config[p] == 0x11) {
            cap = p;
        }
    }
    assert_int_not_equal(cap, 0);
    msix_entry(vd, 0, 0x30);
    msix_entry(vd, 1, 0x31);
    pci_config_write(vd->dev, cap + 2, 0x8000, 2);
    vd_common_write(vd, 0x10, 0, 2);
    vd_common_write(vd, 0x16, 0, 2);
    vd_common_write(vd, 0x18, VD_QUEUE_SIZE, 2);
    vd_common_write(vd, 0x1a, 1, 2);
    vd_common_write(vd, 0x20, VD_DESC, 4);
    vd_common_write(vd, 0x24, 0, 4);
    vd_common_write(vd, 0x28, VD_AVAIL, 4);
    vd_common_write(vd, 0x2c, 0, 4);
    vd_common_write(vd, 0x30, VD_USED, 4);
    vd_common_write(vd, 0x34, 0, 4);
    vd_common_write(vd, 0x1c, 1, 2);
    vd_common_write(vd, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                              VIRTIO_STATUS_FEATURES_OK |
                              VIRTIO_STATUS_DRIVER_OK, 1);
    return vd_status(vd);
}

void vd_set_desc(VirtioDriver *vd, uint64_t table, unsigned i, uint64_t addr,
                 uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = vd->t->m.ram + table + 16 * i;
    st64(p, addr);
    st32(p + 8, len);
    st16(p + 12, flags);
    st16(p + 14, next);
}

void vd_kick(VirtioDriver *vd, uint16_t head)
{
    uint8_t *avail = vd->t->m.ram + VD_AVAIL;
    st16(avail + 4 + 2 * (vd->avail_idx % VD_QUEUE_SIZE), head);
    vd->avail_idx++;
    st16(avail + 2, vd->avail_idx);
    address_space_write_val(&vd->t->m.mem, vd->bar + VIRTIO_PCI_NOTIFY_OFFSET,
                            0, 2);
}

uint16_t vd_used_idx(VirtioDriver *vd)
{
    return ld16(vd->t->m.ram + VD_USED + 2);
}

static bool used_advanced(void *arg)
{
    VirtioDriver *vd = arg;
    return vd_used_idx(vd) != vd->used_seen;
}

bool vd_wait_used(VirtioDriver *vd, uint32_t *id, uint32_t *len)
{
    if (!tm_run_until(vd->t, used_advanced, vd)) {
        return false;
    }
    const uint8_t *e = vd->t->m.ram + VD_USED + 4 +
                       8 * (vd->used_seen % VD_QUEUE_SIZE);
    *id = ld32(e);
    *len = ld32(e + 4);
    vd->used_seen++;
    return true;
}

int vd_blk_request(VirtioDriver *vd, uint32_t type, uint64_t sector,
                   uint64_t data_addr, uint32_t data_len, bool indirect)
{
    uint8_t *hdr = vd->t->m.ram + VD_HDR;
    st32(hdr, type);
    st32(hdr + 4, 0);
    st64(hdr + 8, sector);
    vd->t->m.ram[VD_STATUS] = 0xee;
    bool dev_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    uint64_t table = indirect ? VD_INDIRECT : VD_DESC;
    unsigned n = 0;
    vd_set_desc(vd, table, n, VD_HDR, 16, VRING_DESC_F_NEXT, n + 1);
    n++;
    if (data_len) {
        vd_set_desc(vd, table, n, data_addr, data_len,
                    VRING_DESC_F_NEXT | (dev_writes ? VRING_DESC_F_WRITE : 0),
                    n + 1);
        n++;
    }
    vd_set_desc(vd, table, n, VD_STATUS, 1, VRING_DESC_F_WRITE, 0);
    n++;
    if (indirect) {
        vd_set_desc(vd, VD_DESC, 0, VD_INDIRECT, 16 * n,
                    VRING_DESC_F_INDIRECT, 0);
    }
    vd_kick(vd, 0);
    uint32_t id, len;
    if (!vd_wait_used(vd, &id, &len)) {
        return -1;
    }
    assert_int_equal(id, 0);
    return vd->t->m.ram[VD_STATUS];
}
