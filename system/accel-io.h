/*
 * Hands the accelerator's device shortcuts (AccelEventOps: ioeventfd,
 * irqfd over MSI routes) to the machine's devices (Machine.accel_io), so
 * that hw/ never sees the accelerator.
 */
#ifndef KESTREL_SYSTEM_ACCEL_IO_H
#define KESTREL_SYSTEM_ACCEL_IO_H

#include "accel/accel.h"
#include "hw/machine.h"

/* Fill m->accel_io from a (after a->ops->init): ioeventfd when the
 * accelerator has it, the MSI routes and irqfds only when it also runs the
 * interrupt controllers (KVM's in-kernel irqchip). */
void accel_io_connect(Machine *m, Accel *a);

#endif
