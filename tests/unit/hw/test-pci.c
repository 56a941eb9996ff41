/*
 * PCI: configuration mechanism #1 through ports 0xcf8/0xcfc, the i440FX and
 * PIIX3 identities, BAR sizing and decoding, the BAR allocator, INTx
 * routing, and the PIIX3 reset control register.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hw-test.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"

#define CFG(dev, fn, reg) (0x80000000u | ((dev) << 11) | ((fn) << 8) | (reg))

static uint32_t cfg_readl(TestMachine *t, uint32_t addr)
{
    tm_outl(t, 0xcf8, addr & ~3u);
    return tm_inl(t, 0xcfc);
}

static void cfg_writel(TestMachine *t, uint32_t addr, uint32_t v)
{
    tm_outl(t, 0xcf8, addr & ~3u);
    tm_outl(t, 0xcfc, v);
}

static TestMachine *pc_pci(void)
{
    TestMachine *t = tm_new(1 << 20, false);

    assert_non_null(pci_i440fx_init(&t->m, NULL));
    return t;
}

static void pc_pci_free(TestMachine *t)
{
    PCIBus *bus = t->m.pci;

    tm_free_devices(t);
    pci_bus_free(bus);
    t->m.pci = NULL;
    tm_free(t);
}

/* A test device with an I/O BAR, a 32-bit and a 64-bit memory BAR. */
typedef struct FakePci {
    PCIDevice pci;
    MemoryRegion io, mmio, mmio64;
    uint32_t last_write;
} FakePci;

static uint64_t fake_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0x11223344u + addr;
}

static void fake_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    ((FakePci *)opaque)->last_write = (uint32_t)v;
}

static const MemoryRegionOps fake_ops = {
    .read = fake_read, .write = fake_write, .min_access = 1, .max_access = 4,
};

static bool fake_realize(Device *d, GError **errp)
{
    FakePci *f = (FakePci *)d;

    pci_config_set_ids(&f->pci, 0x1af4, 0x1000, 0, 0x020000);
    f->pci.config[PCI_INTERRUPT_PIN] = 1;
    memory_region_init_io(&f->io, "fake-io", &fake_ops, f, 0x20);
    memory_region_init_io(&f->mmio, "fake-mmio", &fake_ops, f, 0x1000);
    memory_region_init_io(&f->mmio64, "fake-mmio64", &fake_ops, f, 0x4000);
    pci_register_bar(&f->pci, 0, PCI_BAR_IO, false, 0x20, &f->io);
    pci_register_bar(&f->pci, 1, PCI_BAR_MEM32, false, 0x1000, &f->mmio);
    pci_register_bar(&f->pci, 2, PCI_BAR_MEM64, true, 0x4000, &f->mmio64);
    return pci_device_register(&f->pci, d->machine->pci, -1, errp);
}

static void fake_unrealize(Device *d)
{
    pci_device_unregister(&((FakePci *)d)->pci);
}

static void fake_reset(Device *d)
{
    pci_device_reset(&((FakePci *)d)->pci);
}

static const Property fake_props[] = {
    DEFINE_PROP_PCI_ADDR(FakePci, pci),
    DEFINE_PROP_END,
};

static const DeviceClass fake_class = {
    .name = "fake-pci",
    .instance_size = sizeof(FakePci),
    .props = fake_props,
    .realize = fake_realize,
    .unrealize = fake_unrealize,
    .reset = fake_reset,
};

static void test_ids(void **state)
{
    TestMachine *t = pc_pci();

    assert_int_equal(cfg_readl(t, CFG(0, 0, 0)), 0x12378086);
    assert_int_equal(cfg_readl(t, CFG(0, 0, 8)) & 0xff, 0x02); /* revision */
    assert_int_equal(cfg_readl(t, CFG(0, 0, 8)) >> 8, 0x060000); /* host bridge */
    assert_int_equal(cfg_readl(t, CFG(1, 0, 0)), 0x70008086);
    assert_int_equal(cfg_readl(t, CFG(1, 0, 8)) >> 8, 0x060100); /* ISA bridge */
    assert_int_equal((cfg_readl(t, CFG(1, 0, 0x0c)) >> 16) & 0x80, 0x80);
    /* Nothing at 02.0, on bus 1, or with the enable bit clear. */
    assert_int_equal(cfg_readl(t, CFG(2, 0, 0)), 0xffffffff);
    assert_int_equal(cfg_readl(t, CFG(0, 0, 0) | (1 << 16)), 0xffffffff);
    tm_outl(t, 0xcf8, 0x00000000);
    assert_int_equal(tm_inl(t, 0xcfc), 0xffffffff);
    /* Narrow reads at an offset inside the data dword. */
    tm_outl(t, 0xcf8, CFG(0, 0, 0));
    assert_int_equal(tm_inw(t, 0xcfe), 0x1237);
    assert_int_equal(tm_inb(t, 0xcfd), 0x80);
    pc_pci_free(t);
}

static void test_config_address_register(void **state)
{
    TestMachine *t = pc_pci();

    /* Linux's type-1 probe: the address register reads back. */
    tm_outl(t, 0xcf8, 0x80000000);
    assert_int_equal(tm_inl(t, 0xcf8), 0x80000000);
    tm_outl(t, 0xcf8, 0x80001237); /* reserved low bits read as 0 */
    assert_int_equal(tm_inl(t, 0xcf8), 0x80001234);
    pc_pci_free(t);
}

static void test_reset_control(void **state)
{
    TestMachine *t = pc_pci();

    tm_outb(t, 0xcf9, 0x02); /* select hard reset, do not reset yet */
    assert_int_equal(machine_take_requests(&t->m), 0);
    assert_int_equal(tm_inb(t, 0xcf9), 0x02);
    tm_outb(t, 0xcf9, 0x06);
    assert_int_equal(machine_take_requests(&t->m), MACHINE_REQ_RESET);
    /* A dword write at 0xcf8 is the config address, not a reset. */
    tm_outl(t, 0xcf8, 0x80000604);
    assert_int_equal(machine_take_requests(&t->m), 0);
    pc_pci_free(t);
}

static void test_pam_and_pirq_registers(void **state)
{
    TestMachine *t = pc_pci();

    cfg_writel(t, CFG(0, 0, 0x58), 0xffffffff);
    /* 0x58 is not writable; PAM0 keeps only its high nibble's 2 bits. */
    assert_int_equal(cfg_readl(t, CFG(0, 0, 0x58)), 0x33333000);
    assert_int_equal(cfg_readl(t, CFG(1, 0, 0x60)), 0x80808080);
    cfg_writel(t, CFG(1, 0, 0x60), 0xff0b0a05);
    assert_int_equal(cfg_readl(t, CFG(1, 0, 0x60)), 0x8f0b0a05);
    pc_pci_free(t);
}

static void test_bar_sizing_and_decoding(void **state)
{
    TestMachine *t = pc_pci();
    FakePci *f = (FakePci *)tm_add(t, &fake_class, "addr=3");
    uint32_t bar0 = CFG(3, 0, 0x10), bar1 = CFG(3, 0, 0x14);
    uint32_t bar2 = CFG(3, 0, 0x18), bar3 = CFG(3, 0, 0x1c);

    assert_int_equal(cfg_readl(t, CFG(3, 0, 0)), 0x10001af4);
    /* Sizing: all ones written, size mask and type bits read back. */
    cfg_writel(t, bar0, 0xffffffff);
    assert_int_equal(cfg_readl(t, bar0), 0xffffffe1);
    cfg_writel(t, bar1, 0xffffffff);
    assert_int_equal(cfg_readl(t, bar1), 0xfffff000);
    cfg_writel(t, bar2, 0xffffffff);
    cfg_writel(t, bar3, 0xffffffff);
    assert_int_equal(cfg_readl(t, bar2), 0xffffc00c); /* 64-bit, prefetchable */
    assert_int_equal(cfg_readl(t, bar3), 0xffffffff);

    /* Program addresses; nothing decodes until the command register says. */
    cfg_writel(t, bar0, 0xc000);
    cfg_writel(t, bar1, 0xfe000000);
    cfg_writel(t, bar2, 0x00000000);
    cfg_writel(t, bar3, 0x1);  /* 0x1_0000_0000 */
    assert_int_equal(tm_inl(t, 0xc004), 0xffffffff);
    cfg_writel(t, CFG(3, 0, 4), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    assert_int_equal(tm_inl(t, 0xc004), 0x11223348);
    assert_int_equal(address_space_read_val(&t->m.mem, 0xfe000010, 4), 0x11223354);
    assert_int_equal(address_space_read_val(&t->m.mem, 0x100000020ull, 4), 0x11223364);
    tm_outl(t, 0xc000, 0xabcd);
    assert_int_equal(f->last_write, 0xabcd);

    /* Moving a BAR moves the decode. */
    cfg_writel(t, bar0, 0xd000);
    assert_int_equal(tm_inl(t, 0xc004), 0xffffffff);
    assert_int_equal(tm_inl(t, 0xd004), 0x11223348);
    /* Sizing with decode on unmaps rather than mapping at the top. */
    cfg_writel(t, bar1, 0xffffffff);
    assert_int_equal(address_space_read_val(&t->m.mem, 0xfe000010, 4), 0xffffffff);
    assert_int_equal(address_space_read_val(&t->m.mem, 0xfffff010, 4), 0xffffffff);
    /* Disabling I/O decode unmaps the I/O BAR. */
    cfg_writel(t, CFG(3, 0, 4), PCI_COMMAND_MEMORY);
    assert_int_equal(tm_inl(t, 0xd004), 0xffffffff);

    /* Reset clears BARs and decoding. */
    device_reset(&f->pci.parent);
    assert_int_equal(cfg_readl(t, bar0), 0x00000001);
    assert_int_equal(address_space_read_val(&t->m.mem, 0x100000020ull, 4), 0xffffffff);
    pc_pci_free(t);
}

static void test_assign_bars(void **state)
{
    TestMachine *t = pc_pci();
    FakePci *a = (FakePci *)tm_add(t, &fake_class, NULL);
    FakePci *b = (FakePci *)tm_add(t, &fake_class, NULL);
    uint32_t mem_a, mem_b, io_a, io_b, m64_a;

    assert_int_equal(PCI_SLOT(a->pci.devfn), 2); /* first free slot */
    assert_int_equal(PCI_SLOT(b->pci.devfn), 3);
    assert_true(pci_assign_bars(t->m.pci, 0xe0000000, 0xfebfffff, 0xc000, 0xffff));
    io_a = cfg_readl(t, CFG(2, 0, 0x10)) & ~3u;
    io_b = cfg_readl(t, CFG(3, 0, 0x10)) & ~3u;
    mem_a = cfg_readl(t, CFG(2, 0, 0x14)) & ~0xfu;
    mem_b = cfg_readl(t, CFG(3, 0, 0x14)) & ~0xfu;
    m64_a = cfg_readl(t, CFG(2, 0, 0x18)) & ~0xfu;
    assert_true(io_a >= 0xc000 && io_b >= 0xc000 && io_a != io_b);
    assert_int_equal(io_a % 0x20, 0);
    assert_true(mem_a >= 0xe0000000 && mem_a % 0x1000 == 0);
    assert_true(mem_b >= 0xe0000000 && mem_b != mem_a);
    assert_true(m64_a >= 0xe0000000 && m64_a % 0x4000 == 0);
    assert_int_equal(cfg_readl(t, CFG(2, 0, 0x1c)), 0);
    /* Decoding is on: the guest sees the device at those addresses. */
    assert_int_equal(tm_inl(t, (uint16_t)io_b), 0x11223344);
    assert_int_equal(address_space_read_val(&t->m.mem, mem_a, 4), 0x11223344);
    assert_int_equal(address_space_read_val(&t->m.mem, m64_a + 8, 4), 0x1122334c);
    /* Interrupt line: INTA of slot 2 -> PIRQ (2 + 0) % 4 = C -> GSI 18. */
    assert_int_equal(cfg_readl(t, CFG(2, 0, 0x3c)) & 0xffff, 0x0100 | 18);
    /* A window too small for everything is reported. */
    assert_false(pci_assign_bars(t->m.pci, 0xe0000000, 0xe0000fff, 0xc000, 0xc01f));
    pc_pci_free(t);
}

static void test_intx_routing(void **state)
{
    TestMachine *t = pc_pci();
    FakePci *a = (FakePci *)tm_add(t, &fake_class, "addr=3");  /* PIRQD */
    FakePci *b = (FakePci *)tm_add(t, &fake_class, "addr=7");  /* PIRQD too */

    assert_int_equal(pci_swizzle(3, 1), 3);
    pci_set_irq(&a->pci, 1);
    assert_int_equal(t->gsi_level[19], 1);
    assert_true(cfg_readl(t, CFG(3, 0, 4)) & (PCI_STATUS_INTERRUPT << 16));
    /* Shared line: stays up until both devices drop it. */
    pci_set_irq(&b->pci, 1);
    pci_set_irq(&a->pci, 0);
    assert_int_equal(t->gsi_level[19], 1);
    pci_set_irq(&b->pci, 0);
    assert_int_equal(t->gsi_level[19], 0);

    /* INTx disable in the command register masks the pin. */
    pci_set_irq(&a->pci, 1);
    cfg_writel(t, CFG(3, 0, 4), PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(t->gsi_level[19], 0);
    cfg_writel(t, CFG(3, 0, 4), 0);
    assert_int_equal(t->gsi_level[19], 1);

    /* PIIX3 routes PIRQD to ISA IRQ 11 as well; disabling the route drops it. */
    cfg_writel(t, CFG(1, 0, 0x60), 0x0b808080);
    assert_int_equal(t->gsi_level[11], 1);
    cfg_writel(t, CFG(1, 0, 0x60), 0x80808080);
    assert_int_equal(t->gsi_level[11], 0);
    assert_int_equal(t->gsi_level[19], 1);
    /* Reserved IRQs (e.g. 2) are not routed to. */
    cfg_writel(t, CFG(1, 0, 0x60), 0x02808080);
    assert_int_equal(t->gsi_level[2], 0);
    pci_set_irq(&a->pci, 0);
    pc_pci_free(t);
}

static void test_bad_addr_prop(void **state)
{
    TestMachine *t = pc_pci();
    GError *err = NULL;
    Device *d = device_new(&fake_class, &t->m, NULL);

    assert_true(device_set_props(d, "addr=1", NULL)); /* PIIX3's slot */
    assert_false(device_realize(d, &err));
    g_clear_error(&err);
    device_free(d);
    d = device_new(&fake_class, &t->m, NULL);
    assert_true(device_set_props(d, "addr=0x40", NULL));
    assert_false(device_realize(d, &err));
    g_clear_error(&err);
    device_free(d);
    pc_pci_free(t);
}

static void test_capabilities(void **state)
{
    TestMachine *t = pc_pci();
    FakePci *a = (FakePci *)tm_add(t, &fake_class, NULL);
    uint8_t c1 = pci_add_capability(&a->pci, 0x09, 8);
    uint8_t c2 = pci_add_capability(&a->pci, 0x05, 14);

    assert_int_equal(c1, 0x40);
    assert_int_equal(c2, 0x48);
    assert_true(cfg_readl(t, CFG(2, 0, 4)) & (PCI_STATUS_CAP_LIST << 16));
    assert_int_equal(cfg_readl(t, CFG(2, 0, 0x34)) & 0xff, 0x40);
    assert_int_equal(cfg_readl(t, CFG(2, 0, 0x40)) & 0xffff, 0x4809);
    assert_int_equal(cfg_readl(t, CFG(2, 0, 0x48)) & 0xffff, 0x0005);
    pc_pci_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_config_address_register),
        cmocka_unit_test(test_reset_control),
        cmocka_unit_test(test_pam_and_pirq_registers),
        cmocka_unit_test(test_bar_sizing_and_decoding),
        cmocka_unit_test(test_assign_bars),
        cmocka_unit_test(test_intx_routing),
        cmocka_unit_test(test_bad_addr_prop),
        cmocka_unit_test(test_capabilities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
