/*
 * ACPI fixed hardware (ACPI 6.x chapter 4.8): the PM1a event block (status
 * and enable, write-one-to-clear status), the PM1a control block (SCI_EN,
 * SLP_TYP, SLP_EN) and the 32-bit PM timer at 3.579545 MHz, counted from
 * CLOCK_VIRTUAL.  Writing SLP_EN with SLP_TYP = ACPI_S5_SLP_TYP asks the
 * machine to power off.  The SCI is a level on GSI 9 (active high, as the
 * MADT's override says).
 *
 * There is no SMI command port (FADT SMI_CMD = 0), so the hardware comes out
 * of reset in ACPI mode: SCI_EN reads 1.
 */
#include "hw/acpi/pm.h"

#include "core/error.h"
#include "hw/machine.h"

#define STS_TMR 0x0001
#define STS_GBL 0x0020
#define STS_PWRBTN 0x0100
#define STS_SLPBTN 0x0200
#define STS_RTC 0x0400
#define STS_WAK 0x8000
#define STS_ALL (STS_TMR | STS_GBL | STS_PWRBTN | STS_SLPBTN | STS_RTC | STS_WAK)
#define EN_ALL (STS_TMR | STS_GBL | STS_PWRBTN | STS_SLPBTN | STS_RTC)

#define CNT_SCI_EN 0x0001
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP 0x1c00
#define CNT_SLP_EN 0x2000
#define CNT_WRITABLE (0x0006 /* BM_RLD, GBL_RLS */ | CNT_SLP_TYP)

typedef struct AcpiPmState {
    Device parent;
    /* properties */
    uint16_t iobase;
    uint8_t sci_gsi;

    uint16_t sts;
    uint16_t en;
    uint16_t cnt;
    uint32_t tmr_epoch; /* bit 31 period of the timer when TMR_STS was last clear */
    uint8_t sci_level;

    MemoryRegion io;
    Timer overflow; /* fires at the next bit-31 toggle while TMR_EN is set */
} AcpiPmState;

static uint64_t ticks_now(AcpiPmState *s)
{
    Machine *m = s->parent.machine;
    int64_t ns = m->timers ? clock_ns(m->timers, CLOCK_VIRTUAL) : 0;

    if (ns < 0) {
        ns = 0;
    }
    /* ns * f / 1e9 without overflow for centuries of guest time. */
    return (uint64_t)(((__uint128_t)ns * ACPI_PM_TIMER_HZ) / NS_PER_SEC);
}

static void update_tmr_sts(AcpiPmState *s)
{
    if ((uint32_t)(ticks_now(s) >> 31) != s->tmr_epoch) {
        s->sts |= STS_TMR;
    }
}

static void update_sci(AcpiPmState *s)
{
    uint8_t level = (s->cnt & CNT_SCI_EN) && (s->sts & s->en & EN_ALL);

    if (level != s->sci_level) {
        s->sci_level = level;
        irq_set(&s->parent.machine->gsi[s->sci_gsi], level);
    }
}

static void arm_overflow(AcpiPmState *s)
{
    Machine *m = s->parent.machine;
    uint64_t next;

    if (!m->timers) {
        return;
    }
    if (!(s->en & STS_TMR) || (s->sts & STS_TMR)) {
        timer_del(&s->overflow);
        return;
    }
    next = ((ticks_now(s) >> 31) + 1) << 31;
    timer_mod(&s->overflow,
              (int64_t)(((__uint128_t)next * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) /
                        ACPI_PM_TIMER_HZ));
}

static void overflow_cb(void *opaque)
{
    AcpiPmState *s = opaque;

    update_tmr_sts(s);
    update_sci(s);
    arm_overflow(s);
}

static uint64_t pm_read(void *opaque, uint64_t addr, unsigned size)
{
    AcpiPmState *s = opaque;

    switch (addr) {
    case ACPI_PM1_STS:
        update_tmr_sts(s);
        return s->sts;
    case ACPI_PM1_EN:
        return s->en;
    case ACPI_PM1_CNT:
        return s->cnt; /* SLP_EN always reads 0 */
    case ACPI_PM_TMR:
        return (uint32_t)ticks_now(s);
    default:
        return 0;
    }
}

static void pm_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    AcpiPmState *s = opaque;
    uint16_t v = (uint16_t)value;

    switch (addr) {
    case ACPI_PM1_STS:
        update_tmr_sts(s);
        s->sts &= (uint16_t)~(v & STS_ALL);
        if (v & STS_TMR) {
            s->tmr_epoch = (uint32_t)(ticks_now(s) >> 31);
        }
        break;
    case ACPI_PM1_EN:
        s->en = v & EN_ALL;
        break;
    case ACPI_PM1_CNT:
        s->cnt = (uint16_t)((s->cnt & ~CNT_WRITABLE) | (v & CNT_WRITABLE) |
                            (v & CNT_SCI_EN));
        if ((v & CNT_SLP_EN) &&
            ((v & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT) == ACPI_S5_SLP_TYP) {
            machine_request(s->parent.machine, MACHINE_REQ_POWEROFF);
        }
        break;
    default:
        break; /* the timer is read-only */
    }
    update_sci(s);
    arm_overflow(s);
}

/* Registers are 16 bits (the timer 32); byte accesses are widened. */
static const MemoryRegionOps pm_ops = {
    .read = pm_read,
    .write = pm_write,
    .min_access = 2,
    .max_access = 4,
};

void pm_power_button(Device *pm)
{
    AcpiPmState *s = (AcpiPmState *)pm;

    if (!pm || pm->cls != &acpi_pm_class) {
        return;
    }
    s->sts |= STS_PWRBTN;
    update_sci(s);
}

static void pm_reset(Device *d)
{
    AcpiPmState *s = (AcpiPmState *)d;

    s->sts = 0;
    s->en = 0;
    s->cnt = CNT_SCI_EN;
    s->tmr_epoch = (uint32_t)(ticks_now(s) >> 31);
    update_sci(s);
    arm_overflow(s);
}

static bool pm_realize(Device *d, GError **errp)
{
    AcpiPmState *s = (AcpiPmState *)d;
    Machine *m = d->machine;

    if (s->sci_gsi >= MACHINE_NR_GSI) {
        error_setg(errp, "acpi-pm: sci %u is not a GSI", s->sci_gsi);
        return false;
    }
    if (s->iobase > 0x10000 - ACPI_PM_IO_LEN) {
        error_setg(errp, "acpi-pm: iobase 0x%x is out of range", s->iobase);
        return false;
    }
    if (m->timers) {
        timer_init(&s->overflow, m->timers, CLOCK_VIRTUAL, overflow_cb, s);
    }
    memory_region_init_io(&s->io, "acpi-pm", &pm_ops, s, ACPI_PM_IO_LEN);
    if (!address_space_map(&m->io, &s->io, s->iobase, 0)) {
        error_setg(errp, "acpi-pm: cannot map ports at 0x%x", s->iobase);
        return false;
    }
    pm_reset(d);
    return true;
}

static void pm_unrealize(Device *d)
{
    AcpiPmState *s = (AcpiPmState *)d;

    if (d->machine->timers) {
        timer_del(&s->overflow);
    }
    address_space_unmap(&d->machine->io, &s->io);
}

static bool pm_post_load(void *opaque, GError **errp)
{
    AcpiPmState *s = opaque;

    s->sci_level = (s->cnt & CNT_SCI_EN) && (s->sts & s->en & EN_ALL);
    irq_set(&s->parent.machine->gsi[s->sci_gsi], s->sci_level);
    arm_overflow(s);
    return true;
}

static const VMStateField pm_fields[] = {
    VMSTATE_U16(AcpiPmState, sts),
    VMSTATE_U16(AcpiPmState, en),
    VMSTATE_U16(AcpiPmState, cnt),
    VMSTATE_U32(AcpiPmState, tmr_epoch),
    VMSTATE_U8(AcpiPmState, sci_level),
    VMSTATE_END,
};

static const VMStateDescription pm_vmsd = {
    .name = "acpi-pm",
    .version = 1,
    .fields = pm_fields,
    .post_load = pm_post_load,
};

static const Property pm_props[] = {
    DEFINE_PROP_U16(AcpiPmState, "iobase", iobase, "0x600",
                    "I/O base of PM1a event, PM1a control and PM timer"),
    DEFINE_PROP_U8(AcpiPmState, "sci", sci_gsi, "9", "GSI of the SCI"),
    DEFINE_PROP_END,
};

const DeviceClass acpi_pm_class = {
    .name = "acpi-pm",
    .description = "ACPI PM1 event/control registers and PM timer",
    .instance_size = sizeof(AcpiPmState),
    .props = pm_props,
    .realize = pm_realize,
    .unrealize = pm_unrealize,
    .reset = pm_reset,
    .vmsd = &pm_vmsd,
};
