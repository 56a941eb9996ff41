/*
 * The pc board: RAM below and above 4 GiB around the 32-bit PCI hole, the
 * i440FX/PIIX3 PCI host, the ISA devices of a PC (COM ports, i8042, CMOS RTC,
 * port 0x80), the HPET, ACPI power management, fw_cfg and the ACPI tables;
 * PIC, IOAPIC, LAPICs and PIT in userspace unless the accelerator provides
 * them.  PCI MSIs go to the accelerator's irqchip or to the userspace APIC
 * bus.  While the HPET's legacy replacement mode is on, the 8254 and the
 * RTC are cut off from IRQ0 and IRQ8.
 */
#include <string.h>
#include <sys/mman.h>

#include "core/error.h"
#include "hw/acpi/acpi-build.h"
#include "hw/acpi/pm.h"
#include "hw/char/serial.h"
#include "hw/i386/boot.h"
#include "hw/i386/e820.h"
#include "hw/i386/pc-layout.h"
#include "hw/i386/pc.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/nvram/fw_cfg.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"
#include "hw/timer/hpet.h"
#include "hw/timer/i8254.h"
#include "hw/timer/mc146818rtc.h"

#define PC_ACPI_AREA_SIZE 0x20000

typedef struct PcBoard {
    MemoryRegion ram_low;     /* [0, 640 KiB) */
    MemoryRegion ram_below;   /* [768 KiB, below_4g) */
    MemoryRegion ram_above;   /* [4 GiB, 4 GiB + above_4g) */
    E820Map e820;
    uint64_t rsdp_addr;
    uint8_t *acpi_tables;
    size_t acpi_size;
    PcIrqRouting routing;
    PicState *pic;
    IoapicState *ioapic;
    ApicBus *apic_bus;
    PitState *pit;
    Device *pm;
    IrqLine pit_out;          /* PIT channel 0, through the HPET gate */
    IrqLine isa_irq0;         /* ISA IRQ0: PIC IRQ0 + IOAPIC pin 2 */
    IrqLine isa_irq8;         /* ISA IRQ8: PIC IRQ8 + IOAPIC pin 8 */
    HpetState *hpet;
    bool hpet_legacy;         /* HPET legacy replacement: 8254/RTC cut off */
    int pit_level, rtc_level; /* what the gated 8254 and RTC drive */
} PcBoard;

static PcBoard *board(Machine *m)
{
    return m->board;
}

bool pc_memory_init(Machine *m, GError **errp)
{
    PcBoard *b = g_new0(PcBoard, 1);
    m->board = b;
    uint64_t ram = m->cfg.ram_size;
    m->below_4g = ram;
    if (ram >= PC_MAX_BELOW_4G) {
        m->below_4g = PC_BELOW_4G_BIG_RAM;
    }
    m->above_4g = ram - m->below_4g;
    m->ram_size = ram;
    void *p = mmap(NULL, ram, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        error_setg(errp, "cannot allocate %llu MiB of guest RAM",
                   (unsigned long long)(ram >> 20));
        return false;
    }
    madvise(p, ram, MADV_MERGEABLE);
    m->ram = p;

    address_space_begin(&m->mem);
    memory_region_init_ram(&b->ram_low, "ram-low", m->ram, 0, PC_VGA_START);
    address_space_map(&m->mem, &b->ram_low, 0, 0);
    memory_region_init_ram(&b->ram_below, "ram-below-4g", m->ram + 0xc0000,
                           0xc0000, m->below_4g - 0xc0000);
    address_space_map(&m->mem, &b->ram_below, 0xc0000, 0);
    if (m->above_4g) {
        memory_region_init_ram(&b->ram_above, "ram-above-4g",
                               m->ram + m->below_4g, m->below_4g, m->above_4g);
        address_space_map(&m->mem, &b->ram_above, 1ull << 32, 0);
    }
    address_space_commit(&m->mem);
    e820_build_pc(&b->e820, m->below_4g, m->above_4g);
    return true;
}

/* Machine.gsi[n] handlers. */
static void gsi_to_accel(void *opaque, int n, int level)
{
    PcBoard *b = opaque;
    b->routing.set_gsi(b->routing.opaque, (unsigned)n, level);
}

static void gsi_to_userspace(void *opaque, int n, int level)
{
    PcBoard *b = opaque;
    if (n < 16) {
        irq_set(i8259_irq(b->pic, (unsigned)n), level);
    }
    irq_set(ioapic_irq(b->ioapic, (unsigned)n), level);
}

static void msi_to_accel(void *opaque, uint64_t addr, uint32_t data)
{
    PcBoard *b = opaque;
    b->routing.send_msi(b->routing.opaque, addr, data);
}

static void msi_to_userspace(void *opaque, uint64_t addr, uint32_t data)
{
    PcBoard *b = opaque;
    apic_bus_deliver_msi(b->apic_bus, addr, data);
}

static void isa_irq0_to_userspace(void *opaque, int n, int level)
{
    PcBoard *b = opaque;
    irq_set(i8259_irq(b->pic, 0), level);
    irq_set(ioapic_irq(b->ioapic, 2), level);
}

/* The 8254's and the RTC's outputs, cut off while the HPET replaces them. */
static void pit_gate(void *opaque, int n, int level)
{
    PcBoard *b = opaque;
    b->pit_level = level;
    if (!b->hpet_legacy) {
        irq_set(&b->isa_irq0, level);
    }
}

static void rtc_gate(void *opaque, int n, int level)
{
    PcBoard *b = opaque;
    b->rtc_level = level;
    if (!b->hpet_legacy) {
        irq_set(&b->isa_irq8, level);
    }
}

static void hpet_legacy_changed(void *opaque, bool on)
{
    PcBoard *b = opaque;
    b->hpet_legacy = on;
    if (b->routing.pit_in_kernel && b->routing.pit_hpet_legacy) {
        b->routing.pit_hpet_legacy(b->routing.opaque, on);
    }
    irq_set(&b->isa_irq0, on ? 0 : b->pit_level);
    irq_set(&b->isa_irq8, on ? 0 : b->rtc_level);
}

static bool hpet_setup(Machine *m, PcBoard *b, GError **errp)
{
    b->isa_irq8 = m->gsi[8];
    irq_connect(&m->gsi[8], rtc_gate, b, 8);
    HpetWiring w = {
        .irq0 = b->isa_irq0,
        .irq8 = b->isa_irq8,
        .legacy_changed = hpet_legacy_changed,
        .opaque = b,
    };
    b->hpet = hpet_init(m, &w, errp);
    return b->hpet != NULL;
}

static bool userspace_irqchip_init(Machine *m, PcBoard *b,
                                   CpuIntr *const *cpu_intr, GError **errp)
{
    b->apic_bus = apic_bus_new(m);
    for (unsigned i = 0; i < m->nr_cpus; i++) {
        if (!apic_init(b->apic_bus, i, cpu_intr[i], i == 0)) {
            error_setg(errp, "cannot create the local APIC of CPU %u", i);
            return false;
        }
    }
    b->pic = i8259_init(m, apic_bus_lint0(b->apic_bus), errp);
    if (!b->pic) {
        return false;
    }
    apic_bus_set_extint(b->apic_bus, i8259_ack_cb, b->pic);
    b->ioapic = ioapic_init(m, b->apic_bus, errp);
    if (!b->ioapic) {
        return false;
    }
    for (unsigned n = 0; n < MACHINE_NR_GSI; n++) {
        irq_connect(&m->gsi[n], gsi_to_userspace, b, (int)n);
    }
    return true;
}

static bool add(Machine *m, const char *type, const char *props,
                GError **errp)
{
    return machine_add_device(m, type, NULL, props, errp) != NULL;
}

static bool fw_cfg_setup(Machine *m, GError **errp)
{
    FwCfg *f = fw_cfg_init_io(m, 0x510, errp);
    if (!f) {
        return false;
    }
    m->fw_cfg = f;
    fw_cfg_add_i16(f, FW_CFG_NB_CPUS, (uint16_t)m->nr_cpus);
    fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, (uint16_t)m->nr_cpus);
    fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, m->ram_size);
    const E820Map *e = &board(m)->e820;
    uint8_t table[E820_MAX * 20];
    for (unsigned i = 0; i < e->nr; i++) {
        st64(table + i * 20, e->e[i].addr);
        st64(table + i * 20 + 8, e->e[i].size);
        st32(table + i * 20 + 16, e->e[i].type);
    }
    return fw_cfg_add_file(f, "etc/e820", table, e->nr * 20);
}

/* BARs go above RAM below 4 GiB, from 3.5 GiB at the lowest. */
static uint64_t pci_mmio_base(Machine *m)
{
    return m->below_4g > PC_MAX_BELOW_4G ? m->below_4g : PC_MAX_BELOW_4G;
}

static bool acpi_setup(Machine *m, PcBoard *b, GError **errp)
{
    AcpiConfig cfg;
    acpi_config_default(&cfg, m->nr_cpus, (uint32_t)pci_mmio_base(m),
                        (uint32_t)(PC_PCI_HOLE_END - 1));
    /* KVM's in-kernel IOAPIC has ID 0; the userspace one resets to 0. */
    cfg.ioapic_id = 0;
    cfg.hpet = m->cfg.hpet;
    cfg.hpet_addr = (uint32_t)HPET_BASE;
    cfg.serial_mask = 0;
    for (unsigned i = 0; i < MACHINE_MAX_SERIAL; i++) {
        if (m->serial[i]) {
            cfg.serial_mask |= 1u << i;
        }
    }
    b->acpi_tables = g_malloc0(PC_ACPI_AREA_SIZE);
    uint64_t rsdp_off;
    b->acpi_size = acpi_build(&cfg, b->acpi_tables, PC_ACPI_AREA_SIZE,
                              PC_BIOS_AREA_START, &rsdp_off);
    if (!b->acpi_size) {
        error_setg(errp, "the ACPI tables do not fit in the BIOS area");
        return false;
    }
    b->rsdp_addr = PC_BIOS_AREA_START + rsdp_off;
    return true;
}

/* No firmware programs the BARs in direct boot: do what it would do. */
static bool assign_bars(Machine *m)
{
    return pci_assign_bars(m->pci, pci_mmio_base(m), PC_PCI_HOLE_END - 1,
                           0xc000, 0xffff);
}

bool pc_devices_init(Machine *m, const PcIrqRouting *r,
                     CpuIntr *const *cpu_intr, GError **errp)
{
    PcBoard *b = board(m);
    b->routing = *r;
    if (r->irqchip_in_kernel) {
        for (unsigned n = 0; n < MACHINE_NR_GSI; n++) {
            irq_connect(&m->gsi[n], gsi_to_accel, b, (int)n);
        }
    } else if (!userspace_irqchip_init(m, b, cpu_intr, errp)) {
        return false;
    }
    irq_connect(&b->isa_irq0, r->irqchip_in_kernel ? gsi_to_accel
                                                   : isa_irq0_to_userspace,
                b, r->irqchip_in_kernel ? 2 : 0);
    if (!r->pit_in_kernel) {
        irq_connect(&b->pit_out, pit_gate, b, 0);
        b->pit = i8254_init(m, &b->pit_out, errp);
        if (!b->pit) {
            return false;
        }
    }
    if (m->cfg.hpet && !hpet_setup(m, b, errp)) {
        return false;
    }
    m->pci = pci_i440fx_init(m, errp);
    if (!m->pci || !add(m, "piix3-ide", NULL, errp)) {
        return false;
    }
    pci_bus_set_msi_handler(m->pci, r->irqchip_in_kernel ? msi_to_accel
                                                         : msi_to_userspace,
                            b);
    for (unsigned i = 0; i < MACHINE_MAX_SERIAL; i++) {
        if (m->serial[i]) {
            gchar *props = g_strdup_printf("index=%u", i);
            bool ok = add(m, "isa-serial", props, errp);
            g_free(props);
            if (!ok) {
                return false;
            }
        }
    }
    Device *rtc = machine_add_device(m, "mc146818rtc", NULL, NULL, errp);
    if (!rtc || !add(m, "i8042", NULL, errp) || !add(m, "port80", NULL, errp)) {
        return false;
    }
    rtc_set_memory((RtcState *)rtc, m->below_4g, m->above_4g, m->nr_cpus);
    Device *pm = machine_add_device(m, "acpi-pm", NULL, NULL, errp);
    if (!pm) {
        return false;
    }
    b->pm = pm;
    if (!fw_cfg_setup(m, errp) || !acpi_setup(m, b, errp)) {
        return false;
    }
    if (!assign_bars(m)) {
        error_setg(errp, "the PCI devices' BARs do not fit in the PCI hole");
        return false;
    }
    return true;
}

bool pc_machine_done(Machine *m, GError **errp)
{
    if (!assign_bars(m)) {
        error_setg(errp, "the PCI devices' BARs do not fit in the PCI hole");
        return false;
    }
    return true;
}

void pc_reset(Machine *m)
{
    machine_reset_devices(m);
    assign_bars(m);
}

bool pc_boot(Machine *m, X86State *bsp, GError **errp)
{
    PcBoard *b = board(m);
    if (!m->cfg.kernel) {
        error_setg(errp, "no -kernel given: Kestrel boots guests directly with "
                   "-kernel (firmware and disk boot are not supported yet)");
        return false;
    }
    BootEnv env = {
        .mem = &m->mem,
        .below_4g = m->below_4g,
        .e820 = &b->e820,
        .rsdp_addr = b->rsdp_addr,
        .kernel_path = m->cfg.kernel,
        .initrd_path = m->cfg.initrd,
        .cmdline = m->cfg.append,
    };
    if (!boot_write(&env, PC_BIOS_AREA_START, b->acpi_tables, b->acpi_size,
                    "ACPI tables", errp)) {
        return false;
    }
    x86_state_reset(bsp, true);
    return pc_boot_kernel(&env, bsp, errp);
}

void pc_ap_state(Machine *m, X86State *ap)
{
    x86_state_reset(ap, false);
}

void pc_cpu_thread_start(Machine *m, CpuIntr *intr)
{
    /* The threads start before the LAPICs exist: always say who we are. */
    apic_set_current_cpu(intr);
}

void pc_power_button(Machine *m)
{
    PcBoard *b = board(m);
    if (b && b->pm) {
        pm_power_button(b->pm);
    }
}

void pc_free(Machine *m)
{
    PcBoard *b = board(m);
    if (!b) {
        return;
    }
    g_free(b->acpi_tables);
    if (m->ram) {
        munmap(m->ram, m->ram_size);
        m->ram = NULL;
    }
    g_free(b);
    m->board = NULL;
}
