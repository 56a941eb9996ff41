/*
 * Helpers the core offers to the x87/MMX/SSE extension (ext.h): memory
 * operands through segmentation and the TLB, GPR access, arithmetic flags and
 * the CR0/CR4 gating of SDM vol. 3, 13.1 / 2.5 (EM, TS, OSFXSR).
 */
#include <string.h>

#include "cpu/x86/ext.h"
#include "cpu/x86/mem.h"

static uint64_t ext_off(X86Cpu *cpu, const X86DecodedInsn *insn, uint64_t offset)
{
    return (x86_insn_ea(cpu, insn) + offset) & x86_size_mask(insn->addrsize);
}

void x86_ext_probe(X86Cpu *cpu, const X86DecodedInsn *insn, unsigned size,
                   bool write)
{
    uint64_t off = x86_insn_ea(cpu, insn);
    uint64_t lin = x86_seg_linear(cpu, insn->seg, off, size, write);
    for (uint64_t p = lin & X86_PAGE_MASK; p < lin + size; p += 0x1000) {
        x86_translate(cpu, p < lin ? lin : p, write ? ACC_WRITE : ACC_READ,
                      cpu->mmu_idx);
    }
}

/* Wide (> 8 bytes) accesses: one host copy when the whole operand is in one
 * RAM page already in the TLB; otherwise check every page first (so that a
 * fault leaves memory unchanged), then go 8 bytes at a time. */
static bool ext_wide_fast(X86Cpu *cpu, const X86DecodedInsn *insn, uint64_t offset,
                          unsigned size, bool write, void **host)
{
    uint64_t lin = x86_seg_linear(cpu, insn->seg, ext_off(cpu, insn, offset), size, write);
    X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
    uint64_t tag = write ? e->tag_write : e->tag_read;
    if (likely(tag == (lin & X86_PAGE_MASK) && (lin & 0xfff) + size <= 0x1000)) {
        *host = (void *)(uintptr_t)(lin + e->addend);
        return true;
    }
    for (uint64_t p = lin & X86_PAGE_MASK; p < lin + size; p += 0x1000) {
        x86_translate(cpu, p < lin ? lin : p, write ? ACC_WRITE : ACC_READ, cpu->mmu_idx);
    }
    return false;
}

void x86_ext_load(X86Cpu *cpu, const X86DecodedInsn *insn, uint64_t offset,
                  void *buf, unsigned size)
{
    uint8_t *b = buf;
    void *host;
    if (size > 8 && ext_wide_fast(cpu, insn, offset, size, false, &host)) {
        memcpy(buf, host, size);
        return;
    }
    for (unsigned i = 0; i < size;) {
        unsigned chunk = size - i >= 8 ? 8 : size - i >= 4 ? 4 : size - i >= 2 ? 2 : 1;
        uint64_t v = x86_ld(cpu, insn->seg, ext_off(cpu, insn, offset + i), chunk);
        memcpy(b + i, &v, chunk);
        i += chunk;
    }
}

void x86_ext_store(X86Cpu *cpu, const X86DecodedInsn *insn, uint64_t offset,
                   const void *buf, unsigned size)
{
    const uint8_t *b = buf;
    void *host;
    if (size > 8 && ext_wide_fast(cpu, insn, offset, size, true, &host)) {
        memcpy(host, buf, size);
        return;
    }
    for (unsigned i = 0; i < size;) {
        unsigned chunk = size - i >= 8 ? 8 : size - i >= 4 ? 4 : size - i >= 2 ? 2 : 1;
        uint64_t v = 0;
        memcpy(&v, b + i, chunk);
        x86_st(cpu, insn->seg, ext_off(cpu, insn, offset + i), v, chunk);
        i += chunk;
    }
}

void x86_ext_check_align(X86Cpu *cpu, const X86DecodedInsn *insn, unsigned align)
{
    uint64_t off = x86_insn_ea(cpu, insn);
    uint64_t lin = x86_seg_linear(cpu, insn->seg, off, 1, false);
    if (lin & (align - 1)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
}

uint64_t x86_ext_get_gpr(X86Cpu *cpu, const X86DecodedInsn *insn, int reg,
                         unsigned size)
{
    return x86_get_reg(cpu, reg, size, insn->prefixes & X86_PFX_REX);
}

void x86_ext_set_gpr(X86Cpu *cpu, const X86DecodedInsn *insn, int reg,
                     unsigned size, uint64_t value)
{
    x86_set_reg(cpu, reg, size, insn->prefixes & X86_PFX_REX, value);
}

void x86_ext_set_arith_flags(X86Cpu *cpu, uint32_t flags)
{
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, flags & X86_ARITH_FLAGS, 0);
}

void x86_ext_check_sse(X86Cpu *cpu)
{
    if ((cpu->env->cr0 & X86_CR0_EM) || !(cpu->env->cr4 & X86_CR4_OSFXSR)) {
        x86_raise(cpu, EXC_UD);
    }
    if (cpu->env->cr0 & X86_CR0_TS) {
        x86_raise(cpu, EXC_NM);
    }
}

void x86_ext_check_fpu(X86Cpu *cpu)
{
    if (cpu->env->cr0 & (X86_CR0_EM | X86_CR0_TS)) {
        x86_raise(cpu, EXC_NM);
    }
}

void x86_ext_check_mmx(X86Cpu *cpu)
{
    if (cpu->env->cr0 & X86_CR0_EM) {
        x86_raise(cpu, EXC_UD);
    }
    if (cpu->env->cr0 & X86_CR0_TS) {
        x86_raise(cpu, EXC_NM);
    }
}

void x86_ext_raise(X86Cpu *cpu, int vector)
{
    x86_raise(cpu, vector);
}
