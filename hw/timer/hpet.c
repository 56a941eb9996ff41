/*
 * High Precision Event Timer (IA-PC HPET specification 1.0a): a 64-bit
 * main counter at 100 MHz (10 ns per tick) and three comparators, each
 * one-shot or periodic, 64-bit or 32-bit (Tn_32MODE_CNF), edge or level
 * triggered, routed to an I/O APIC input (timers 0 and 1: GSI 20-23;
 * timer 2: 11 and 20-23, as Intel's ICH) or, in legacy replacement mode,
 * timer 0 to IRQ0 and timer 1 to IRQ8 in place of the 8254 and the RTC.
 * FSB (MSI) delivery is not offered.
 *
 * Register block (spec section 2.3): capabilities and ID at 0x000, general
 * configuration at 0x010, general interrupt status at 0x020, main counter
 * at 0x0f0, timer N's configuration and capabilities at 0x100 + 0x20 * N,
 * its comparator at +0x08 and FSB route at +0x10; 32-bit and 64-bit
 * accesses.
 *
 * Like the 8254 model, nothing ticks: the main counter is derived from
 * CLOCK_VIRTUAL, and each comparator has one timer, armed for the main
 * counter value of its next event: the comparator match, or, for a 32-bit
 * one-shot comparator, the wrap of the counter's low 32 bits if that comes
 * first (both interrupt, as on Intel's chipsets).  A periodic comparator
 * adds its period on each match; matches a late timer missed are merged
 * into one interrupt, and events never come closer than HPET_MIN_EVENT_NS.
 * Writing the comparator of a periodic timer sets its period and, with
 * Tn_VAL_SET_CNF (or in one-shot mode), the comparator itself.
 */
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/timer.h"
#include "core/vmstate.h"
#include "hw/machine.h"
#include "hw/timer/hpet.h"

#define NS_PER_TICK (HPET_PERIOD_FS / 1000000u)
#define HPET_MIN_EVENT_NS 10000
/* A 64-bit comparator behind the counter matches only after the counter
 * wraps, centuries away: such a comparator is not armed. */
#define MAX_TICKS_AHEAD (1ull << 58)

#define REG_CAP 0x000
#define REG_CONFIG 0x010
#define REG_ISR 0x020
#define REG_COUNTER 0x0f0
#define REG_TIMERS 0x100
#define TIMER_STRIDE 0x20
#define T_CONFIG 0x00
#define T_CMP 0x08
#define T_FSB 0x10

#define CFG_ENABLE (1ull << 0)
#define CFG_LEGACY (1ull << 1)

#define TN_INT_LEVEL (1ull << 1)
#define TN_INT_ENB (1ull << 2)
#define TN_PERIODIC (1ull << 3)
#define TN_PER_CAP (1ull << 4)
#define TN_SIZE_CAP (1ull << 5)
#define TN_VAL_SET (1ull << 6)
#define TN_32BIT (1ull << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_MASK (0x1full << TN_ROUTE_SHIFT)
#define TN_WRITABLE (TN_INT_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | \
                     TN_32BIT | TN_ROUTE_MASK)

typedef struct HpetTimer {
    HpetState *hpet;
    unsigned index;
    Timer timer;
    uint64_t config;      /* the writable bits of Tn_CONFIG */
    uint64_t cmp;         /* comparator (low 32 bits in 32-bit mode) */
    uint64_t period;      /* last value written: the periodic increment */
    uint64_t fsb;         /* Tn_FSB_INT_ROUTE: kept, never used */
    uint64_t target;      /* main counter value of the armed event */
    bool armed;
    bool target_is_wrap;  /* the event is the 32-bit wrap, not a match */
    const IrqLine *driven; /* line this timer holds high (level mode) */
} HpetTimer;

struct HpetState {
    Device parent;
    HpetWiring wiring;
    MemoryRegion mmio;
    uint64_t config;      /* general configuration: ENABLE_CNF, LEG_RT_CNF */
    uint64_t isr;         /* general interrupt status (level mode) */
    uint64_t counter;     /* main counter value at counter_ns */
    int64_t counter_ns;   /* CLOCK_VIRTUAL time of `counter` while enabled */
    HpetTimer t[HPET_NR_TIMERS];
};

static int64_t now_ns(HpetState *s)
{
    return clock_ns(s->parent.machine->timers, CLOCK_VIRTUAL);
}

static bool enabled(const HpetState *s)
{
    return s->config & CFG_ENABLE;
}

static uint64_t counter_at(const HpetState *s, int64_t ns)
{
    if (!enabled(s) || ns <= s->counter_ns) {
        return s->counter;
    }
    return s->counter + (uint64_t)(ns - s->counter_ns) / NS_PER_TICK;
}

static uint64_t counter_now(HpetState *s)
{
    return counter_at(s, now_ns(s));
}

static uint32_t route_cap(unsigned index)
{
    return 0x00f00000u | (index == 2 ? 1u << 11 : 0);
}

static uint64_t width_mask(const HpetTimer *t)
{
    return (t->config & TN_32BIT) ? 0xffffffffull : ~0ull;
}

/* ---- interrupt lines ---- */

static const IrqLine *line_of(HpetTimer *t)
{
    HpetState *s = t->hpet;
    if ((s->config & CFG_LEGACY) && t->index < 2) {
        return t->index == 0 ? &s->wiring.irq0 : &s->wiring.irq8;
    }
    unsigned route = (unsigned)((t->config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);
    return route < MACHINE_NR_GSI ? &s->parent.machine->gsi[route] : NULL;
}

static const IrqLine *level_wanted(HpetTimer *t)
{
    HpetState *s = t->hpet;
    if ((t->config & TN_INT_LEVEL) && (t->config & TN_INT_ENB) &&
        (s->isr & (1ull << t->index))) {
        return line_of(t);
    }
    return NULL;
}

/* Level mode: a line is high while any timer routed to it has its status
 * bit set.  Lower what no timer holds any more, raise what is new. */
static void update_lines(HpetState *s)
{
    const IrqLine *want[HPET_NR_TIMERS];
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        want[i] = level_wanted(&s->t[i]);
    }
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        const IrqLine *l = s->t[i].driven;
        bool kept = false;
        for (unsigned j = 0; j < HPET_NR_TIMERS; j++) {
            kept |= want[j] == l;
        }
        if (l && !kept) {
            irq_lower(l);
            for (unsigned j = 0; j < HPET_NR_TIMERS; j++) {
                if (s->t[j].driven == l) {
                    s->t[j].driven = NULL;
                }
            }
        }
    }
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        bool high = false;
        for (unsigned j = 0; j < HPET_NR_TIMERS; j++) {
            high |= want[i] && s->t[j].driven == want[i];
        }
        if (want[i] && !high) {
            irq_raise(want[i]);
        }
    }
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        s->t[i].driven = want[i];
    }
}

static void timer_interrupt(HpetTimer *t)
{
    HpetState *s = t->hpet;
    if (!(t->config & TN_INT_ENB)) {
        return;
    }
    if (t->config & TN_INT_LEVEL) {
        s->isr |= 1ull << t->index;
        update_lines(s);
    } else {
        const IrqLine *l = line_of(t);
        if (l) {
            irq_pulse(l);
        }
    }
}

/* ---- comparators ---- */

/* Arm t for its first event at main counter value `from` or later. */
static void timer_arm(HpetTimer *t, uint64_t from)
{
    HpetState *s = t->hpet;
    t->armed = false;
    timer_del(&t->timer);
    if (!enabled(s) || !(t->config & TN_INT_ENB)) {
        return;
    }
    uint64_t target;
    bool wrap = false;
    if (t->config & TN_32BIT) {
        target = from + (uint32_t)((uint32_t)t->cmp - (uint32_t)from);
        uint64_t next_wrap = (from | 0xffffffffull) + 1;
        if (!(t->config & TN_PERIODIC) && next_wrap && next_wrap < target) {
            target = next_wrap;
            wrap = true;
        }
    } else {
        uint64_t ahead = t->cmp - from;
        if (ahead > MAX_TICKS_AHEAD) {
            return;
        }
        target = from + ahead;
    }
    if (target < s->counter || target - s->counter > (uint64_t)INT64_MAX / 32) {
        return;
    }
    t->target = target;
    t->target_is_wrap = wrap;
    t->armed = true;
    timer_mod(&t->timer,
              s->counter_ns + (int64_t)((target - s->counter) * NS_PER_TICK));
}

static void timer_cb(void *opaque)
{
    HpetTimer *t = opaque;
    HpetState *s = t->hpet;
    if (!t->armed) {
        return;
    }
    uint64_t at = t->target;
    uint64_t from = at + 1;
    uint64_t period = t->period & width_mask(t);
    if (!t->target_is_wrap && (t->config & TN_PERIODIC) && period) {
        /* The next match after now, at least HPET_MIN_EVENT_NS away. */
        uint64_t soonest = counter_now(s) + HPET_MIN_EVENT_NS / NS_PER_TICK;
        uint64_t next = at + period;
        if (next < soonest) {
            next += ((soonest - next) / period + 1) * period;
        }
        t->cmp = (t->cmp + (next - at)) & width_mask(t);
        from = next;
    }
    timer_interrupt(t);
    timer_arm(t, from);
}

static void arm_all(HpetState *s)
{
    uint64_t c = counter_now(s);
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        timer_arm(&s->t[i], c);
    }
}

/* ---- registers ---- */

static uint64_t merge(uint64_t old, uint64_t val, uint64_t mask)
{
    return (old & ~mask) | (val & mask);
}

static void set_config(HpetState *s, uint64_t val)
{
    uint64_t old = s->config;
    val &= CFG_ENABLE | CFG_LEGACY;
    int64_t now = now_ns(s);
    if ((old ^ val) & CFG_ENABLE) {
        s->counter = counter_at(s, now);
        s->counter_ns = now;
    }
    s->config = val;
    if ((old ^ val) & CFG_LEGACY) {
        if (s->wiring.legacy_changed) {
            s->wiring.legacy_changed(s->wiring.opaque, val & CFG_LEGACY);
        }
        update_lines(s);
    }
    arm_all(s);
}

static void set_timer_config(HpetTimer *t, uint64_t val)
{
    uint64_t route = (val & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
    val &= TN_WRITABLE;
    if ((val ^ t->config) & TN_ROUTE_MASK && !(route_cap(t->index) & (1u << route))) {
        /* Not a route of this timer: the old one stays (it reads back). */
        val = (val & ~TN_ROUTE_MASK) | (t->config & TN_ROUTE_MASK);
    }
    t->config = val;
    t->cmp &= width_mask(t);
    t->period &= width_mask(t);
    update_lines(t->hpet);
    timer_arm(t, counter_now(t->hpet));
}

static void set_comparator(HpetTimer *t, uint64_t val, uint64_t mask)
{
    mask &= width_mask(t);
    if (!(t->config & TN_PERIODIC) || (t->config & TN_VAL_SET)) {
        t->cmp = merge(t->cmp, val, mask);
    }
    t->period = merge(t->period, val, mask);
    t->config &= ~TN_VAL_SET;
    timer_arm(t, counter_now(t->hpet));
}

static HpetTimer *timer_of(HpetState *s, uint64_t off, unsigned *reg)
{
    if (off < REG_TIMERS) {
        return NULL;
    }
    uint64_t n = (off - REG_TIMERS) / TIMER_STRIDE;
    if (n >= HPET_NR_TIMERS) {
        return NULL;
    }
    *reg = (unsigned)((off - REG_TIMERS) % TIMER_STRIDE);
    return &s->t[n];
}

static uint64_t reg_read(HpetState *s, uint64_t off)
{
    switch (off) {
    case REG_CAP:
        return HPET_BLOCK_ID | ((uint64_t)HPET_PERIOD_FS << 32);
    case REG_CONFIG:
        return s->config;
    case REG_ISR:
        return s->isr;
    case REG_COUNTER:
        return counter_now(s);
    }
    unsigned reg;
    HpetTimer *t = timer_of(s, off, &reg);
    if (!t) {
        return 0;
    }
    switch (reg) {
    case T_CONFIG:
        return t->config | TN_PER_CAP | TN_SIZE_CAP |
               ((uint64_t)route_cap(t->index) << 32);
    case T_CMP:
        return t->cmp;
    case T_FSB:
        return t->fsb;
    }
    return 0;
}

static void reg_write(HpetState *s, uint64_t off, uint64_t val, uint64_t mask)
{
    switch (off) {
    case REG_CONFIG:
        set_config(s, merge(s->config, val, mask));
        return;
    case REG_ISR:
        s->isr &= ~(val & mask);
        update_lines(s);
        return;
    case REG_COUNTER: {
        int64_t now = now_ns(s);
        s->counter = merge(counter_at(s, now), val, mask);
        s->counter_ns = now;
        arm_all(s);
        return;
    }
    }
    unsigned reg;
    HpetTimer *t = timer_of(s, off, &reg);
    if (!t) {
        return;
    }
    switch (reg) {
    case T_CONFIG:
        set_timer_config(t, merge(t->config, val, mask));
        break;
    case T_CMP:
        set_comparator(t, val, mask);
        break;
    case T_FSB:
        t->fsb = merge(t->fsb, val, mask);
        break;
    }
}

static uint64_t hpet_read(void *opaque, uint64_t addr, unsigned size)
{
    HpetState *s = opaque;
    uint64_t v = reg_read(s, addr & ~7ull);
    if (size == 8 && !(addr & 7)) {
        return v;
    }
    if (size == 4 && !(addr & 3)) {
        return (uint32_t)(v >> ((addr & 4) * 8));
    }
    return 0;
}

static void hpet_write(void *opaque, uint64_t addr, uint64_t value,
                       unsigned size)
{
    HpetState *s = opaque;
    if (size == 8 && !(addr & 7)) {
        reg_write(s, addr, value, ~0ull);
    } else if (size == 4 && !(addr & 3)) {
        unsigned shift = (unsigned)(addr & 4) * 8;
        reg_write(s, addr & ~7ull, (uint64_t)(uint32_t)value << shift,
                  0xffffffffull << shift);
    }
}

static const MemoryRegionOps hpet_ops = {
    .read = hpet_read,
    .write = hpet_write,
    .min_access = 4,
    .max_access = 8,
};

/* ---- the device ---- */

static void hpet_reset(Device *dev)
{
    HpetState *s = (HpetState *)dev;
    bool was_legacy = s->config & CFG_LEGACY;
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        HpetTimer *t = &s->t[i];
        timer_del(&t->timer);
        t->armed = false;
        t->config = 0;
        t->cmp = ~0ull;
        t->period = 0;
        t->fsb = 0;
    }
    s->config = 0;
    s->isr = 0;
    s->counter = 0;
    s->counter_ns = 0;
    update_lines(s);
    if (was_legacy && s->wiring.legacy_changed) {
        s->wiring.legacy_changed(s->wiring.opaque, false);
    }
}

static bool hpet_realize(Device *dev, GError **errp)
{
    HpetState *s = (HpetState *)dev;
    Machine *m = dev->machine;
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        s->t[i].hpet = s;
        s->t[i].index = i;
        timer_init(&s->t[i].timer, m->timers, CLOCK_VIRTUAL, timer_cb, &s->t[i]);
    }
    memory_region_init_io(&s->mmio, "hpet", &hpet_ops, s, HPET_MMIO_SIZE);
    if (!address_space_map(&m->mem, &s->mmio, HPET_BASE, 1)) {
        error_setg(errp, "hpet: cannot map at 0x%llx",
                   (unsigned long long)HPET_BASE);
        return false;
    }
    hpet_reset(dev);
    return true;
}

static void hpet_unrealize(Device *dev)
{
    HpetState *s = (HpetState *)dev;
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        timer_del(&s->t[i].timer);
    }
    address_space_unmap(&dev->machine->mem, &s->mmio);
}

static bool hpet_post_load(void *opaque, GError **errp)
{
    HpetState *s = opaque;
    s->config &= CFG_ENABLE | CFG_LEGACY;
    s->isr &= (1ull << HPET_NR_TIMERS) - 1;
    for (unsigned i = 0; i < HPET_NR_TIMERS; i++) {
        HpetTimer *t = &s->t[i];
        uint64_t route = (t->config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
        t->config &= TN_WRITABLE;
        if (route && !(route_cap(i) & (1u << route))) {
            t->config &= ~TN_ROUTE_MASK;
        }
        t->cmp &= width_mask(t);
        t->period &= width_mask(t);
        t->driven = NULL;
    }
    if (s->wiring.legacy_changed) {
        s->wiring.legacy_changed(s->wiring.opaque, s->config & CFG_LEGACY);
    }
    update_lines(s);
    arm_all(s);
    return true;
}

static const VMStateField hpet_timer_fields[] = {
    VMSTATE_U64(HpetTimer, config),
    VMSTATE_U64(HpetTimer, cmp),
    VMSTATE_U64(HpetTimer, period),
    VMSTATE_U64(HpetTimer, fsb),
    VMSTATE_END,
};

static const VMStateDescription hpet_timer_vmsd = {
    .name = "hpet-timer",
    .version = 1,
    .fields = hpet_timer_fields,
};

static const VMStateField hpet_fields[] = {
    VMSTATE_U64(HpetState, config),
    VMSTATE_U64(HpetState, isr),
    VMSTATE_U64(HpetState, counter),
    VMSTATE_I64(HpetState, counter_ns),
    VMSTATE_STRUCT_ARRAY(HpetState, t, &hpet_timer_vmsd),
    VMSTATE_END,
};

static const VMStateDescription hpet_vmsd = {
    .name = "hpet",
    .version = 1,
    .fields = hpet_fields,
    .post_load = hpet_post_load,
};

const DeviceClass hpet_device_class = {
    .name = "hpet",
    .description = "High Precision Event Timer (3 comparators, 100 MHz)",
    .instance_size = sizeof(HpetState),
    .user_creatable = false,
    .realize = hpet_realize,
    .reset = hpet_reset,
    .unrealize = hpet_unrealize,
    .vmsd = &hpet_vmsd,
};

HpetState *hpet_init(Machine *m, const HpetWiring *w, GError **errp)
{
    Device *dev = device_new(&hpet_device_class, m, "hpet");
    HpetState *s = (HpetState *)dev;
    if (w) {
        s->wiring = *w;
    }
    if (!machine_plug_device(m, dev, errp)) {
        return NULL;
    }
    return s;
}
