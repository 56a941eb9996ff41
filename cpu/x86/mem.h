/*
 * Guest memory access from instruction handlers: segmentation (SDM vol. 3,
 * 5.3 limit checking, 3.4.5 type checks; 64-bit mode canonical checks) and
 * the softmmu TLB fast path (a tag compare and a host load/store, no call).
 * Misses, MMIO and pages holding translated code go to mmu.c.
 */
#ifndef KESTREL_CPU_X86_MEM_H
#define KESTREL_CPU_X86_MEM_H

#include "cpu/x86/x86cpu.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline bool x86_canonical(uint64_t a)
{
    return (uint64_t)(((int64_t)a << 16) >> 16) == a;
}

/* Effective offset of a decoded instruction's memory operand (see the ea_*
 * fields of decode.h): no branch, no call. */
static inline uint64_t x86_ea(const X86Cpu *cpu, const X86DecodedInsn *d)
{
    const uint64_t *r = cpu->env->regs;
    uint64_t ea = d->ea_disp + (r[d->ea_base] & -(uint64_t)d->ea_has_base) +
                  ((r[d->ea_index] & -(uint64_t)d->ea_has_index) << d->scale);
    return ea & (~0ull >> d->ea_wrap_shift);
}

/* Segment-relative offset -> linear address with limit/rights checks. */
static inline uint64_t x86_seg_linear(X86Cpu *cpu, int seg, uint64_t off,
                                      unsigned size, bool write)
{
    if (cpu->code_size == 8) {
        uint64_t lin = off;
        if (seg >= R_FS) {
            lin += cpu->env->segs[seg].base;
        }
        if (unlikely(!x86_canonical(lin) || !x86_canonical(lin + size - 1))) {
            x86_raise_err(cpu, seg == R_SS ? EXC_SS : EXC_GP, 0);
        }
        return lin;
    }
    if (unlikely(off < cpu->segchk[seg].lo || off + size - 1 > cpu->segchk[seg].hi ||
                 !(write ? cpu->segchk[seg].wr : cpu->segchk[seg].rd))) {
        x86_raise_err(cpu, seg == R_SS ? EXC_SS : EXC_GP, 0);
    }
    return (uint32_t)(cpu->env->segs[seg].base + off);
}

static inline uint64_t x86_ld_lin(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_read == (lin & X86_PAGE_MASK) &&
               (lin & 0xfff) + size <= 0x1000)) {
        const void *p = (const void *)(uintptr_t)(lin + e->addend);
        switch (size) {
        case 1: return *(const uint8_t *)p;
        case 2: return ld16(p);
        case 4: return ld32(p);
        default: return ld64(p);
        }
    }
    return x86_ld_slow(cpu, lin, size, cpu->mmu_idx);
}

static inline void x86_st_lin(X86Cpu *cpu, uint64_t lin, uint64_t v,
                              unsigned size)
{
    X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_write == (lin & X86_PAGE_MASK) &&
               (lin & 0xfff) + size <= 0x1000)) {
        void *p = (void *)(uintptr_t)(lin + e->addend);
        switch (size) {
        case 1: *(uint8_t *)p = (uint8_t)v; return;
        case 2: st16(p, (uint16_t)v); return;
        case 4: st32(p, (uint32_t)v); return;
        default: st64(p, v); return;
        }
    }
    x86_st_slow(cpu, lin, v, size, cpu->mmu_idx);
}

/* Make sure a store to [lin, lin+size) will not fault, so that handlers can
 * change flags before storing. */
static inline void x86_probe_write(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
    if (likely((e->tag_write & ~X86_TLB_SLOW) == (lin & X86_PAGE_MASK) &&
               (lin & 0xfff) + size <= 0x1000)) {
        return;
    }
    x86_translate(cpu, lin, ACC_WRITE, cpu->mmu_idx);
    if (((lin + size - 1) ^ lin) & X86_PAGE_MASK) {
        x86_translate(cpu, (lin + size - 1) & X86_PAGE_MASK, ACC_WRITE, cpu->mmu_idx);
    }
}

/* Segment:offset accesses (offset already wrapped to the address size).
 * In 64-bit mode a TLB hit within one page proves the address canonical
 * (tlb_fill never gives a non-canonical page a fast tag), so the canonical
 * checks of x86_seg_linear are left to the miss path. */
static inline uint64_t x86_ld(X86Cpu *cpu, int seg, uint64_t off, unsigned size)
{
    if (likely(cpu->code_size == 8)) {
        uint64_t lin = off + (seg >= R_FS ? cpu->env->segs[seg].base : 0);
        X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
        if (likely(e->tag_read == (lin & X86_PAGE_MASK) && (lin & 0xfff) + size <= 0x1000)) {
            const void *p = (const void *)(uintptr_t)(lin + e->addend);
            switch (size) {
            case 1: return *(const uint8_t *)p;
            case 2: return ld16(p);
            case 4: return ld32(p);
            default: return ld64(p);
            }
        }
    }
    return x86_ld_lin(cpu, x86_seg_linear(cpu, seg, off, size, false), size);
}

static inline void x86_st(X86Cpu *cpu, int seg, uint64_t off, uint64_t v,
                          unsigned size)
{
    if (likely(cpu->code_size == 8)) {
        uint64_t lin = off + (seg >= R_FS ? cpu->env->segs[seg].base : 0);
        X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
        if (likely(e->tag_write == (lin & X86_PAGE_MASK) && (lin & 0xfff) + size <= 0x1000)) {
            void *p = (void *)(uintptr_t)(lin + e->addend);
            switch (size) {
            case 1: *(uint8_t *)p = (uint8_t)v; return;
            case 2: st16(p, (uint16_t)v); return;
            case 4: st32(p, (uint32_t)v); return;
            default: st64(p, v); return;
            }
        }
    }
    x86_st_lin(cpu, x86_seg_linear(cpu, seg, off, size, true), v, size);
}

/* Supervisor-implicit accesses (descriptor tables, TSS, IDT): linear
 * addresses, always with supervisor rights. */
static inline uint64_t x86_ld_sys(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    return x86_ld_slow(cpu, lin, size, MMU_SUP);
}

static inline void x86_st_sys(X86Cpu *cpu, uint64_t lin, uint64_t v,
                              unsigned size)
{
    x86_st_slow(cpu, lin, v, size, MMU_SUP);
}

/* Registers */
static inline uint64_t x86_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t x86_sext(uint64_t v, unsigned size)
{
    switch (size) {
    case 1: return (uint64_t)(int64_t)(int8_t)v;
    case 2: return (uint64_t)(int64_t)(int16_t)v;
    case 4: return (uint64_t)(int64_t)(int32_t)v;
    default: return v;
    }
}

/* Read a register of `size` bytes; byte registers 4..7 are AH..BH unless a
 * REX prefix is present. */
static inline uint64_t x86_get_reg(X86Cpu *cpu, int r, unsigned size, bool rex)
{
    uint64_t *regs = cpu->env->regs;
    switch (size) {
    case 1:
        if (!rex && r >= 4 && r < 8) {
            return (regs[r - 4] >> 8) & 0xff;
        }
        return regs[r] & 0xff;
    case 2: return regs[r] & 0xffff;
    case 4: return regs[r] & 0xffffffffu;
    default: return regs[r];
    }
}

static inline void x86_set_reg(X86Cpu *cpu, int r, unsigned size, bool rex,
                               uint64_t v)
{
    uint64_t *regs = cpu->env->regs;
    switch (size) {
    case 1:
        if (!rex && r >= 4 && r < 8) {
            regs[r - 4] = (regs[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        } else {
            regs[r] = (regs[r] & ~0xffull) | (v & 0xff);
        }
        return;
    case 2: regs[r] = (regs[r] & ~0xffffull) | (v & 0xffff); return;
    case 4: regs[r] = (uint32_t)v; return;
    default: regs[r] = v; return;
    }
}

/* Stack */
static inline uint64_t x86_sp_mask(X86Cpu *cpu)
{
    return x86_size_mask(cpu->stack_size);
}

void x86_push(X86Cpu *cpu, uint64_t v, unsigned size);
uint64_t x86_pop(X86Cpu *cpu, unsigned size);

#endif
