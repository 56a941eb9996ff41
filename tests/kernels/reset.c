/*
 * reset: the machine comes back from a reset with its interrupt controllers,
 * timer and CPU in their power-on state.  The kernel counts its boots in
 * CMOS NVRAM (which a reset keeps).  On every boot it checks the power-on
 * state: 8259 pair (IMR, IRR, ISR, ELCR; Intel 8259A datasheet, OCW3
 * reads), I/O APIC (ID, every redirection entry masked; 82093AA datasheet),
 * local APIC (SDM vol. 3, 11.4.7.1 "Local APIC State After Power-Up or
 * Reset"), IA32_APIC_BASE, a small TSC, kvmclock off, and the 8254 quiet
 * (no IRQ 0 latched).  Values the models may choose (the 8259 masks, LINT0
 * and LINT1) are saved from the first boot and must come back the same.
 * Then it disturbs all of it -- interrupts left in service, the PIT
 * running, vectors routed, the TSC far ahead -- and resets: through port
 * 0xcf9 after boot 0, the i8042 reset line after boot 1, a triple fault
 * (in x2APIC mode when the CPU has it) after boot 2.  Boot 3 reports.
 */
#include "lib/idt.h"
#include "lib/ioapic.h"
#include "lib/kernel.h"
#include "lib/lapic.h"
#include "lib/pic.h"
#include "lib/pit.h"
#include "lib/tsc.h"

#define ROUNDS 3

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_BOOTS 0x48       /* boot counter */
#define CMOS_FINGERPRINT 0x49 /* FP_SIZE bytes from the first boot */

#define LAPIC_BASE 0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

#define PIT_VECTOR 0x20
#define IOAPIC_PIT_VECTOR 0x30
#define LAPIC_TIMER_VECTOR 0x40

enum { FP_PIC = 0, FP_ELCR = 6, FP_LINT0 = 8, FP_LINT1 = 11, FP_SIZE = 14 };

static unsigned failures;
static volatile unsigned pit_ticks, lapic_ticks;
static uint8_t kvmclock_area[64] __attribute__((aligned(64)));

static uint8_t cmos_read(uint8_t idx)
{
    outb(CMOS_INDEX, idx);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
    outb(CMOS_INDEX, idx);
    outb(CMOS_DATA, v);
}

static uint32_t lapic_reg(uint32_t reg)
{
    return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_set(uint32_t reg, uint32_t v)
{
    mmio_write32(LAPIC_BASE + reg, v);
}

static uint32_t ioapic_reg(uint32_t index)
{
    mmio_write32(IOAPIC_BASE, index);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

static void ioapic_set(uint32_t index, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, index);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

/* OCW3: read IRR (0x0a) or ISR (0x0b) of the chip at cmd. */
static uint8_t pic_read(uint16_t cmd, uint8_t ocw3)
{
    outb(cmd, ocw3);
    return inb(cmd);
}

static void expect(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        kprintf("reset: %s is 0x%x, want 0x%x\n", what, got, want);
        failures++;
    }
}

static int kvmclock_present(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 31))) {
        return 0;
    }
    cpuid(0x40000000, 0, r);
    if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d) {
        return 0;
    }
    cpuid(0x40000001, 0, r);
    return (r[0] & KVM_FEATURE_CLOCKSOURCE2) != 0;
}

static int x2apic_present(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    return (r[2] & (1u << 21)) != 0;
}

/* ---- the power-on state ---- */

static void fingerprint(uint8_t fp[FP_SIZE])
{
    fp[FP_PIC + 0] = inb(0x21);
    fp[FP_PIC + 1] = pic_read(0x20, 0x0a);
    fp[FP_PIC + 2] = pic_read(0x20, 0x0b);
    fp[FP_PIC + 3] = inb(0xa1);
    fp[FP_PIC + 4] = pic_read(0xa0, 0x0a);
    fp[FP_PIC + 5] = pic_read(0xa0, 0x0b);
    fp[FP_ELCR + 0] = inb(0x4d0);
    fp[FP_ELCR + 1] = inb(0x4d1);
    uint32_t lint0 = lapic_reg(0x350), lint1 = lapic_reg(0x360);
    for (unsigned i = 0; i < 3; i++) {
        fp[FP_LINT0 + i] = (uint8_t)(lint0 >> (8 * i));
        fp[FP_LINT1 + i] = (uint8_t)(lint1 >> (8 * i));
    }
}

static void check_fingerprint(unsigned boot)
{
    static const char *const names[FP_SIZE] = {
        "master IMR", "master IRR", "master ISR", "slave IMR", "slave IRR",
        "slave ISR", "ELCR 0x4d0", "ELCR 0x4d1", "LVT LINT0[7:0]",
        "LVT LINT0[15:8]", "LVT LINT0[23:16]", "LVT LINT1[7:0]",
        "LVT LINT1[15:8]", "LVT LINT1[23:16]",
    };
    uint8_t fp[FP_SIZE];
    fingerprint(fp);
    for (unsigned i = 0; i < FP_SIZE; i++) {
        if (boot == 0) {
            cmos_write(CMOS_FINGERPRINT + i, fp[i]);
        } else {
            expect(names[i], fp[i], cmos_read(CMOS_FINGERPRINT + i));
        }
    }
    /* What every PC agrees on at power-on. */
    expect("master ISR", fp[FP_PIC + 2], 0);
    expect("slave ISR", fp[FP_PIC + 5], 0);
    expect("ELCR 0x4d0", fp[FP_ELCR], 0);
    expect("ELCR 0x4d1", fp[FP_ELCR + 1], 0);
}

static void check_power_on(unsigned boot)
{
    /* The PIT must not be counting: no IRQ 0 edge latched in the IRR
     * (the IRR latches whether or not the IMR masks the line). */
    mdelay(30);
    expect("IRQ 0 in the master IRR (PIT running)", pic_read(0x20, 0x0a) & 1, 0);
    check_fingerprint(boot);

    expect("IA32_APIC_BASE", (uint32_t)rdmsr(MSR_APIC_BASE), 0xfee00900u);
    expect("IOAPIC ID", ioapic_reg(0) >> 24, 0);
    unsigned pins = ((ioapic_reg(1) >> 16) & 0xff) + 1;
    for (unsigned pin = 0; pin < pins; pin++) {
        expect("IOAPIC redirection entry (low)", ioapic_reg(0x10 + 2 * pin),
               1u << 16);
        expect("IOAPIC redirection entry (high)",
               ioapic_reg(0x11 + 2 * pin), 0);
    }

    expect("LAPIC ID", lapic_reg(0x20) >> 24, 0);
    expect("LAPIC TPR", lapic_reg(0x80), 0);
    expect("LAPIC LDR", lapic_reg(0xd0), 0);
    expect("LAPIC DFR", lapic_reg(0xe0), 0xffffffffu);
    expect("LAPIC SVR", lapic_reg(0xf0), 0xff);
    for (unsigned i = 0; i < 8; i++) {
        expect("LAPIC ISR", lapic_reg(0x100 + 0x10 * i), 0);
        expect("LAPIC TMR", lapic_reg(0x180 + 0x10 * i), 0);
        expect("LAPIC IRR", lapic_reg(0x200 + 0x10 * i), 0);
    }
    expect("LAPIC LVT timer", lapic_reg(0x320), 1u << 16);
    expect("LAPIC LVT error", lapic_reg(0x370), 1u << 16);
    expect("LAPIC timer initial count", lapic_reg(0x380), 0);
    expect("LAPIC timer current count", lapic_reg(0x390), 0);
    expect("LAPIC timer divide", lapic_reg(0x3e0), 0);

    /* The TSC restarts from 0 (SDM vol. 3, 18.17): the boot before left it
     * at 2^60.  (Some nested KVMs show the host's TSC: not 0, but small.) */
    uint64_t tsc = rdtsc();
    if (tsc >> 58) {
        kprintf("reset: TSC is 0x%llx, not restarted\n", tsc);
        failures++;
    }
    if (kvmclock_present()) {
        expect("MSR_KVM_SYSTEM_TIME_NEW", (uint32_t)rdmsr(MSR_KVM_SYSTEM_TIME_NEW), 0);
    }
    kprintf("reset: boot %u: power-on state %s\n", boot,
            failures ? "WRONG" : "ok");
}

/* ---- disturbing it ---- */

static void pit_tick(struct irq_frame *f)
{
    pit_ticks++; /* no EOI: IRQ 0 stays in service */
}

static void lapic_tick(struct irq_frame *f)
{
    lapic_ticks++; /* no EOI: the vector stays in service */
}

static void ioapic_tick(struct irq_frame *f)
{
    /* no EOI either */
}

static void wait_for(volatile unsigned *count, const char *what)
{
    uint64_t end = tsc_deadline(5000);
    irq_enable();
    while (*count == 0 && !tsc_passed(end)) {
        cpu_relax();
    }
    irq_disable();
    if (*count == 0) {
        kprintf("reset: no %s interrupt\n", what);
        test_finish("reset", 0);
    }
}

static void disturb(unsigned boot)
{
    /* 8259: IRQ 0 from a running PIT, taken and never acknowledged. */
    pic_init();
    idt_set_handler(PIT_VECTOR, pit_tick);
    pit_start_periodic(PIT_HZ / 1000);
    pic_unmask(0);
    wait_for(&pit_ticks, "PIT");
    outb(0x21, 0x5a & ~1u);
    outb(0xa1, 0xa5);
    outb(0x4d0, 0x20);
    outb(0x4d1, 0x02);
    mdelay(5);

    /* I/O APIC: a new ID, pin 2 (the PIT) routed, pin 9 level-triggered. */
    ioapic_set(0, 5u << 24);
    idt_set_handler(IOAPIC_PIT_VECTOR, ioapic_tick);
    ioapic_route(2, IOAPIC_PIT_VECTOR, 0);
    ioapic_set(0x10 + 2 * 9, (1u << 15) | (1u << 16) | 0x31);

    /* Local APIC: enabled, every register changed, a timer vector in
     * service and more pending behind it. */
    lapic_enable();
    lapic_set(0x80, 0x20);
    lapic_set(0xd0, 0x01000000);
    lapic_set(0xe0, 0x0fffffff);
    lapic_set(0x370, 0x41);
    lapic_set(0x350, 1u << 16);
    idt_set_handler(LAPIC_TIMER_VECTOR, lapic_tick);
    lapic_timer_start(LAPIC_TIMER_PERIODIC, LAPIC_TIMER_VECTOR, 0x4000);
    wait_for(&lapic_ticks, "LAPIC timer");
    mdelay(5);

    kprintf("reset: boot %u: master ISR 0x%x, LAPIC ISR[64..95] 0x%x, "
            "IOAPIC ID %u\n", boot, pic_read(0x20, 0x0b), lapic_reg(0x120),
            ioapic_reg(0) >> 24);

    wrmsr(MSR_TSC, 1ull << 60);
    if (kvmclock_present()) {
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint32_t)(uintptr_t)kvmclock_area | 1);
    }
}

static void __attribute__((noreturn)) reset_by(unsigned boot)
{
    cmos_write(CMOS_BOOTS, (uint8_t)(boot + 1));
    switch (boot) {
    case 0:
        kprintf("reset: resetting through port 0xcf9\n");
        outb(0xcf9, 0x02);
        outb(0xcf9, 0x06);
        break;
    case 1:
        kprintf("reset: resetting through the i8042\n");
        outb(0x64, 0xfe);
        break;
    default:
        if (x2apic_present()) {
            wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 10));
            kprintf("reset: x2APIC mode on\n");
        }
        kprintf("reset: resetting through a triple fault\n");
        struct __attribute__((packed)) {
            uint16_t limit;
            uint32_t base;
        } empty = { 0, 0 };
        __asm__ volatile("lidt %0; ud2" : : "m"(empty));
        break;
    }
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

void kmain(const struct mb_info *info)
{
    unsigned boot = cmos_read(CMOS_BOOTS);
    if (boot > ROUNDS) {
        kprintf("reset: CMOS boot counter %u is not from this test\n", boot);
        test_finish("reset", 0);
    }
    kprintf("reset: boot %u\n", boot);
    /* Before tsc_calibrate(), which runs the PIT: the delays of the check
     * use the TSC's uncalibrated guess. */
    check_power_on(boot);
    tsc_calibrate();
    if (failures) {
        test_finish("reset", 0);
    }
    if (boot == ROUNDS) {
        kprintf("reset: %u resets, power-on state after each\n", ROUNDS);
        test_finish("reset", 1);
    }
    disturb(boot);
    reset_by(boot);
}
