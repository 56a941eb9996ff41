/*
 * ACPI fixed-hardware power management registers ("acpi-pm").
 */
#ifndef KESTREL_HW_ACPI_PM_H
#define KESTREL_HW_ACPI_PM_H

#include "core/device.h"

extern const DeviceClass acpi_pm_class;

#define ACPI_PM_IO_BASE 0x600
#define ACPI_PM_SCI_GSI 9

/* Register block layout relative to the I/O base (the FADT says the same). */
#define ACPI_PM1_STS 0x00 /* 16-bit */
#define ACPI_PM1_EN 0x02  /* 16-bit */
#define ACPI_PM1_CNT 0x04 /* 16-bit */
#define ACPI_PM_TMR 0x08  /* 32-bit, read-only */
#define ACPI_PM_IO_LEN 0x0c
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN 4

/* The SLP_TYP value the DSDT's \_S5 package names: writing it with SLP_EN
 * powers the machine off. */
#define ACPI_S5_SLP_TYP 5

#define ACPI_PM_TIMER_HZ 3579545

/* Press the power button: sets PWRBTN_STS and raises the SCI if enabled.
 * pm is the device created from acpi_pm_class (others are ignored). */
void pm_power_button(Device *pm);

#endif
