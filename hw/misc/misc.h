/*
 * Small ISA devices: the POST code port and isa-debug-exit.
 */
#ifndef KESTREL_HW_MISC_MISC_H
#define KESTREL_HW_MISC_MISC_H

#include "core/device.h"

extern const DeviceClass port80_class;
extern const DeviceClass debugexit_class;

#endif
