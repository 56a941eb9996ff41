/*
 * Every device type this build knows, for -device and the board.
 * One line per DeviceClass; the table ends with NULL.
 */
#include "hw/acpi/pm.h"
#include "hw/char/serial.h"
#include "hw/ide/ide.h"
#include "hw/input/i8042.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/machine.h"
#include "hw/misc/misc.h"
#include "hw/net/e1000.h"
#include "hw/net/virtio-net.h"
#include "hw/nvram/fw_cfg.h"
#include "hw/pci/i440fx.h"
#include "hw/timer/i8254.h"
#include "hw/timer/mc146818rtc.h"
#include "hw/virtio/virtio-blk.h"

const DeviceClass *const machine_device_types[] = {
    &serial_isa_class,
    &i8042_class,
    &mc146818rtc_class,
    &port80_class,
    &debugexit_class,
    &acpi_pm_class,
    &fw_cfg_io_class,
    &i440fx_class,
    &piix3_class,
    &piix3_ide_class,
    &ide_hd_class,
    &ide_cd_class,
    &apic_device_class,
    &i8259_device_class,
    &ioapic_device_class,
    &i8254_device_class,
    &virtio_blk_pci_class,
    &e1000_class,
    &virtio_net_pci_class,
    NULL,
};
