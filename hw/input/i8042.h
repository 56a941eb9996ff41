/*
 * 8042 keyboard controller with a PS/2 keyboard ("i8042").
 */
#ifndef KESTREL_HW_INPUT_I8042_H
#define KESTREL_HW_INPUT_I8042_H

#include "core/device.h"

extern const DeviceClass i8042_class;

#endif
