/*
 * Motorola MC146818A real-time clock with 128 bytes of CMOS RAM (MC146818A
 * data sheet): index port 0x70 (bit 7 masks NMI), data port 0x71.
 *
 * The clock is the host's real time (UTC) plus an offset that changes when
 * the guest sets the time (register B SET, then the time registers).  Time
 * registers follow register B's DM (binary or BCD) and 24/12 bits.  Register
 * A's UIP bit is set during the last 244 us of each second.  Interrupts on
 * ISA IRQ 8 (GSI 8): periodic (rate from register A, CLOCK_VIRTUAL timer),
 * update-ended and alarm (at each second boundary, host clock timer), each
 * flagged in register C; reading C clears it and lowers the line.  UF and AF
 * are also computed when register C is read, so polling works without
 * interrupts.  Register 0x32 is the century.
 */
#include "hw/timer/mc146818rtc.h"

#include <string.h>
#include <time.h>

#include "core/error.h"
#include "hw/machine.h"

#define RTC_PORT 0x70
#define CMOS_SIZE 128

#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define A_DV 0x70
#define A_DV_NORMAL 0x20 /* 32.768 kHz time base */
#define A_RS 0x0f

#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define B_DSE 0x01

#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

#define D_VRT 0x80

#define UIP_NS 244000
#define ALARM_DONT_CARE 0xc0

struct RtcState {
    Device parent;

    uint8_t cmos[CMOS_SIZE];
    uint8_t index;
    uint8_t nmi_masked;
    uint8_t irq_level;
    int64_t offset_ns;     /* RTC time = host real time + offset */
    int64_t last_sec;      /* the second whose update flags were computed */
    int64_t next_periodic; /* CLOCK_VIRTUAL time of the next periodic tick */

    MemoryRegion io;
    Timer periodic;
    Timer update;
};

static int64_t host_real_ns(void)
{
    return g_get_real_time() * 1000;
}

static int64_t rtc_ns(const RtcState *s)
{
    return host_real_ns() + s->offset_ns;
}

static bool binary_mode(const RtcState *s)
{
    return s->cmos[REG_B] & B_DM_BINARY;
}

static uint8_t to_reg(const RtcState *s, unsigned v)
{
    return binary_mode(s) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const RtcState *s, uint8_t v)
{
    return binary_mode(s) ? v : (unsigned)((v >> 4) * 10 + (v & 0x0f));
}

static uint8_t hour_to_reg(const RtcState *s, unsigned hour)
{
    if (s->cmos[REG_B] & B_24H) {
        return to_reg(s, hour);
    }
    unsigned h12 = hour % 12 ? hour % 12 : 12;

    return (uint8_t)(to_reg(s, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned hour_from_reg(const RtcState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_24H) {
        return from_reg(s, v);
    }
    unsigned h = from_reg(s, v & 0x7f) % 12;

    return (v & 0x80) ? h + 12 : h;
}

static bool clock_running(const RtcState *s)
{
    return !(s->cmos[REG_B] & B_SET) && (s->cmos[REG_A] & A_DV) == A_DV_NORMAL;
}

/* Copy the current time into the time registers. */
static void latch_time(RtcState *s)
{
    time_t t = (time_t)(rtc_ns(s) / NS_PER_SEC);
    struct tm tm;

    if (!gmtime_r(&t, &tm)) {
        return;
    }
    s->cmos[REG_SEC] = to_reg(s, (unsigned)tm.tm_sec);
    s->cmos[REG_MIN] = to_reg(s, (unsigned)tm.tm_min);
    s->cmos[REG_HOUR] = hour_to_reg(s, (unsigned)tm.tm_hour);
    s->cmos[REG_WDAY] = to_reg(s, (unsigned)tm.tm_wday + 1);
    s->cmos[REG_MDAY] = to_reg(s, (unsigned)tm.tm_mday);
    s->cmos[REG_MONTH] = to_reg(s, (unsigned)tm.tm_mon + 1);
    s->cmos[REG_YEAR] = to_reg(s, (unsigned)(tm.tm_year + 1900) % 100);
    s->cmos[REG_CENTURY] = to_reg(s, (unsigned)(tm.tm_year + 1900) / 100);
}

/* The guest set the time registers: make them the current time. */
static void adopt_time(RtcState *s)
{
    struct tm tm = { 0 };
    unsigned century = from_reg(s, s->cmos[REG_CENTURY]);
    time_t t;

    if (century < 19 || century > 99) {
        century = 20;
    }
    tm.tm_sec = (int)(from_reg(s, s->cmos[REG_SEC]) % 60);
    tm.tm_min = (int)(from_reg(s, s->cmos[REG_MIN]) % 60);
    tm.tm_hour = (int)(hour_from_reg(s, s->cmos[REG_HOUR]) % 24);
    tm.tm_mday = (int)(from_reg(s, s->cmos[REG_MDAY]) % 32);
    tm.tm_mon = (int)(from_reg(s, s->cmos[REG_MONTH]) % 13) - 1;
    tm.tm_year = (int)(century * 100 + from_reg(s, s->cmos[REG_YEAR]) % 100) - 1900;
    if (tm.tm_mday == 0) {
        tm.tm_mday = 1;
    }
    if (tm.tm_mon < 0) {
        tm.tm_mon = 0;
    }
    t = timegm(&tm);
    /* The divider chain restarts: the next update is one second away. */
    s->offset_ns = (int64_t)t * NS_PER_SEC - host_real_ns();
    s->last_sec = (int64_t)t;
}

static void update_irq(RtcState *s)
{
    /* PF/PIE, AF/AIE and UF/UIE use the same bit positions in C and B. */
    uint8_t flags = s->cmos[REG_C] & (C_PF | C_AF | C_UF);
    uint8_t enabled = s->cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
    uint8_t level;

    if (flags & enabled) {
        s->cmos[REG_C] |= C_IRQF;
    }
    level = (s->cmos[REG_C] & C_IRQF) != 0;
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(&s->parent.machine->gsi[RTC_ISA_IRQ], level);
    }
}

static bool alarm_field_matches(const RtcState *s, uint8_t alarm, uint8_t now)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == now;
}

/* Account for second boundaries passed since the last look. */
static void update_flags(RtcState *s)
{
    int64_t sec;

    if (!clock_running(s)) {
        return;
    }
    sec = rtc_ns(s) / NS_PER_SEC;
    if (sec == s->last_sec) {
        return;
    }
    s->last_sec = sec;
    s->cmos[REG_C] |= C_UF;
    latch_time(s);
    if (alarm_field_matches(s, s->cmos[REG_SEC_ALARM], s->cmos[REG_SEC]) &&
        alarm_field_matches(s, s->cmos[REG_MIN_ALARM], s->cmos[REG_MIN]) &&
        alarm_field_matches(s, s->cmos[REG_HOUR_ALARM], s->cmos[REG_HOUR])) {
        s->cmos[REG_C] |= C_AF;
    }
}

int64_t rtc_periodic_period_ns(unsigned rs)
{
    unsigned shift;

    rs &= A_RS;
    if (rs == 0) {
        return 0;
    }
    /* 32.768 kHz base: rates 1 and 2 repeat rates 8 and 9. */
    shift = rs <= 2 ? rs + 6 : rs - 1;
    return (int64_t)(((uint64_t)NS_PER_SEC << shift) / 32768);
}

static void arm_periodic(RtcState *s)
{
    Machine *m = s->parent.machine;
    int64_t period = rtc_periodic_period_ns(s->cmos[REG_A]);
    int64_t now;

    if (!m->timers) {
        return;
    }
    if (!period || !(s->cmos[REG_B] & B_PIE) ||
        (s->cmos[REG_A] & A_DV) != A_DV_NORMAL) {
        timer_del(&s->periodic);
        return;
    }
    now = clock_ns(m->timers, CLOCK_VIRTUAL);
    if (s->next_periodic <= now || s->next_periodic > now + period) {
        s->next_periodic = now + period;
    }
    timer_mod(&s->periodic, s->next_periodic);
}

static void periodic_cb(void *opaque)
{
    RtcState *s = opaque;
    int64_t period = rtc_periodic_period_ns(s->cmos[REG_A]);

    s->cmos[REG_C] |= C_PF;
    update_irq(s);
    s->next_periodic += period;
    arm_periodic(s);
}

static void arm_update(RtcState *s)
{
    Machine *m = s->parent.machine;
    int64_t frac;

    if (!m->timers) {
        return;
    }
    if (!(s->cmos[REG_B] & (B_UIE | B_AIE)) || !clock_running(s)) {
        timer_del(&s->update);
        return;
    }
    frac = rtc_ns(s) % NS_PER_SEC;
    if (frac < 0) {
        frac += NS_PER_SEC;
    }
    timer_mod(&s->update, clock_ns(m->timers, CLOCK_HOST) + (NS_PER_SEC - frac));
}

static void update_cb(void *opaque)
{
    RtcState *s = opaque;

    update_flags(s);
    update_irq(s);
    arm_update(s);
}

static uint8_t cmos_read(RtcState *s, uint8_t index)
{
    uint8_t v;

    switch (index) {
    case REG_SEC:
    case REG_MIN:
    case REG_HOUR:
    case REG_WDAY:
    case REG_MDAY:
    case REG_MONTH:
    case REG_YEAR:
    case REG_CENTURY:
        if (clock_running(s)) {
            latch_time(s);
        }
        return s->cmos[index];
    case REG_A: {
        int64_t frac = rtc_ns(s) % NS_PER_SEC;

        v = s->cmos[REG_A] & (uint8_t)~A_UIP;
        if (clock_running(s) && (frac < 0 ? frac + NS_PER_SEC : frac) >=
                                    NS_PER_SEC - UIP_NS) {
            v |= A_UIP;
        }
        return v;
    }
    case REG_C:
        update_flags(s);
        update_irq(s);
        v = s->cmos[REG_C];
        s->cmos[REG_C] = 0;
        update_irq(s);
        return v;
    case REG_D:
        return D_VRT;
    default:
        return s->cmos[index];
    }
}

static bool is_time_reg(uint8_t index)
{
    return index == REG_SEC || index == REG_MIN || index == REG_HOUR ||
           (index >= REG_WDAY && index <= REG_YEAR) || index == REG_CENTURY;
}

static void cmos_write(RtcState *s, uint8_t index, uint8_t v)
{
    uint8_t old;

    if (is_time_reg(index)) {
        if (clock_running(s)) {
            latch_time(s);
            s->cmos[index] = v;
            adopt_time(s);
        } else {
            s->cmos[index] = v;
        }
        arm_update(s);
        return;
    }
    switch (index) {
    case REG_A:
        old = s->cmos[REG_A];
        s->cmos[REG_A] = v & (uint8_t)~A_UIP;
        if ((old & A_DV) != A_DV_NORMAL && (v & A_DV) == A_DV_NORMAL &&
            !(s->cmos[REG_B] & B_SET)) {
            adopt_time(s); /* leaving divider reset restarts the clock */
        }
        arm_periodic(s);
        arm_update(s);
        break;
    case REG_B:
        old = s->cmos[REG_B];
        if (clock_running(s)) {
            latch_time(s); /* time registers in the old format */
        }
        if (v & B_SET) {
            v &= (uint8_t)~B_UIE; /* SET clears UIE */
        }
        s->cmos[REG_B] = v;
        if ((old & B_SET) && !(v & B_SET)) {
            adopt_time(s);
        } else if ((old ^ v) & (B_DM_BINARY | B_24H) && clock_running(s)) {
            latch_time(s);
        }
        update_irq(s);
        arm_periodic(s);
        arm_update(s);
        break;
    case REG_C:
    case REG_D:
        break; /* read-only */
    default:
        s->cmos[index] = v;
        break;
    }
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    RtcState *s = opaque;

    if (addr == 0) {
        return 0xff; /* the index register is write-only */
    }
    return cmos_read(s, s->index);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t value,
                         unsigned size)
{
    RtcState *s = opaque;

    if (addr == 0) {
        s->index = (uint8_t)value & 0x7f;
        s->nmi_masked = ((uint8_t)value & 0x80) != 0;
    } else {
        cmos_write(s, s->index, (uint8_t)value);
    }
}

static const MemoryRegionOps rtc_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .min_access = 1,
    .max_access = 1,
};

static void set16(RtcState *s, uint8_t index, unsigned v)
{
    s->cmos[index] = (uint8_t)v;
    s->cmos[index + 1] = (uint8_t)(v >> 8);
}

void rtc_set_memory(RtcState *s, uint64_t below_4g, uint64_t above_4g,
                    unsigned nr_cpus)
{
    uint64_t ext_kib = below_4g > (1u << 20) ? (below_4g >> 10) - 1024 : 0;
    uint64_t above_16m = below_4g > (16u << 20) ? (below_4g - (16u << 20)) >> 16 : 0;
    uint64_t high = above_4g >> 16;

    set16(s, 0x15, 640);
    set16(s, 0x17, ext_kib > 0xffff ? 0xffff : (unsigned)ext_kib);
    set16(s, 0x30, ext_kib > 0xffff ? 0xffff : (unsigned)ext_kib);
    set16(s, 0x34, above_16m > 0xffff ? 0xffff : (unsigned)above_16m);
    if (high > 0xffffff) {
        high = 0xffffff;
    }
    s->cmos[0x5b] = (uint8_t)high;
    s->cmos[0x5c] = (uint8_t)(high >> 8);
    s->cmos[0x5d] = (uint8_t)(high >> 16);
    s->cmos[0x5f] = (uint8_t)(nr_cpus ? nr_cpus - 1 : 0);
}

void rtc_set_cmos(RtcState *s, uint8_t index, uint8_t value)
{
    if (index >= REG_D + 1 && index < CMOS_SIZE) {
        s->cmos[index] = value;
    }
}

uint8_t rtc_get_cmos(RtcState *s, uint8_t index)
{
    return index < CMOS_SIZE ? s->cmos[index] : 0xff;
}

static void rtc_reset(Device *d)
{
    RtcState *s = (RtcState *)d;

    s->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    s->cmos[REG_C] = 0;
    s->index = 0;
    s->nmi_masked = 0;
    s->irq_level = 1; /* make update_irq drive the line low */
    update_irq(s);
    arm_periodic(s);
    arm_update(s);
}

static bool rtc_realize(Device *d, GError **errp)
{
    RtcState *s = (RtcState *)d;
    Machine *m = d->machine;

    if (m->timers) {
        timer_init(&s->periodic, m->timers, CLOCK_VIRTUAL, periodic_cb, s);
        timer_init(&s->update, m->timers, CLOCK_HOST, update_cb, s);
    }
    /* Power-on: 32.768 kHz, 1024 Hz rate, 24-hour BCD, host time. */
    s->cmos[REG_A] = A_DV_NORMAL | 0x06;
    s->cmos[REG_B] = B_24H;
    s->offset_ns = 0;
    s->last_sec = rtc_ns(s) / NS_PER_SEC;
    latch_time(s);
    memory_region_init_io(&s->io, "rtc", &rtc_ops, s, 2);
    if (!address_space_map(&m->io, &s->io, RTC_PORT, 0)) {
        error_setg(errp, "mc146818rtc: cannot map ports 0x70-0x71");
        return false;
    }
    rtc_reset(d);
    return true;
}

static void rtc_unrealize(Device *d)
{
    RtcState *s = (RtcState *)d;

    if (d->machine->timers) {
        timer_del(&s->periodic);
        timer_del(&s->update);
    }
    address_space_unmap(&d->machine->io, &s->io);
}

static bool rtc_post_load(void *opaque, GError **errp)
{
    RtcState *s = opaque;

    s->index &= 0x7f;
    s->irq_level = (s->cmos[REG_C] & C_IRQF) != 0;
    irq_set(&s->parent.machine->gsi[RTC_ISA_IRQ], s->irq_level);
    arm_periodic(s);
    arm_update(s);
    return true;
}

static const VMStateField rtc_fields[] = {
    VMSTATE_U8_ARRAY(RtcState, cmos),
    VMSTATE_U8(RtcState, index),
    VMSTATE_U8(RtcState, nmi_masked),
    VMSTATE_U8(RtcState, irq_level),
    VMSTATE_I64(RtcState, offset_ns),
    VMSTATE_I64(RtcState, last_sec),
    VMSTATE_I64(RtcState, next_periodic),
    VMSTATE_END,
};

static const VMStateDescription rtc_vmsd = {
    .name = "mc146818rtc",
    .version = 1,
    .fields = rtc_fields,
    .post_load = rtc_post_load,
};

const DeviceClass mc146818rtc_class = {
    .name = "mc146818rtc",
    .description = "MC146818 real-time clock and CMOS RAM",
    .instance_size = sizeof(RtcState),
    .realize = rtc_realize,
    .unrealize = rtc_unrealize,
    .reset = rtc_reset,
    .vmsd = &rtc_vmsd,
};
