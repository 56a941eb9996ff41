/*
 * The KVM backend's own state, shared by its files: one KvmState per VM
 * (Accel.priv) and one KvmVcpu per vCPU (VCpu.priv).  Nothing here is seen
 * outside accel/kvm.  The ioctls follow the Linux KVM API documentation
 * (Documentation/virt/kvm/api.rst) and <linux/kvm.h>.
 */
#ifndef KESTREL_ACCEL_KVM_INT_H
#define KESTREL_ACCEL_KVM_INT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"

/* Fixed guest-physical pages KVM needs on Intel hosts for real mode (the
 * TSS and the identity-map page table), just below the BIOS ROM. */
#define KVM_TSS_ADDR 0xfeffd000ull
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ull

/* GSIs of the in-kernel irqchip: the 24 I/O APIC pins (0..15 also reach the
 * 8259 pair). */
#define KVM_NR_GSI 24

/* MSI routes (GSIs KVM_NR_GSI and up) for devices' irqfds. */
#define KVM_MAX_MSI_ROUTES 512

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define KVM_KICK_SIGNAL SIGUSR1

typedef struct KvmSlot {
    bool used;
    uint64_t gpa;
    uint64_t size;
    uint64_t hva;
    uint32_t flags; /* KVM_MEM_* */
} KvmSlot;

/* A software breakpoint written into guest memory: the int3 byte and what it
 * replaced. */
typedef struct KvmSwBreakpoint {
    uint64_t gva;
    uint8_t *host;
    uint8_t saved;
} KvmSwBreakpoint;

typedef struct KvmState {
    int kvm_fd;
    int vm_fd;
    int run_size;             /* mmap size of struct kvm_run */
    Accel *accel;

    /* Memory slots, kept in step with a->mem by the listener. */
    GMutex slots_lock;
    KvmSlot *slots;
    unsigned nr_slots;
    bool readonly_mem;        /* KVM_CAP_READONLY_MEM */

    struct kvm_cpuid2 *supported_cpuid;
    /* The state MSRs this KVM accepts: indexes into kvm-state.c's table,
     * found by trying each on the first vCPU. */
    uint8_t msr_ok[64];
    unsigned nr_msr_ok;
    bool msrs_probed;
    bool has_xcrs, has_debugregs, has_vcpu_events;

    /* The in-kernel PIC pair, IOAPIC and PIT as KVM created them: what a
     * machine reset restores (kvm-reset.c). */
    struct kvm_irqchip power_on_chip[3];
    struct kvm_pit_state2 power_on_pit;

    /* GSI routing table and MSI routes in use (kvm-irqfd.c); NULL routes
     * without the in-kernel irqchip. */
    GMutex routes_lock;
    struct kvm_irq_routing *routes;
    uint8_t msi_routes_used[KVM_MAX_MSI_ROUTES / 8];
    bool has_irqfd;

    GMutex bp_lock;
    KvmSwBreakpoint sw_bp[ACCEL_MAX_BREAKPOINTS];
    unsigned nr_sw_bp;
} KvmState;

typedef struct KvmVcpu {
    VCpu *cpu;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool thread_known;        /* thread is valid (atomic) */
    uint64_t last_tsc;        /* TSC returned by the last get_state */
    bool tsc_valid;
    AccelDebug debug;         /* what set_debug asked for */
    /* The in-kernel LAPIC as KVM created it (kvm-reset.c). */
    struct kvm_lapic_state power_on_lapic;
} KvmVcpu;

static inline KvmState *kvm_state(Accel *a)
{
    return a->priv;
}

static inline KvmVcpu *kvm_vcpu(VCpu *cpu)
{
    return cpu->priv;
}

/* kvm-vm.c */
int kvm_check_extension(KvmState *s, long cap);

/* kvm-irqfd.c: the GSI routing table (the board's wiring, then MSI routes),
 * irqfd and ioeventfd. */
bool kvm_irq_routing_init(KvmState *s, GError **errp);
void kvm_irq_routing_destroy(KvmState *s);
extern const AccelEventOps kvm_event_ops;

/* kvm-mem.c: memory slots from the memory address space. */
bool kvm_memory_init(KvmState *s, GError **errp);
void kvm_memory_destroy(KvmState *s);

/* kvm-cpuid.c: the CPUID table of a vCPU. */
bool kvm_cpuid_init(KvmState *s, GError **errp);
bool kvm_cpuid_setup_vcpu(KvmState *s, VCpu *cpu, GError **errp);

/* kvm-state.c: X86State <-> KVM. */
void kvm_msrs_probe(KvmState *s, int vcpu_fd);
bool kvm_get_state(VCpu *cpu, GError **errp);
bool kvm_set_state(VCpu *cpu, GError **errp);

/* kvm-vcpu.c */
bool kvm_vcpu_init(Accel *a, VCpu *cpu, GError **errp);
void kvm_vcpu_destroy(VCpu *cpu);
VCpuExit kvm_vcpu_run(VCpu *cpu);
void kvm_vcpu_kick(VCpu *cpu);
/* Up to len bytes of guest code at linear address addr (via KVM_TRANSLATE);
 * returns how many were read. */
unsigned kvm_read_guest_linear(VCpu *cpu, uint64_t addr, uint8_t *buf,
                               unsigned len);

/* kvm-reset.c: power-on state of what KVM models, saved at creation and
 * restored on a machine reset. */
bool kvm_irqchip_save_power_on(KvmState *s, GError **errp);
bool kvm_vcpu_save_power_on(VCpu *cpu, GError **errp);
bool kvm_reset(Accel *a, GError **errp);
bool kvm_vcpu_reset(VCpu *cpu, GError **errp);

/* kvm-debug.c */
bool kvm_set_debug(VCpu *cpu, const AccelDebug *dbg, GError **errp);
/* A #BP exit at pc: is it one of ours (else re-inject it into the guest)? */
bool kvm_is_our_breakpoint(KvmState *s, uint64_t pc);
void kvm_remove_all_breakpoints(KvmState *s);

#endif
