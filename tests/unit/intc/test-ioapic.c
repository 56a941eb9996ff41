/*
 * IOAPIC: identification registers, redirection entries (read-only bits,
 * masking), edge delivery to the addressed LAPIC, level-triggered pins with
 * Remote IRR cleared by the LAPIC's EOI broadcast or the EOI register, and
 * the other delivery modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"
#include "intc-test-util.h"

#define IOAPIC 0xfec00000ULL
#define APIC 0xfee00000ULL

typedef struct Fixture {
    Machine *m;
    ApicBus *bus;
    IoapicState *io;
    CpuIntr ci[2];
    ApicState *apic[2];
} Fixture;

static void lapic_write(Fixture *f, unsigned cpu, uint32_t reg, uint32_t v)
{
    apic_set_current_cpu(&f->ci[cpu]);
    mmio_write32(f->m, APIC + reg, v);
}

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->m = test_machine_new();
    f->bus = apic_bus_new(f->m);
    for (unsigned i = 0; i < 2; i++) {
        f->apic[i] = apic_init(f->bus, i, &f->ci[i], i == 0);
        lapic_write(f, i, 0xf0, 0x1ff);
    }
    f->io = ioapic_init(f->m, f->bus, NULL);
    assert_non_null(f->io);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    apic_set_current_cpu(NULL);
    test_machine_free(f->m);
    g_free(f);
    return 0;
}

static uint32_t io_read(Fixture *f, uint32_t reg)
{
    mmio_write32(f->m, IOAPIC, reg);
    return mmio_read32(f->m, IOAPIC + 0x10);
}

static void io_write(Fixture *f, uint32_t reg, uint32_t v)
{
    mmio_write32(f->m, IOAPIC, reg);
    mmio_write32(f->m, IOAPIC + 0x10, v);
}

static void set_entry(Fixture *f, unsigned pin, uint32_t lo, uint8_t dest)
{
    io_write(f, 0x11 + 2 * pin, (uint32_t)dest << 24);
    io_write(f, 0x10 + 2 * pin, lo);
}

static int ack(Fixture *f, unsigned cpu)
{
    return f->ci[cpu].ack(f->ci[cpu].ack_opaque);
}

static void test_id_and_version(void **state)
{
    Fixture *f = *state;
    assert_int_equal(io_read(f, 0x01), 0x00170020);
    io_write(f, 0x00, 0x0a000000);
    assert_int_equal(io_read(f, 0x00), 0x0a000000);
    io_write(f, 0x01, 0);
    assert_int_equal(io_read(f, 0x01), 0x00170020); /* read-only */
    assert_int_equal(mmio_read32(f->m, IOAPIC), 0x01); /* IOREGSEL */
}

static void test_entries_reset_masked(void **state)
{
    Fixture *f = *state;
    for (unsigned pin = 0; pin < 24; pin++) {
        assert_int_equal(io_read(f, 0x10 + 2 * pin), 0x10000);
    }
    /* Delivery status and Remote IRR cannot be written */
    io_write(f, 0x10, 0x15030);
    assert_int_equal(io_read(f, 0x10), 0x10030);
}

static void test_edge_delivery(void **state)
{
    Fixture *f = *state;
    set_entry(f, 4, 0x34, 1); /* fixed, physical, edge, vector 0x34 -> 1 */
    irq_raise(ioapic_irq(f->io, 4));
    assert_true(apic_irr_test(f->apic[1], 0x34));
    assert_false(apic_irr_test(f->apic[0], 0x34));
    assert_true(cpu_intr_pending(&f->ci[1]) & CPU_INTR_EXT);
    assert_int_equal(ack(f, 1), 0x34);
    lapic_write(f, 1, 0xb0, 0);
    irq_raise(ioapic_irq(f->io, 4)); /* still high: no new edge */
    assert_false(apic_irr_test(f->apic[1], 0x34));
    irq_lower(ioapic_irq(f->io, 4));
    irq_raise(ioapic_irq(f->io, 4));
    assert_true(apic_irr_test(f->apic[1], 0x34));
}

static void test_masked_edge_is_lost(void **state)
{
    Fixture *f = *state;
    set_entry(f, 3, 0x10033, 0);
    irq_pulse(ioapic_irq(f->io, 3));
    assert_false(apic_irr_test(f->apic[0], 0x33));
    set_entry(f, 3, 0x00033, 0);
    assert_false(apic_irr_test(f->apic[0], 0x33));
}

static void test_level_remote_irr(void **state)
{
    Fixture *f = *state;
    IrqLine *pin9 = ioapic_irq(f->io, 9);
    set_entry(f, 9, 0x8039, 0); /* level, vector 0x39 -> APIC 0 */
    irq_raise(pin9);
    assert_true(apic_irr_test(f->apic[0], 0x39));
    assert_int_equal(io_read(f, 0x10 + 18) & 0x4000, 0x4000); /* Remote IRR */
    assert_int_equal(ack(f, 0), 0x39);
    lapic_write(f, 0, 0xb0, 0); /* EOI broadcast: still asserted, again */
    assert_true(apic_irr_test(f->apic[0], 0x39));
    assert_int_equal(io_read(f, 0x10 + 18) & 0x4000, 0x4000);
    assert_int_equal(ack(f, 0), 0x39);
    irq_lower(pin9);
    lapic_write(f, 0, 0xb0, 0);
    assert_int_equal(io_read(f, 0x10 + 18) & 0x4000, 0);
    assert_false(apic_irr_test(f->apic[0], 0x39));
    assert_false(cpu_intr_pending(&f->ci[0]) & CPU_INTR_EXT);
}

static void test_level_eoi_register(void **state)
{
    Fixture *f = *state;
    IrqLine *pin10 = ioapic_irq(f->io, 10);
    set_entry(f, 10, 0x803a, 1);
    irq_raise(pin10);
    irq_lower(pin10);
    assert_int_equal(io_read(f, 0x10 + 20) & 0x4000, 0x4000);
    irq_raise(pin10); /* Remote IRR set: not sent again */
    assert_int_equal(ack(f, 1), 0x3a);
    assert_false(apic_irr_test(f->apic[1], 0x3a));
    mmio_write32(f->m, IOAPIC + 0x40, 0x3a); /* EOI register */
    assert_true(apic_irr_test(f->apic[1], 0x3a));
}

static void test_level_masked_then_unmasked(void **state)
{
    Fixture *f = *state;
    set_entry(f, 11, 0x1803b, 0); /* level, masked */
    irq_raise(ioapic_irq(f->io, 11));
    assert_false(apic_irr_test(f->apic[0], 0x3b));
    set_entry(f, 11, 0x0803b, 0); /* unmasking an asserted level pin */
    assert_true(apic_irr_test(f->apic[0], 0x3b));
}

static void test_logical_and_nmi(void **state)
{
    Fixture *f = *state;
    lapic_write(f, 0, 0xd0, 0x01000000);
    lapic_write(f, 1, 0xd0, 0x02000000);
    set_entry(f, 5, 0x0835, 0x03); /* logical, to both */
    irq_raise(ioapic_irq(f->io, 5));
    assert_true(apic_irr_test(f->apic[0], 0x35));
    assert_true(apic_irr_test(f->apic[1], 0x35));
    set_entry(f, 6, 0x0400, 1);    /* NMI */
    irq_raise(ioapic_irq(f->io, 6));
    assert_true(cpu_intr_pending(&f->ci[1]) & CPU_INTR_NMI);
    assert_false(cpu_intr_pending(&f->ci[0]) & CPU_INTR_NMI);
}

static void test_reset(void **state)
{
    Fixture *f = *state;
    ioapic_set_id(f->io, 2);
    set_entry(f, 2, 0x30, 0);
    io_write(f, 0x00, 0x05000000);
    device_reset(f->m->devices[1]);
    assert_int_equal(io_read(f, 0x14), 0x10000);
    assert_int_equal(io_read(f, 0x00), 0x02000000); /* the board's ID */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_id_and_version),
        T(test_entries_reset_masked),
        T(test_edge_delivery),
        T(test_masked_edge_is_lost),
        T(test_level_remote_irr),
        T(test_level_eoi_register),
        T(test_level_masked_then_unmasked),
        T(test_logical_and_nmi),
        T(test_reset),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
