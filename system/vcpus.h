/*
 * vCPU threads: one per vCPU, each running the accelerator's run loop and
 * parking when the machine pauses, resets or quits.
 */
#ifndef KESTREL_SYSTEM_VCPUS_H
#define KESTREL_SYSTEM_VCPUS_H

#include <glib.h>
#include <stdbool.h>

#include "accel/accel.h"
#include "hw/machine.h"

typedef struct Vcpus Vcpus;

Vcpus *vcpus_new(Machine *m, Accel *a);
/* Create the accelerator's vCPUs (m->nr_cpus of them) and their threads,
 * parked until vcpus_resume(). */
bool vcpus_create(Vcpus *v, GError **errp);
/* Park every vCPU and wait until all are parked.  Call without the machine
 * lock. */
void vcpus_pause(Vcpus *v);
void vcpus_resume(Vcpus *v);
bool vcpus_running(const Vcpus *v);
VCpu *vcpus_get(Vcpus *v, unsigned index);
/* Stop and join every thread, destroy the vCPUs. */
void vcpus_destroy(Vcpus *v);

#endif
