/*
 * The CPU interface: one API for the software CPU (accel/tcg) and Linux KVM
 * (accel/kvm).  Everything above it -- the vCPU threads of system/, the gdb
 * stub, the monitor -- is the same for both.
 *
 * An accelerator runs a vCPU until something the system must see happens
 * (halt with nothing to do, shutdown, a debug event, a kick).  Port I/O and
 * MMIO are not such events: the accelerator dispatches them itself through
 * the machine's address spaces, holding the machine lock.
 */
#ifndef KESTREL_ACCEL_ACCEL_H
#define KESTREL_ACCEL_ACCEL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cpu-intr.h"
#include "core/memory.h"
#include "cpu/x86/cpu.h"

typedef struct Accel Accel;
typedef struct VCpu VCpu;

typedef enum VCpuExit {
    VCPU_EXIT_KICKED,    /* vcpu_kick() or CPU_INTR_EXIT: look at requests */
    VCPU_EXIT_HALTED,    /* HLT and nothing pending: wait for an interrupt */
    VCPU_EXIT_SHUTDOWN,  /* triple fault: reset the machine */
    VCPU_EXIT_RESET,     /* the guest asked for a reset through the accel */
    VCPU_EXIT_POWEROFF,  /* the accel saw a power-off (e.g. KVM system event) */
    VCPU_EXIT_DEBUG,     /* breakpoint or single step finished */
    VCPU_EXIT_ERROR,     /* the accel cannot go on; see VCpu.error */
} VCpuExit;

#define ACCEL_MAX_BREAKPOINTS 16

typedef struct AccelDebug {
    bool single_step;
    unsigned nr_sw_breakpoints; /* guest virtual addresses */
    uint64_t sw_breakpoints[ACCEL_MAX_BREAKPOINTS];
    unsigned nr_hw_breakpoints;
    uint64_t hw_breakpoints[4];
} AccelDebug;

struct VCpu {
    unsigned index;
    uint32_t apic_id;
    Accel *accel;
    X86State env;      /* TCG: the live state; KVM: synced by get/set_state */
    CpuIntr intr;      /* wired by the machine to the userspace LAPIC/PIC */
    bool stop_request; /* set by the system with the machine lock held */
    char *error;       /* message for VCPU_EXIT_ERROR (g_free'd by owner) */
    void *priv;        /* backend's own per-vCPU state */
    GThread *thread;
};

/* Shortcuts around the vCPU threads for devices (KVM: ioeventfd, and
 * irqfd over MSI routes; see MachineAccelIo in hw/machine.h for what each
 * one means).  Called with the machine lock held.  The MSI ones fail (-1,
 * false) unless the interrupt controllers live in the accelerator. */
typedef struct AccelEventOps {
    bool (*add_ioeventfd)(Accel *a, uint64_t addr, unsigned len, int fd);
    void (*del_ioeventfd)(Accel *a, uint64_t addr, unsigned len, int fd);
    int (*add_msi_route)(Accel *a, uint64_t addr, uint32_t data);
    bool (*update_msi_route)(Accel *a, int route, uint64_t addr,
                             uint32_t data);
    void (*del_msi_route)(Accel *a, int route);
    bool (*add_irqfd)(Accel *a, int fd, int route);
    void (*del_irqfd)(Accel *a, int fd, int route);
} AccelEventOps;

typedef struct AccelOps {
    const char *name;
    /* Can this accelerator run here?  If not, explain in errp. */
    bool (*probe)(GError **errp);
    /* Create the VM over the machine's address spaces.  Called once, after
     * guest RAM is mapped in a->mem and before any vCPU is created. */
    bool (*init)(Accel *a, GError **errp);
    void (*destroy)(Accel *a);
    bool (*vcpu_init)(Accel *a, VCpu *cpu, GError **errp);
    void (*vcpu_destroy)(VCpu *cpu);
    /* Run on the vCPU's own thread, without the machine lock. */
    VCpuExit (*vcpu_run)(VCpu *cpu);
    /* Any thread: make vcpu_run() return VCPU_EXIT_KICKED soon. */
    void (*vcpu_kick)(VCpu *cpu);
    /* Copy the accelerator's state into cpu->env / cpu->env into it.  Called
     * on the vCPU thread, or on any thread while the vCPU is stopped. */
    bool (*get_state)(VCpu *cpu, GError **errp);
    bool (*set_state)(VCpu *cpu, GError **errp);
    /* Interrupt delivery when the irqchip lives in the accelerator (KVM's
     * in-kernel irqchip).  NULL otherwise. */
    void (*set_gsi)(Accel *a, unsigned gsi, int level);
    void (*send_msi)(Accel *a, uint64_t addr, uint32_t data);
    bool (*set_debug)(VCpu *cpu, const AccelDebug *dbg, GError **errp);
    /* Machine reset (the guest's 0xcf9, i8042 pulse or triple fault, the
     * monitor's system_reset), with every vCPU stopped: put what the
     * accelerator itself models (KVM's in-kernel PIC, IOAPIC and PIT) back
     * to its power-on state.  Called before the devices' reset.  NULL:
     * nothing to do. */
    bool (*reset)(Accel *a, GError **errp);
    /* The same for one vCPU, after reset(): what lives in the accelerator
     * and not in X86State (KVM's in-kernel LAPIC, pending events, the
     * paravirtual MSRs, extended XSAVE state; TCG's exception and
     * translation state).  The system then loads the vCPU's reset X86State
     * with set_state.  NULL: nothing to do. */
    bool (*vcpu_reset)(VCpu *cpu, GError **errp);
    /* The accelerator's own 8254 (pit_in_kernel): stop (on) or restart
     * (off) its IRQ0 while the HPET's legacy replacement mode owns IRQ0.
     * NULL when there is none. */
    void (*pit_set_hpet_legacy)(Accel *a, bool on);
    /* NULL when the accelerator has no such shortcuts (tcg). */
    const AccelEventOps *events;
} AccelOps;

typedef struct AccelConfig {
    bool kernel_irqchip; /* KVM: in-kernel PIC/IOAPIC/LAPIC (+ PIT) */
    const char *cpu_model; /* -cpu; NULL for the default */
    bool jit;              /* TCG: generate host code (-accel tcg,jit=on|off) */
    size_t tb_size;        /* TCG: translation cache bytes per vCPU; 0: default */
} AccelConfig;

struct Accel {
    const AccelOps *ops;
    AccelConfig cfg;
    AddressSpace *mem;
    AddressSpace *io;
    GMutex *lock;        /* the machine lock: held while dispatching I/O */
    unsigned nr_vcpus;
    bool irqchip_in_kernel; /* set by init: GSIs go to ops->set_gsi */
    bool pit_in_kernel;     /* set by init: the 8254 lives in the kernel */
    void *priv;
};

extern const AccelOps accel_kvm_ops;
extern const AccelOps accel_tcg_ops;

/* Find "kvm" or "tcg"; NULL if unknown. */
const AccelOps *accel_find(const char *name);

/* Convenience for backends: dispatch one port-I/O or MMIO access under the
 * machine lock. */
uint64_t accel_io_read(Accel *a, uint16_t port, unsigned size);
void accel_io_write(Accel *a, uint16_t port, uint64_t value, unsigned size);
uint64_t accel_mmio_read(Accel *a, uint64_t addr, unsigned size);
void accel_mmio_write(Accel *a, uint64_t addr, uint64_t value, unsigned size);

#endif
