/*
 * Local APIC access (Intel SDM vol. 3, chapter 11 "Advanced Programmable
 * Interrupt Controller": register map 11-1, ICR 11.6.1, timer 11.5.4).
 */
#include "lib/io.h"
#include "lib/lapic.h"

#define LAPIC_BASE 0xfee00000u
#define REG_ID 0x020
#define REG_TPR 0x080
#define REG_EOI 0x0b0
#define REG_SVR 0x0f0
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0
#define ICR_PENDING (1u << 12)
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)

static uint32_t lapic_read(uint32_t reg)
{
    return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(LAPIC_BASE + reg, v);
}

void lapic_enable(void)
{
    /* The APIC base MSR's global enable bit is set at reset; set it anyway. */
    wrmsr(0x1b, rdmsr(0x1b) | (1u << 11));
    lapic_write(REG_TPR, 0);
    lapic_write(REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

uint32_t lapic_id(void)
{
    return lapic_read(REG_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(REG_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    lapic_write(REG_ICR_HI, apic_id << 24);
    lapic_write(REG_ICR_LO, icr_low);
    for (unsigned i = 0; i < 1000000 && (lapic_read(REG_ICR_LO) & ICR_PENDING);
         i++) {
        cpu_relax();
    }
}

void lapic_timer_start(uint32_t mode, uint8_t vector, uint32_t count)
{
    lapic_write(REG_TIMER_DIV, 0x3); /* divide by 16 */
    lapic_write(REG_LVT_TIMER, count ? (mode | vector) : LVT_MASKED);
    lapic_write(REG_TIMER_INIT, count);
}

uint32_t lapic_timer_current(void)
{
    return lapic_read(REG_TIMER_CUR);
}
