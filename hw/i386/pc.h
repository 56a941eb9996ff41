/*
 * The pc board: i440FX + PIIX3 with the classic ISA devices.  system/ builds
 * it in three steps: memory (before the accelerator exists, so that KVM sees
 * RAM), devices (once it knows where the interrupt controllers live), and
 * boot (also re-run on every reset).
 */
#ifndef KESTREL_HW_I386_PC_H
#define KESTREL_HW_I386_PC_H

#include <glib.h>
#include <stdbool.h>

#include "core/cpu-intr.h"
#include "cpu/x86/cpu.h"
#include "hw/machine.h"

/* Where interrupts go: into the accelerator's irqchip (KVM), or to the
 * userspace PIC/IOAPIC/LAPIC models. */
typedef struct PcIrqRouting {
    bool irqchip_in_kernel;
    bool pit_in_kernel;
    void (*set_gsi)(void *opaque, unsigned gsi, int level);
    void (*send_msi)(void *opaque, uint64_t addr, uint32_t data);
    /* With the PIT in the accelerator: stop (on) or restart (off) its IRQ0
     * while the HPET's legacy replacement mode is on.  May be NULL. */
    void (*pit_hpet_legacy)(void *opaque, bool on);
    void *opaque;
} PcIrqRouting;

bool pc_memory_init(Machine *m, GError **errp);
/* cpu_intr[i] is the interrupt link of vCPU i (m->nr_cpus of them). */
bool pc_devices_init(Machine *m, const PcIrqRouting *r,
                     CpuIntr *const *cpu_intr, GError **errp);
/* After the last device (-device, drives): program the PCI BARs as
 * firmware would. */
bool pc_machine_done(Machine *m, GError **errp);
/* Reset every device and program the PCI BARs again (as firmware would). */
void pc_reset(Machine *m);
/* Load the -kernel image and fill the boot vCPU's state. */
bool pc_boot(Machine *m, X86State *bsp, GError **errp);
/* The state of application processors at power-on and reset. */
void pc_ap_state(Machine *m, X86State *ap);
/* Called on each vCPU thread before it first runs. */
void pc_cpu_thread_start(Machine *m, CpuIntr *intr);
/* Guest power button (monitor system_powerdown). */
void pc_power_button(Machine *m);
void pc_free(Machine *m);

#endif
