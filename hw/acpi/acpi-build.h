/*
 * ACPI tables of the pc machine: RSDP (2.0), RSDT, XSDT, FADT (revision 3),
 * FACS, DSDT, MADT and optionally HPET, built into one buffer as they will
 * lie in guest memory.
 */
#ifndef KESTREL_HW_ACPI_ACPI_BUILD_H
#define KESTREL_HW_ACPI_ACPI_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 255

typedef struct AcpiConfig {
    unsigned nr_cpus;
    uint8_t apic_ids[ACPI_MAX_CPUS]; /* LAPIC id of CPU i (usually i) */
    uint8_t ioapic_id;               /* usually nr_cpus */
    uint32_t ioapic_addr;            /* 0xfec00000 */
    uint32_t lapic_addr;             /* 0xfee00000 */
    uint16_t pm_io_base;             /* ACPI_PM_IO_BASE */
    uint8_t sci_gsi;                 /* 9 */
    uint16_t reset_port;             /* 0xcf9 */
    uint8_t reset_value;             /* 0x06 */
    bool hpet;
    uint32_t hpet_addr;              /* 0xfed00000 */
    /* The PCI root bridge's memory window below 4 GiB (inclusive bounds),
     * which must hold what pci_assign_bars() was given. */
    uint32_t pci_mmio_base;
    uint32_t pci_mmio_last;
    /* COM ports present (bit i: COM i+1), described in the DSDT. */
    uint8_t serial_mask;
} AcpiConfig;

/* Fill cfg with the pc machine's defaults for nr_cpus CPUs and the given
 * PCI window; the caller may adjust fields afterwards. */
void acpi_config_default(AcpiConfig *cfg, unsigned nr_cpus,
                         uint32_t pci_mmio_base, uint32_t pci_mmio_last);

/* Build all tables into buf as they will appear at guest physical address
 * guest_base (so table pointers are guest_base + offset; guest_base must be
 * below 4 GiB for the 32-bit pointers).  The RSDP is at *rsdp_offset (a
 * multiple of 16).  Returns the bytes used, or 0 if size is too small or
 * cfg is invalid. */
size_t acpi_build(const AcpiConfig *cfg, uint8_t *buf, size_t size,
                  uint64_t guest_base, uint64_t *rsdp_offset);

/* Sum of bytes mod 256 (0 for a table with a correct checksum). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
