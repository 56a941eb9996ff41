/*
 * Intel 8259A programmable interrupt controller, as the PC cascades two of
 * them: the master at ports 0x20/0x21 drives the CPU's INTR (through LINT0
 * of the local APICs), the slave at 0xa0/0xa1 feeds the master's IR2.  The
 * PIIX ELCR registers at 0x4d0/0x4d1 choose edge or level sensing per IRQ.
 *
 * Follows the 8259A data sheet: ICW1-ICW4 initialization, OCW1 (mask),
 * OCW2 (EOI, rotation, set priority), OCW3 (register read, poll, special
 * mask), fully nested and special fully nested modes, automatic EOI with
 * optional rotation, spurious IR7 on an INTA with no request left.
 *
 * Edge-sensed requests latch in IRR on a rising edge and stay latched until
 * acknowledged, so a device may pulse a line.  The cascade input IR2 of the
 * master follows the slave's INT output as a level.
 */
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "hw/intc/i8259.h"
#include "hw/machine.h"

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT 0xa0
#define PIC_ELCR_PORT 0x4d0
#define PIC_CASCADE_IRQ 2

/* ELCR bits that must stay 0: IRQ0-2 and IRQ8, IRQ13 are always edge. */
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };

typedef struct PicChip {
    uint8_t irr;
    uint8_t isr;
    uint8_t imr;
    uint8_t level;       /* current levels of the eight inputs */
    uint8_t elcr;
    uint8_t vector_base; /* ICW2 & 0xf8 */
    uint8_t icw3;
    uint8_t init_step;   /* 0: operating; 1, 2, 3: next write is ICW2/3/4 */
    uint8_t icw4_needed;
    uint8_t single;      /* ICW1 SNGL */
    uint8_t ltim;        /* ICW1 LTIM: every input level sensed */
    uint8_t auto_eoi;
    uint8_t rotate_aeoi;
    uint8_t sfnm;        /* special fully nested mode */
    uint8_t special_mask;
    uint8_t read_isr;    /* OCW3 RR/RIS: port reads ISR instead of IRR */
    uint8_t poll;        /* OCW3 P: the next read is a poll */
    uint8_t prio_base;   /* the IR with the highest priority */
    uint8_t int_out;     /* level of the INT output */
} PicChip;

struct PicState {
    Device parent;
    PicChip chip[2];
    IrqLine inputs[16];
    IrqLine out;
    MemoryRegion io_master;
    MemoryRegion io_slave;
    MemoryRegion io_elcr;
};

static bool chip_is_level(const PicChip *c, unsigned irq)
{
    return c->ltim || (c->elcr >> irq) & 1;
}

static uint8_t chip_level_mask(const PicChip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Rank of an IR in the current priority order: 0 is the highest. */
static unsigned chip_rank(const PicChip *c, unsigned irq)
{
    return (irq - c->prio_base) & 7;
}

/* The highest-priority IR whose bit is set in bits, or -1. */
static int chip_highest(const PicChip *c, uint8_t bits)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned irq = (c->prio_base + i) & 7;
        if (bits & (1u << irq)) {
            return (int)irq;
        }
    }
    return -1;
}

/* The IR that would be acknowledged now, or -1 if none may interrupt. */
static int chip_pending(const PicChip *c, bool master)
{
    int req = chip_highest(c, c->irr & ~c->imr);
    if (req < 0) {
        return -1;
    }
    uint8_t isr = c->isr;
    if (c->special_mask) {
        isr &= ~c->imr;
    }
    if (master && c->sfnm && !c->single && req == PIC_CASCADE_IRQ) {
        isr &= ~(1u << PIC_CASCADE_IRQ);
    }
    int srv = chip_highest(c, isr);
    if (srv >= 0 && chip_rank(c, (unsigned)srv) <= chip_rank(c, (unsigned)req)) {
        return -1;
    }
    return req;
}

static bool cascaded(const PicState *s)
{
    return !s->chip[0].single;
}

/* Recompute both INT outputs; the slave's feeds the master's IR2. */
static void pic_update(PicState *s)
{
    PicChip *m = &s->chip[0];
    PicChip *sl = &s->chip[1];

    sl->int_out = chip_pending(sl, false) >= 0;
    if (cascaded(s)) {
        if (sl->int_out) {
            m->irr |= 1u << PIC_CASCADE_IRQ;
            m->level |= 1u << PIC_CASCADE_IRQ;
        } else {
            m->irr &= ~(1u << PIC_CASCADE_IRQ);
            m->level &= ~(1u << PIC_CASCADE_IRQ);
        }
    }
    uint8_t out = chip_pending(m, true) >= 0;
    if (out != m->int_out) {
        m->int_out = out;
        irq_set(&s->out, out);
    }
}

static void pic_set_irq(void *opaque, int n, int level)
{
    PicState *s = opaque;
    if (n < 0 || n > 15) {
        return;
    }
    PicChip *c = &s->chip[n >> 3];
    unsigned irq = (unsigned)n & 7;
    uint8_t bit = 1u << irq;

    if (n == PIC_CASCADE_IRQ && cascaded(s)) {
        return; /* IR2 of the master is the slave's INT */
    }
    if (chip_is_level(c, irq)) {
        c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
    } else if (level && !(c->level & bit)) {
        c->irr |= bit;
    }
    c->level = level ? (c->level | bit) : (c->level & ~bit);
    pic_update(s);
}

/* Level-sensed IRR bits simply follow their inputs. */
static void chip_sync_levels(PicChip *c)
{
    uint8_t lm = chip_level_mask(c);
    c->irr = (c->irr & ~lm) | (c->level & lm);
}

/* The INTA cycle on one chip: returns the IR to report (7 if spurious). */
static unsigned chip_ack(PicChip *c, bool master)
{
    int n = chip_pending(c, master);
    if (n < 0) {
        return 7; /* spurious: no ISR bit is set */
    }
    uint8_t bit = 1u << n;
    if (!chip_is_level(c, (unsigned)n)) {
        c->irr &= ~bit;
    }
    if (c->auto_eoi) {
        if (c->rotate_aeoi) {
            c->prio_base = (uint8_t)((n + 1) & 7);
        }
    } else {
        c->isr |= bit;
    }
    return (unsigned)n;
}

int i8259_ack(PicState *s)
{
    unsigned n = chip_ack(&s->chip[0], true);
    int vector;
    if (n == PIC_CASCADE_IRQ && cascaded(s)) {
        unsigned m = chip_ack(&s->chip[1], false);
        vector = s->chip[1].vector_base + m;
    } else {
        vector = s->chip[0].vector_base + n;
    }
    pic_update(s);
    return vector;
}

int i8259_ack_cb(void *opaque)
{
    return i8259_ack(opaque);
}

bool i8259_int_output(const PicState *s)
{
    return s->chip[0].int_out;
}

IrqLine *i8259_irq(PicState *s, unsigned n)
{
    return n < 16 ? &s->inputs[n] : NULL;
}

static uint8_t chip_poll(PicState *s, unsigned idx)
{
    PicChip *c = &s->chip[idx];
    c->poll = 0;
    if (chip_pending(c, idx == 0) < 0) {
        return 0;
    }
    unsigned n = chip_ack(c, idx == 0);
    pic_update(s);
    return 0x80 | n;
}

static void chip_eoi(PicChip *c, int irq, bool rotate)
{
    if (irq < 0) {
        return;
    }
    c->isr &= ~(1u << irq);
    if (rotate) {
        c->prio_base = (uint8_t)((irq + 1) & 7);
    }
}

static void chip_write_ocw2(PicChip *c, uint8_t v)
{
    unsigned level = v & 7;
    switch (v >> 5) {
    case 1: /* non-specific EOI */
        chip_eoi(c, chip_highest(c, c->isr), false);
        break;
    case 3: /* specific EOI */
        chip_eoi(c, (int)level, false);
        break;
    case 5: /* rotate on non-specific EOI */
        chip_eoi(c, chip_highest(c, c->isr), true);
        break;
    case 4: /* set rotate in automatic EOI mode */
        c->rotate_aeoi = 1;
        break;
    case 0: /* clear rotate in automatic EOI mode */
        c->rotate_aeoi = 0;
        break;
    case 7: /* rotate on specific EOI */
        chip_eoi(c, (int)level, true);
        break;
    case 6: /* set priority: level becomes the lowest */
        c->prio_base = (uint8_t)((level + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_write_icw1(PicChip *c, uint8_t v)
{
    c->init_step = 1;
    c->icw4_needed = v & 1;
    c->single = (v >> 1) & 1;
    c->ltim = (v >> 3) & 1;
    c->imr = 0;
    c->isr = 0;
    c->irr = 0;
    c->prio_base = 0;
    c->special_mask = 0;
    c->read_isr = 0;
    c->poll = 0;
    c->auto_eoi = 0;
    c->rotate_aeoi = 0;
    c->sfnm = 0;
    /* The edge-sense logic restarts: an input already high needs a new
     * rising edge; level-sensed inputs are seen at once. */
    chip_sync_levels(c);
}

static void pic_port_write(PicState *s, unsigned idx, uint64_t addr,
                           uint8_t v)
{
    PicChip *c = &s->chip[idx];

    if (addr == 0) {
        if (v & 0x10) {
            chip_write_icw1(c, v);
        } else if (v & 0x08) {
            /* OCW3 */
            if (v & 0x40) {
                c->special_mask = (v >> 5) & 1;
            }
            if (v & 0x04) {
                c->poll = 1;
            }
            if (v & 0x02) {
                c->read_isr = v & 1;
            }
        } else {
            chip_write_ocw2(c, v);
        }
    } else {
        switch (c->init_step) {
        case 1: /* ICW2 */
            c->vector_base = v & 0xf8;
            c->init_step = !c->single ? 2 : (c->icw4_needed ? 3 : 0);
            break;
        case 2: /* ICW3 */
            c->icw3 = v;
            c->init_step = c->icw4_needed ? 3 : 0;
            break;
        case 3: /* ICW4 */
            c->auto_eoi = (v >> 1) & 1;
            c->sfnm = (v >> 4) & 1;
            c->init_step = 0;
            break;
        default: /* OCW1 */
            c->imr = v;
            break;
        }
    }
    pic_update(s);
}

static uint8_t pic_port_read(PicState *s, unsigned idx, uint64_t addr)
{
    PicChip *c = &s->chip[idx];
    if (c->poll) {
        return chip_poll(s, idx);
    }
    if (addr == 0) {
        return c->read_isr ? c->isr : c->irr;
    }
    return c->imr;
}

static uint64_t master_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_port_read(opaque, 0, addr & 1);
}

static void master_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    pic_port_write(opaque, 0, addr & 1, (uint8_t)v);
}

static uint64_t slave_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_port_read(opaque, 1, addr & 1);
}

static void slave_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    pic_port_write(opaque, 1, addr & 1, (uint8_t)v);
}

static uint64_t elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    PicState *s = opaque;
    return s->chip[addr & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    PicState *s = opaque;
    PicChip *c = &s->chip[addr & 1];
    c->elcr = (uint8_t)v & elcr_writable[addr & 1];
    chip_sync_levels(c);
    pic_update(s);
}

static const MemoryRegionOps master_ops = {
    .read = master_read, .write = master_write,
    .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps slave_ops = {
    .read = slave_read, .write = slave_write,
    .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps elcr_ops = {
    .read = elcr_read, .write = elcr_write,
    .min_access = 1, .max_access = 1,
};

static void pic_reset(Device *dev)
{
    PicState *s = (PicState *)dev;
    for (unsigned i = 0; i < 2; i++) {
        PicChip *c = &s->chip[i];
        uint8_t level = c->level;
        memset(c, 0, sizeof(*c));
        c->level = level; /* the wires keep their levels */
        c->imr = 0xff;    /* nothing is delivered until the guest programs it */
    }
    s->chip[0].int_out = 0;
    irq_set(&s->out, 0);
    pic_update(s);
}

static bool pic_realize(Device *dev, GError **errp)
{
    PicState *s = (PicState *)dev;
    Machine *m = dev->machine;

    for (int i = 0; i < 16; i++) {
        irq_connect(&s->inputs[i], pic_set_irq, s, i);
    }
    memory_region_init_io(&s->io_master, "pic-master", &master_ops, s, 2);
    memory_region_init_io(&s->io_slave, "pic-slave", &slave_ops, s, 2);
    memory_region_init_io(&s->io_elcr, "pic-elcr", &elcr_ops, s, 2);
    if (!address_space_map(&m->io, &s->io_master, PIC_MASTER_PORT, 0) ||
        !address_space_map(&m->io, &s->io_slave, PIC_SLAVE_PORT, 0) ||
        !address_space_map(&m->io, &s->io_elcr, PIC_ELCR_PORT, 0)) {
        error_setg(errp, "i8259: cannot map I/O ports");
        return false;
    }
    return true;
}

static void pic_unrealize(Device *dev)
{
    PicState *s = (PicState *)dev;
    Machine *m = dev->machine;
    address_space_unmap(&m->io, &s->io_master);
    address_space_unmap(&m->io, &s->io_slave);
    address_space_unmap(&m->io, &s->io_elcr);
}

static bool pic_post_load(void *opaque, GError **errp)
{
    PicState *s = opaque;
    for (unsigned i = 0; i < 2; i++) {
        PicChip *c = &s->chip[i];
        c->elcr &= elcr_writable[i];
        c->vector_base &= 0xf8;
        c->prio_base &= 7;
        if (c->init_step > 3) {
            c->init_step = 0;
        }
    }
    irq_set(&s->out, s->chip[0].int_out);
    pic_update(s);
    return true;
}

static const VMStateField pic_chip_fields[] = {
    VMSTATE_U8(PicChip, irr),
    VMSTATE_U8(PicChip, isr),
    VMSTATE_U8(PicChip, imr),
    VMSTATE_U8(PicChip, level),
    VMSTATE_U8(PicChip, elcr),
    VMSTATE_U8(PicChip, vector_base),
    VMSTATE_U8(PicChip, icw3),
    VMSTATE_U8(PicChip, init_step),
    VMSTATE_U8(PicChip, icw4_needed),
    VMSTATE_U8(PicChip, single),
    VMSTATE_U8(PicChip, ltim),
    VMSTATE_U8(PicChip, auto_eoi),
    VMSTATE_U8(PicChip, rotate_aeoi),
    VMSTATE_U8(PicChip, sfnm),
    VMSTATE_U8(PicChip, special_mask),
    VMSTATE_U8(PicChip, read_isr),
    VMSTATE_U8(PicChip, poll),
    VMSTATE_U8(PicChip, prio_base),
    VMSTATE_U8(PicChip, int_out),
    VMSTATE_END,
};

static const VMStateDescription pic_chip_vmsd = {
    .name = "i8259-chip",
    .version = 1,
    .fields = pic_chip_fields,
};

static const VMStateField pic_fields[] = {
    VMSTATE_STRUCT_ARRAY(PicState, chip, &pic_chip_vmsd),
    VMSTATE_END,
};

static const VMStateDescription pic_vmsd = {
    .name = "i8259",
    .version = 1,
    .fields = pic_fields,
    .post_load = pic_post_load,
};

const DeviceClass i8259_device_class = {
    .name = "i8259",
    .description = "8259A master/slave interrupt controller pair with ELCR",
    .instance_size = sizeof(PicState),
    .user_creatable = false,
    .realize = pic_realize,
    .reset = pic_reset,
    .unrealize = pic_unrealize,
    .vmsd = &pic_vmsd,
};

PicState *i8259_init(Machine *m, const IrqLine *cpu_intr_out, GError **errp)
{
    Device *dev = device_new(&i8259_device_class, m, "pic");
    PicState *s = (PicState *)dev;
    if (cpu_intr_out) {
        s->out = *cpu_intr_out;
    }
    if (!machine_plug_device(m, dev, errp)) {
        return NULL;
    }
    return s;
}
