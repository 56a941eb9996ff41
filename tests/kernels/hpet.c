/*
 * hpet: finds the HPET through the ACPI HPET table and checks it (IA-PC
 * HPET 1.0a): the main counter runs; in legacy replacement mode timer 0
 * interrupts on IRQ0 through the 8259 and through I/O APIC pin 2 while the
 * 8254 (running at 10 kHz) is cut off, and timer 1 on IRQ8 while the RTC's
 * periodic interrupt is cut off; out of legacy mode the 8254 and the RTC
 * come back; timer 2, level-triggered on GSI 20, interrupts once per match
 * (its status bit set, then cleared by the handler).  With "hpet=0" on the
 * command line it checks instead that there is no HPET (-machine hpet=off).
 */
#include "lib/idt.h"
#include "lib/ioapic.h"
#include "lib/kernel.h"
#include "lib/lapic.h"
#include "lib/pic.h"
#include "lib/pit.h"
#include "lib/tsc.h"

#define HPET_ADDR 0xfed00000u
#define CAP 0x000
#define CONFIG 0x010
#define ISR 0x020
#define COUNTER 0x0f0
#define TCFG(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))
#define ENABLE 0x1
#define LEGACY 0x2
#define T_LEVEL (1u << 1)
#define T_ENB (1u << 2)
#define T_PERIODIC (1u << 3)
#define T_VAL_SET (1u << 6)
#define T_32BIT (1u << 8)
#define T_ROUTE(n) ((uint32_t)(n) << 9)

#define IOAPIC_BASE 0xfec00000u
#define VEC_IRQ0_IOAPIC 0x30
#define VEC_IRQ8_IOAPIC 0x31
#define VEC_GSI20 0x32

static unsigned failures;
static volatile unsigned irq0_count, irq8_count, gsi20_count, gsi20_matches;

static uint32_t hpet_read(uint32_t off)
{
    return mmio_read32(HPET_ADDR + off);
}

static void hpet_write(uint32_t off, uint32_t v)
{
    mmio_write32(HPET_ADDR + off, v);
}

static void ioapic_set(unsigned pin, uint32_t low)
{
    mmio_write32(IOAPIC_BASE, 0x11 + 2 * pin);
    mmio_write32(IOAPIC_BASE + 0x10, 0);
    mmio_write32(IOAPIC_BASE, 0x10 + 2 * pin);
    mmio_write32(IOAPIC_BASE + 0x10, low);
}

static uint8_t cmos_read(uint8_t idx)
{
    outb(0x70, idx);
    return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
    outb(0x70, idx);
    outb(0x71, v);
}

static void check(const char *what, int ok)
{
    kprintf("hpet: %s: %s\n", what, ok ? "ok" : "WRONG");
    failures += !ok;
}

/* The HPET table's base address, through RSDP and RSDT; 0 if none. */
static uint32_t acpi_hpet_base(uint32_t *block_id)
{
    for (uint32_t p = 0xe0000; p < 0x100000; p += 16) {
        const char *s = (const char *)(uintptr_t)p;
        if (s[0] != 'R' || s[1] != 'S' || s[2] != 'D' || s[3] != ' ' ||
            s[4] != 'P' || s[5] != 'T' || s[6] != 'R' || s[7] != ' ') {
            continue;
        }
        const uint8_t *rsdt = (const uint8_t *)(uintptr_t)*(const uint32_t *)(s + 16);
        uint32_t len = *(const uint32_t *)(rsdt + 4);
        for (uint32_t i = 36; i + 4 <= len; i += 4) {
            const uint8_t *t = (const uint8_t *)(uintptr_t)*(const uint32_t *)(rsdt + i);
            if (t[0] == 'H' && t[1] == 'P' && t[2] == 'E' && t[3] == 'T') {
                *block_id = *(const uint32_t *)(t + 36);
                return *(const uint32_t *)(t + 44);
            }
        }
        return 0;
    }
    return 0;
}

static void irq0_pic(struct irq_frame *f)
{
    irq0_count++;
    pic_eoi(0);
}

static void irq0_ioapic(struct irq_frame *f)
{
    irq0_count++;
    lapic_eoi();
}

static void irq8_ioapic(struct irq_frame *f)
{
    irq8_count++;
    cmos_read(0x0c); /* acknowledge the RTC, if it was the RTC */
    lapic_eoi();
}

static void gsi20(struct irq_frame *f)
{
    gsi20_count++;
    if (hpet_read(ISR) & (1u << 2)) {
        gsi20_matches++;
        hpet_write(ISR, 1u << 2);
    }
    lapic_eoi();
}

/* Let interrupts in until *count reaches want or ms pass. */
static void wait_count(volatile unsigned *count, unsigned want, uint32_t ms)
{
    uint64_t end = tsc_deadline(ms);
    irq_enable();
    while (*count < want && !tsc_passed(end)) {
        cpu_relax();
    }
    irq_disable();
}

/* Timer 0 periodic every `period` ticks, in 32-bit mode as Linux sets it. */
static void timer0_periodic(uint32_t period)
{
    hpet_write(TCFG(0), T_ENB | T_PERIODIC | T_VAL_SET | T_32BIT);
    hpet_write(TCMP(0), hpet_read(COUNTER) + period);
    hpet_write(TCMP(0), period);
}

/* IRQ0 interrupts while timer 0 runs in legacy mode: no more than the
 * comparator's matches (the 8254's 10 kHz must not get through). */
static void legacy_irq0(const char *path, uint32_t period)
{
    irq0_count = 0;
    uint32_t cmp0 = hpet_read(TCMP(0));
    wait_count(&irq0_count, 10, 3000);
    uint32_t matches = (hpet_read(TCMP(0)) - cmp0) / period;
    kprintf("hpet: %s: %u interrupts, %u comparator matches\n", path,
            irq0_count, matches);
    check(path, irq0_count >= 5 && irq0_count <= matches + 1);
}

void kmain(const struct mb_info *info)
{
    uint32_t block_id = 0;
    uint32_t base = acpi_hpet_base(&block_id);
    if (!cmdline_uint("hpet", 1)) {
        check("no ACPI HPET table", base == 0);
        check("nothing at 0xfed00000", hpet_read(CAP) != 0x8086a201u);
        test_finish("hpet", failures == 0);
    }
    kprintf("hpet: ACPI table: block 0x%x at 0x%x\n", block_id, base);
    check("ACPI HPET table at 0xfed00000", base == HPET_ADDR);
    uint32_t cap = hpet_read(CAP), period_fs = hpet_read(CAP + 4);
    kprintf("hpet: capabilities 0x%x, %u fs per tick\n", cap, period_fs);
    check("capabilities match the table", cap == block_id && ((cap >> 8) & 0x1f) >= 2);
    check("legacy replacement capable", (cap & (1u << 15)) != 0);
    check("tick of at most 100 ns", period_fs > 0 && period_fs <= 100000000u);
    /* Ticks per millisecond: 10^12 fs. */
    uint32_t ms_ticks = (uint32_t)(1000000000000ull / period_fs);

    tsc_calibrate();
    pic_init();
    idt_set_handler(PIC_VECTOR_BASE + 0, irq0_pic);
    idt_set_handler(VEC_IRQ0_IOAPIC, irq0_ioapic);
    idt_set_handler(VEC_IRQ8_IOAPIC, irq8_ioapic);
    idt_set_handler(VEC_GSI20, gsi20);

    hpet_write(CONFIG, ENABLE);
    uint64_t t0 = rdtsc();
    uint32_t c0 = hpet_read(COUNTER);
    mdelay(10);
    uint32_t c1 = hpet_read(COUNTER);
    uint64_t t1 = rdtsc();
    kprintf("hpet: counter +%u ticks in %u us of TSC\n", c1 - c0,
            (uint32_t)((t1 - t0) * 1000 / tsc_per_ms()));
    check("main counter runs", c1 != c0);

    /* Legacy replacement: timer 0 on IRQ0, the 8254 cut off. */
    pit_start_periodic(PIT_HZ / 10000);
    timer0_periodic(10 * ms_ticks);
    hpet_write(CONFIG, ENABLE | LEGACY);
    pic_unmask(0);
    legacy_irq0("timer 0 on IRQ0 through the 8259", 10 * ms_ticks);
    pic_mask_all();
    lapic_enable();
    ioapic_route(2, VEC_IRQ0_IOAPIC, lapic_id());
    legacy_irq0("timer 0 on IRQ0 through I/O APIC pin 2", 10 * ms_ticks);

    /* Out of legacy mode the 8254 owns IRQ0 again. */
    hpet_write(TCFG(0), 0);
    hpet_write(CONFIG, ENABLE);
    irq0_count = 0;
    wait_count(&irq0_count, 20, 3000);
    check("8254 back on IRQ0 without legacy mode", irq0_count >= 20);
    pit_stop();
    ioapic_mask(2);

    /* Timer 1 on IRQ8 (I/O APIC pin 8), the RTC's 1024 Hz cut off. */
    cmos_write(0x0a, 0x26);
    cmos_write(0x0b, (uint8_t)(cmos_read(0x0b) | 0x40)); /* periodic on */
    cmos_read(0x0c);
    hpet_write(CONFIG, ENABLE | LEGACY);
    ioapic_route(8, VEC_IRQ8_IOAPIC, lapic_id());
    irq8_count = 0;
    hpet_write(TCFG(1), T_ENB);
    hpet_write(TCMP(1) + 4, 0);
    hpet_write(TCMP(1), hpet_read(COUNTER) + 5 * ms_ticks);
    wait_count(&irq8_count, 1, 3000);
    mdelay(100);
    kprintf("hpet: %u interrupts on IRQ8 in legacy mode\n", irq8_count);
    check("timer 1 one-shot on IRQ8, RTC cut off", irq8_count == 1);
    hpet_write(TCFG(1), 0);
    hpet_write(CONFIG, ENABLE);
    irq8_count = 0;
    wait_count(&irq8_count, 5, 3000);
    check("RTC back on IRQ8 without legacy mode", irq8_count >= 5);
    cmos_write(0x0b, (uint8_t)(cmos_read(0x0b) & ~0x40));
    cmos_read(0x0c);
    ioapic_mask(8);

    /* Timer 2, level-triggered on GSI 20: one interrupt per match once
     * the status bit is cleared. */
    ioapic_set(20, VEC_GSI20 | (1u << 15));
    hpet_write(TCFG(2), T_LEVEL | T_ENB | T_ROUTE(20));
    check("timer 2 routed to GSI 20", ((hpet_read(TCFG(2)) >> 9) & 0x1f) == 20);
    hpet_write(TCMP(2) + 4, 0);
    hpet_write(TCMP(2), hpet_read(COUNTER) + 5 * ms_ticks);
    wait_count(&gsi20_count, 1, 3000);
    mdelay(50);
    irq_enable();
    mdelay(50);
    irq_disable();
    /* Some KVM hosts' in-kernel I/O APIC deliver a level-triggered vector
     * once more after the EOI although the line is low; what the HPET
     * decides is how many interrupts find its status bit set. */
    kprintf("hpet: %u interrupts on GSI 20, %u with timer 2's status set\n",
            gsi20_count, gsi20_matches);
    check("timer 2 level-triggered on GSI 20", gsi20_matches == 1 &&
          !(hpet_read(ISR) & (1u << 2)));

    hpet_write(CONFIG, 0);
    test_finish("hpet", failures == 0);
}
