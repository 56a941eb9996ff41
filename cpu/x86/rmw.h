/*
 * Read-modify-write of an r/m operand: plain for registers and unlocked
 * memory, a compare-and-swap loop on the host page for LOCK-prefixed RAM
 * operands so that other vCPU threads see an atomic update.
 */
#ifndef KESTREL_CPU_X86_RMW_H
#define KESTREL_CPU_X86_RMW_H

#include "cpu/x86/insn.h"

/* compute(cpu, d, old, arg) -> new value; sets lazy flags.  `write` false
 * means compute only (CMP/TEST-like: no store). */
typedef uint64_t (*X86RmwFn)(X86Cpu *cpu, const X86DecodedInsn *d,
                             uint64_t old, uint64_t arg, unsigned size);

static inline bool x86_cas(uint8_t *p, unsigned size, uint64_t old, uint64_t new)
{
    switch (size) {
    case 1: { uint8_t o = (uint8_t)old; return __atomic_compare_exchange_n(p, &o, (uint8_t)new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); }
    case 2: { uint16_t o = (uint16_t)old; return __atomic_compare_exchange_n((uint16_t *)p, &o, (uint16_t)new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); }
    case 4: { uint32_t o = (uint32_t)old; return __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); }
    default: { uint64_t o = old; return __atomic_compare_exchange_n((uint64_t *)p, &o, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); }
    }
}

static inline uint64_t x86_host_load(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return __atomic_load_n(p, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
    default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
    }
}

/* Returns the old value. */
static inline uint64_t x86_rmw(X86Cpu *cpu, const X86DecodedInsn *d, unsigned size,
                               X86RmwFn fn, uint64_t arg, bool write)
{
    if (d->mod == 3) {
        uint64_t old = x86_get_reg(cpu, d->rm, size, x86_rex(d));
        uint64_t v = fn(cpu, d, old, arg, size);
        if (write) {
            x86_set_reg(cpu, d->rm, size, x86_rex(d), v);
        }
        return old;
    }
    uint64_t lin = x86_seg_linear(cpu, d->seg, x86_ea(cpu, d), size, write);
    if ((d->prefixes & X86_PFX_LOCK) && write && ((lin & (size - 1)) == 0)) {
        uint8_t *p = x86_host_ptr(cpu, lin, size, ACC_WRITE, cpu->mmu_idx);
        if (p) {
            for (;;) {
                uint64_t old = x86_host_load(p, size);
                uint64_t v = fn(cpu, d, old, arg, size);
                if (x86_cas(p, size, old, v)) {
                    return old;
                }
            }
        }
    }
    if (write) {
        x86_probe_write(cpu, lin, size);
    }
    uint64_t old = x86_ld_lin(cpu, lin, size);
    uint64_t v = fn(cpu, d, old, arg, size);
    if (write) {
        x86_st_lin(cpu, lin, v, size);
    }
    return old;
}

static inline unsigned x86_size_log2(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

#endif
