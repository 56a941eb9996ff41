/*
 * ACPI table builder for the pc machine (ACPI 6.x: 5.2.5 RSDP, 5.2.7 RSDT,
 * 5.2.8 XSDT, 5.2.9 FADT, 5.2.10 FACS, 5.2.11 DSDT, 5.2.12 MADT; IA-PC HPET
 * specification 1.0a for the HPET table).
 *
 * Layout in the buffer: RSDP, FACS (64-byte aligned), DSDT, FADT, MADT,
 * [HPET], RSDT, XSDT; each table 16-byte aligned.  The DSDT describes:
 *   \_SB.PCI0        PCI root bridge (PNP0A03) with bus/IO/memory windows
 *   \_SB.PCI0._PRT   slot s pin p -> link LNKA..LNKD by (s + p) mod 4
 *   \_SB.LNKA..LNKD  PCI interrupt links, fixed at GSI 16..19 (level, high)
 *   \_SB.PCI0.ISA    keyboard controller, RTC, COM ports
 *   \_SB.Cnnn        processors (ACPI0007), _UID = MADT processor UID
 *   \_S5             sleep type for power-off
 */
#include "hw/acpi/acpi-build.h"

#include <string.h>

#include <glib.h>

#include "hw/acpi/aml.h"
#include "hw/acpi/pm.h"
#include "hw/char/serial.h"
#include "hw/pci/pci.h"

#define HDR_SIZE 36
#define OEM_ID "KESTRL"
#define OEM_TABLE_ID "KESTREL "
#define CREATOR_ID "KSTR"

#define FADT_REV3_SIZE 244
#define FACS_SIZE 64
#define RSDP_SIZE 36

/* FADT flags */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_FIX_RTC (1u << 6)
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042 (1u << 1)

#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO 1

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return sum;
}

void acpi_config_default(AcpiConfig *cfg, unsigned nr_cpus,
                         uint32_t pci_mmio_base, uint32_t pci_mmio_last)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nr_cpus = nr_cpus;
    for (unsigned i = 0; i < nr_cpus && i < ACPI_MAX_CPUS; i++) {
        cfg->apic_ids[i] = (uint8_t)i;
    }
    cfg->ioapic_id = (uint8_t)nr_cpus;
    cfg->ioapic_addr = 0xfec00000;
    cfg->lapic_addr = 0xfee00000;
    cfg->pm_io_base = ACPI_PM_IO_BASE;
    cfg->sci_gsi = ACPI_PM_SCI_GSI;
    cfg->reset_port = 0xcf9;
    cfg->reset_value = 0x06;
    cfg->hpet = false;
    cfg->hpet_addr = 0xfed00000;
    cfg->pci_mmio_base = pci_mmio_base;
    cfg->pci_mmio_last = pci_mmio_last;
    cfg->serial_mask = 0x01;
}

/* ---- byte helpers over a GByteArray ---- */

static void set16(GByteArray *b, size_t off, uint16_t v)
{
    b->data[off] = (uint8_t)v;
    b->data[off + 1] = (uint8_t)(v >> 8);
}

static void set32(GByteArray *b, size_t off, uint32_t v)
{
    set16(b, off, (uint16_t)v);
    set16(b, off + 2, (uint16_t)(v >> 16));
}

static void set64(GByteArray *b, size_t off, uint64_t v)
{
    set32(b, off, (uint32_t)v);
    set32(b, off + 4, (uint32_t)(v >> 32));
}

static size_t grow(GByteArray *b, size_t len)
{
    size_t off = b->len;

    g_byte_array_set_size(b, (guint)(off + len));
    memset(b->data + off, 0, len);
    return off;
}

static void align_to(GByteArray *b, size_t align)
{
    grow(b, (align - b->len % align) % align);
}

static void set_gas(GByteArray *b, size_t off, uint8_t space, uint8_t width,
                    uint8_t access, uint64_t addr)
{
    b->data[off] = space;
    b->data[off + 1] = width;
    b->data[off + 2] = 0; /* bit offset */
    b->data[off + 3] = access;
    set64(b, off + 4, addr);
}

/* Start a table: 16-byte aligned header; returns its offset. */
static size_t table_begin(GByteArray *b, const char *sig, uint8_t rev)
{
    size_t off;

    align_to(b, 16);
    off = grow(b, HDR_SIZE);
    memcpy(b->data + off, sig, 4);
    b->data[off + 8] = rev;
    memcpy(b->data + off + 10, OEM_ID, 6);
    memcpy(b->data + off + 16, OEM_TABLE_ID, 8);
    set32(b, off + 24, 1); /* OEM revision */
    memcpy(b->data + off + 28, CREATOR_ID, 4);
    set32(b, off + 32, 1); /* creator revision */
    return off;
}

static void table_end(GByteArray *b, size_t off)
{
    uint32_t len = (uint32_t)(b->len - off);

    set32(b, off + 4, len);
    b->data[off + 9] = 0;
    b->data[off + 9] = (uint8_t)(0x100 - acpi_checksum(b->data + off, len));
}

/* ---- DSDT ---- */

static void build_resources(GByteArray *out, void (*fill)(GByteArray *, const void *),
                            const void *arg)
{
    GByteArray *res = g_byte_array_new();

    fill(res, arg);
    aml_res_end(res);
    aml_buffer(out, res);
    g_byte_array_unref(res);
}

static void fill_pci0_crs(GByteArray *res, const void *arg)
{
    const AcpiConfig *cfg = arg;

    aml_res_word_bus(res, 0x00, 0xff);
    aml_res_io(res, 0xcf8, 8);
    aml_res_word_io(res, 0x0000, 0x0cf7);
    aml_res_word_io(res, 0x0d00, 0xffff);
    aml_res_dword_mem(res, 0x000a0000, 0x000bffff, true); /* legacy VGA */
    if (cfg->pci_mmio_last > cfg->pci_mmio_base) {
        aml_res_dword_mem(res, cfg->pci_mmio_base, cfg->pci_mmio_last, false);
    }
}

typedef struct IsaRes {
    uint16_t port[2];
    uint8_t len[2];
    unsigned irq;
} IsaRes;

static void fill_isa_res(GByteArray *res, const void *arg)
{
    const IsaRes *r = arg;

    for (unsigned i = 0; i < 2; i++) {
        if (r->len[i]) {
            aml_res_io(res, r->port[i], r->len[i]);
        }
    }
    aml_res_irq_noflags(res, r->irq);
}

static void fill_link_res(GByteArray *res, const void *arg)
{
    const uint32_t *gsi = arg;

    aml_res_ext_irq(res, *gsi, true, false, true);
}

static void isa_device(GByteArray *out, const char *name, const char *hid,
                       unsigned uid, const IsaRes *r)
{
    GByteArray *dev = g_byte_array_new();
    GByteArray *v = g_byte_array_new();

    aml_eisaid(v, hid);
    aml_name(dev, "_HID", v);
    if (uid) {
        aml_name_int(dev, "_UID", uid);
    }
    g_byte_array_set_size(v, 0);
    build_resources(v, fill_isa_res, r);
    aml_name(dev, "_CRS", v);
    aml_device(out, name, dev);
    g_byte_array_unref(v);
    g_byte_array_unref(dev);
}

static void build_isa(GByteArray *out, const AcpiConfig *cfg)
{
    GByteArray *isa = g_byte_array_new();
    IsaRes kbd = { { 0x60, 0x64 }, { 1, 1 }, 1 };
    IsaRes rtc = { { 0x70, 0 }, { 2, 0 }, 8 };

    aml_name_int(isa, "_ADR", 0x00010000); /* device 1, function 0 */
    isa_device(isa, "KBD", "PNP0303", 0, &kbd);
    isa_device(isa, "RTC", "PNP0B00", 0, &rtc);
    for (unsigned i = 0; i < SERIAL_MAX_PORTS; i++) {
        if (cfg->serial_mask & (1u << i)) {
            IsaRes com = { { serial_isa_default_iobase(i), 0 }, { 8, 0 },
                           serial_isa_default_irq(i) };
            char name[5];

            g_snprintf(name, sizeof(name), "COM%u", i + 1);
            isa_device(isa, name, "PNP0501", i + 1, &com);
        }
    }
    aml_device(out, "ISA", isa);
    g_byte_array_unref(isa);
}

static void build_prt(GByteArray *out)
{
    GByteArray *entries = g_byte_array_new();
    GByteArray *pkg = g_byte_array_new();
    unsigned n = 0;

    for (unsigned slot = 1; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            GByteArray *e = g_byte_array_new();
            char link[16];

            g_snprintf(link, sizeof(link), "\\_SB.LNK%c",
                       'A' + pci_swizzle(slot, pin + 1));
            aml_integer(e, ((uint64_t)slot << 16) | 0xffff);
            aml_integer(e, pin);
            aml_name_string(e, link);
            aml_integer(e, 0);
            aml_package(entries, 4, e);
            g_byte_array_unref(e);
            n++;
        }
    }
    /* More than 255 elements would need a VarPackage; 124 fit. */
    aml_package(pkg, n, entries);
    aml_name(out, "_PRT", pkg);
    g_byte_array_unref(pkg);
    g_byte_array_unref(entries);
}

static void build_links(GByteArray *out)
{
    for (unsigned i = 0; i < PCI_NUM_PIRQ; i++) {
        GByteArray *dev = g_byte_array_new();
        GByteArray *v = g_byte_array_new();
        GByteArray *empty = g_byte_array_new();
        uint32_t gsi = PCI_PIRQ_GSI_BASE + i;
        char name[5];

        aml_eisaid(v, "PNP0C0F");
        aml_name(dev, "_HID", v);
        aml_name_int(dev, "_UID", i);
        g_byte_array_set_size(v, 0);
        build_resources(v, fill_link_res, &gsi);
        aml_name(dev, "_PRS", v);
        aml_name(dev, "_CRS", v);
        /* The routing is fixed: accept _SRS and ignore it. */
        aml_method(dev, "_SRS", 1, empty);
        g_snprintf(name, sizeof(name), "LNK%c", 'A' + i);
        aml_device(out, name, dev);
        g_byte_array_unref(empty);
        g_byte_array_unref(v);
        g_byte_array_unref(dev);
    }
}

static void fill_hpet_crs(GByteArray *res, const void *arg)
{
    const AcpiConfig *cfg = arg;

    aml_res_mem32_fixed(res, cfg->hpet_addr, 0x400);
}

/* The HPET's PNP0103 device, so that its registers are a reserved
 * resource; the timers themselves are described by the HPET table. */
static void build_hpet_device(GByteArray *out, const AcpiConfig *cfg)
{
    GByteArray *dev = g_byte_array_new();
    GByteArray *v = g_byte_array_new();

    aml_eisaid(v, "PNP0103");
    aml_name(dev, "_HID", v);
    aml_name_int(dev, "_UID", 0);
    g_byte_array_set_size(v, 0);
    build_resources(v, fill_hpet_crs, cfg);
    aml_name(dev, "_CRS", v);
    aml_device(out, "HPET", dev);
    g_byte_array_unref(v);
    g_byte_array_unref(dev);
}

static void build_cpus(GByteArray *out, const AcpiConfig *cfg)
{
    for (unsigned i = 0; i < cfg->nr_cpus; i++) {
        GByteArray *dev = g_byte_array_new();
        GByteArray *v = g_byte_array_new();
        char name[5];

        aml_string(v, "ACPI0007");
        aml_name(dev, "_HID", v);
        aml_name_int(dev, "_UID", i);
        g_snprintf(name, sizeof(name), "C%03X", i);
        aml_device(out, name, dev);
        g_byte_array_unref(v);
        g_byte_array_unref(dev);
    }
}

static void build_dsdt_body(GByteArray *out, const AcpiConfig *cfg)
{
    GByteArray *sb = g_byte_array_new();
    GByteArray *pci0 = g_byte_array_new();
    GByteArray *v = g_byte_array_new();

    aml_eisaid(v, "PNP0A03");
    aml_name(pci0, "_HID", v);
    aml_name_int(pci0, "_UID", 0);
    aml_name_int(pci0, "_BBN", 0);
    g_byte_array_set_size(v, 0);
    build_resources(v, fill_pci0_crs, cfg);
    aml_name(pci0, "_CRS", v);
    build_prt(pci0);
    build_isa(pci0, cfg);
    aml_device(sb, "PCI0", pci0);
    build_links(sb);
    if (cfg->hpet) {
        build_hpet_device(sb, cfg);
    }
    build_cpus(sb, cfg);
    aml_scope(out, "\\_SB", sb);

    g_byte_array_set_size(v, 0);
    {
        GByteArray *e = g_byte_array_new();

        aml_integer(e, ACPI_S5_SLP_TYP); /* PM1a SLP_TYP */
        aml_integer(e, ACPI_S5_SLP_TYP); /* PM1b SLP_TYP (no PM1b) */
        aml_integer(e, 0);
        aml_integer(e, 0);
        aml_package(v, 4, e);
        g_byte_array_unref(e);
    }
    aml_name(out, "\\_S5", v);

    g_byte_array_unref(v);
    g_byte_array_unref(pci0);
    g_byte_array_unref(sb);
}

/* ---- fixed tables ---- */

static size_t build_fadt(GByteArray *b, const AcpiConfig *cfg, uint64_t facs,
                         uint64_t dsdt)
{
    size_t t = table_begin(b, "FACP", 3);
    uint16_t pm = cfg->pm_io_base;

    grow(b, FADT_REV3_SIZE - HDR_SIZE);
    set32(b, t + 36, (uint32_t)facs);          /* FIRMWARE_CTRL */
    set32(b, t + 40, (uint32_t)dsdt);          /* DSDT */
    set16(b, t + 46, cfg->sci_gsi);            /* SCI_INT */
    set32(b, t + 56, pm + ACPI_PM1_STS);       /* PM1a_EVT_BLK */
    set32(b, t + 64, pm + ACPI_PM1_CNT);       /* PM1a_CNT_BLK */
    set32(b, t + 76, pm + ACPI_PM_TMR);        /* PM_TMR_BLK */
    b->data[t + 88] = ACPI_PM1_EVT_LEN;
    b->data[t + 89] = ACPI_PM1_CNT_LEN;
    b->data[t + 91] = ACPI_PM_TMR_LEN;
    set16(b, t + 96, 101);                     /* P_LVL2_LAT: no C2 */
    set16(b, t + 98, 1001);                    /* P_LVL3_LAT: no C3 */
    b->data[t + 108] = 0x32;                   /* CENTURY in CMOS */
    set16(b, t + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
    set32(b, t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
                          FADT_FIX_RTC | FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
    set_gas(b, t + 116, GAS_SYSTEM_IO, 8, 1, cfg->reset_port);
    b->data[t + 128] = cfg->reset_value;
    set64(b, t + 132, facs);                   /* X_FIRMWARE_CTRL */
    set64(b, t + 140, dsdt);                   /* X_DSDT */
    set_gas(b, t + 148, GAS_SYSTEM_IO, 32, 2, pm + ACPI_PM1_STS);
    set_gas(b, t + 172, GAS_SYSTEM_IO, 16, 2, pm + ACPI_PM1_CNT);
    set_gas(b, t + 208, GAS_SYSTEM_IO, 32, 3, pm + ACPI_PM_TMR);
    table_end(b, t);
    return t;
}

static size_t build_madt(GByteArray *b, const AcpiConfig *cfg)
{
    size_t t = table_begin(b, "APIC", 3);
    size_t e;

    e = grow(b, 8);
    set32(b, e, cfg->lapic_addr);
    set32(b, e + 4, 1); /* PCAT_COMPAT: 8259s present */
    for (unsigned i = 0; i < cfg->nr_cpus; i++) {
        e = grow(b, 8);
        b->data[e] = 0;     /* processor local APIC */
        b->data[e + 1] = 8;
        b->data[e + 2] = (uint8_t)i; /* ACPI processor UID */
        b->data[e + 3] = cfg->apic_ids[i];
        set32(b, e + 4, 1); /* enabled */
    }
    e = grow(b, 12);
    b->data[e] = 1; /* I/O APIC */
    b->data[e + 1] = 12;
    b->data[e + 2] = cfg->ioapic_id;
    set32(b, e + 4, cfg->ioapic_addr);
    set32(b, e + 8, 0); /* GSI base */

    /* ISA IRQ 0 (PIT) arrives on GSI 2; flags: bus conforming. */
    e = grow(b, 10);
    b->data[e] = 2;
    b->data[e + 1] = 10;
    b->data[e + 2] = 0; /* ISA */
    b->data[e + 3] = 0;
    set32(b, e + 4, 2);
    set16(b, e + 8, 0);
    /* The SCI: level triggered, active high. */
    e = grow(b, 10);
    b->data[e] = 2;
    b->data[e + 1] = 10;
    b->data[e + 2] = 0;
    b->data[e + 3] = cfg->sci_gsi;
    set32(b, e + 4, cfg->sci_gsi);
    set16(b, e + 8, 0x0d); /* polarity 01 high, trigger 11 level */

    /* LINT1 of every processor is NMI. */
    e = grow(b, 6);
    b->data[e] = 4;
    b->data[e + 1] = 6;
    b->data[e + 2] = 0xff; /* all processors */
    set16(b, e + 3, 0);
    b->data[e + 5] = 1;
    table_end(b, t);
    return t;
}

static size_t build_hpet(GByteArray *b, const AcpiConfig *cfg)
{
    size_t t = table_begin(b, "HPET", 1);
    size_t e = grow(b, 20);

    /* Vendor 8086, legacy replacement capable, 64-bit counter, 3 timers. */
    set32(b, e, 0x8086a201);
    set_gas(b, e + 4, GAS_SYSTEM_MEMORY, 64, 0, cfg->hpet_addr);
    b->data[e + 16] = 0; /* HPET number */
    set16(b, e + 17, 0); /* minimum clock tick in periodic mode */
    b->data[e + 19] = 0; /* no page protection */
    table_end(b, t);
    return t;
}

size_t acpi_build(const AcpiConfig *cfg, uint8_t *buf, size_t size,
                  uint64_t guest_base, uint64_t *rsdp_offset)
{
    GByteArray *b;
    size_t rsdp, facs, dsdt, rsdt, xsdt, e, used;
    size_t tables[3];
    unsigned nr_tables = 0;

    if (!cfg || cfg->nr_cpus == 0 || cfg->nr_cpus > ACPI_MAX_CPUS ||
        cfg->sci_gsi >= 16 || guest_base >= (1ull << 32)) {
        return 0;
    }
    b = g_byte_array_new();

    rsdp = grow(b, RSDP_SIZE);

    align_to(b, 64);
    facs = grow(b, FACS_SIZE);
    memcpy(b->data + facs, "FACS", 4);
    set32(b, facs + 4, FACS_SIZE);
    b->data[facs + 32] = 2; /* version */

    dsdt = table_begin(b, "DSDT", 2); /* revision 2: 64-bit integers */
    build_dsdt_body(b, cfg);
    table_end(b, dsdt);

    tables[nr_tables++] = build_fadt(b, cfg, guest_base + facs, guest_base + dsdt);
    tables[nr_tables++] = build_madt(b, cfg);
    if (cfg->hpet) {
        tables[nr_tables++] = build_hpet(b, cfg);
    }

    rsdt = table_begin(b, "RSDT", 1);
    for (unsigned i = 0; i < nr_tables; i++) {
        e = grow(b, 4);
        set32(b, e, (uint32_t)(guest_base + tables[i]));
    }
    table_end(b, rsdt);

    xsdt = table_begin(b, "XSDT", 1);
    for (unsigned i = 0; i < nr_tables; i++) {
        e = grow(b, 8);
        set64(b, e, guest_base + tables[i]);
    }
    table_end(b, xsdt);

    memcpy(b->data + rsdp, "RSD PTR ", 8);
    memcpy(b->data + rsdp + 9, OEM_ID, 6);
    b->data[rsdp + 15] = 2; /* ACPI 2.0+ */
    set32(b, rsdp + 16, (uint32_t)(guest_base + rsdt));
    set32(b, rsdp + 20, RSDP_SIZE);
    set64(b, rsdp + 24, guest_base + xsdt);
    b->data[rsdp + 8] = (uint8_t)(0x100 - acpi_checksum(b->data + rsdp, 20));
    b->data[rsdp + 32] =
        (uint8_t)(0x100 - acpi_checksum(b->data + rsdp, RSDP_SIZE));

    used = b->len;
    if (used > size || guest_base + used > (1ull << 32)) {
        used = 0;
    } else {
        memcpy(buf, b->data, used);
        *rsdp_offset = rsdp;
    }
    g_byte_array_unref(b);
    return used;
}
