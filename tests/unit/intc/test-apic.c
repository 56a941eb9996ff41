/*
 * Local APICs on one bus: register reset values and per-vCPU routing of the
 * xAPIC page, IPIs through the ICR (fixed, NMI, INIT, SIPI, shorthands,
 * logical destinations), TPR/PPR blocking and the INTA path, EOI, the ESR,
 * the timer (one-shot, periodic, TSC-deadline) on a fake clock, x2APIC MSRs,
 * APIC_BASE transitions, ExtINT from the 8259 through LINT0, MSIs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "intc-test-util.h"

#define APIC 0xfee00000ULL

typedef struct Fixture {
    Machine *m;
    ApicBus *bus;
    CpuIntr ci[2];
    ApicState *apic[2];
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->m = test_machine_new();
    f->bus = apic_bus_new(f->m);
    assert_non_null(f->bus);
    for (unsigned i = 0; i < 2; i++) {
        f->apic[i] = apic_init(f->bus, i, &f->ci[i], i == 0);
        assert_non_null(f->apic[i]);
    }
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

/* Register access as vCPU cpu would make it. */
static uint32_t rd(Fixture *f, unsigned cpu, uint32_t reg)
{
    apic_set_current_cpu(&f->ci[cpu]);
    return mmio_read32(f->m, APIC + reg);
}

static void wr(Fixture *f, unsigned cpu, uint32_t reg, uint32_t v)
{
    apic_set_current_cpu(&f->ci[cpu]);
    mmio_write32(f->m, APIC + reg, v);
}

static bool ext(Fixture *f, unsigned cpu)
{
    return cpu_intr_pending(&f->ci[cpu]) & CPU_INTR_EXT;
}

static void enable_all(Fixture *f)
{
    wr(f, 0, 0xf0, 0x1ff);
    wr(f, 1, 0xf0, 0x1ff);
}

static void send_ipi(Fixture *f, unsigned from, uint8_t dest, uint32_t lo)
{
    wr(f, from, 0x310, (uint32_t)dest << 24);
    wr(f, from, 0x300, lo);
}

static void test_reset_values_and_routing(void **state)
{
    Fixture *f = *state;
    assert_int_equal(rd(f, 0, 0x20), 0u << 24);
    assert_int_equal(rd(f, 1, 0x20), 1u << 24); /* the page is per CPU */
    assert_int_equal(rd(f, 1, 0x30), 0x00050014);
    assert_int_equal(rd(f, 1, 0xf0), 0xff);
    assert_int_equal(rd(f, 1, 0xe0), 0xffffffffu);
    assert_int_equal(rd(f, 1, 0x350), 0x10000); /* LINT0 masked on an AP */
    uint64_t base;
    assert_true(f->ci[0].msr_read(f->ci[0].apic_opaque, MSR_IA32_APIC_BASE,
                                  &base));
    assert_int_equal(base, 0xfee00900); /* enabled, BSP */
    assert_true(f->ci[1].msr_read(f->ci[1].apic_opaque, MSR_IA32_APIC_BASE,
                                  &base));
    assert_int_equal(base, 0xfee00800);
    assert_int_equal(f->ci[0].tsc_hz, APIC_TSC_HZ);
}

static void test_fixed_ipi_and_ack(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    send_ipi(f, 0, 1, 0x00004041); /* fixed, vector 0x41, assert */
    assert_true(apic_irr_test(f->apic[1], 0x41));
    assert_false(apic_irr_test(f->apic[0], 0x41));
    assert_true(ext(f, 1));
    assert_false(ext(f, 0));
    assert_int_equal(rd(f, 0, 0x300) & (1u << 12), 0); /* delivered */
    assert_int_equal(f->ci[1].ack(f->ci[1].ack_opaque), 0x41);
    assert_true(apic_isr_test(f->apic[1], 0x41));
    assert_false(ext(f, 1));
    assert_int_equal(rd(f, 1, 0xa0), 0x40); /* PPR from ISR */
    wr(f, 1, 0xb0, 0);
    assert_false(apic_isr_test(f->apic[1], 0x41));
    assert_int_equal(rd(f, 1, 0xa0), 0x00);
}

static void test_tpr_blocks(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 1, 0x80, 0x50);
    send_ipi(f, 0, 1, 0x4041);
    assert_true(apic_irr_test(f->apic[1], 0x41));
    assert_false(ext(f, 1));
    assert_int_equal(f->ci[1].ack(f->ci[1].ack_opaque), -1);
    assert_int_equal(rd(f, 1, 0xa0), 0x50);
    /* CR8 is TPR[7:4] */
    assert_true(f->ci[1].msr_write(f->ci[1].apic_opaque, CPU_INTR_MSR_CR8, 3));
    assert_int_equal(rd(f, 1, 0x80), 0x30);
    assert_true(ext(f, 1));
    /* a vector of the class in service waits for the EOI */
    assert_int_equal(f->ci[1].ack(f->ci[1].ack_opaque), 0x41);
    send_ipi(f, 0, 1, 0x4045);
    assert_false(ext(f, 1));
    send_ipi(f, 0, 1, 0x4051);
    assert_true(ext(f, 1));
    assert_int_equal(f->ci[1].ack(f->ci[1].ack_opaque), 0x51);
    wr(f, 1, 0xb0, 0); /* ends 0x51 */
    assert_false(ext(f, 1));
    wr(f, 1, 0xb0, 0); /* ends 0x41 */
    assert_true(ext(f, 1));
    assert_int_equal(f->ci[1].ack(f->ci[1].ack_opaque), 0x45);
}

static void test_software_disabled_drops_fixed(void **state)
{
    Fixture *f = *state;
    wr(f, 0, 0xf0, 0x1ff);
    send_ipi(f, 0, 1, 0x4041); /* APIC 1 is still software-disabled */
    assert_false(apic_irr_test(f->apic[1], 0x41));
    send_ipi(f, 0, 1, 0x4400); /* NMI is still accepted */
    assert_true(cpu_intr_pending(&f->ci[1]) & CPU_INTR_NMI);
}

static void test_shorthands(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 0, 0x300, 0x000c4400); /* NMI to all but self */
    assert_true(cpu_intr_pending(&f->ci[1]) & CPU_INTR_NMI);
    assert_false(cpu_intr_pending(&f->ci[0]) & CPU_INTR_NMI);
    wr(f, 1, 0x300, 0x00044061); /* fixed 0x61 to self */
    assert_true(apic_irr_test(f->apic[1], 0x61));
    assert_false(apic_irr_test(f->apic[0], 0x61));
    wr(f, 0, 0x300, 0x00084062); /* fixed 0x62 to all including self */
    assert_true(apic_irr_test(f->apic[0], 0x62));
    assert_true(apic_irr_test(f->apic[1], 0x62));
}

static void test_init_sipi(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 1, 0x80, 0x20);
    send_ipi(f, 0, 1, 0x0000c500); /* INIT assert, level */
    assert_true(cpu_intr_pending(&f->ci[1]) & CPU_INTR_INIT);
    assert_int_equal(rd(f, 1, 0x80), 0);     /* INIT reset the LAPIC */
    assert_int_equal(rd(f, 1, 0xf0), 0xff);
    assert_int_equal(rd(f, 1, 0x20), 1u << 24); /* but kept its ID */
    cpu_intr_lower(&f->ci[1], CPU_INTR_INIT);
    send_ipi(f, 0, 1, 0x00008500);           /* INIT de-assert: no effect */
    assert_false(cpu_intr_pending(&f->ci[1]) & CPU_INTR_INIT);
    send_ipi(f, 0, 1, 0x0000469a);           /* start-up, page 0x9a */
    assert_true(cpu_intr_pending(&f->ci[1]) & CPU_INTR_SIPI);
    assert_int_equal(f->ci[1].sipi_vector, 0x9a);
}

static void test_logical_destinations(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 0, 0xd0, 0x01000000);
    wr(f, 1, 0xd0, 0x02000000);
    send_ipi(f, 0, 0x02, 0x4841); /* flat model, logical 0x02 */
    assert_true(apic_irr_test(f->apic[1], 0x41));
    assert_false(apic_irr_test(f->apic[0], 0x41));
    send_ipi(f, 0, 0x03, 0x4842);
    assert_true(apic_irr_test(f->apic[0], 0x42));
    assert_true(apic_irr_test(f->apic[1], 0x42));
    /* cluster model: cluster 1, members 0x1 and 0x2 */
    wr(f, 0, 0xe0, 0x0fffffff);
    wr(f, 1, 0xe0, 0x0fffffff);
    wr(f, 0, 0xd0, 0x11000000);
    wr(f, 1, 0xd0, 0x12000000);
    send_ipi(f, 0, 0x12, 0x4843);
    assert_true(apic_irr_test(f->apic[1], 0x43));
    assert_false(apic_irr_test(f->apic[0], 0x43));
    send_ipi(f, 0, 0x22, 0x4844); /* other cluster: nobody */
    assert_false(apic_irr_test(f->apic[1], 0x44));
}

static void test_lowest_priority(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 0, 0xd0, 0x01000000);
    wr(f, 1, 0xd0, 0x02000000);
    wr(f, 0, 0x80, 0x40);
    ApicMessage msg = { .dest = 0x03, .logical = true,
                        .mode = APIC_DM_LOWEST, .vector = 0x71 };
    apic_bus_deliver(f->bus, &msg);
    assert_true(apic_irr_test(f->apic[1], 0x71));
    assert_false(apic_irr_test(f->apic[0], 0x71));
}

static void test_esr_illegal_vector(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 0, 0x370, 0xfe); /* error LVT: vector 0xfe */
    send_ipi(f, 0, 1, 0x4005);
    assert_false(apic_irr_test(f->apic[1], 0x05));
    assert_true(apic_irr_test(f->apic[0], 0xfe));
    assert_int_equal(rd(f, 0, 0x280), 0); /* not latched yet */
    wr(f, 0, 0x280, 0);
    assert_int_equal(rd(f, 0, 0x280), 0x20); /* send illegal vector */
    wr(f, 0, 0x280, 0);
    assert_int_equal(rd(f, 0, 0x280), 0);
}

static void test_timer_oneshot(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 0, 0x3e0, 0xb);     /* divide by 1 */
    wr(f, 0, 0x320, 0x50);    /* one-shot, vector 0x50 */
    wr(f, 0, 0x380, 1000);    /* 1000 ns at 1 GHz */
    fake_clock_advance(f->m->timers, 400);
    assert_int_equal(rd(f, 0, 0x390), 600);
    assert_false(apic_irr_test(f->apic[0], 0x50));
    fake_clock_advance(f->m->timers, 600);
    assert_true(apic_irr_test(f->apic[0], 0x50));
    assert_int_equal(rd(f, 0, 0x390), 0);
    assert_int_equal(f->ci[0].ack(f->ci[0].ack_opaque), 0x50);
    wr(f, 0, 0xb0, 0);
    fake_clock_advance(f->m->timers, 100000);
    assert_false(apic_irr_test(f->apic[0], 0x50)); /* fired once */
}

static void test_timer_divide_and_mask(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 0, 0x3e0, 0x3);     /* divide by 16 */
    wr(f, 0, 0x320, 0x10050); /* masked */
    wr(f, 0, 0x380, 100);
    fake_clock_advance(f->m->timers, 800);
    assert_int_equal(rd(f, 0, 0x390), 50);
    fake_clock_advance(f->m->timers, 800);
    assert_int_equal(rd(f, 0, 0x390), 0);
    assert_false(apic_irr_test(f->apic[0], 0x50)); /* masked: no vector */
}

static void test_timer_periodic(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 1, 0x3e0, 0x0);      /* divide by 2 */
    wr(f, 1, 0x320, 0x20055);  /* periodic, vector 0x55 */
    wr(f, 1, 0x380, 50000);    /* 100 us period */
    unsigned taken = 0;
    for (int i = 0; i < 10; i++) {
        fake_clock_advance(f->m->timers, 100000);
        if (f->ci[1].ack(f->ci[1].ack_opaque) == 0x55) {
            taken++;
            wr(f, 1, 0xb0, 0);
        }
    }
    assert_int_equal(taken, 10);
    fake_clock_advance(f->m->timers, 25000);
    assert_int_equal(rd(f, 1, 0x390), 50000 - 12500);
    wr(f, 1, 0x380, 0); /* writing 0 stops it */
    fake_clock_advance(f->m->timers, 1000000);
    assert_false(apic_irr_test(f->apic[1], 0x55));
}

static void test_timer_tsc_deadline(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    CpuIntr *ci = &f->ci[0];
    uint64_t tsc;
    assert_true(ci->msr_write(ci->apic_opaque, MSR_IA32_TSC_DEADLINE, 1));
    assert_true(ci->msr_read(ci->apic_opaque, MSR_IA32_TSC_DEADLINE, &tsc));
    assert_int_equal(tsc, 0); /* ignored outside TSC-deadline mode */
    wr(f, 0, 0x320, 0x40060); /* TSC-deadline, vector 0x60 */
    assert_true(ci->msr_read(ci->apic_opaque, MSR_IA32_TSC, &tsc));
    assert_true(ci->msr_write(ci->apic_opaque, MSR_IA32_TSC_DEADLINE,
                              tsc + 2 * 1000)); /* 1 us at 2 GHz */
    fake_clock_advance(f->m->timers, 999);
    assert_false(apic_irr_test(f->apic[0], 0x60));
    fake_clock_advance(f->m->timers, 1);
    assert_true(apic_irr_test(f->apic[0], 0x60));
    uint64_t dl;
    assert_true(ci->msr_read(ci->apic_opaque, MSR_IA32_TSC_DEADLINE, &dl));
    assert_int_equal(dl, 0);
    uint64_t tsc2;
    assert_true(ci->msr_read(ci->apic_opaque, MSR_IA32_TSC, &tsc2));
    assert_int_equal(tsc2 - tsc, 2000);
    /* a deadline in the past fires at once */
    assert_int_equal(ci->ack(ci->ack_opaque), 0x60);
    wr(f, 0, 0xb0, 0);
    assert_true(ci->msr_write(ci->apic_opaque, MSR_IA32_TSC_DEADLINE, 1));
    fake_clock_advance(f->m->timers, 0);
    assert_true(apic_irr_test(f->apic[0], 0x60));
}

static void test_x2apic(void **state)
{
    Fixture *f = *state;
    CpuIntr *c0 = &f->ci[0];
    void *a0 = c0->apic_opaque;
    uint64_t v;
    enable_all(f);
    assert_false(c0->msr_read(a0, 0x802, &v)); /* xAPIC mode: #GP */
    assert_true(c0->msr_write(a0, MSR_IA32_APIC_BASE, 0xfee00c00));
    assert_true(c0->msr_read(a0, 0x802, &v));
    assert_int_equal(v, 0);
    assert_true(c0->msr_read(a0, 0x803, &v));
    assert_int_equal(v, 0x00050014);
    assert_true(c0->msr_read(a0, 0x80d, &v));
    assert_int_equal(v, 0x00000001); /* cluster 0, bit 0 */
    assert_false(c0->msr_read(a0, 0x80e, &v)); /* no DFR in x2APIC */
    assert_false(c0->msr_write(a0, 0x802, 5));  /* ID is read-only */
    assert_false(c0->msr_write(a0, 0x80b, 1));  /* EOI takes only 0 */
    /* ICR is one 64-bit MSR with a 32-bit destination */
    assert_true(c0->msr_write(a0, 0x830, (1ULL << 32) | 0x4077));
    assert_true(apic_irr_test(f->apic[1], 0x77));
    /* self IPI */
    assert_true(c0->msr_write(a0, 0x83f, 0x78));
    assert_true(apic_irr_test(f->apic[0], 0x78));
    /* the xAPIC page no longer answers */
    assert_int_equal(rd(f, 0, 0x30), 0);
    /* x2APIC -> xAPIC directly is invalid; via disabled is fine */
    assert_false(c0->msr_write(a0, MSR_IA32_APIC_BASE, 0xfee00800));
    assert_true(c0->msr_write(a0, MSR_IA32_APIC_BASE, 0xfee00000));
    assert_false(c0->msr_write(a0, MSR_IA32_APIC_BASE, 0xfee00c00));
    assert_true(c0->msr_write(a0, MSR_IA32_APIC_BASE, 0xfee00800));
    assert_int_equal(rd(f, 0, 0xf0), 0xff); /* came back reset */
    assert_true(c0->msr_read(a0, MSR_IA32_APIC_BASE, &v));
    assert_int_equal(v, 0xfee00900); /* BSP flag kept */
}

static void test_extint_from_pic(void **state)
{
    Fixture *f = *state;
    PicState *pic = i8259_init(f->m, apic_bus_lint0(f->bus), NULL);
    apic_bus_set_extint(f->bus, i8259_ack_cb, pic);
    outb(f->m, 0x20, 0x11);
    outb(f->m, 0x21, 0x30);
    outb(f->m, 0x21, 0x04);
    outb(f->m, 0x21, 0x01);
    outb(f->m, 0x21, 0x00);
    irq_raise(i8259_irq(pic, 1));
    /* BSP LINT0 is ExtINT at power-on (virtual wire); the AP's is masked */
    assert_true(ext(f, 0));
    assert_false(ext(f, 1));
    assert_int_equal(f->ci[0].ack(f->ci[0].ack_opaque), 0x31);
    assert_false(ext(f, 0));
    /* with LINT0 masked the PIC no longer reaches the CPU */
    outb(f->m, 0x20, 0x20);
    wr(f, 0, 0xf0, 0x1ff);
    wr(f, 0, 0x350, 0x10700);
    irq_raise(i8259_irq(pic, 3));
    assert_false(ext(f, 0));
    wr(f, 0, 0x350, 0x00700);
    assert_true(ext(f, 0));
    assert_int_equal(f->ci[0].ack(f->ci[0].ack_opaque), 0x33);
}

static void test_msi(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    apic_bus_deliver_msi(f->bus, 0xfee01000, 0x0045);
    assert_true(apic_irr_test(f->apic[1], 0x45));
    assert_false(apic_irr_test(f->apic[0], 0x45));
    apic_bus_deliver_msi(f->bus, 0xfed01000, 0x0046); /* not an MSI */
    assert_false(apic_irr_test(f->apic[1], 0x46));
}

static void test_reset_clears(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    send_ipi(f, 0, 1, 0x4041);
    assert_true(ext(f, 1));
    device_reset(f->m->devices[0]);
    assert_false(ext(f, 1));
    assert_false(apic_irr_test(f->apic[1], 0x41));
    assert_int_equal(rd(f, 1, 0xf0), 0xff);
}

/* Save the APIC state, load it into a second machine with the same CPUs:
 * a running timer goes on where it was and pending vectors survive. */
static void test_snapshot_round_trip(void **state)
{
    Fixture *f = *state;
    enable_all(f);
    wr(f, 1, 0x3e0, 0xb);
    wr(f, 1, 0x320, 0x50);
    wr(f, 1, 0x380, 1000);
    send_ipi(f, 0, 1, 0x4061);
    fake_clock_advance(f->m->timers, 300);

    Device *dev = f->m->devices[0];
    GByteArray *buf = g_byte_array_new();
    vmstate_save(dev->cls->vmsd, dev, buf);

    Fixture g = { 0 };
    g.m = test_machine_new();
    fake_clock_advance(g.m->timers, 300);   /* same CLOCK_VIRTUAL */
    g.bus = apic_bus_new(g.m);
    for (unsigned i = 0; i < 2; i++) {
        g.apic[i] = apic_init(g.bus, i, &g.ci[i], i == 0);
    }
    size_t used;
    GError *err = NULL;
    Device *gdev = g.m->devices[0];
    assert_true(vmstate_load(gdev->cls->vmsd, gdev, buf->data, buf->len,
                             &used, &err));
    assert_int_equal(used, buf->len);
    assert_true(apic_irr_test(g.apic[1], 0x61));
    assert_true(cpu_intr_pending(&g.ci[1]) & CPU_INTR_EXT);
    assert_int_equal(rd(&g, 1, 0x390), 700);
    fake_clock_advance(g.m->timers, 700);
    assert_true(apic_irr_test(g.apic[1], 0x50));

    /* a machine with one CPU fewer refuses the snapshot */
    Machine *m3 = test_machine_new();
    ApicBus *b3 = apic_bus_new(m3);
    CpuIntr c3;
    apic_init(b3, 0, &c3, true);
    assert_false(vmstate_load(m3->devices[0]->cls->vmsd, m3->devices[0],
                              buf->data, buf->len, &used, &err));
    g_clear_error(&err);
    test_machine_free(m3);

    apic_set_current_cpu(NULL);
    test_machine_free(g.m);
    g_byte_array_free(buf, TRUE);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_reset_values_and_routing),
        T(test_fixed_ipi_and_ack),
        T(test_tpr_blocks),
        T(test_software_disabled_drops_fixed),
        T(test_shorthands),
        T(test_init_sipi),
        T(test_logical_destinations),
        T(test_lowest_priority),
        T(test_esr_illegal_vector),
        T(test_timer_oneshot),
        T(test_timer_divide_and_mask),
        T(test_timer_periodic),
        T(test_timer_tsc_deadline),
        T(test_x2apic),
        T(test_extint_from_pic),
        T(test_msi),
        T(test_reset_clears),
        T(test_snapshot_round_trip),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
