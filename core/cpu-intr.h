/*
 * The link between interrupt controllers and a vCPU.
 *
 * Interrupt controllers (hw/intc) raise request bits here; the software CPU
 * (accel/tcg) polls them between translation blocks and asks the machine's
 * controller for the vector (the INTA cycle).  Neither side knows the other:
 * the machine fills in the callbacks when it wires a vCPU to its LAPIC/PIC.
 * Under KVM with the in-kernel irqchip this link is unused.
 */
#ifndef KESTREL_CORE_CPU_INTR_H
#define KESTREL_CORE_CPU_INTR_H

#include <stdbool.h>
#include <stdint.h>

enum {
    CPU_INTR_EXT = 1u << 0,  /* INTR pin: an external interrupt is pending */
    CPU_INTR_NMI = 1u << 1,
    CPU_INTR_INIT = 1u << 2,
    CPU_INTR_SIPI = 1u << 3,
    CPU_INTR_SMI = 1u << 4,
    CPU_INTR_EXIT = 1u << 5, /* leave the execution loop (pause, timer, ...) */
};

typedef struct CpuIntr {
    uint32_t pending; /* CPU_INTR_* bits; accessed atomically */
    uint8_t sipi_vector;

    /* INTA: return the vector of the highest-priority pending external
     * interrupt and move it to in-service, or -1 if none is deliverable.
     * Called by the vCPU thread with the machine lock held. */
    int (*ack)(void *opaque);
    void *ack_opaque;

    /* Wake or kick the vCPU so that it notices new pending bits. Set by the
     * system when the vCPU thread is created. */
    void (*kick)(void *opaque);
    void *kick_opaque;

    /* Local APIC registers reachable from the CPU (MSRs 0x1b, 0x800-0x8ff,
     * TSC_DEADLINE, CR8 as TPR).  Return false for an MSR the APIC does not
     * implement.  Set by the machine; NULL when no userspace LAPIC. */
    bool (*msr_read)(void *opaque, uint32_t msr, uint64_t *value);
    bool (*msr_write)(void *opaque, uint32_t msr, uint64_t value);
    void *apic_opaque;

    /* Rate of this vCPU's time-stamp counter in Hz, set by the LAPIC (or
     * the machine).  With a userspace LAPIC the TSC counts CLOCK_VIRTUAL at
     * this rate, and reads/writes of IA32_TSC (0x10) go through msr_read/
     * msr_write so that RDTSC and the TSC-deadline timer agree. */
    uint64_t tsc_hz;
} CpuIntr;

/* Pseudo-MSR for msr_read/msr_write: CR8 (TPR[7:4] as bits 3:0).  Not a
 * real MSR number; only the CPU's MOV to/from CR8 uses it. */
#define CPU_INTR_MSR_CR8 0xc8c8c8c8u

static inline void cpu_intr_raise(CpuIntr *ci, uint32_t bits)
{
    __atomic_or_fetch(&ci->pending, bits, __ATOMIC_SEQ_CST);
    if (ci->kick) {
        ci->kick(ci->kick_opaque);
    }
}

static inline void cpu_intr_lower(CpuIntr *ci, uint32_t bits)
{
    __atomic_and_fetch(&ci->pending, ~bits, __ATOMIC_SEQ_CST);
}

static inline uint32_t cpu_intr_pending(const CpuIntr *ci)
{
    return __atomic_load_n(&ci->pending, __ATOMIC_ACQUIRE);
}

#endif
