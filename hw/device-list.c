/*
 * Every device type this build knows, for -device and the board.
 * One line per DeviceClass; the table ends with NULL.
 */
#include "hw/machine.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/timer/i8254.h"

const DeviceClass *const machine_device_types[] = {
    &apic_device_class,
    &i8259_device_class,
    &ioapic_device_class,
    &i8254_device_class,
    NULL,
};
