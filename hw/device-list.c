/*
 * Every device type this build knows, for -device and the board.
 * One line per DeviceClass; the table ends with NULL.
 */
#include "hw/machine.h"

const DeviceClass *const machine_device_types[] = {
    NULL,
};
