/*
 * Intel 82371SB (PIIX3) PCI-to-ISA bridge, function 01.0 (82371FB/SB PIIX
 * and PIIX3 datasheet): 8086:7000, a multi-function device; PIRQ route
 * control registers 0x60-0x63 (bit 7 disables routing, bits 3:0 pick ISA
 * IRQ 3-7, 9-12, 14 or 15) and the reset control register at port 0xcf9:
 * writing bit 2 (RCPU) resets the machine.  A soft reset (bit 1 clear) is
 * treated as a hard one here, since the machine has no INIT-only reset
 * path.  The edge/level control
 * registers (ELCR, ports 0x4d0/0x4d1) are the PIIX3's too, but they only
 * matter to the 8259 pair, so the 8259 model (hw/intc/i8259.c, or KVM's
 * in-kernel one) owns them.
 */
#include "hw/pci/i440fx.h"

#include <string.h>

#include "core/error.h"
#include "hw/machine.h"

#define PIIX3_PIRQRC 0x60
#define PIRQ_DISABLE 0x80

#define RCR_SRST 0x02 /* system (hard) reset */
#define RCR_RCPU 0x04 /* reset now */
#define RCR_FULL 0x08 /* full reset: power cycle */

/* ISA IRQs a PIRQ may be routed to (datasheet: 0,1,2,8,13 reserved). */
#define PIRQ_VALID_IRQS 0xdef8u

typedef struct Piix3State {
    PCIDevice pci;
    uint8_t rcr;
} Piix3State;

static int pirq_target(uint8_t route)
{
    unsigned irq = route & 0x0f;

    if (route & PIRQ_DISABLE || !(PIRQ_VALID_IRQS & (1u << irq))) {
        return -1;
    }
    return (int)irq;
}

static void update_pirq_routes(Piix3State *s)
{
    for (unsigned i = 0; i < PCI_NUM_PIRQ; i++) {
        pci_bus_set_pirq_route(s->pci.bus, i,
                               pirq_target(s->pci.config[PIIX3_PIRQRC + i]));
    }
}

static void piix3_config_write(PCIDevice *dev, uint32_t addr, uint32_t value,
                               unsigned size)
{
    if (addr < PIIX3_PIRQRC + PCI_NUM_PIRQ && addr + size > PIIX3_PIRQRC) {
        update_pirq_routes((Piix3State *)dev);
    }
}

static uint8_t rcr_read(void *opaque)
{
    Piix3State *s = opaque;

    return s->rcr;
}

static void rcr_write(void *opaque, uint8_t value)
{
    Piix3State *s = opaque;

    s->rcr = value & (RCR_SRST | RCR_FULL);
    if (value & RCR_RCPU) {
        machine_request(s->pci.parent.machine, MACHINE_REQ_RESET);
    }
}

static void piix3_reset(Device *d)
{
    Piix3State *s = (Piix3State *)d;
    uint8_t *c = s->pci.config;

    pci_device_reset(&s->pci);
    memset(c + 0x40, 0, PCI_CONFIG_SPACE_SIZE - 0x40);
    pci_set_word(c + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(c + PCI_STATUS, 0x0200); /* medium DEVSEL timing */
    c[0x4c] = 0x4d; /* ISA I/O recovery timer */
    c[0x4e] = 0x03; /* X-bus chip select: BIOS, keyboard controller */
    for (unsigned i = 0; i < PCI_NUM_PIRQ; i++) {
        c[PIIX3_PIRQRC + i] = PIRQ_DISABLE;
    }
    c[0x69] = 0x02; /* top of memory */
    c[0x70] = 0x80; /* motherboard IRQ routing 0: disabled */
    c[0x76] = 0x0c; /* DMA channel config */
    c[0x77] = 0x0c;
    c[0x78] = 0x02;
    c[0xa0] = 0x08; /* SMI control */
    c[0xa8] = 0x0f;
    s->rcr = 0;
    update_pirq_routes(s);
}

static bool piix3_realize(Device *d, GError **errp)
{
    Piix3State *s = (Piix3State *)d;
    Machine *m = d->machine;

    pci_config_set_ids(&s->pci, 0x8086, 0x7000, 0x00, 0x060100);
    s->pci.config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
    if (!pci_device_register(&s->pci, m->pci, PCI_DEVFN(1, 0), errp)) {
        return false;
    }
    /* The device-specific registers are plain storage, except PIRQRC. */
    for (unsigned a = 0x40; a < PCI_CONFIG_SPACE_SIZE; a++) {
        s->pci.wmask[a] = 0xff;
    }
    for (unsigned i = 0; i < PCI_NUM_PIRQ; i++) {
        s->pci.wmask[PIIX3_PIRQRC + i] = 0x8f;
    }
    s->pci.config_write = piix3_config_write;

    pci_bus_set_cf9_handler(m->pci, rcr_read, rcr_write, s);
    piix3_reset(d);
    return true;
}

static void piix3_unrealize(Device *d)
{
    Piix3State *s = (Piix3State *)d;

    pci_bus_set_cf9_handler(s->pci.bus, NULL, NULL, NULL);
    pci_device_unregister(&s->pci);
}

static bool piix3_post_load(void *opaque, GError **errp)
{
    Piix3State *s = opaque;

    update_pirq_routes(s);
    return pci_device_post_load(&s->pci, errp);
}

static const VMStateField piix3_fields[] = {
    VMSTATE_PCI_DEVICE(Piix3State, pci),
    VMSTATE_U8(Piix3State, rcr),
    VMSTATE_END,
};

static const VMStateDescription piix3_vmsd = {
    .name = "piix3",
    .version = 2,
    .fields = piix3_fields,
    .post_load = piix3_post_load,
};

const DeviceClass piix3_class = {
    .name = "piix3",
    .description = "Intel 82371SB PCI-to-ISA bridge (PCI 01.0)",
    .instance_size = sizeof(Piix3State),
    .realize = piix3_realize,
    .unrealize = piix3_unrealize,
    .reset = piix3_reset,
    .vmsd = &piix3_vmsd,
};
