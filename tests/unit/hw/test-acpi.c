/*
 * ACPI tables (checksums, pointers, MADT contents, the _S5 object) and the
 * PM registers (power-off through SLP_EN, power button SCI, PM timer).
 *
 * With "--dump DIR" it writes each table to DIR/<signature>.dat instead,
 * for check-acpi-iasl.py to disassemble with iasl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hw-test.h"
#include "hw/acpi/acpi-build.h"
#include "hw/acpi/pm.h"

#define GUEST_BASE 0xe0000u
#define BUF_SIZE 0x10000

typedef struct Tables {
    uint8_t buf[BUF_SIZE];
    size_t len;
    uint64_t rsdp;
} Tables;

static void build(Tables *t, unsigned cpus, bool hpet)
{
    AcpiConfig cfg;

    acpi_config_default(&cfg, cpus, 0xe0000000u, 0xfebfffffu);
    cfg.hpet = hpet;
    t->len = acpi_build(&cfg, t->buf, sizeof(t->buf), GUEST_BASE, &t->rsdp);
    assert_true(t->len > 0);
}

/* Guest address -> table in the buffer, checking it lies inside. */
static const uint8_t *at(const Tables *t, uint64_t gpa, size_t min_len)
{
    assert_true(gpa >= GUEST_BASE);
    assert_true(gpa - GUEST_BASE + min_len <= t->len);
    return t->buf + (gpa - GUEST_BASE);
}

static const uint8_t *checked_table(const Tables *t, uint64_t gpa, const char *sig)
{
    const uint8_t *p = at(t, gpa, 36);
    uint32_t len = ld32(p + 4);

    assert_memory_equal(p, sig, 4);
    at(t, gpa, len);
    assert_int_equal(acpi_checksum(p, len), 0);
    return p;
}

/* Find a table through the XSDT (and check the RSDT says the same). */
static const uint8_t *find(const Tables *t, const char *sig)
{
    const uint8_t *rsdp = t->buf + t->rsdp;
    const uint8_t *xsdt = checked_table(t, ld64(rsdp + 24), "XSDT");
    const uint8_t *rsdt = checked_table(t, ld32(rsdp + 16), "RSDT");
    unsigned n = (ld32(xsdt + 4) - 36) / 8;

    assert_int_equal((ld32(rsdt + 4) - 36) / 4, n);
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = ld64(xsdt + 36 + 8 * i);

        assert_int_equal(ld32(rsdt + 36 + 4 * i), a);
        if (memcmp(at(t, a, 4), sig, 4) == 0) {
            return checked_table(t, a, sig);
        }
    }
    return NULL;
}

static void test_rsdp(void **state)
{
    static Tables t;
    const uint8_t *rsdp;

    build(&t, 2, false);
    assert_int_equal(t.rsdp % 16, 0);
    rsdp = t.buf + t.rsdp;
    assert_memory_equal(rsdp, "RSD PTR ", 8);
    assert_int_equal(rsdp[15], 2);
    assert_int_equal(acpi_checksum(rsdp, 20), 0);
    assert_int_equal(ld32(rsdp + 20), 36);
    assert_int_equal(acpi_checksum(rsdp, 36), 0);
}

static void test_all_tables_and_pointers(void **state)
{
    static Tables t;
    const uint8_t *fadt, *dsdt, *facs;

    build(&t, 4, true);
    fadt = find(&t, "FACP");
    assert_non_null(fadt);
    assert_non_null(find(&t, "APIC"));
    assert_non_null(find(&t, "HPET"));
    assert_null(find(&t, "SSDT"));
    assert_int_equal(ld32(fadt + 4), 244);
    assert_int_equal(fadt[8], 3);
    dsdt = checked_table(&t, ld32(fadt + 40), "DSDT");
    assert_int_equal(ld64(fadt + 140), ld32(fadt + 40));
    facs = at(&t, ld32(fadt + 36), 64);
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal(ld32(fadt + 36) % 64, 0);
    assert_int_equal(ld64(fadt + 132), ld32(fadt + 36));
    assert_non_null(dsdt);

    /* FADT: SCI 9, PM blocks at 0x600, reset register 0xcf9 <- 6. */
    assert_int_equal(ld16(fadt + 46), 9);
    assert_int_equal(ld32(fadt + 56), 0x600);
    assert_int_equal(ld32(fadt + 64), 0x604);
    assert_int_equal(ld32(fadt + 76), 0x608);
    assert_int_equal(fadt[88], 4);
    assert_int_equal(fadt[89], 2);
    assert_int_equal(fadt[91], 4);
    assert_true(ld32(fadt + 112) & (1u << 10)); /* RESET_REG_SUP */
    assert_int_equal(fadt[116], 1);             /* system I/O */
    assert_int_equal(ld64(fadt + 120), 0xcf9);
    assert_int_equal(fadt[128], 0x06);
    assert_int_equal(ld64(fadt + 172 + 4), 0x604); /* X_PM1a_CNT_BLK */
}

static void test_madt(void **state)
{
    static Tables t;
    const uint8_t *madt, *p, *end;
    unsigned lapics = 0, ioapics = 0;
    bool irq0_override = false, sci_override = false;

    build(&t, 4, false);
    madt = find(&t, "APIC");
    assert_non_null(madt);
    assert_int_equal(ld32(madt + 36), 0xfee00000);
    assert_int_equal(ld32(madt + 40) & 1, 1); /* PCAT_COMPAT */
    end = madt + ld32(madt + 4);
    for (p = madt + 44; p < end; p += p[1]) {
        assert_true(p[1] >= 2 && p + p[1] <= end);
        switch (p[0]) {
        case 0:
            assert_int_equal(p[2], lapics);   /* processor UID */
            assert_int_equal(p[3], lapics);   /* APIC id */
            assert_int_equal(ld32(p + 4), 1); /* enabled */
            lapics++;
            break;
        case 1:
            assert_int_equal(p[2], 4); /* IOAPIC id = nr_cpus */
            assert_int_equal(ld32(p + 4), 0xfec00000);
            assert_int_equal(ld32(p + 8), 0);
            ioapics++;
            break;
        case 2:
            if (p[3] == 0) {
                assert_int_equal(ld32(p + 4), 2);
                irq0_override = true;
            } else if (p[3] == 9) {
                assert_int_equal(ld32(p + 4), 9);
                assert_int_equal(ld16(p + 8), 0x000d); /* level, active high */
                sci_override = true;
            }
            break;
        }
    }
    assert_int_equal(lapics, 4);
    assert_int_equal(ioapics, 1);
    assert_true(irq0_override);
    assert_true(sci_override);
}

static void test_dsdt_s5(void **state)
{
    static Tables t;
    const uint8_t *fadt, *dsdt;
    uint32_t len;
    bool found = false;

    build(&t, 1, false);
    fadt = find(&t, "FACP");
    dsdt = checked_table(&t, ld32(fadt + 40), "DSDT");
    len = ld32(dsdt + 4);
    /* NameOp \_S5_ PackageOp PkgLength NumElements(4) ByteConst SLP_TYP */
    for (uint32_t i = 36; i + 9 < len; i++) {
        if (memcmp(dsdt + i, "\x08\\_S5_\x12", 7) == 0) {
            assert_int_equal(dsdt[i + 8], 4);
            assert_int_equal(dsdt[i + 9], 0x0a);
            assert_int_equal(dsdt[i + 10], ACPI_S5_SLP_TYP);
            found = true;
        }
    }
    assert_true(found);
    assert_non_null(memmem(dsdt, len, "PCI0", 4));
    assert_non_null(memmem(dsdt, len, "_PRT", 4));
}

/* With an HPET: its table (block ID of a 3-timer legacy-capable 64-bit
 * block at 0xfed00000) and a PNP0103 device with that memory range. */
static void test_hpet(void **state)
{
    static Tables t;
    const uint8_t *hpet, *fadt, *dsdt;
    uint32_t len;
    /* Memory32Fixed: tag 0x86, length 9, read/write, base, 0x400 bytes. */
    static const uint8_t crs[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0,
                                   0xfe, 0x00, 0x04, 0x00, 0x00 };

    build(&t, 1, true);
    hpet = find(&t, "HPET");
    assert_non_null(hpet);
    assert_int_equal(ld32(hpet + 4), 56);
    assert_int_equal(ld32(hpet + 36), 0x8086a201u);
    assert_int_equal(hpet[40], 0);              /* system memory */
    assert_int_equal(ld64(hpet + 44), 0xfed00000u);
    fadt = find(&t, "FACP");
    dsdt = checked_table(&t, ld32(fadt + 40), "DSDT");
    len = ld32(dsdt + 4);
    assert_non_null(memmem(dsdt, len, "HPET", 4));
    assert_non_null(memmem(dsdt, len, "\x0c\x41\xd0\x01\x03", 5)); /* EISAID PNP0103 */
    assert_non_null(memmem(dsdt, len, crs, sizeof(crs)));

    build(&t, 1, false);
    assert_null(find(&t, "HPET"));
    fadt = find(&t, "FACP");
    dsdt = checked_table(&t, ld32(fadt + 40), "DSDT");
    assert_null(memmem(dsdt, ld32(dsdt + 4), "HPET", 4));
}

static void test_small_buffer_and_bad_config(void **state)
{
    static uint8_t buf[BUF_SIZE];
    AcpiConfig cfg;
    uint64_t rsdp = 12345;
    size_t need;

    acpi_config_default(&cfg, 8, 0xe0000000u, 0xfebfffffu);
    need = acpi_build(&cfg, buf, sizeof(buf), 0, &rsdp);
    assert_true(need > 0);
    rsdp = 12345;
    assert_int_equal(acpi_build(&cfg, buf, need - 1, 0, &rsdp), 0);
    assert_int_equal(rsdp, 12345);
    cfg.nr_cpus = 0;
    assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), 0, &rsdp), 0);
    acpi_config_default(&cfg, 8, 0xe0000000u, 0xfebfffffu);
    assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), 0xffffff00u, &rsdp), 0); /* would cross 4 GiB */
}

/* ---- PM registers ---- */

static void test_pm_poweroff(void **state)
{
    TestMachine *t = tm_new(1 << 20, true);

    tm_add(t, &acpi_pm_class, NULL);
    assert_int_equal(tm_inw(t, 0x604) & 1, 1); /* SCI_EN: ACPI mode */
    tm_outw(t, 0x604, 1 | (3 << 10) | (1 << 13)); /* S3: not supported */
    assert_int_equal(machine_take_requests(&t->m), 0);
    tm_outw(t, 0x604, 1 | (ACPI_S5_SLP_TYP << 10)); /* type without SLP_EN */
    assert_int_equal(machine_take_requests(&t->m), 0);
    assert_int_equal(tm_inw(t, 0x604), 1 | (ACPI_S5_SLP_TYP << 10));
    tm_outw(t, 0x604, 1 | (ACPI_S5_SLP_TYP << 10) | (1 << 13));
    assert_int_equal(machine_take_requests(&t->m), MACHINE_REQ_POWEROFF);
    assert_false(tm_inw(t, 0x604) & (1 << 13)); /* SLP_EN reads 0 */
    tm_free(t);
}

static void test_pm_power_button(void **state)
{
    TestMachine *t = tm_new(1 << 20, true);
    Device *pm = tm_add(t, &acpi_pm_class, NULL);

    pm_power_button(pm);
    assert_true(tm_inw(t, 0x600) & 0x100);
    assert_int_equal(t->gsi_level[9], 0); /* not enabled yet */
    tm_outw(t, 0x602, 0x100);
    assert_int_equal(t->gsi_level[9], 1);
    tm_outw(t, 0x600, 0x100); /* write one to clear */
    assert_false(tm_inw(t, 0x600) & 0x100);
    assert_int_equal(t->gsi_level[9], 0);
    tm_free(t);
}

static void test_pm_timer(void **state)
{
    TestMachine *t = tm_new(1 << 20, true);
    uint32_t a, b;

    tm_add(t, &acpi_pm_class, NULL);
    a = tm_inl(t, 0x608);
    g_usleep(5000);
    b = tm_inl(t, 0x608);
    /* 5 ms of a 3.58 MHz counter is ~17900 ticks; only a lower bound. */
    assert_true(b - a >= 3579545 / 1000 * 4);
    tm_outl(t, 0x608, 0); /* read-only */
    assert_true(tm_inl(t, 0x608) - b < 0x80000000u);
    tm_free(t);
}

static int dump(const char *dir)
{
    static Tables t;
    const char *sigs[] = { "FACP", "APIC", "HPET" };

    build(&t, 4, true);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *p = find(&t, sigs[i]);
        char *path = g_strdup_printf("%s/%.4s.dat", dir, sigs[i]);

        if (!p || !g_file_set_contents(path, (const char *)p, ld32(p + 4), NULL)) {
            return 1;
        }
        g_free(path);
        if (i == 0) {
            const uint8_t *dsdt = at(&t, ld32(p + 40), 36);

            path = g_strdup_printf("%s/DSDT.dat", dir);
            if (!g_file_set_contents(path, (const char *)dsdt, ld32(dsdt + 4), NULL)) {
                return 1;
            }
            g_free(path);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsdp),
        cmocka_unit_test(test_hpet),
        cmocka_unit_test(test_all_tables_and_pointers),
        cmocka_unit_test(test_madt),
        cmocka_unit_test(test_dsdt_s5),
        cmocka_unit_test(test_small_buffer_and_bad_config),
        cmocka_unit_test(test_pm_poweroff),
        cmocka_unit_test(test_pm_power_button),
        cmocka_unit_test(test_pm_timer),
    };

    if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
        return dump(argv[2]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
