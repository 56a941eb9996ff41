/*
 * Intel 8042 keyboard controller as on PC/AT and PS/2 boards (the "keyboard
 * controller command" set of the IBM PS/2 and AT technical references):
 * data port 0x60, status/command port 0x64, the command byte (interrupt
 * enables, system flag, interface disables, translation), self test
 * (0xaa -> 0x55), interface tests, the output port (0xd1; bit 0 low holds the
 * CPU in reset, bit 1 is the A20 gate) and the reset pulse (0xfe, and any
 * 0xf0-0xfe with bit 0 clear) which ask the machine to reset.
 *
 * A PS/2 keyboard (hw/input/ps2.c) hangs off the keyboard port, on IRQ 1.
 * No device is attached to the auxiliary port (IRQ 12): the DSDT lists no
 * PS/2 mouse, so Linux leaves the port alone; bytes sent to it (0xd4) time
 * out with 0xfe and the status timeout bit.
 *
 * With translation on (command byte bit 6), bytes from the keyboard go
 * through the 8042's set 2 to set 1 table (hw/input/scancode.c): key codes
 * become set 1 codes, a 0xf0 break prefix is swallowed and sets bit 7 of the
 * next byte, replies pass unchanged (the identify byte 0x83 becomes 0x41).
 * Key events from the user (the monitor's sendkey) reach the keyboard
 * through Machine.kbd_event.
 */
#include "hw/input/i8042.h"

#include "core/error.h"
#include "hw/input/ps2.h"
#include "hw/input/scancode.h"
#include "hw/machine.h"

#define DATA_PORT 0x60
#define CMD_PORT 0x64
#define KBD_IRQ 1
#define AUX_IRQ 12

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08
#define STS_UNLOCKED 0x10
#define STS_AUX_OBF 0x20
#define STS_TIMEOUT 0x40

#define CTR_KBD_INT 0x01
#define CTR_AUX_INT 0x02
#define CTR_SYS 0x04
#define CTR_KBD_DISABLE 0x10
#define CTR_AUX_DISABLE 0x20
#define CTR_TRANSLATE 0x40

#define OUT_RESET_HIGH 0x01 /* 0 asserts the CPU reset line */
#define OUT_A20 0x02
#define OUT_KBD_OBF 0x10
#define OUT_AUX_OBF 0x20

#define CTL_QUEUE 8

typedef struct I8042State {
    Device parent;
    PS2Kbd kbd;
    uint8_t ctr;          /* command byte (RAM location 0) */
    uint8_t ram[32];      /* controller RAM 0x00-0x1f (0 mirrors ctr) */
    uint8_t outport;
    uint8_t out_byte;
    uint8_t obf;
    uint8_t out_aux;      /* the output buffer holds auxiliary data */
    uint8_t timeout;
    uint8_t last_cmd;     /* last write went to the command port */
    uint8_t pending;      /* command waiting for a data byte, or 0 */
    /* Controller replies, queued ahead of keyboard data. */
    uint8_t ctl_queue[CTL_QUEUE];
    uint8_t ctl_aux[CTL_QUEUE];
    uint8_t ctl_head;
    uint8_t ctl_count;
    uint8_t kbd_irq_level;
    uint8_t aux_irq_level;
    uint8_t xlate_break;  /* translation saw 0xf0: next byte is a break */

    MemoryRegion data_mr;
    MemoryRegion cmd_mr;
} I8042State;

static uint8_t translate(I8042State *s, uint8_t b)
{
    if (!(s->ctr & CTR_TRANSLATE)) {
        return b;
    }
    uint8_t out = scancode_set2_to_set1(b);
    if (s->xlate_break) {
        out |= 0x80;
        s->xlate_break = 0;
    }
    return out;
}

static void update_irq(I8042State *s)
{
    Machine *m = s->parent.machine;
    uint8_t kbd = s->obf && !s->out_aux && (s->ctr & CTR_KBD_INT);
    uint8_t aux = s->obf && s->out_aux && (s->ctr & CTR_AUX_INT);

    if (kbd != s->kbd_irq_level) {
        s->kbd_irq_level = kbd;
        irq_set(&m->gsi[KBD_IRQ], kbd);
    }
    if (aux != s->aux_irq_level) {
        s->aux_irq_level = aux;
        irq_set(&m->gsi[AUX_IRQ], aux);
    }
}

/* Load the output buffer if it is empty and something waits. */
static void fill(I8042State *s)
{
    uint8_t b;

    if (s->obf) {
        return;
    }
    if (s->ctl_count) {
        s->out_byte = s->ctl_queue[s->ctl_head];
        s->out_aux = s->ctl_aux[s->ctl_head];
        s->ctl_head = (s->ctl_head + 1) % CTL_QUEUE;
        s->ctl_count--;
        s->obf = 1;
    } else if (!(s->ctr & CTR_KBD_DISABLE)) {
        while (ps2_kbd_read(&s->kbd, &b)) {
            if ((s->ctr & CTR_TRANSLATE) && b == 0xf0) {
                s->xlate_break = 1;
                continue;
            }
            s->out_byte = translate(s, b);
            s->out_aux = 0;
            s->obf = 1;
            break;
        }
    }
    update_irq(s);
}

static void reply(I8042State *s, uint8_t b, bool aux)
{
    if (s->ctl_count < CTL_QUEUE) {
        unsigned i = (s->ctl_head + s->ctl_count) % CTL_QUEUE;

        s->ctl_queue[i] = b;
        s->ctl_aux[i] = aux;
        s->ctl_count++;
    }
    fill(s);
}

static void kbd_notify(void *opaque)
{
    fill(opaque);
}

static void write_outport(I8042State *s, uint8_t v)
{
    s->outport = v;
    if (!(v & OUT_RESET_HIGH)) {
        machine_request(s->parent.machine, MACHINE_REQ_RESET);
    }
}

static void command(I8042State *s, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd < 0x40) {
        reply(s, (cmd & 0x1f) ? s->ram[cmd & 0x1f] : s->ctr, false);
        return;
    }
    if (cmd >= 0x60 && cmd < 0x80) {
        s->pending = cmd;
        return;
    }
    if (cmd >= 0xf0) {
        /* Pulse output port bits 0-3 low for each clear bit in the command. */
        if (!(cmd & 0x01)) {
            machine_request(s->parent.machine, MACHINE_REQ_RESET);
        }
        return;
    }
    switch (cmd) {
    case 0xa7:
        s->ctr |= CTR_AUX_DISABLE;
        break;
    case 0xa8:
        s->ctr &= (uint8_t)~CTR_AUX_DISABLE;
        break;
    case 0xa9: /* auxiliary interface test */
    case 0xab: /* keyboard interface test */
        reply(s, 0x00, false);
        break;
    case 0xaa: /* controller self test */
        s->ctr |= CTR_SYS;
        reply(s, 0x55, false);
        break;
    case 0xad:
        s->ctr |= CTR_KBD_DISABLE;
        break;
    case 0xae:
        s->ctr &= (uint8_t)~CTR_KBD_DISABLE;
        fill(s);
        break;
    case 0xc0: /* read input port: keyboard not inhibited */
        reply(s, 0x80, false);
        break;
    case 0xd0: {
        uint8_t v = s->outport & (uint8_t)~(OUT_KBD_OBF | OUT_AUX_OBF);

        if (s->obf) {
            v |= s->out_aux ? OUT_AUX_OBF : OUT_KBD_OBF;
        }
        reply(s, v, false);
        break;
    }
    case 0xd1:
    case 0xd2:
    case 0xd3:
    case 0xd4:
        s->pending = cmd;
        break;
    case 0xdd:
        s->outport &= (uint8_t)~OUT_A20;
        break;
    case 0xdf:
        s->outport |= OUT_A20;
        break;
    default:
        break; /* unknown commands are ignored */
    }
    update_irq(s);
}

static void data_for_command(I8042State *s, uint8_t cmd, uint8_t v)
{
    if (cmd >= 0x60 && cmd < 0x80) {
        if (cmd == 0x60) {
            s->ctr = v;
            fill(s);
        } else {
            s->ram[cmd & 0x1f] = v;
        }
        update_irq(s);
        return;
    }
    switch (cmd) {
    case 0xd1:
        write_outport(s, v);
        break;
    case 0xd2: /* as if from the keyboard */
        reply(s, v, false);
        break;
    case 0xd3: /* as if from the auxiliary device */
        reply(s, v, true);
        break;
    case 0xd4: /* to the auxiliary device: nobody answers */
        s->timeout = 1;
        reply(s, 0xfe, true);
        break;
    }
}

static uint64_t data_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;
    uint8_t v = s->out_byte;

    if (s->obf) {
        s->obf = 0;
        s->timeout = 0;
        update_irq(s); /* the line drops, so a refill makes a new edge */
        fill(s);
    }
    return v;
}

static void data_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    I8042State *s = opaque;
    uint8_t pending = s->pending;

    s->last_cmd = 0;
    s->pending = 0;
    if (pending) {
        data_for_command(s, pending, (uint8_t)value);
    } else {
        ps2_kbd_write(&s->kbd, (uint8_t)value);
    }
}

static uint64_t status_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;

    return (uint8_t)((s->obf ? STS_OBF : 0) |
                     (s->obf && s->out_aux ? STS_AUX_OBF : 0) |
                     (s->ctr & CTR_SYS ? STS_SYS : 0) |
                     (s->last_cmd ? STS_CMD : 0) | STS_UNLOCKED |
                     (s->timeout ? STS_TIMEOUT : 0));
}

static void cmd_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    I8042State *s = opaque;

    s->last_cmd = 1;
    s->pending = 0;
    command(s, (uint8_t)value);
}

static const MemoryRegionOps data_ops = {
    .read = data_read,
    .write = data_write,
    .min_access = 1,
    .max_access = 1,
};

static const MemoryRegionOps cmd_ops = {
    .read = status_read,
    .write = cmd_write,
    .min_access = 1,
    .max_access = 1,
};

static void i8042_reset(Device *d)
{
    I8042State *s = (I8042State *)d;

    ps2_kbd_reset(&s->kbd);
    s->ctr = CTR_TRANSLATE | CTR_SYS | CTR_KBD_INT | CTR_AUX_DISABLE;
    for (unsigned i = 0; i < sizeof(s->ram); i++) {
        s->ram[i] = 0;
    }
    s->outport = OUT_RESET_HIGH | OUT_A20;
    s->obf = 0;
    s->out_aux = 0;
    s->out_byte = 0;
    s->timeout = 0;
    s->last_cmd = 0;
    s->pending = 0;
    s->ctl_head = 0;
    s->ctl_count = 0;
    s->xlate_break = 0;
    update_irq(s);
}

static bool key_event(void *opaque, uint16_t key, bool down)
{
    I8042State *s = opaque;

    return ps2_kbd_key(&s->kbd, key, down);
}

static bool i8042_realize(Device *d, GError **errp)
{
    I8042State *s = (I8042State *)d;
    Machine *m = d->machine;

    ps2_kbd_init(&s->kbd, kbd_notify, s);
    m->kbd_event = key_event;
    m->kbd_opaque = s;
    memory_region_init_io(&s->data_mr, "i8042-data", &data_ops, s, 1);
    memory_region_init_io(&s->cmd_mr, "i8042-cmd", &cmd_ops, s, 1);
    if (!address_space_map(&m->io, &s->data_mr, DATA_PORT, 0)) {
        error_setg(errp, "i8042: cannot map port 0x60");
        return false;
    }
    if (!address_space_map(&m->io, &s->cmd_mr, CMD_PORT, 0)) {
        address_space_unmap(&m->io, &s->data_mr);
        error_setg(errp, "i8042: cannot map port 0x64");
        return false;
    }
    i8042_reset(d);
    return true;
}

static void i8042_unrealize(Device *d)
{
    I8042State *s = (I8042State *)d;

    address_space_unmap(&d->machine->io, &s->data_mr);
    address_space_unmap(&d->machine->io, &s->cmd_mr);
    if (d->machine->kbd_opaque == s) {
        d->machine->kbd_event = NULL;
        d->machine->kbd_opaque = NULL;
    }
}

static bool i8042_post_load(void *opaque, GError **errp)
{
    I8042State *s = opaque;
    Machine *m = s->parent.machine;

    if (s->ctl_head >= CTL_QUEUE || s->ctl_count > CTL_QUEUE ||
        !ps2_kbd_post_load(&s->kbd)) {
        error_setg(errp, "i8042: corrupt queue state");
        return false;
    }
    s->kbd_irq_level = s->obf && !s->out_aux && (s->ctr & CTR_KBD_INT);
    s->aux_irq_level = s->obf && s->out_aux && (s->ctr & CTR_AUX_INT);
    irq_set(&m->gsi[KBD_IRQ], s->kbd_irq_level);
    irq_set(&m->gsi[AUX_IRQ], s->aux_irq_level);
    return true;
}

static const VMStateField i8042_fields[] = {
    { .name = "kbd", .type = VMS_STRUCT, .offset = offsetof(I8042State, kbd),
      .size = sizeof(PS2Kbd), .count = 1, .sub = &vmstate_ps2_kbd },
    VMSTATE_U8(I8042State, ctr),
    VMSTATE_U8_ARRAY(I8042State, ram),
    VMSTATE_U8(I8042State, outport),
    VMSTATE_U8(I8042State, out_byte),
    VMSTATE_U8(I8042State, obf),
    VMSTATE_U8(I8042State, out_aux),
    VMSTATE_U8(I8042State, timeout),
    VMSTATE_U8(I8042State, last_cmd),
    VMSTATE_U8(I8042State, pending),
    VMSTATE_U8_ARRAY(I8042State, ctl_queue),
    VMSTATE_U8_ARRAY(I8042State, ctl_aux),
    VMSTATE_U8(I8042State, ctl_head),
    VMSTATE_U8(I8042State, ctl_count),
    VMSTATE_U8(I8042State, xlate_break),
    VMSTATE_END,
};

static const VMStateDescription i8042_vmsd = {
    .name = "i8042",
    .version = 2,
    .fields = i8042_fields,
    .post_load = i8042_post_load,
};

const DeviceClass i8042_class = {
    .name = "i8042",
    .description = "8042 keyboard controller with a PS/2 keyboard",
    .instance_size = sizeof(I8042State),
    .realize = i8042_realize,
    .unrealize = i8042_unrealize,
    .reset = i8042_reset,
    .vmsd = &i8042_vmsd,
};
