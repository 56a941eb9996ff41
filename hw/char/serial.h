/*
 * 16550A UART on the ISA bus ("isa-serial").
 */
#ifndef KESTREL_HW_CHAR_SERIAL_H
#define KESTREL_HW_CHAR_SERIAL_H

#include "core/device.h"

#define SERIAL_MAX_PORTS 4

extern const DeviceClass serial_isa_class;

/* Classic PC COM port resources for index 0..3. */
uint16_t serial_isa_default_iobase(unsigned index);
uint8_t serial_isa_default_irq(unsigned index);

#endif
