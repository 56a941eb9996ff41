/*
 * 16550A UART ("isa-serial"), after the NS16550A / TI TL16C550 data sheets:
 * receiver and transmitter holding registers with 16-byte FIFOs (FCR),
 * divisor latch behind LCR.DLAB, interrupt enable/identification with the
 * data sheet's priorities (line status > received data or character timeout
 * > transmitter empty > modem status), line status, modem control with the
 * loopback mode that wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD, and the
 * scratch register.
 *
 * Transmission is instantaneous: a byte written to THR goes to the chardev
 * at once, so THRE and TEMT stay set and the THRE interrupt is raised again
 * right after the write.  The receiver's character timeout (FIFO mode, fewer
 * bytes than the trigger level) is reported as soon as data waits, because
 * chardevs deliver input in bursts and waiting four character times would
 * only add latency.  The interrupt output is not gated by MCR.OUT2 (as in
 * QEMU, whose guests some test kernels are written for).
 *
 * COM1-4 default to the classic 0x3f8/4, 0x2f8/3, 0x3e8/4, 0x2e8/3.
 */
#include "hw/char/serial.h"

#include <string.h>

#include "chardev/chardev.h"
#include "core/error.h"
#include "hw/machine.h"

#define FIFO_SIZE 16

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_FIFO 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA 0x08
#define FCR_TRIGGER 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_FIFO_ERR 0x80
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f

/* With no loopback, the far end of the line looks present and ready. */
#define MSR_LINE_READY (MSR_CTS | MSR_DSR | MSR_DCD)

#define INDEX_AUTO 0xff

static const uint16_t com_iobase[SERIAL_MAX_PORTS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t com_irq[SERIAL_MAX_PORTS] = { 4, 3, 4, 3 };
static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

uint16_t serial_isa_default_iobase(unsigned index)
{
    return index < SERIAL_MAX_PORTS ? com_iobase[index] : 0;
}

uint8_t serial_isa_default_irq(unsigned index)
{
    return index < SERIAL_MAX_PORTS ? com_irq[index] : 0;
}

typedef struct SerialState {
    Device parent;
    /* properties */
    uint8_t index;
    uint16_t iobase;
    uint8_t irq;
    char *chardev_id;

    /* registers */
    uint16_t divisor;
    uint8_t ier;
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr;
    uint8_t msr;
    uint8_t scr;
    uint8_t fcr;
    uint8_t thr_ipending; /* THRE interrupt latched, cleared by IIR read */
    uint8_t rx_fifo[FIFO_SIZE];
    uint8_t rx_head;
    uint8_t rx_count;
    uint8_t irq_level;

    MemoryRegion io;
    Chardev *chr;
} SerialState;

static bool fifo_on(const SerialState *s)
{
    return s->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const SerialState *s)
{
    return fifo_on(s) ? FIFO_SIZE : 1;
}

/* Interrupt identification, highest priority first. */
static uint8_t compute_iir(const SerialState *s)
{
    uint8_t fifo_bits = fifo_on(s) ? IIR_FIFO : 0;

    if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS)) {
        return fifo_bits | IIR_RLSI;
    }
    if ((s->ier & IER_RDI) && s->rx_count) {
        if (!fifo_on(s) || s->rx_count >= rx_trigger[s->fcr >> 6]) {
            return fifo_bits | IIR_RDI;
        }
        return fifo_bits | IIR_CTI;
    }
    if ((s->ier & IER_THRI) && s->thr_ipending) {
        return fifo_bits | IIR_THRI;
    }
    if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS)) {
        return fifo_bits | IIR_MSI;
    }
    return fifo_bits | IIR_NO_INT;
}

static void update_irq(SerialState *s)
{
    uint8_t level = !(compute_iir(s) & IIR_NO_INT);
    Machine *m = s->parent.machine;

    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(&m->gsi[s->irq], level);
    }
}

static void rx_clear(SerialState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->lsr &= (uint8_t)~(LSR_DR | LSR_FIFO_ERR);
}

static void rx_push(SerialState *s, uint8_t byte)
{
    if (s->rx_count >= rx_capacity(s)) {
        s->lsr |= LSR_OE; /* the byte is lost */
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % FIFO_SIZE] = byte;
    s->rx_count++;
    s->lsr |= LSR_DR;
}

static uint8_t rx_pop(SerialState *s)
{
    uint8_t byte;

    if (!s->rx_count) {
        return 0;
    }
    byte = s->rx_fifo[s->rx_head];
    s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
    s->rx_count--;
    if (!s->rx_count) {
        s->lsr &= (uint8_t)~(LSR_DR | LSR_FIFO_ERR);
    }
    return byte;
}

/* Modem status inputs: looped back from MCR, or the far end of the line. */
static void update_msr(SerialState *s)
{
    uint8_t in, old = s->msr, delta = 0;

    if (s->mcr & MCR_LOOP) {
        in = (uint8_t)(((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
                       ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
                       ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
                       ((s->mcr & MCR_OUT2) ? MSR_DCD : 0));
    } else {
        in = MSR_LINE_READY;
    }
    if ((old ^ in) & MSR_CTS) {
        delta |= MSR_DCTS;
    }
    if ((old ^ in) & MSR_DSR) {
        delta |= MSR_DDSR;
    }
    if ((old ^ in) & MSR_DCD) {
        delta |= MSR_DDCD;
    }
    if ((old & MSR_RI) && !(in & MSR_RI)) {
        delta |= MSR_TERI; /* trailing edge of ring indicator */
    }
    s->msr = (uint8_t)(in | (old & MSR_DELTAS) | delta);
}

static void transmit(SerialState *s, uint8_t byte)
{
    if (s->mcr & MCR_LOOP) {
        rx_push(s, byte);
    } else if (s->chr) {
        chardev_write(s->chr, &byte, 1);
    }
    /* The shift register empties at once: THR is free again. */
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_ipending = 1;
}

static uint64_t serial_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = 0xff;
    bool was_full;

    switch (addr) {
    case 0:
        if (s->lcr & LCR_DLAB) {
            v = (uint8_t)s->divisor;
            break;
        }
        was_full = s->rx_count >= rx_capacity(s);
        v = rx_pop(s);
        if (was_full && s->chr && !(s->mcr & MCR_LOOP)) {
            chardev_accept_input(s->chr);
        }
        break;
    case 1:
        v = (s->lcr & LCR_DLAB) ? (uint8_t)(s->divisor >> 8) : s->ier;
        break;
    case 2:
        v = compute_iir(s);
        if ((v & 0x0f) == IIR_THRI) {
            s->thr_ipending = 0;
        }
        break;
    case 3:
        v = s->lcr;
        break;
    case 4:
        v = s->mcr;
        break;
    case 5:
        v = s->lsr;
        s->lsr &= (uint8_t)~(LSR_ERRORS | LSR_FIFO_ERR);
        break;
    case 6:
        v = s->msr;
        s->msr &= (uint8_t)~MSR_DELTAS;
        break;
    case 7:
        v = s->scr;
        break;
    }
    update_irq(s);
    return v;
}

static void write_fcr(SerialState *s, uint8_t v)
{
    bool was_on = fifo_on(s);

    if (!(v & FCR_ENABLE)) {
        s->fcr = 0;
    } else {
        s->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
    }
    if (was_on != fifo_on(s) || (v & FCR_CLEAR_RX)) {
        rx_clear(s);
    }
    /* The transmit FIFO is always empty: nothing to clear there. */
    if (s->chr) {
        chardev_accept_input(s->chr);
    }
}

static void serial_write(void *opaque, uint64_t addr, uint64_t value,
                         unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = (uint8_t)value;
    uint8_t old;

    switch (addr) {
    case 0:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
        } else {
            transmit(s, v);
        }
        break;
    case 1:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0x00ff) | (v << 8));
            break;
        }
        old = s->ier;
        s->ier = v & 0x0f;
        /* Enabling THRE interrupts while THR is empty raises one. */
        if ((s->ier & IER_THRI) && !(old & IER_THRI) && (s->lsr & LSR_THRE)) {
            s->thr_ipending = 1;
        }
        break;
    case 2:
        write_fcr(s, v);
        break;
    case 3:
        s->lcr = v;
        break;
    case 4:
        old = s->mcr;
        s->mcr = v & 0x1f;
        if ((old ^ s->mcr) & MCR_LOOP && s->chr) {
            chardev_accept_input(s->chr);
        }
        update_msr(s);
        break;
    case 5:
    case 6:
        break; /* LSR and MSR are read-only here (factory test only) */
    case 7:
        s->scr = v;
        break;
    }
    update_irq(s);
}

static const MemoryRegionOps serial_ops = {
    .read = serial_read,
    .write = serial_write,
    .min_access = 1,
    .max_access = 1,
};

/* ---- chardev frontend ---- */

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;

    if (s->mcr & MCR_LOOP) {
        return 0; /* the receiver listens to the transmitter only */
    }
    return (int)(rx_capacity(s) - s->rx_count);
}

static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    SerialState *s = opaque;

    if (s->mcr & MCR_LOOP) {
        return;
    }
    for (int i = 0; i < len; i++) {
        rx_push(s, buf[i]);
    }
    update_irq(s);
}

static void serial_event(void *opaque, ChardevEvent event)
{
    SerialState *s = opaque;

    if (event == CHR_EVENT_BREAK && !(s->mcr & MCR_LOOP)) {
        rx_push(s, 0);
        s->lsr |= LSR_BI | LSR_FIFO_ERR;
        update_irq(s);
    }
}

/* ---- device ---- */

static void serial_reset(Device *d)
{
    SerialState *s = (SerialState *)d;

    s->divisor = 12; /* 9600 baud */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr = LSR_THRE | LSR_TEMT;
    s->msr = MSR_LINE_READY;
    s->scr = 0;
    s->fcr = 0;
    s->thr_ipending = 0;
    rx_clear(s);
    update_irq(s);
}

static Chardev *find_chardev(Machine *m, const char *id)
{
    for (unsigned i = 0; i < MACHINE_MAX_SERIAL; i++) {
        if (m->serial[i] && strcmp(chardev_id(m->serial[i]), id) == 0) {
            return m->serial[i];
        }
    }
    return NULL;
}

static bool port_free(Machine *m, uint16_t base)
{
    const FlatView *v = address_space_view(&m->io);

    if (!v) {
        return true;
    }
    for (unsigned i = 0; i < 8; i++) {
        if (flatview_lookup(v, base + i)) {
            return false;
        }
    }
    return true;
}

static bool serial_realize(Device *d, GError **errp)
{
    SerialState *s = (SerialState *)d;
    Machine *m = d->machine;
    ChardevFrontend fe = {
        .can_receive = serial_can_receive,
        .receive = serial_receive,
        .event = serial_event,
        .opaque = s,
    };

    if (s->index == INDEX_AUTO) {
        for (unsigned i = 0; i < SERIAL_MAX_PORTS; i++) {
            if (port_free(m, s->iobase ? s->iobase : com_iobase[i])) {
                s->index = (uint8_t)i;
                break;
            }
        }
        if (s->index == INDEX_AUTO) {
            error_setg(errp, "isa-serial: all four COM ports are in use");
            return false;
        }
    }
    if (s->index >= SERIAL_MAX_PORTS) {
        error_setg(errp, "isa-serial: index must be 0..3, not %u", s->index);
        return false;
    }
    if (!s->iobase) {
        s->iobase = com_iobase[s->index];
    }
    if (!s->irq) {
        s->irq = com_irq[s->index];
    }
    if (s->irq >= 16) {
        error_setg(errp, "isa-serial: irq must be an ISA IRQ 1..15, not %u", s->irq);
        return false;
    }
    if (s->iobase > 0xfff8) {
        error_setg(errp, "isa-serial: iobase 0x%x is out of range", s->iobase);
        return false;
    }
    if (!port_free(m, s->iobase)) {
        error_setg(errp, "isa-serial: I/O ports 0x%x-0x%x are already in use",
                   s->iobase, s->iobase + 7);
        return false;
    }
    if (s->chardev_id) {
        s->chr = find_chardev(m, s->chardev_id);
        if (!s->chr) {
            error_setg(errp, "isa-serial: no chardev '%s'", s->chardev_id);
            return false;
        }
    } else {
        s->chr = m->serial[s->index];
    }
    if (s->chr && !chardev_attach(s->chr, &fe, errp)) {
        return false;
    }

    memory_region_init_io(&s->io, "serial", &serial_ops, s, 8);
    if (!address_space_map(&m->io, &s->io, s->iobase, 0)) {
        error_setg(errp, "isa-serial: cannot map ports at 0x%x", s->iobase);
        return false;
    }
    serial_reset(d);
    return true;
}

static void serial_unrealize(Device *d)
{
    SerialState *s = (SerialState *)d;

    address_space_unmap(&d->machine->io, &s->io);
    if (s->chr) {
        chardev_detach(s->chr, s);
    }
    if (s->irq_level) {
        irq_set(&d->machine->gsi[s->irq], 0);
    }
}

static bool serial_post_load(void *opaque, GError **errp)
{
    SerialState *s = opaque;

    if (s->rx_head >= FIFO_SIZE || s->rx_count > FIFO_SIZE) {
        error_setg(errp, "isa-serial: corrupt FIFO state");
        return false;
    }
    /* Drive the line to what the loaded registers say. */
    s->irq_level = !(compute_iir(s) & IIR_NO_INT);
    irq_set(&s->parent.machine->gsi[s->irq], s->irq_level);
    return true;
}

static const VMStateField serial_fields[] = {
    VMSTATE_U16(SerialState, divisor),
    VMSTATE_U8(SerialState, ier),
    VMSTATE_U8(SerialState, lcr),
    VMSTATE_U8(SerialState, mcr),
    VMSTATE_U8(SerialState, lsr),
    VMSTATE_U8(SerialState, msr),
    VMSTATE_U8(SerialState, scr),
    VMSTATE_U8(SerialState, fcr),
    VMSTATE_U8(SerialState, thr_ipending),
    VMSTATE_U8_ARRAY(SerialState, rx_fifo),
    VMSTATE_U8(SerialState, rx_head),
    VMSTATE_U8(SerialState, rx_count),
    VMSTATE_U8(SerialState, irq_level),
    VMSTATE_END,
};

static const VMStateDescription serial_vmsd = {
    .name = "isa-serial",
    .version = 1,
    .fields = serial_fields,
    .post_load = serial_post_load,
};

static const Property serial_props[] = {
    DEFINE_PROP_U8(SerialState, "index", index, "255",
                   "COM port number 0-3 (default: the first free one)"),
    DEFINE_PROP_U16(SerialState, "iobase", iobase, "0",
                    "I/O base (default: 0x3f8, 0x2f8, 0x3e8, 0x2e8 by index)"),
    DEFINE_PROP_U8(SerialState, "irq", irq, "0",
                   "ISA IRQ (default: 4, 3, 4, 3 by index)"),
    DEFINE_PROP_STRING(SerialState, "chardev", chardev_id, NULL,
                       "chardev id (default: the -serial backend of this index)"),
    DEFINE_PROP_END,
};

const DeviceClass serial_isa_class = {
    .name = "isa-serial",
    .description = "16550A UART on the ISA bus",
    .instance_size = sizeof(SerialState),
    .props = serial_props,
    .user_creatable = true,
    .realize = serial_realize,
    .unrealize = serial_unrealize,
    .reset = serial_reset,
    .vmsd = &serial_vmsd,
};
