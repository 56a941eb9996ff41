/*
 * Decimal-adjust instructions DAA/DAS/AAA/AAS/AAM/AAD (legacy modes only),
 * and the flag instructions LAHF/SAHF/CMC/CLC/STC/CLD/STD (SDM vol. 2).
 */
#include "cpu/x86/insn.h"

static void set_arith(X86Cpu *cpu, uint32_t f)
{
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f & X86_ARITH_FLAGS, 0);
}

/* SF/ZF/PF of an 8-bit result on top of the given CF/AF/OF */
static uint32_t szp8(X86Cpu *cpu, uint8_t v, uint32_t keep)
{
    x86_set_cc(cpu, CC_OP(CC_LOGIC, 0), v, 0, 0);
    return (x86_arith_flags(cpu) & (X86_FLAG_SF | X86_FLAG_ZF | X86_FLAG_PF)) | keep;
}

void x86_h_daa(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t f = x86_arith_flags(cpu);
    uint8_t al = cpu->env->regs[R_EAX] & 0xff, old = al;
    bool cf = f & X86_FLAG_CF, af = false;
    if ((al & 0xf) > 9 || (f & X86_FLAG_AF)) {
        al += 6;
        af = true;
    }
    if (old > 0x99 || cf) {
        al += 0x60;
        cf = true;
    } else {
        cf = false;
    }
    x86_set_reg(cpu, R_EAX, 1, false, al);
    set_arith(cpu, szp8(cpu, al, (cf ? X86_FLAG_CF : 0) | (af ? X86_FLAG_AF : 0)));
}

void x86_h_das(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t f = x86_arith_flags(cpu);
    uint8_t al = cpu->env->regs[R_EAX] & 0xff, old = al;
    bool cf = f & X86_FLAG_CF, af = false, ncf = false;
    if ((al & 0xf) > 9 || (f & X86_FLAG_AF)) {
        ncf = cf || al < 6;
        al -= 6;
        af = true;
    }
    if (old > 0x99 || cf) {
        al -= 0x60;
        ncf = true;
    }
    x86_set_reg(cpu, R_EAX, 1, false, al);
    set_arith(cpu, szp8(cpu, al, (ncf ? X86_FLAG_CF : 0) | (af ? X86_FLAG_AF : 0)));
}

void x86_h_aaa(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t f = x86_arith_flags(cpu);
    uint64_t ax = cpu->env->regs[R_EAX] & 0xffff;
    bool adj = (ax & 0xf) > 9 || (f & X86_FLAG_AF);
    if (adj) {
        ax = (ax + 0x106) & 0xffff;
    }
    ax &= 0xff0f;
    x86_set_reg(cpu, R_EAX, 2, false, ax);
    set_arith(cpu, szp8(cpu, (uint8_t)ax, adj ? (X86_FLAG_AF | X86_FLAG_CF) : 0));
}

void x86_h_aas(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t f = x86_arith_flags(cpu);
    uint64_t ax = cpu->env->regs[R_EAX] & 0xffff;
    bool adj = (ax & 0xf) > 9 || (f & X86_FLAG_AF);
    if (adj) {
        ax = (ax - 6) & 0xffff;
        ax = (ax - 0x100) & 0xffff;
    }
    ax &= 0xff0f;
    x86_set_reg(cpu, R_EAX, 2, false, ax);
    set_arith(cpu, szp8(cpu, (uint8_t)ax, adj ? (X86_FLAG_AF | X86_FLAG_CF) : 0));
}

void x86_h_aam(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint8_t base = (uint8_t)d->imm;
    uint8_t al = cpu->env->regs[R_EAX] & 0xff;
    if (base == 0) {
        x86_raise(cpu, EXC_DE);
    }
    uint8_t ah = al / base;
    al = al % base;
    x86_set_reg(cpu, R_EAX, 2, false, ((uint64_t)ah << 8) | al);
    set_arith(cpu, szp8(cpu, al, 0));
}

void x86_h_aad(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint8_t base = (uint8_t)d->imm;
    uint64_t ax = cpu->env->regs[R_EAX];
    uint8_t al = (uint8_t)((ax & 0xff) + ((ax >> 8) & 0xff) * base);
    x86_set_reg(cpu, R_EAX, 2, false, al);
    set_arith(cpu, szp8(cpu, al, 0));
}

void x86_h_lahf(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t f = x86_arith_flags(cpu) | X86_FLAG_FIXED1;
    x86_set_reg(cpu, R_ESP, 1, false, f & 0xd7); /* AH (no REX: reg 4 = AH) */
}

void x86_h_sahf(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t ah = (cpu->env->regs[R_EAX] >> 8) & 0xd5;
    uint32_t f = x86_arith_flags(cpu) & X86_FLAG_OF;
    set_arith(cpu, f | (uint32_t)ah);
}

void x86_h_cmc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    set_arith(cpu, x86_arith_flags(cpu) ^ X86_FLAG_CF);
}

void x86_h_clc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    set_arith(cpu, x86_arith_flags(cpu) & ~X86_FLAG_CF);
}

void x86_h_stc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    set_arith(cpu, x86_arith_flags(cpu) | X86_FLAG_CF);
}

void x86_h_cld(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->rflags &= ~(uint64_t)X86_FLAG_DF;
}

void x86_h_std(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->rflags |= X86_FLAG_DF;
}
