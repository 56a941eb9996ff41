/*
 * Intel 8254 programmable interval timer as wired in the PC: a 1.193182 MHz
 * clock on three counters; counter 0 drives IRQ0, counter 1 (DRAM refresh)
 * is free-running, counter 2's gate and output are bits 0 and 5 of port 0x61
 * (with the speaker enable in bit 1 and the refresh toggle in bit 4).
 *
 * Follows the 82C54 data sheet: control word (counter select, read/write
 * format, mode 0-5, binary or BCD), counter latch and read-back commands
 * (status byte: OUT, null count, programmed mode), one- and two-byte count
 * reads and writes, gate behaviour per mode.
 *
 * Counters are computed from CLOCK_VIRTUAL rather than ticked: a counting
 * element remembers when it started, and its value and OUT are derived from
 * the elapsed clocks.  A loaded count takes effect at once.  Counter 0 has a
 * timer only for the OUT transitions that IRQ0 must see; pulses that a late
 * timer missed are merged into one edge.
 */
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/timer.h"
#include "hw/machine.h"
#include "hw/timer/i8254.h"

#define PIT_PORT 0x40
#define PORT_61 0x61
/* Refresh request toggle of port 0x61 bit 4: every 15.085 us. */
#define REFRESH_TOGGLE_NS 15085
/* Counter 0's timer never re-arms closer than this. */
#define PIT_MIN_EVENT_NS 10000

typedef struct PitChannel {
    uint8_t ctrl;        /* bits 5:0 of the last control word (status) */
    uint8_t mode;        /* 0..5 */
    uint8_t bcd;
    uint8_t rw;          /* 1 LSB, 2 MSB, 3 LSB then MSB */
    uint8_t gate;
    uint8_t loaded;      /* a count was written since the control word */
    uint8_t armed;       /* the counting element is counting */
    uint8_t paused;      /* gate low stopped counting (modes 0, 2, 3, 4) */
    uint8_t null_count;
    uint8_t write_msb;   /* two-byte write: next byte is the MSB */
    uint8_t write_lsb;
    uint8_t read_msb;    /* two-byte live read: next byte is the MSB */
    uint8_t latch_bytes; /* latched count bytes still to read */
    uint8_t status_latched;
    uint8_t status;
    uint16_t latched;
    uint16_t reload;     /* count register, binary; 0 is the maximum */
    int64_t start_ns;    /* CLOCK_VIRTUAL time of clock 0 of the count */
    uint64_t paused_ticks;
} PitChannel;

struct PitState {
    Device parent;
    IrqLine irq;
    MemoryRegion io;
    MemoryRegion io61;
    Timer timer;

    PitChannel ch[3];
    uint8_t port61;      /* bits 3:0 as written */
    uint8_t irq_level;
    uint64_t last_tick;  /* counter 0: clocks elapsed at the last event */
};

static int64_t pit_now(PitState *s)
{
    return clock_ns(s->parent.machine->timers, CLOCK_VIRTUAL);
}

static uint32_t ch_modulus(const PitChannel *c)
{
    return c->bcd ? 10000 : 65536;
}

/* The count N the counter divides by (a written 0 means the maximum). */
static uint32_t ch_count(const PitChannel *c)
{
    return c->reload ? c->reload : ch_modulus(c);
}

static uint64_t ch_ticks(const PitChannel *c, int64_t now)
{
    if (!c->armed) {
        return 0;
    }
    if (c->paused) {
        return c->paused_ticks;
    }
    if (now <= c->start_ns) {
        return 0;
    }
    return (uint64_t)((unsigned __int128)(uint64_t)(now - c->start_ns) *
                      PIT_FREQ_HZ / NS_PER_SEC);
}

/* Nanoseconds from clock 0 to the start of clock number tick. */
static int64_t ticks_to_ns(uint64_t tick)
{
    unsigned __int128 ns = ((unsigned __int128)tick * NS_PER_SEC +
                            PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
    return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

/* CLOCK_VIRTUAL time at which clock number tick of the count begins. */
static int64_t ch_tick_time(const PitChannel *c, uint64_t tick)
{
    int64_t ns = ticks_to_ns(tick);
    if (c->start_ns > 0 && ns > INT64_MAX - c->start_ns) {
        return INT64_MAX;
    }
    return c->start_ns + ns;
}

static uint32_t ch_value(const PitChannel *c, int64_t now)
{
    uint32_t n = ch_count(c);
    uint32_t m = ch_modulus(c);
    if (!c->armed) {
        return c->reload;
    }
    uint64_t d = ch_ticks(c, now);
    uint32_t v;
    switch (c->mode) {
    case 2:
        v = n - (uint32_t)(d % n);
        break;
    case 3: {
        uint32_t p = (uint32_t)(d % n);
        uint32_t h = (n + 1) / 2;
        v = p < h ? n - 2 * p : n - 2 * (p - h);
        break;
    }
    default: /* 0, 1, 4, 5 count down and wrap */
        v = (uint32_t)(((uint64_t)(n % m) + m - d % m) % m);
        break;
    }
    return v % m;
}

static bool ch_out(const PitChannel *c, int64_t now)
{
    if (!c->armed) {
        return c->mode != 0;
    }
    uint32_t n = ch_count(c);
    uint64_t d = ch_ticks(c, now);
    switch (c->mode) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        return c->paused || d % n != n - 1;
    case 3:
        return c->paused || d % n < (n + 1) / 2;
    default: /* 4, 5 */
        return d != n;
    }
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) |
                      ((v / 1000 % 10) << 12));
}

static uint16_t from_bcd(uint16_t v)
{
    uint32_t b = (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 +
                 ((v >> 12) & 0xf) * 1000;
    return (uint16_t)(b % 10000);
}

/* ---- counter 0 and IRQ0 ---- */

static void pit_set_irq(PitState *s, bool level)
{
    if (s->irq_level != level) {
        s->irq_level = level;
        irq_set(&s->irq, level);
    }
}

static void pit_irq_edge(PitState *s)
{
    pit_set_irq(s, false);
    pit_set_irq(s, true);
}

/* The next clock (after d) at which counter 0's OUT changes, or 0. */
static uint64_t ch0_next_event(const PitChannel *c, uint64_t d)
{
    uint32_t n = ch_count(c);
    if (!c->armed || c->paused) {
        return 0;
    }
    switch (c->mode) {
    case 0:
    case 4:
        return d < n ? n : 0;
    case 2:
        return (d / n + 1) * n;
    case 3: {
        uint64_t base = d - d % n;
        uint32_t h = (n + 1) / 2;
        return d % n < h ? base + h : base + n;
    }
    default:
        return 0; /* modes 1 and 5 need a gate edge; counter 0's is fixed */
    }
}

static void pit_schedule(PitState *s, int64_t now)
{
    PitChannel *c = &s->ch[0];
    uint64_t next = ch0_next_event(c, s->last_tick);
    if (!next) {
        timer_del(&s->timer);
        return;
    }
    int64_t t = ch_tick_time(c, next);
    if (t < now + PIT_MIN_EVENT_NS && (c->mode == 2 || c->mode == 3)) {
        t = now + PIT_MIN_EVENT_NS;
    }
    timer_mod(&s->timer, t);
}

/* Counter 0 was reprogrammed: drive IRQ0 with OUT and plan the next edge. */
static void pit_irq_restart(PitState *s)
{
    PitChannel *c = &s->ch[0];
    int64_t now = pit_now(s);
    s->last_tick = ch_ticks(c, now);
    pit_set_irq(s, ch_out(c, now));
    pit_schedule(s, now);
}

static void pit_timer_cb(void *opaque)
{
    PitState *s = opaque;
    PitChannel *c = &s->ch[0];
    int64_t now = pit_now(s);
    uint64_t d = ch_ticks(c, now);
    uint64_t last = s->last_tick;
    uint32_t n = ch_count(c);

    if (!c->armed || c->paused) {
        return;
    }
    switch (c->mode) {
    case 0:
        pit_set_irq(s, d >= n);
        break;
    case 2:
        if (d / n > last / n) {
            pit_irq_edge(s);
        }
        break;
    case 3:
        if (d / n > last / n) {
            pit_irq_edge(s); /* a rising edge happened since last time */
        }
        pit_set_irq(s, ch_out(c, now));
        break;
    case 4:
        if (last < n && d >= n) {
            pit_irq_edge(s);
        }
        break;
    default:
        break;
    }
    s->last_tick = d;
    pit_schedule(s, now);
}

/* ---- counters ---- */

static void ch_start(PitChannel *c, int64_t now)
{
    c->armed = 1;
    c->start_ns = now;
    c->paused_ticks = 0;
    c->paused = !c->gate && c->mode != 1 && c->mode != 5;
}

static void ch_load(PitState *s, unsigned idx, uint16_t v)
{
    PitChannel *c = &s->ch[idx];
    c->reload = c->bcd ? from_bcd(v) : v;
    c->loaded = 1;
    c->null_count = 0;
    if (c->mode != 1 && c->mode != 5) {
        ch_start(c, pit_now(s));
    }
    if (idx == 0) {
        pit_irq_restart(s);
    }
}

static void ch_write(PitState *s, unsigned idx, uint8_t v)
{
    PitChannel *c = &s->ch[idx];
    switch (c->rw) {
    case 1:
        ch_load(s, idx, v);
        break;
    case 2:
        ch_load(s, idx, (uint16_t)(v << 8));
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = 1;
            if (c->mode == 0) {
                c->armed = 0; /* the first byte stops a mode 0 count */
                if (idx == 0) {
                    pit_irq_restart(s);
                }
            }
        } else {
            c->write_msb = 0;
            ch_load(s, idx, (uint16_t)(c->write_lsb | (v << 8)));
        }
        break;
    }
}

static uint16_t ch_read_value(PitState *s, unsigned idx)
{
    PitChannel *c = &s->ch[idx];
    uint32_t v = ch_value(c, pit_now(s));
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static uint8_t ch_read(PitState *s, unsigned idx)
{
    PitChannel *c = &s->ch[idx];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->latch_bytes) {
        bool msb = c->rw == 2 || (c->rw == 3 && c->latch_bytes == 1);
        c->latch_bytes--;
        return msb ? c->latched >> 8 : c->latched & 0xff;
    }
    uint16_t v = ch_read_value(s, idx);
    switch (c->rw) {
    case 1:
        return v & 0xff;
    case 2:
        return v >> 8;
    default:
        c->read_msb ^= 1;
        return c->read_msb ? v & 0xff : v >> 8;
    }
}

static void ch_latch_count(PitState *s, unsigned idx)
{
    PitChannel *c = &s->ch[idx];
    if (c->latch_bytes) {
        return; /* the first latch holds until read */
    }
    c->latched = ch_read_value(s, idx);
    c->latch_bytes = c->rw == 3 ? 2 : 1;
}

static void ch_latch_status(PitState *s, unsigned idx)
{
    PitChannel *c = &s->ch[idx];
    if (c->status_latched) {
        return;
    }
    c->status = (uint8_t)((ch_out(c, pit_now(s)) << 7) | (c->null_count << 6) |
                          c->ctrl);
    c->status_latched = 1;
}

static void ch_set_mode(PitState *s, unsigned idx, uint8_t v)
{
    PitChannel *c = &s->ch[idx];
    uint8_t mode = (v >> 1) & 7;
    c->ctrl = v & 0x3f;
    c->rw = (v >> 4) & 3;
    c->mode = mode > 5 ? mode & 3 : mode; /* 6 and 7 are modes 2 and 3 */
    c->bcd = v & 1;
    c->loaded = 0;
    c->armed = 0;
    c->paused = 0;
    c->null_count = 1;
    c->write_msb = 0;
    c->read_msb = 0;
    c->latch_bytes = 0;
    c->status_latched = 0;
    if (idx == 0) {
        pit_irq_restart(s);
    }
}

static void pit_control(PitState *s, uint8_t v)
{
    unsigned sel = v >> 6;
    if (sel == 3) {
        /* read-back: bit 5 clear latches counts, bit 4 clear latches status */
        for (unsigned i = 0; i < 3; i++) {
            if (!(v & (2u << i))) {
                continue;
            }
            if (!(v & 0x10)) {
                ch_latch_status(s, i);
            }
            if (!(v & 0x20)) {
                ch_latch_count(s, i);
            }
        }
        return;
    }
    if (((v >> 4) & 3) == 0) {
        ch_latch_count(s, sel);
        return;
    }
    ch_set_mode(s, sel, v);
}

/* Gate input changes (counter 2 through port 0x61). */
static void ch_set_gate(PitState *s, unsigned idx, bool level)
{
    PitChannel *c = &s->ch[idx];
    int64_t now = pit_now(s);
    bool rising = level && !c->gate;
    bool falling = !level && c->gate;
    c->gate = level;

    switch (c->mode) {
    case 0:
    case 4:
        if (falling && c->armed && !c->paused) {
            c->paused_ticks = ch_ticks(c, now);
            c->paused = 1;
        } else if (rising && c->armed && c->paused) {
            /* Go on from the clocks already counted. */
            c->paused = 0;
            c->start_ns = now - ticks_to_ns(c->paused_ticks);
        }
        break;
    case 2:
    case 3:
        if (falling && c->armed) {
            c->paused_ticks = ch_ticks(c, now);
            c->paused = 1;
        } else if (rising && c->loaded) {
            ch_start(c, now); /* a rising gate reloads the count */
        }
        break;
    default: /* 1, 5: a rising gate triggers */
        if (rising && c->loaded) {
            ch_start(c, now);
        }
        break;
    }
    if (idx == 0) {
        pit_irq_restart(s);
    }
}

/* ---- ports ---- */

static uint64_t pit_read(void *opaque, uint64_t addr, unsigned size)
{
    PitState *s = opaque;
    if (addr >= 3) {
        return 0xff; /* the control word register cannot be read */
    }
    return ch_read(s, (unsigned)addr);
}

static void pit_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    PitState *s = opaque;
    if (addr == 3) {
        pit_control(s, (uint8_t)v);
    } else if (addr < 3) {
        ch_write(s, (unsigned)addr, (uint8_t)v);
    }
}

static uint64_t port61_read(void *opaque, uint64_t addr, unsigned size)
{
    PitState *s = opaque;
    int64_t now = pit_now(s);
    uint8_t v = s->port61 & 0x0f;
    if ((now / REFRESH_TOGGLE_NS) & 1) {
        v |= 0x10;
    }
    if (ch_out(&s->ch[2], now)) {
        v |= 0x20;
    }
    return v;
}

static void port61_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    PitState *s = opaque;
    s->port61 = (uint8_t)v & 0x0f;
    ch_set_gate(s, 2, v & 1);
}

static const MemoryRegionOps pit_ops = {
    .read = pit_read, .write = pit_write,
    .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps port61_ops = {
    .read = port61_read, .write = port61_write,
    .min_access = 1, .max_access = 1,
};

/* ---- device ---- */

static void pit_reset(Device *dev)
{
    PitState *s = (PitState *)dev;
    for (unsigned i = 0; i < 3; i++) {
        PitChannel *c = &s->ch[i];
        memset(c, 0, sizeof(*c));
        c->rw = 3;
        c->ctrl = 0x30;
        c->gate = i != 2; /* counters 0 and 1 have their gates tied high */
    }
    s->port61 = 0;
    s->irq_level = 1;
    pit_set_irq(s, false);
    s->last_tick = 0;
    timer_del(&s->timer);
}

static bool pit_realize(Device *dev, GError **errp)
{
    PitState *s = (PitState *)dev;
    Machine *m = dev->machine;
    timer_init(&s->timer, m->timers, CLOCK_VIRTUAL, pit_timer_cb, s);
    memory_region_init_io(&s->io, "pit", &pit_ops, s, 4);
    memory_region_init_io(&s->io61, "port61", &port61_ops, s, 1);
    if (!address_space_map(&m->io, &s->io, PIT_PORT, 0) ||
        !address_space_map(&m->io, &s->io61, PORT_61, 0)) {
        error_setg(errp, "i8254: cannot map I/O ports");
        return false;
    }
    return true;
}

static void pit_unrealize(Device *dev)
{
    PitState *s = (PitState *)dev;
    timer_del(&s->timer);
    address_space_unmap(&dev->machine->io, &s->io);
    address_space_unmap(&dev->machine->io, &s->io61);
}

static bool pit_post_load(void *opaque, GError **errp)
{
    PitState *s = opaque;
    for (unsigned i = 0; i < 3; i++) {
        PitChannel *c = &s->ch[i];
        if (c->mode > 5) {
            c->mode &= 3;
        }
        if (c->rw == 0) {
            c->rw = 3;
        }
        c->ctrl &= 0x3f;
        if (c->bcd && c->reload > 9999) {
            c->reload %= 10000;
        }
        if (c->latch_bytes > 2) {
            c->latch_bytes = 2;
        }
    }
    s->port61 &= 0x0f;
    irq_set(&s->irq, s->irq_level);
    pit_schedule(s, pit_now(s));
    return true;
}

static const VMStateField pit_ch_fields[] = {
    VMSTATE_U8(PitChannel, ctrl),
    VMSTATE_U8(PitChannel, mode),
    VMSTATE_U8(PitChannel, bcd),
    VMSTATE_U8(PitChannel, rw),
    VMSTATE_U8(PitChannel, gate),
    VMSTATE_U8(PitChannel, loaded),
    VMSTATE_U8(PitChannel, armed),
    VMSTATE_U8(PitChannel, paused),
    VMSTATE_U8(PitChannel, null_count),
    VMSTATE_U8(PitChannel, write_msb),
    VMSTATE_U8(PitChannel, write_lsb),
    VMSTATE_U8(PitChannel, read_msb),
    VMSTATE_U8(PitChannel, latch_bytes),
    VMSTATE_U8(PitChannel, status_latched),
    VMSTATE_U8(PitChannel, status),
    VMSTATE_U16(PitChannel, latched),
    VMSTATE_U16(PitChannel, reload),
    VMSTATE_I64(PitChannel, start_ns),
    VMSTATE_U64(PitChannel, paused_ticks),
    VMSTATE_END,
};

static const VMStateDescription pit_ch_vmsd = {
    .name = "i8254-channel",
    .version = 1,
    .fields = pit_ch_fields,
};

static const VMStateField pit_fields[] = {
    VMSTATE_STRUCT_ARRAY(PitState, ch, &pit_ch_vmsd),
    VMSTATE_U8(PitState, port61),
    VMSTATE_U8(PitState, irq_level),
    VMSTATE_U64(PitState, last_tick),
    VMSTATE_END,
};

static const VMStateDescription pit_vmsd = {
    .name = "i8254",
    .version = 1,
    .fields = pit_fields,
    .post_load = pit_post_load,
};

const DeviceClass i8254_device_class = {
    .name = "i8254",
    .description = "8254 programmable interval timer with port 0x61",
    .instance_size = sizeof(PitState),
    .user_creatable = false,
    .realize = pit_realize,
    .reset = pit_reset,
    .unrealize = pit_unrealize,
    .vmsd = &pit_vmsd,
};

PitState *i8254_init(Machine *m, const IrqLine *irq0, GError **errp)
{
    Device *dev = device_new(&i8254_device_class, m, "pit");
    PitState *s = (PitState *)dev;
    if (irq0) {
        s->irq = *irq0;
    }
    if (!machine_plug_device(m, dev, errp)) {
        return NULL;
    }
    return s;
}
