/*
 * Local APICs (one per vCPU) and the APIC bus that connects them to each
 * other, to the IOAPIC, to MSIs and to the 8259 (LINT0 in virtual-wire mode).
 *
 * Which LAPIC an access to the xAPIC page at 0xfee00000 reaches: the page is
 * per CPU on real hardware, so the MMIO handler serves the LAPIC of the
 * vCPU whose thread is making the access.  Each vCPU thread names itself once
 * with apic_set_current_cpu(&vcpu->intr) before it runs guest code (a loop
 * that runs several vCPUs on one thread calls it before each vcpu_run()).  The
 * value is thread-local per-vCPU state, not machine state; accesses from a
 * thread that never set it (monitor, gdb stub) reach the first LAPIC.
 *
 * Timing: the LAPIC timer counts CLOCK_VIRTUAL at APIC_BUS_HZ (before the
 * divider); the TSC counts CLOCK_VIRTUAL at APIC_TSC_HZ, and that rate is also
 * published in CpuIntr.tsc_hz.  The software CPU reads and writes the TSC
 * through CpuIntr.msr_read/msr_write (MSR 0x10) so RDTSC and the TSC-deadline
 * timer agree.
 */
#ifndef KESTREL_HW_INTC_APIC_H
#define KESTREL_HW_INTC_APIC_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cpu-intr.h"
#include "core/device.h"
#include "core/irq.h"

#define APIC_DEFAULT_ADDRESS 0xfee00000ULL
#define APIC_BUS_HZ 1000000000ULL /* 1 ns per timer tick before the divider */
#define APIC_TSC_HZ 2000000000ULL /* the TSC of every vCPU: 2 GHz */

/* MSR numbers the LAPIC serves through CpuIntr.msr_read/msr_write. */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

/* Delivery modes of interrupt messages (ICR, IOAPIC, MSI, LVT). */
enum {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_SIPI = 6,
    APIC_DM_EXTINT = 7,
};

typedef struct ApicBus ApicBus;
typedef struct ApicState ApicState;

/* One interrupt message on the APIC bus. */
typedef struct ApicMessage {
    uint32_t dest;     /* APIC ID (physical) or logical destination */
    bool logical;      /* destination mode */
    uint8_t mode;      /* APIC_DM_* */
    uint8_t vector;
    bool level;        /* level-triggered: sets TMR, EOI is broadcast */
} ApicMessage;

extern const DeviceClass apic_device_class;

/* The bus and the xAPIC MMIO page at 0xfee00000 in m->mem; adopted by the
 * machine (it resets and snapshots all LAPICs). */
ApicBus *apic_bus_new(Machine *m);

/* Create the LAPIC of one vCPU and install intr->ack, msr_read, msr_write,
 * apic_opaque and tsc_hz.  Returns NULL if the bus is full or the ID taken. */
ApicState *apic_init(ApicBus *bus, uint32_t apic_id, CpuIntr *intr, bool bsp);

/* Thread-local: the vCPU whose LAPIC the xAPIC page shows on this thread. */
void apic_set_current_cpu(CpuIntr *intr);

/* LINT0 and LINT1 of every LAPIC (the PC wires the 8259 INT output to LINT0
 * and NMI to LINT1 of all processors). */
IrqLine *apic_bus_lint0(ApicBus *bus);
IrqLine *apic_bus_lint1(ApicBus *bus);

/* Who answers an ExtINT acknowledge (the 8259: i8259_ack_cb). */
void apic_bus_set_extint(ApicBus *bus, int (*ack)(void *opaque), void *opaque);

/* Who hears EOIs of level-triggered interrupts (the IOAPIC). */
void apic_bus_set_eoi_listener(ApicBus *bus,
                               void (*eoi)(void *opaque, uint8_t vector),
                               void *opaque);

/* Send a message to the LAPICs it addresses. */
void apic_bus_deliver(ApicBus *bus, const ApicMessage *msg);

/* An MSI write (address 0xfeeXXXXX, data) from a PCI device. */
void apic_bus_deliver_msi(ApicBus *bus, uint64_t addr, uint32_t data);

/* Inspection for tests and the monitor. */
uint32_t apic_get_id(const ApicState *s);
bool apic_irr_test(const ApicState *s, uint8_t vector);
bool apic_isr_test(const ApicState *s, uint8_t vector);
ApicState *apic_bus_find(ApicBus *bus, uint32_t apic_id);

#endif
