/*
 * Intel 82093AA I/O APIC, as found at 0xfec00000 on the PC: IOREGSEL at
 * offset 0x00, IOWIN at 0x10, and (version 0x20 parts, as in the PIIX3-era
 * chipsets Linux expects) an EOI register at 0x40.  Registers behind the
 * window: IOAPICID (0x00), IOAPICVER (0x01: version 0x20, 24 entries),
 * IOAPICARB (0x02) and the 64-bit redirection table entries (0x10-0x3f).
 *
 * Follows the 82093AA data sheet: an edge on an unmasked pin sends one
 * message; a masked edge is lost.  A level-triggered pin sends a message
 * while asserted and sets Remote IRR; the LAPIC's EOI for that vector (bus
 * broadcast, or a write to the EOI register) clears Remote IRR, and a pin
 * still asserted then sends again.  Delivery status always reads idle: the
 * bus accepts messages at once.
 */
#include "core/error.h"
#include "core/memory.h"
#include "hw/intc/ioapic.h"
#include "hw/machine.h"

#define IOAPIC_VERSION 0x20
#define IOAPIC_REG_SELECT 0x00
#define IOAPIC_REG_WINDOW 0x10
#define IOAPIC_REG_EOI 0x40

#define RTE_VECTOR(e) ((uint8_t)((e) & 0xff))
#define RTE_DM(e) ((uint8_t)(((e) >> 8) & 7))
#define RTE_LOGICAL (1ULL << 11)
#define RTE_REMOTE_IRR (1ULL << 14)
#define RTE_LEVEL (1ULL << 15)
#define RTE_MASKED (1ULL << 16)
#define RTE_DEST(e) ((uint32_t)((e) >> 56))
/* vector, delivery mode, destination mode, polarity, trigger, mask, dest */
#define RTE_WRITABLE 0xff0000000001afffULL

struct IoapicState {
    Device parent;
    ApicBus *bus;
    MemoryRegion mmio;
    IrqLine inputs[IOAPIC_NR_PINS];

    uint8_t id_prop;  /* "id" property: the ID after reset */
    uint32_t id;      /* IOAPICID bits 27:24 */
    uint32_t ioregsel;
    uint32_t irr;     /* asserted input pins */
    uint64_t redtbl[IOAPIC_NR_PINS];
};

static void ioapic_send(IoapicState *s, unsigned pin)
{
    uint64_t e = s->redtbl[pin];
    uint8_t dm = RTE_DM(e);
    bool level = (e & RTE_LEVEL) &&
                 (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
    ApicMessage msg = {
        .dest = RTE_DEST(e),
        .logical = (e & RTE_LOGICAL) != 0,
        .mode = dm,
        .vector = RTE_VECTOR(e),
        .level = level,
    };
    if (level) {
        s->redtbl[pin] |= RTE_REMOTE_IRR;
    }
    if (s->bus) {
        apic_bus_deliver(s->bus, &msg);
    }
}

/* A level-triggered pin: send if asserted, unmasked and not in service. */
static void ioapic_service_level(IoapicState *s, unsigned pin)
{
    uint64_t e = s->redtbl[pin];
    if ((s->irr >> pin & 1) && !(e & RTE_MASKED) && !(e & RTE_REMOTE_IRR)) {
        ioapic_send(s, pin);
    }
}

static void ioapic_set_irq(void *opaque, int n, int level)
{
    IoapicState *s = opaque;
    if (n < 0 || n >= IOAPIC_NR_PINS) {
        return;
    }
    unsigned pin = (unsigned)n;
    uint32_t bit = 1u << pin;
    bool was = s->irr & bit;
    uint64_t e = s->redtbl[pin];

    s->irr = level ? (s->irr | bit) : (s->irr & ~bit);
    if (e & RTE_LEVEL) {
        ioapic_service_level(s, pin);
    } else if (level && !was && !(e & RTE_MASKED)) {
        ioapic_send(s, pin);
    }
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
    IoapicState *s = opaque;
    for (unsigned pin = 0; pin < IOAPIC_NR_PINS; pin++) {
        uint64_t e = s->redtbl[pin];
        if ((e & RTE_LEVEL) && (e & RTE_REMOTE_IRR) &&
            RTE_VECTOR(e) == vector) {
            s->redtbl[pin] &= ~RTE_REMOTE_IRR;
            ioapic_service_level(s, pin);
        }
    }
}

static uint32_t ioapic_reg_read(IoapicState *s)
{
    uint32_t reg = s->ioregsel;
    switch (reg) {
    case 0x00:
        return s->id;
    case 0x01:
        return ((IOAPIC_NR_PINS - 1) << 16) | IOAPIC_VERSION;
    case 0x02:
        return s->id; /* arbitration ID: same as the ID */
    default:
        break;
    }
    if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_NR_PINS) {
        uint64_t e = s->redtbl[(reg - 0x10) / 2];
        return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void ioapic_reg_write(IoapicState *s, uint32_t v)
{
    uint32_t reg = s->ioregsel;
    if (reg == 0x00) {
        s->id = v & 0x0f000000u;
        return;
    }
    if (reg < 0x10 || reg >= 0x10 + 2 * IOAPIC_NR_PINS) {
        return; /* version, arbitration and reserved registers are RO */
    }
    unsigned pin = (reg - 0x10) / 2;
    uint64_t e = s->redtbl[pin];
    uint64_t ro = e & ~RTE_WRITABLE;
    uint64_t nv;
    if (reg & 1) {
        nv = ((uint64_t)v << 32) | (e & 0xffffffffULL);
    } else {
        nv = (e & 0xffffffff00000000ULL) | v;
    }
    nv = (nv & RTE_WRITABLE) | ro;
    if (!(nv & RTE_LEVEL)) {
        nv &= ~RTE_REMOTE_IRR; /* switching to edge clears Remote IRR */
    }
    s->redtbl[pin] = nv;
    if (nv & RTE_LEVEL) {
        ioapic_service_level(s, pin);
    }
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    IoapicState *s = opaque;
    switch (addr) {
    case IOAPIC_REG_SELECT:
        return s->ioregsel;
    case IOAPIC_REG_WINDOW:
        return ioapic_reg_read(s);
    default:
        return 0;
    }
}

static void ioapic_mmio_write(void *opaque, uint64_t addr, uint64_t val,
                              unsigned size)
{
    IoapicState *s = opaque;
    switch (addr) {
    case IOAPIC_REG_SELECT:
        s->ioregsel = val & 0xff;
        break;
    case IOAPIC_REG_WINDOW:
        ioapic_reg_write(s, (uint32_t)val);
        break;
    case IOAPIC_REG_EOI:
        ioapic_eoi(s, (uint8_t)val);
        break;
    default:
        break;
    }
}

static const MemoryRegionOps ioapic_ops = {
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
    .min_access = 4,
    .max_access = 4,
};

static void ioapic_reset(Device *dev)
{
    IoapicState *s = (IoapicState *)dev;
    s->id = (uint32_t)(s->id_prop & 0xf) << 24;
    s->ioregsel = 0;
    for (unsigned i = 0; i < IOAPIC_NR_PINS; i++) {
        s->redtbl[i] = RTE_MASKED;
    }
}

static bool ioapic_realize(Device *dev, GError **errp)
{
    IoapicState *s = (IoapicState *)dev;
    Machine *m = dev->machine;
    for (int i = 0; i < IOAPIC_NR_PINS; i++) {
        irq_connect(&s->inputs[i], ioapic_set_irq, s, i);
    }
    memory_region_init_io(&s->mmio, "ioapic", &ioapic_ops, s, 0x1000);
    if (!address_space_map(&m->mem, &s->mmio, IOAPIC_DEFAULT_ADDRESS, 1)) {
        error_setg(errp, "ioapic: cannot map at 0x%llx",
                   (unsigned long long)IOAPIC_DEFAULT_ADDRESS);
        return false;
    }
    return true;
}

static void ioapic_unrealize(Device *dev)
{
    IoapicState *s = (IoapicState *)dev;
    address_space_unmap(&dev->machine->mem, &s->mmio);
}

static bool ioapic_post_load(void *opaque, GError **errp)
{
    IoapicState *s = opaque;
    s->id &= 0x0f000000u;
    s->ioregsel &= 0xff;
    s->irr &= (1u << IOAPIC_NR_PINS) - 1;
    for (unsigned i = 0; i < IOAPIC_NR_PINS; i++) {
        s->redtbl[i] &= RTE_WRITABLE | RTE_REMOTE_IRR;
    }
    return true;
}

static const Property ioapic_props[] = {
    DEFINE_PROP_U8(IoapicState, "id", id_prop, "0", "IOAPIC ID after reset"),
    DEFINE_PROP_END,
};

static const VMStateField ioapic_fields[] = {
    VMSTATE_U32(IoapicState, id),
    VMSTATE_U32(IoapicState, ioregsel),
    VMSTATE_U32(IoapicState, irr),
    VMSTATE_U64_ARRAY(IoapicState, redtbl),
    VMSTATE_END,
};

static const VMStateDescription ioapic_vmsd = {
    .name = "ioapic",
    .version = 1,
    .fields = ioapic_fields,
    .post_load = ioapic_post_load,
};

const DeviceClass ioapic_device_class = {
    .name = "ioapic",
    .description = "82093AA I/O APIC (version 0x20, 24 pins)",
    .instance_size = sizeof(IoapicState),
    .props = ioapic_props,
    .user_creatable = false,
    .realize = ioapic_realize,
    .reset = ioapic_reset,
    .unrealize = ioapic_unrealize,
    .vmsd = &ioapic_vmsd,
};

IoapicState *ioapic_init(Machine *m, ApicBus *bus, GError **errp)
{
    Device *dev = device_new(&ioapic_device_class, m, "ioapic");
    IoapicState *s = (IoapicState *)dev;
    s->bus = bus;
    if (!machine_plug_device(m, dev, errp)) {
        return NULL;
    }
    if (bus) {
        apic_bus_set_eoi_listener(bus, ioapic_eoi, s);
    }
    return s;
}

void ioapic_set_id(IoapicState *s, uint8_t id)
{
    s->id_prop = id & 0xf;
    s->id = (uint32_t)s->id_prop << 24;
}

IrqLine *ioapic_irq(IoapicState *s, unsigned n)
{
    return n < IOAPIC_NR_PINS ? &s->inputs[n] : NULL;
}
