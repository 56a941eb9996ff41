/*
 * Local APIC (xAPIC and x2APIC) of each vCPU, and the APIC bus between the
 * local APICs, the IOAPIC, MSIs and the 8259.
 *
 * Follows the Intel SDM vol. 3, chapter "Advanced Programmable Interrupt
 * Controller": registers of the xAPIC page and their x2APIC MSRs, TPR/PPR/APR
 * priorities, IRR/ISR/TMR, EOI with broadcast to the IOAPIC for level-
 * triggered vectors, the ICR (fixed, lowest priority, SMI, NMI, INIT, start-up;
 * no/self/all/all-but-self shorthands; physical, flat and cluster logical
 * destinations), the LVT (timer, thermal, performance, LINT0, LINT1, error),
 * the ESR, the timer (one-shot, periodic, TSC-deadline, divide configuration)
 * and the IA32_APIC_BASE MSR (global enable, x2APIC enable, BSP flag;
 * relocation is not modelled: the page stays at 0xfee00000).
 *
 * The device ("apic") is the set of local APICs of the machine with their
 * bus; each vCPU's LAPIC is an ApicState inside it.  A vCPU learns of
 * interrupts through its CpuIntr: CPU_INTR_EXT is set exactly while the LAPIC
 * has something to deliver (a fixed vector above the processor priority, or
 * an ExtINT from the 8259), and ack() performs the INTA cycle.
 *
 * At power-on the BSP's LINT0 is set up as ExtINT and LINT1 as NMI (virtual
 * wire mode, as the PC firmware leaves it) so that 8259 interrupts reach a
 * guest booted directly, without firmware.
 */
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/timer.h"
#include "hw/intc/apic.h"
#include "hw/machine.h"

#define APIC_MAX_CPUS MACHINE_MAX_CPUS

#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL
#define APIC_BASE_RESERVED (~(APIC_BASE_ADDR_MASK | APIC_BASE_EN | \
                              APIC_BASE_EXTD | APIC_BASE_BSP))

#define APIC_VERSION 0x00050014u /* version 0x14, max LVT entry 5 */

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define LVT_DM(v) (((v) >> 8) & 7)

#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

/* The shortest period the timer re-arms with, against a guest that would
 * keep the main loop busy with nanosecond periods. */
#define APIC_MIN_PERIOD_NS 50000

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
       LVT_NR };
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };
enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3 };

/* Guest-writable bits of each LVT register. */
static const uint32_t lvt_writable[LVT_NR] = {
    [LVT_TIMER] = 0x000700ffu,   /* vector, mask, timer mode */
    [LVT_THERMAL] = 0x000107ffu, /* vector, delivery mode, mask */
    [LVT_PERF] = 0x000107ffu,
    [LVT_LINT0] = 0x0001a7ffu,   /* + polarity, trigger mode */
    [LVT_LINT1] = 0x0001a7ffu,
    [LVT_ERROR] = 0x000100ffu,
};

_Static_assert(NS_PER_SEC % APIC_BUS_HZ == 0, "APIC tick must be whole ns");
#define APIC_TICK_NS (NS_PER_SEC / (int64_t)APIC_BUS_HZ)

struct ApicState {
    /* Wiring, not state. */
    ApicBus *bus;
    CpuIntr *intr;
    Timer timer;

    uint8_t present;
    uint8_t bsp;
    uint8_t extint_pending; /* an ExtINT message (IOAPIC) awaits INTA */
    uint8_t timer_running;  /* one-shot/periodic count in progress */
    uint32_t id;
    uint64_t apic_base;
    uint32_t tpr;
    uint32_t ldr;
    uint32_t dfr;
    uint32_t svr;
    uint32_t esr;         /* as last latched by a write to ESR */
    uint32_t esr_pending; /* errors seen since */
    uint32_t isr[8];
    uint32_t tmr[8];
    uint32_t irr[8];
    uint32_t icr_lo;
    uint32_t icr_hi;
    uint32_t lvt[LVT_NR];
    uint32_t timer_initial;
    uint32_t timer_divide;
    int64_t timer_start_ns; /* CLOCK_VIRTUAL time the count was initial */
    uint64_t tsc_deadline;
    int64_t tsc_offset;     /* TSC = CLOCK_VIRTUAL at APIC_TSC_HZ + offset */
};

struct ApicBus {
    Device parent;
    MemoryRegion mmio;
    IrqLine lint0;
    IrqLine lint1;
    int (*extint_ack)(void *opaque);
    void *extint_opaque;
    void (*eoi)(void *opaque, uint8_t vector);
    void *eoi_opaque;

    uint32_t nr_cpus;
    uint8_t lint0_level;
    uint8_t lint1_level;
    ApicState cpu[APIC_MAX_CPUS];
};

static __thread CpuIntr *apic_current_cpu;

void apic_set_current_cpu(CpuIntr *intr)
{
    apic_current_cpu = intr;
}

/* ---- 256-bit registers ---- */

static void vec_set(uint32_t *r, uint8_t v) { r[v >> 5] |= 1u << (v & 31); }
static void vec_clear(uint32_t *r, uint8_t v) { r[v >> 5] &= ~(1u << (v & 31)); }
static bool vec_test(const uint32_t *r, uint8_t v)
{
    return (r[v >> 5] >> (v & 31)) & 1;
}

static int vec_highest(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--) {
        if (r[i]) {
            return i * 32 + 31 - __builtin_clz(r[i]);
        }
    }
    return -1;
}

/* ---- time ---- */

static int64_t apic_now(const ApicState *s)
{
    return clock_ns(s->bus->parent.machine->timers, CLOCK_VIRTUAL);
}

static uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    return (uint64_t)((unsigned __int128)a * b / c);
}

static uint64_t muldiv64_ceil(uint64_t a, uint64_t b, uint64_t c)
{
    return (uint64_t)(((unsigned __int128)a * b + c - 1) / c);
}

static uint64_t apic_tsc(const ApicState *s, int64_t now)
{
    return muldiv64((uint64_t)now, APIC_TSC_HZ, NS_PER_SEC) +
           (uint64_t)s->tsc_offset;
}

/* ---- state queries ---- */

static bool hw_enabled(const ApicState *s)
{
    return s->apic_base & APIC_BASE_EN;
}

static bool x2apic_mode(const ApicState *s)
{
    return (s->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
           (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool sw_enabled(const ApicState *s)
{
    return s->svr & SVR_ENABLE;
}

static uint32_t apic_ppr(const ApicState *s)
{
    int isrv = vec_highest(s->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    if ((s->tpr & 0xf0) >= isr_class) {
        return s->tpr & 0xff;
    }
    return isr_class;
}

static uint32_t apic_apr(const ApicState *s)
{
    int isrv = vec_highest(s->isr);
    int irrv = vec_highest(s->irr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
    uint32_t tpr_class = s->tpr & 0xf0;
    if (tpr_class >= irr_class && tpr_class > isr_class) {
        return s->tpr & 0xff;
    }
    uint32_t m = tpr_class > isr_class ? tpr_class : isr_class;
    return m > irr_class ? m : irr_class;
}

static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xf));
}

static bool extint_deliverable(const ApicState *s)
{
    const ApicBus *bus = s->bus;
    if (s->extint_pending) {
        return true;
    }
    if (!bus->lint0_level) {
        return false;
    }
    if (!hw_enabled(s)) {
        return true; /* a disabled APIC passes LINT0 through as INTR */
    }
    uint32_t l = s->lvt[LVT_LINT0];
    return !(l & LVT_MASKED) && LVT_DM(l) == APIC_DM_EXTINT;
}

static int fixed_deliverable(const ApicState *s)
{
    if (!hw_enabled(s)) {
        return -1;
    }
    int v = vec_highest(s->irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (apic_ppr(s) & 0xf0)) {
        return -1;
    }
    return v;
}

/* Keep CPU_INTR_EXT equal to "something is deliverable". */
static void apic_update_intr(ApicState *s)
{
    bool want = extint_deliverable(s) || fixed_deliverable(s) >= 0;
    bool have = cpu_intr_pending(s->intr) & CPU_INTR_EXT;
    if (want && !have) {
        cpu_intr_raise(s->intr, CPU_INTR_EXT);
    } else if (!want && have) {
        cpu_intr_lower(s->intr, CPU_INTR_EXT);
    }
}

/* ---- accepting interrupts ---- */

static void apic_state_reset(ApicState *s);
static void apic_set_error(ApicState *s, uint32_t bits);

static void apic_accept(ApicState *s, uint8_t mode, uint8_t vector, bool level)
{
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (!sw_enabled(s)) {
            return; /* a software-disabled APIC takes no new fixed vectors */
        }
        if (vector < 16) {
            apic_set_error(s, ESR_RECV_ILLEGAL_VECTOR);
            return;
        }
        vec_set(s->irr, vector);
        if (level) {
            vec_set(s->tmr, vector);
        } else {
            vec_clear(s->tmr, vector);
        }
        apic_update_intr(s);
        break;
    case APIC_DM_SMI:
        cpu_intr_raise(s->intr, CPU_INTR_SMI);
        break;
    case APIC_DM_NMI:
        cpu_intr_raise(s->intr, CPU_INTR_NMI);
        break;
    case APIC_DM_INIT:
        apic_state_reset(s);
        apic_update_intr(s);
        cpu_intr_raise(s->intr, CPU_INTR_INIT);
        break;
    case APIC_DM_SIPI:
        s->intr->sipi_vector = vector;
        cpu_intr_raise(s->intr, CPU_INTR_SIPI);
        break;
    case APIC_DM_EXTINT:
        s->extint_pending = 1;
        apic_update_intr(s);
        break;
    default:
        break;
    }
}

static void apic_set_error(ApicState *s, uint32_t bits)
{
    uint32_t l = s->lvt[LVT_ERROR];
    s->esr_pending |= bits;
    if (!(l & LVT_MASKED) && (l & 0xff) >= 16) {
        apic_accept(s, APIC_DM_FIXED, l & 0xff, false);
    }
}

/* A local interrupt source (timer, LINT0/1) fires through its LVT entry. */
static void apic_lvt_fire(ApicState *s, unsigned idx)
{
    uint32_t l = s->lvt[idx];
    if (!hw_enabled(s) || (l & LVT_MASKED)) {
        return;
    }
    uint8_t mode = idx == LVT_TIMER ? APIC_DM_FIXED : LVT_DM(l);
    if (mode == APIC_DM_EXTINT) {
        apic_update_intr(s); /* ExtINT follows the LINT0 level */
        return;
    }
    bool level = (idx == LVT_LINT0 || idx == LVT_LINT1) &&
                 mode == APIC_DM_FIXED && (l & LVT_LEVEL);
    apic_accept(s, mode, l & 0xff, level);
}

/* ---- destinations and the bus ---- */

static bool apic_match(const ApicState *s, uint32_t dest, bool logical,
                       bool wide)
{
    uint32_t bcast = wide ? 0xffffffffu : 0xffu;
    if (!s->present || !hw_enabled(s)) {
        return false;
    }
    if (dest == bcast) {
        return true;
    }
    if (!logical) {
        return x2apic_mode(s) ? dest == s->id : dest == (s->id & 0xff);
    }
    if (x2apic_mode(s)) {
        uint32_t ldr = x2apic_ldr(s->id);
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
    }
    uint8_t mda = (uint8_t)dest;
    uint8_t lid = (uint8_t)(s->ldr >> 24);
    if ((s->dfr >> 28) == 0xf) {
        return mda & lid; /* flat model */
    }
    return (mda >> 4) == (lid >> 4) && (mda & lid & 0xf); /* cluster model */
}

/* Deliver to every addressed LAPIC; lowest priority picks one of them. */
static void bus_deliver(ApicBus *bus, const ApicMessage *msg, unsigned sh,
                        ApicState *src, bool wide)
{
    ApicState *lowest = NULL;
    for (uint32_t i = 0; i < bus->nr_cpus; i++) {
        ApicState *t = &bus->cpu[i];
        bool hit;
        switch (sh) {
        case SH_SELF:
            hit = t == src;
            break;
        case SH_ALL:
            hit = t->present && hw_enabled(t);
            break;
        case SH_OTHERS:
            hit = t != src && t->present && hw_enabled(t);
            break;
        default:
            hit = apic_match(t, msg->dest, msg->logical, wide);
            break;
        }
        if (!hit) {
            continue;
        }
        if (msg->mode == APIC_DM_LOWEST && sh == SH_NONE) {
            if (!lowest || apic_apr(t) < apic_apr(lowest)) {
                lowest = t;
            }
            continue;
        }
        apic_accept(t, msg->mode, msg->vector, msg->level);
    }
    if (lowest) {
        apic_accept(lowest, APIC_DM_LOWEST, msg->vector, msg->level);
    }
}

void apic_bus_deliver(ApicBus *bus, const ApicMessage *msg)
{
    bus_deliver(bus, msg, SH_NONE, NULL, false);
}

void apic_bus_deliver_msi(ApicBus *bus, uint64_t addr, uint32_t data)
{
    if ((addr >> 20) != (APIC_DEFAULT_ADDRESS >> 20)) {
        return;
    }
    ApicMessage msg = {
        .dest = (addr >> 12) & 0xff,
        .logical = (addr >> 2) & 1,
        .mode = (data >> 8) & 7,
        .vector = data & 0xff,
        .level = false, /* MSIs are edges: no EOI broadcast */
    };
    bus_deliver(bus, &msg, SH_NONE, NULL, false);
}

static void apic_send_ipi(ApicState *s)
{
    bool x2 = x2apic_mode(s);
    uint32_t lo = s->icr_lo;
    ApicMessage msg = {
        .dest = x2 ? s->icr_hi : s->icr_hi >> 24,
        .logical = (lo >> 11) & 1,
        .mode = (lo >> 8) & 7,
        .vector = lo & 0xff,
        .level = false,
    };
    unsigned sh = (lo >> 18) & 3;
    bool assert = (lo >> 14) & 1;
    bool trigger_level = (lo >> 15) & 1;

    switch (msg.mode) {
    case APIC_DM_INIT:
        if (!assert && trigger_level) {
            return; /* INIT level de-assert: only synchronizes arbitration */
        }
        break;
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (msg.vector < 16) {
            apic_set_error(s, ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        if (msg.mode == APIC_DM_LOWEST && sh != SH_NONE) {
            msg.mode = APIC_DM_FIXED;
        }
        break;
    case APIC_DM_SMI:
    case APIC_DM_NMI:
    case APIC_DM_SIPI:
        break;
    default:
        return; /* reserved delivery modes */
    }
    bus_deliver(s->bus, &msg, sh, s, x2);
}

/* ---- EOI ---- */

static void apic_eoi(ApicState *s)
{
    int v = vec_highest(s->isr);
    if (v < 0) {
        return;
    }
    vec_clear(s->isr, (uint8_t)v);
    apic_update_intr(s);
    if (vec_test(s->tmr, (uint8_t)v) && s->bus->eoi) {
        s->bus->eoi(s->bus->eoi_opaque, (uint8_t)v);
    }
}

/* ---- INTA ---- */

static int apic_ack(void *opaque)
{
    ApicState *s = opaque;
    if (extint_deliverable(s)) {
        ApicBus *bus = s->bus;
        s->extint_pending = 0;
        int v = bus->extint_ack ? bus->extint_ack(bus->extint_opaque) : -1;
        apic_update_intr(s);
        return v;
    }
    int v = fixed_deliverable(s);
    if (v < 0) {
        return -1;
    }
    vec_clear(s->irr, (uint8_t)v);
    vec_set(s->isr, (uint8_t)v);
    apic_update_intr(s);
    return v;
}

/* ---- timer ---- */

static unsigned timer_shift(const ApicState *s)
{
    uint32_t d = ((s->timer_divide >> 1) & 4) | (s->timer_divide & 3);
    return (d + 1) & 7; /* 0..6: divide by 2..128; 7: divide by 1 */
}

static int64_t timer_tick_ns(const ApicState *s)
{
    return APIC_TICK_NS << timer_shift(s);
}

static void timer_stop(ApicState *s)
{
    s->timer_running = 0;
    timer_del(&s->timer);
}

static uint32_t timer_current(const ApicState *s, int64_t now)
{
    if (!s->timer_running || s->timer_initial == 0) {
        return 0;
    }
    uint64_t ticks = (uint64_t)(now - s->timer_start_ns) /
                     (uint64_t)timer_tick_ns(s);
    if (LVT_TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_PERIODIC) {
        return s->timer_initial - (uint32_t)(ticks % s->timer_initial);
    }
    return ticks >= s->timer_initial ? 0 : s->timer_initial - (uint32_t)ticks;
}

/* Arm the host timer for the next expiry of a running count. */
static void timer_arm_count(ApicState *s, int64_t now)
{
    int64_t period = (int64_t)s->timer_initial * timer_tick_ns(s);
    int64_t expire = s->timer_start_ns + period;
    if (expire <= now && LVT_TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_PERIODIC) {
        int64_t k = (now - s->timer_start_ns) / period + 1;
        expire = s->timer_start_ns + k * period;
        if (expire - now < APIC_MIN_PERIOD_NS) {
            expire = now + APIC_MIN_PERIOD_NS;
        }
    }
    timer_mod(&s->timer, expire);
}

static void timer_start_count(ApicState *s, int64_t now)
{
    if (s->timer_initial == 0) {
        timer_stop(s);
        return;
    }
    s->timer_running = 1;
    s->timer_start_ns = now;
    timer_arm_count(s, now);
}

static void timer_arm_deadline(ApicState *s, int64_t now)
{
    if (s->tsc_deadline == 0) {
        timer_del(&s->timer);
        return;
    }
    uint64_t tsc = apic_tsc(s, now);
    int64_t expire = now;
    if (s->tsc_deadline > tsc) {
        uint64_t delta = muldiv64_ceil(s->tsc_deadline - tsc, NS_PER_SEC,
                                       APIC_TSC_HZ);
        expire = delta > (uint64_t)(INT64_MAX - now) ? INT64_MAX
                                                      : now + (int64_t)delta;
    }
    timer_mod(&s->timer, expire);
}

static void apic_timer_cb(void *opaque)
{
    ApicState *s = opaque;
    int64_t now = apic_now(s);

    switch (LVT_TIMER_MODE(s->lvt[LVT_TIMER])) {
    case TIMER_TSC_DEADLINE:
        if (s->tsc_deadline == 0) {
            return;
        }
        if (apic_tsc(s, now) < s->tsc_deadline) {
            timer_arm_deadline(s, now); /* the guest moved the TSC */
            return;
        }
        s->tsc_deadline = 0;
        apic_lvt_fire(s, LVT_TIMER);
        break;
    case TIMER_PERIODIC:
        if (!s->timer_running) {
            return;
        }
        apic_lvt_fire(s, LVT_TIMER);
        timer_arm_count(s, now);
        break;
    case TIMER_ONESHOT:
        if (!s->timer_running) {
            return;
        }
        s->timer_running = 0;
        apic_lvt_fire(s, LVT_TIMER);
        break;
    default:
        break;
    }
}

static void timer_write_divide(ApicState *s, uint32_t v)
{
    int64_t now = apic_now(s);
    uint32_t cur = timer_current(s, now);
    s->timer_divide = v & 0xb;
    if (s->timer_running && cur) {
        /* Keep the current count; it goes on at the new rate. */
        s->timer_start_ns = now - (int64_t)(s->timer_initial - cur) *
                                      timer_tick_ns(s);
        timer_arm_count(s, now);
    }
}

/* ---- reset ---- */

static void apic_state_reset(ApicState *s)
{
    timer_stop(s);
    s->extint_pending = 0;
    s->tpr = 0;
    s->ldr = 0;
    s->dfr = 0xffffffffu;
    s->svr = 0xff;
    s->esr = 0;
    s->esr_pending = 0;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    s->icr_lo = 0;
    s->icr_hi = 0;
    for (unsigned i = 0; i < LVT_NR; i++) {
        s->lvt[i] = LVT_MASKED;
    }
    s->timer_initial = 0;
    s->timer_divide = 0;
    s->timer_start_ns = 0;
    s->tsc_deadline = 0;
}

static void apic_power_on(ApicState *s)
{
    apic_state_reset(s);
    s->apic_base = APIC_DEFAULT_ADDRESS | APIC_BASE_EN |
                   (s->bsp ? APIC_BASE_BSP : 0);
    s->tsc_offset = -(int64_t)muldiv64((uint64_t)apic_now(s), APIC_TSC_HZ,
                                       NS_PER_SEC); /* the TSC starts at 0 */
    if (s->bsp) {
        s->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
        s->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
    }
    apic_update_intr(s);
}

/* ---- registers ---- */

static void lvt_write(ApicState *s, unsigned idx, uint32_t v)
{
    uint32_t old = s->lvt[idx];
    v &= lvt_writable[idx];
    if (!sw_enabled(s)) {
        v |= LVT_MASKED;
    }
    s->lvt[idx] = v | (old & ~lvt_writable[idx] & ~LVT_MASKED);
    if (idx == LVT_TIMER && LVT_TIMER_MODE(old) != LVT_TIMER_MODE(v)) {
        timer_stop(s); /* a mode change disarms the timer */
        s->tsc_deadline = 0;
    }
    if (idx == LVT_LINT0) {
        apic_update_intr(s);
    }
}

static void svr_write(ApicState *s, uint32_t v)
{
    s->svr = v & 0x3ff;
    if (!sw_enabled(s)) {
        for (unsigned i = 0; i < LVT_NR; i++) {
            s->lvt[i] |= LVT_MASKED;
        }
    }
    apic_update_intr(s);
}

/* Read register at offset off (multiple of 16) of the xAPIC page; in x2APIC
 * mode through its MSR.  false: no such register (x2APIC: #GP). */
static bool apic_reg_read(ApicState *s, uint32_t off, bool x2, uint64_t *val)
{
    int64_t now;
    *val = 0;
    switch (off) {
    case 0x20:
        *val = x2 ? s->id : (s->id & 0xff) << 24;
        return true;
    case 0x30:
        *val = APIC_VERSION;
        return true;
    case 0x80:
        *val = s->tpr;
        return true;
    case 0x90:
        *val = apic_apr(s);
        return !x2;
    case 0xa0:
        *val = apic_ppr(s);
        return true;
    case 0xb0: /* EOI is write-only */
    case 0xc0: /* remote read: not supported */
        return !x2;
    case 0xd0:
        *val = x2 ? x2apic_ldr(s->id) : s->ldr;
        return true;
    case 0xe0:
        *val = s->dfr;
        return !x2;
    case 0xf0:
        *val = s->svr;
        return true;
    case 0x280:
        *val = s->esr;
        return true;
    case 0x300:
        *val = x2 ? ((uint64_t)s->icr_hi << 32) | s->icr_lo : s->icr_lo;
        return true;
    case 0x310:
        *val = s->icr_hi;
        return !x2;
    case 0x380:
        *val = s->timer_initial;
        return true;
    case 0x390:
        now = apic_now(s);
        *val = LVT_TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE
                   ? 0 : timer_current(s, now);
        return true;
    case 0x3e0:
        *val = s->timer_divide;
        return true;
    default:
        break;
    }
    if (off >= 0x100 && off < 0x280) {
        unsigned i = (off - 0x100) >> 4;
        const uint32_t *r = i < 8 ? s->isr : i < 16 ? s->tmr : s->irr;
        *val = r[i & 7];
        return true;
    }
    if (off >= 0x320 && off <= 0x370) {
        *val = s->lvt[(off - 0x320) >> 4];
        return true;
    }
    return false;
}

static bool apic_reg_write(ApicState *s, uint32_t off, bool x2, uint64_t v64)
{
    uint32_t v = (uint32_t)v64;
    switch (off) {
    case 0x20:
        if (x2) {
            return false;
        }
        s->id = v >> 24;
        return true;
    case 0x80:
        s->tpr = v & 0xff;
        apic_update_intr(s);
        return true;
    case 0xb0:
        if (x2 && v64 != 0) {
            return false;
        }
        apic_eoi(s);
        return true;
    case 0xd0:
        if (x2) {
            return false;
        }
        s->ldr = v & 0xff000000u;
        return true;
    case 0xe0:
        if (x2) {
            return false;
        }
        s->dfr = v | 0x0fffffffu;
        return true;
    case 0xf0:
        svr_write(s, v);
        return true;
    case 0x280:
        if (x2 && v64 != 0) {
            return false;
        }
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        return true;
    case 0x300:
        s->icr_lo = v & ~(1u << 12); /* delivery status reads idle */
        if (x2) {
            s->icr_hi = (uint32_t)(v64 >> 32);
        }
        apic_send_ipi(s);
        return true;
    case 0x310:
        if (x2) {
            return false;
        }
        s->icr_hi = v & 0xff000000u;
        return true;
    case 0x380:
        if (LVT_TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE) {
            return true; /* ignored in TSC-deadline mode */
        }
        s->timer_initial = v;
        timer_start_count(s, apic_now(s));
        return true;
    case 0x3e0:
        timer_write_divide(s, v);
        return true;
    case 0x3f0:
        if (!x2) {
            break;
        }
        if (v64 >> 8) {
            return false;
        }
        apic_accept(s, APIC_DM_FIXED, v & 0xff, false);
        return true;
    default:
        break;
    }
    if (off >= 0x320 && off <= 0x370) {
        lvt_write(s, (off - 0x320) >> 4, v);
        return true;
    }
    /* Read-only or reserved: the xAPIC ignores the write, x2APIC faults. */
    return !x2;
}

/* ---- xAPIC MMIO ---- */

static ApicState *apic_for_access(ApicBus *bus)
{
    CpuIntr *ci = apic_current_cpu;
    if (ci && ci->apic_opaque) {
        ApicState *s = ci->apic_opaque;
        if (s->bus == bus) {
            return s;
        }
    }
    return bus->nr_cpus ? &bus->cpu[0] : NULL;
}

static bool reg_is_known(uint32_t off)
{
    switch (off) {
    case 0x20: case 0x30: case 0x80: case 0x90: case 0xa0: case 0xb0:
    case 0xc0: case 0xd0: case 0xe0: case 0xf0: case 0x280: case 0x300:
    case 0x310: case 0x380: case 0x390: case 0x3e0:
        return true;
    default:
        return (off >= 0x100 && off < 0x280) || (off >= 0x320 && off <= 0x370);
    }
}

static uint64_t apic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    ApicState *s = apic_for_access(opaque);
    uint32_t off = (uint32_t)addr & 0xff0;
    uint64_t val = 0;
    if (!s || !hw_enabled(s) || x2apic_mode(s) || (addr & 0xf) >= 4) {
        return 0;
    }
    if (!reg_is_known(off)) {
        apic_set_error(s, ESR_ILLEGAL_REGISTER);
        return 0;
    }
    apic_reg_read(s, off, false, &val);
    return (uint32_t)val;
}

static void apic_mmio_write(void *opaque, uint64_t addr, uint64_t val,
                            unsigned size)
{
    ApicState *s = apic_for_access(opaque);
    uint32_t off = (uint32_t)addr & 0xff0;
    if (!s || !hw_enabled(s) || x2apic_mode(s) || (addr & 0xf) >= 4) {
        return;
    }
    if (!reg_is_known(off)) {
        apic_set_error(s, ESR_ILLEGAL_REGISTER);
        return;
    }
    apic_reg_write(s, off, false, (uint32_t)val);
}

static const MemoryRegionOps apic_mmio_ops = {
    .read = apic_mmio_read,
    .write = apic_mmio_write,
    .min_access = 4,
    .max_access = 4,
};

/* ---- MSRs ---- */

static bool apic_base_write(ApicState *s, uint64_t v)
{
    if (v & APIC_BASE_RESERVED) {
        return false;
    }
    bool en = v & APIC_BASE_EN;
    bool extd = v & APIC_BASE_EXTD;
    bool was_en = hw_enabled(s);
    bool was_x2 = x2apic_mode(s);
    if (extd && !en) {
        return false;
    }
    if (was_x2 && en && !extd) {
        return false; /* x2APIC -> xAPIC must pass through disabled */
    }
    if (!was_en && en && extd) {
        return false; /* disabled -> x2APIC must pass through xAPIC */
    }
    if (was_en && !en) {
        apic_state_reset(s);
    }
    s->apic_base = (v & ~APIC_BASE_BSP) | (s->bsp ? APIC_BASE_BSP : 0);
    apic_update_intr(s);
    return true;
}

static bool apic_msr_read(void *opaque, uint32_t msr, uint64_t *value)
{
    ApicState *s = opaque;
    switch (msr) {
    case MSR_IA32_TSC:
        *value = apic_tsc(s, apic_now(s));
        return true;
    case MSR_IA32_APIC_BASE:
        *value = s->apic_base;
        return true;
    case MSR_IA32_TSC_DEADLINE:
        *value = LVT_TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE
                     ? s->tsc_deadline : 0;
        return true;
    case CPU_INTR_MSR_CR8:
        *value = (s->tpr >> 4) & 0xf;
        return true;
    default:
        break;
    }
    if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
        if (!x2apic_mode(s)) {
            return false;
        }
        return apic_reg_read(s, (msr - MSR_X2APIC_FIRST) << 4, true, value);
    }
    return false;
}

static bool apic_msr_write(void *opaque, uint32_t msr, uint64_t value)
{
    ApicState *s = opaque;
    int64_t now;
    switch (msr) {
    case MSR_IA32_TSC:
        now = apic_now(s);
        s->tsc_offset = (int64_t)(value - muldiv64((uint64_t)now, APIC_TSC_HZ,
                                                   NS_PER_SEC));
        if (LVT_TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE) {
            timer_arm_deadline(s, now);
        }
        return true;
    case MSR_IA32_APIC_BASE:
        return apic_base_write(s, value);
    case MSR_IA32_TSC_DEADLINE:
        if (LVT_TIMER_MODE(s->lvt[LVT_TIMER]) != TIMER_TSC_DEADLINE) {
            return true; /* ignored in the other timer modes */
        }
        s->tsc_deadline = value;
        timer_arm_deadline(s, apic_now(s));
        return true;
    case CPU_INTR_MSR_CR8:
        if (value > 0xf) {
            return false;
        }
        s->tpr = (uint32_t)value << 4;
        apic_update_intr(s);
        return true;
    default:
        break;
    }
    if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
        if (!x2apic_mode(s)) {
            return false;
        }
        uint32_t off = (msr - MSR_X2APIC_FIRST) << 4;
        if (off != 0x300 && (value >> 32)) {
            return false; /* only the ICR is 64 bits wide */
        }
        return apic_reg_write(s, off, true, value);
    }
    return false;
}

/* ---- LINT0 / LINT1 ---- */

static void apic_lint_set(void *opaque, int n, int level)
{
    ApicBus *bus = opaque;
    uint8_t *cur = n == 0 ? &bus->lint0_level : &bus->lint1_level;
    bool rising = level && !*cur;
    *cur = level != 0;
    for (uint32_t i = 0; i < bus->nr_cpus; i++) {
        ApicState *s = &bus->cpu[i];
        if (!s->present) {
            continue;
        }
        if (n == 1 && !hw_enabled(s)) {
            if (rising) {
                cpu_intr_raise(s->intr, CPU_INTR_NMI); /* LINT1 is NMI */
            }
            continue;
        }
        unsigned idx = n == 0 ? LVT_LINT0 : LVT_LINT1;
        if (rising || LVT_DM(s->lvt[idx]) == APIC_DM_EXTINT) {
            apic_lvt_fire(s, idx);
        }
        apic_update_intr(s);
    }
}

/* ---- the device ---- */

static void apic_bus_reset(Device *dev)
{
    ApicBus *bus = (ApicBus *)dev;
    for (uint32_t i = 0; i < bus->nr_cpus; i++) {
        if (bus->cpu[i].present) {
            apic_power_on(&bus->cpu[i]);
        }
    }
}

static bool apic_bus_realize(Device *dev, GError **errp)
{
    ApicBus *bus = (ApicBus *)dev;
    Machine *m = dev->machine;
    irq_connect(&bus->lint0, apic_lint_set, bus, 0);
    irq_connect(&bus->lint1, apic_lint_set, bus, 1);
    memory_region_init_io(&bus->mmio, "apic", &apic_mmio_ops, bus, 0x1000);
    if (!address_space_map(&m->mem, &bus->mmio, APIC_DEFAULT_ADDRESS, 1)) {
        error_setg(errp, "apic: cannot map the xAPIC page");
        return false;
    }
    return true;
}

static void apic_bus_unrealize(Device *dev)
{
    ApicBus *bus = (ApicBus *)dev;
    for (uint32_t i = 0; i < bus->nr_cpus; i++) {
        if (bus->cpu[i].present) {
            timer_del(&bus->cpu[i].timer);
        }
    }
    address_space_unmap(&dev->machine->mem, &bus->mmio);
}

static bool apic_bus_post_load(void *opaque, GError **errp)
{
    ApicBus *bus = opaque;
    for (uint32_t i = 0; i < APIC_MAX_CPUS; i++) {
        ApicState *s = &bus->cpu[i];
        if (s->present != (s->intr != NULL)) {
            error_setg(errp, "apic: the snapshot's CPUs differ from this "
                       "machine's");
            return false;
        }
        if (!s->intr) {
            continue;
        }
        s->timer_divide &= 0xb;
        s->lvt[LVT_TIMER] &= lvt_writable[LVT_TIMER] | LVT_MASKED;
        if (s->apic_base & APIC_BASE_RESERVED) {
            s->apic_base &= ~APIC_BASE_RESERVED;
        }
        timer_del(&s->timer);
        int64_t now = apic_now(s);
        uint32_t mode = LVT_TIMER_MODE(s->lvt[LVT_TIMER]);
        if (mode == TIMER_TSC_DEADLINE) {
            timer_arm_deadline(s, now);
        } else if (s->timer_running && s->timer_initial) {
            timer_arm_count(s, now);
        } else {
            s->timer_running = 0;
        }
        apic_update_intr(s);
    }
    return true;
}

static const VMStateField apic_cpu_fields[] = {
    VMSTATE_U8(ApicState, present),
    VMSTATE_U8(ApicState, bsp),
    VMSTATE_U8(ApicState, extint_pending),
    VMSTATE_U8(ApicState, timer_running),
    VMSTATE_U32(ApicState, id),
    VMSTATE_U64(ApicState, apic_base),
    VMSTATE_U32(ApicState, tpr),
    VMSTATE_U32(ApicState, ldr),
    VMSTATE_U32(ApicState, dfr),
    VMSTATE_U32(ApicState, svr),
    VMSTATE_U32(ApicState, esr),
    VMSTATE_U32(ApicState, esr_pending),
    VMSTATE_U32_ARRAY(ApicState, isr),
    VMSTATE_U32_ARRAY(ApicState, tmr),
    VMSTATE_U32_ARRAY(ApicState, irr),
    VMSTATE_U32(ApicState, icr_lo),
    VMSTATE_U32(ApicState, icr_hi),
    VMSTATE_U32_ARRAY(ApicState, lvt),
    VMSTATE_U32(ApicState, timer_initial),
    VMSTATE_U32(ApicState, timer_divide),
    VMSTATE_I64(ApicState, timer_start_ns),
    VMSTATE_U64(ApicState, tsc_deadline),
    VMSTATE_I64(ApicState, tsc_offset),
    VMSTATE_END,
};

static const VMStateDescription apic_cpu_vmsd = {
    .name = "apic-cpu",
    .version = 1,
    .fields = apic_cpu_fields,
};

static const VMStateField apic_bus_fields[] = {
    VMSTATE_U8(ApicBus, lint0_level),
    VMSTATE_U8(ApicBus, lint1_level),
    VMSTATE_STRUCT_ARRAY(ApicBus, cpu, &apic_cpu_vmsd),
    VMSTATE_END,
};

static const VMStateDescription apic_bus_vmsd = {
    .name = "apic",
    .version = 1,
    .fields = apic_bus_fields,
    .post_load = apic_bus_post_load,
};

const DeviceClass apic_device_class = {
    .name = "apic",
    .description = "local APICs of the vCPUs and their APIC bus",
    .instance_size = sizeof(ApicBus),
    .user_creatable = false,
    .realize = apic_bus_realize,
    .reset = apic_bus_reset,
    .unrealize = apic_bus_unrealize,
    .vmsd = &apic_bus_vmsd,
};

ApicBus *apic_bus_new(Machine *m)
{
    GError *err = NULL;
    Device *dev = device_new(&apic_device_class, m, "apic");
    if (!machine_plug_device(m, dev, &err)) {
        error_report_err(err);
        return NULL;
    }
    return (ApicBus *)dev;
}

ApicState *apic_init(ApicBus *bus, uint32_t apic_id, CpuIntr *intr, bool bsp)
{
    if (bus->nr_cpus >= APIC_MAX_CPUS || apic_bus_find(bus, apic_id)) {
        return NULL;
    }
    ApicState *s = &bus->cpu[bus->nr_cpus++];
    memset(s, 0, sizeof(*s));
    s->bus = bus;
    s->intr = intr;
    s->present = 1;
    s->bsp = bsp;
    s->id = apic_id;
    timer_init(&s->timer, bus->parent.machine->timers, CLOCK_VIRTUAL,
               apic_timer_cb, s);
    intr->ack = apic_ack;
    intr->ack_opaque = s;
    intr->msr_read = apic_msr_read;
    intr->msr_write = apic_msr_write;
    intr->apic_opaque = s;
    intr->tsc_hz = APIC_TSC_HZ;
    apic_power_on(s);
    return s;
}

IrqLine *apic_bus_lint0(ApicBus *bus) { return &bus->lint0; }
IrqLine *apic_bus_lint1(ApicBus *bus) { return &bus->lint1; }

void apic_bus_set_extint(ApicBus *bus, int (*ack)(void *opaque), void *opaque)
{
    bus->extint_ack = ack;
    bus->extint_opaque = opaque;
}

void apic_bus_set_eoi_listener(ApicBus *bus,
                               void (*eoi)(void *opaque, uint8_t vector),
                               void *opaque)
{
    bus->eoi = eoi;
    bus->eoi_opaque = opaque;
}

uint32_t apic_get_id(const ApicState *s) { return s->id; }
bool apic_irr_test(const ApicState *s, uint8_t v) { return vec_test(s->irr, v); }
bool apic_isr_test(const ApicState *s, uint8_t v) { return vec_test(s->isr, v); }

ApicState *apic_bus_find(ApicBus *bus, uint32_t apic_id)
{
    for (uint32_t i = 0; i < bus->nr_cpus; i++) {
        if (bus->cpu[i].present && bus->cpu[i].id == apic_id) {
            return &bus->cpu[i];
        }
    }
    return NULL;
}
