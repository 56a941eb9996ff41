/*
 * MSI-X and MSI: the capabilities as a guest driver programs them through
 * configuration space and the MSI-X BAR, masking and pending bits, the
 * function mask, and bus mastering gating the messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hw-test.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci.h"

typedef struct Sent {
    unsigned n;
    uint64_t addr[16];
    uint32_t data[16];
} Sent;

static void record_msi(void *opaque, uint64_t addr, uint32_t data)
{
    Sent *s = opaque;
    if (s->n < 16) {
        s->addr[s->n] = addr;
        s->data[s->n] = data;
    }
    s->n++;
}

typedef struct MsiDev {
    PCIDevice pci;
    MsixState msix;
    uint8_t msi_cap;
} MsiDev;

static void msidev_config_write(PCIDevice *d, uint32_t addr, uint32_t v,
                                unsigned size)
{
    MsiDev *m = (MsiDev *)d;
    msix_config_write(&m->msix, addr, v, size);
    msi_config_write(d, m->msi_cap, addr, v, size);
}

static bool msidev_realize(Device *d, GError **errp)
{
    MsiDev *m = (MsiDev *)d;
    pci_config_set_ids(&m->pci, 0x1234, 0x5678, 0, 0xff0000);
    m->pci.config_write = msidev_config_write;
    if (!msix_init(&m->msix, &m->pci, 4, 0, errp)) {
        return false;
    }
    m->msi_cap = msi_init(&m->pci, 4, errp);
    if (!m->msi_cap) {
        return false;
    }
    return pci_device_register(&m->pci, d->machine->pci, -1, errp);
}

static const DeviceClass msidev_class = {
    .name = "msi-test", .instance_size = sizeof(MsiDev),
    .realize = msidev_realize,
};

typedef struct Fix {
    TestMachine *t;
    MsiDev *dev;
    Sent sent;
    uint64_t bar;
} Fix;

static int setup(void **state)
{
    Fix *f = g_new0(Fix, 1);
    f->t = tm_new(1 << 20, false);
    assert_non_null(pci_i440fx_init(&f->t->m, NULL));
    pci_bus_set_msi_handler(f->t->m.pci, record_msi, &f->sent);
    f->dev = (MsiDev *)tm_add(f->t, &msidev_class, NULL);
    assert_true(pci_assign_bars(f->t->m.pci, 0xe0000000, 0xefffffff, 0xc000,
                                0xffff));
    f->bar = pci_get_long(f->dev->pci.config + PCI_BASE_ADDRESS_0) & ~0xfull;
    assert_int_not_equal(f->bar, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    PCIBus *bus = f->t->m.pci;
    tm_free_devices(f->t);
    pci_bus_free(bus);
    f->t->m.pci = NULL;
    tm_free(f->t);
    g_free(f);
    return 0;
}

static void mmio_writel(Fix *f, uint64_t off, uint32_t v)
{
    address_space_write_val(&f->t->m.mem, f->bar + off, v, 4);
}

static uint32_t mmio_readl(Fix *f, uint64_t off)
{
    return (uint32_t)address_space_read_val(&f->t->m.mem, f->bar + off, 4);
}

static void program_entry(Fix *f, unsigned v, uint32_t addr, uint32_t data,
                          bool masked)
{
    mmio_writel(f, v * 16, addr);
    mmio_writel(f, v * 16 + 4, 0);
    mmio_writel(f, v * 16 + 8, data);
    mmio_writel(f, v * 16 + 12, masked ? 1 : 0);
}

static void msix_ctrl_write(Fix *f, uint16_t v)
{
    pci_config_write(&f->dev->pci, f->dev->msix.cap + 2, v, 2);
}

static void test_msix_capability(void **state)
{
    Fix *f = *state;
    PCIDevice *d = &f->dev->pci;
    uint8_t cap = f->dev->msix.cap;
    assert_int_equal(d->config[cap], PCI_CAP_ID_MSIX);
    assert_int_equal(pci_config_read(d, cap + 2, 2) & 0x7ff, 3); /* 4 vectors */
    assert_int_equal(pci_config_read(d, cap + 4, 4), 0x000); /* table in BAR0 */
    assert_int_equal(pci_config_read(d, cap + 8, 4), 0x800); /* PBA in BAR0 */
    /* Entries start masked; the table size field is read-only. */
    assert_int_equal(mmio_readl(f, 12), 1);
    msix_ctrl_write(f, 0x07ff);
    assert_int_equal(pci_config_read(d, cap + 2, 2) & 0x7ff, 3);
}

static void test_msix_delivery_and_masking(void **state)
{
    Fix *f = *state;
    program_entry(f, 0, 0xfee00000, 0x41, false);
    program_entry(f, 2, 0xfee01000, 0x42, true);
    /* Not enabled yet: nothing goes out. */
    msix_notify(&f->dev->msix, 0);
    assert_int_equal(f->sent.n, 0);
    msix_ctrl_write(f, MSIX_CTRL_ENABLE);
    msix_notify(&f->dev->msix, 0);
    assert_int_equal(f->sent.n, 1);
    assert_int_equal(f->sent.addr[0], 0xfee00000);
    assert_int_equal(f->sent.data[0], 0x41);

    /* Masked vector 2: pending bit, then delivered on unmask. */
    msix_notify(&f->dev->msix, 2);
    assert_int_equal(f->sent.n, 1);
    assert_int_equal(mmio_readl(f, 0x800), 1u << 2);
    mmio_writel(f, 2 * 16 + 12, 0);
    assert_int_equal(f->sent.n, 2);
    assert_int_equal(f->sent.data[1], 0x42);
    assert_int_equal(mmio_readl(f, 0x800), 0);

    /* Function mask holds everything back until it clears. */
    msix_ctrl_write(f, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    msix_notify(&f->dev->msix, 0);
    assert_int_equal(f->sent.n, 2);
    assert_int_equal(mmio_readl(f, 0x800), 1);
    msix_ctrl_write(f, MSIX_CTRL_ENABLE);
    assert_int_equal(f->sent.n, 3);

    /* The PBA is read-only, vectors past the table are ignored. */
    mmio_writel(f, 0x800, 0xff);
    assert_int_equal(mmio_readl(f, 0x800), 0);
    msix_notify(&f->dev->msix, 7);
    mmio_writel(f, 4 * 16, 0x12345678); /* beyond 4 entries */
    assert_int_equal(mmio_readl(f, 4 * 16), 0);
    assert_int_equal(f->sent.n, 3);

    /* No bus mastering, no message. */
    uint16_t cmd = pci_get_word(f->dev->pci.config + PCI_COMMAND);
    pci_config_write(&f->dev->pci, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER, 2);
    msix_notify(&f->dev->msix, 0);
    assert_int_equal(f->sent.n, 3);

    /* Reset disables and masks again. */
    msix_reset(&f->dev->msix);
    assert_false(msix_enabled(&f->dev->msix));
    assert_true(msix_is_masked(&f->dev->msix, 0));
}

static void test_msi(void **state)
{
    Fix *f = *state;
    PCIDevice *d = &f->dev->pci;
    uint8_t cap = f->dev->msi_cap;
    assert_int_equal(d->config[cap], PCI_CAP_ID_MSI);
    pci_config_write(d, cap + 4, 0xfee02000, 4);
    pci_config_write(d, cap + 8, 0, 4);
    pci_config_write(d, cap + 0xc, 0x50, 2);
    msi_notify(d, cap, 0);
    assert_int_equal(f->sent.n, 0); /* not enabled */
    /* Enable 4 vectors: the data's low bits carry the vector. */
    pci_config_write(d, cap + 2, MSI_CTRL_ENABLE | (2 << 4), 2);
    msi_notify(d, cap, 3);
    assert_int_equal(f->sent.n, 1);
    assert_int_equal(f->sent.addr[0], 0xfee02000);
    assert_int_equal(f->sent.data[0], 0x53);
    /* Masked: pending, then sent when the mask clears. */
    pci_config_write(d, cap + 0x10, 1u << 1, 4);
    msi_notify(d, cap, 1);
    assert_int_equal(f->sent.n, 1);
    assert_int_equal(pci_config_read(d, cap + 0x14, 4), 1u << 1);
    pci_config_write(d, cap + 0x10, 0, 4);
    assert_int_equal(f->sent.n, 2);
    assert_int_equal(f->sent.data[1], 0x51);
    assert_int_equal(pci_config_read(d, cap + 0x14, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msix_capability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix_delivery_and_masking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
