/*
 * lapic-timer: the local APIC timer in one-shot mode (exactly one interrupt)
 * and in periodic mode (interrupts keep coming).
 */
#include "lib/idt.h"
#include "lib/kernel.h"
#include "lib/lapic.h"
#include "lib/pic.h"
#include "lib/tsc.h"

#define TIMER_VECTOR 0x40
#define WANTED_TICKS 50

static volatile unsigned ticks;

static void timer_tick(struct irq_frame *f)
{
    ticks++;
    lapic_eoi();
}

static void wait_ticks(unsigned wanted, uint32_t timeout_ms)
{
    uint64_t end = tsc_deadline(timeout_ms);

    while (ticks < wanted && !tsc_passed(end)) {
        irq_enable();
        cpu_relax();
    }
}

void kmain(const struct mb_info *info)
{
    uint32_t timeout = cmdline_uint("timeout_ms", 5000);

    tsc_calibrate();
    pic_init(); /* masks the legacy PIC */
    lapic_enable();
    idt_set_handler(TIMER_VECTOR, timer_tick);

    ticks = 0;
    lapic_timer_start(LAPIC_TIMER_ONESHOT, TIMER_VECTOR, 100000);
    wait_ticks(1, timeout);
    /* A one-shot timer must not fire again. */
    mdelay(50);
    irq_disable();
    unsigned oneshot = ticks;
    kprintf("lapic-timer: %u one-shot ticks\n", oneshot);

    ticks = 0;
    lapic_timer_start(LAPIC_TIMER_PERIODIC, TIMER_VECTOR, 20000);
    wait_ticks(WANTED_TICKS, timeout);
    irq_disable();
    lapic_timer_start(LAPIC_TIMER_PERIODIC, TIMER_VECTOR, 0);
    unsigned periodic = ticks;
    kprintf("lapic-timer: %u periodic ticks\n", periodic);

    test_finish("lapic-timer", oneshot == 1 && periodic > 1);
}
