/*
 * Specialised handlers for the most frequent instruction shapes: register-
 * register and register-immediate ALU operations, MOV between registers and
 * to/from memory, for 32- and 64-bit operands.  They compute the same results
 * and lazy flags as the generic handlers (alu.c, move.c) without the
 * per-execution operand-form and size dispatch.  x86_specialize() swaps them
 * in after decoding.
 */
#include "cpu/x86/insn.h"

#define ALU_OPS(X) X(add, 0) X(or, 1) X(adc, 2) X(sbb, 3) X(and, 4) X(sub, 5) X(xor, 6) X(cmp, 7)

#define ALU_BODY(opn, T, SL)                                                       \
    uint64_t r;                                                                    \
    switch (opn) {                                                                 \
    case 0: r = (T)(a + b); x86_set_cc(cpu, CC_OP(CC_ADD, SL), r, b, 0); break;    \
    case 1: r = (T)(a | b); x86_set_cc(cpu, CC_OP(CC_LOGIC, SL), r, 0, 0); break;  \
    case 2: { uint64_t c = x86_cf(cpu); r = (T)(a + b + c);                        \
              x86_set_cc(cpu, CC_OP(CC_ADC, SL), r, b, c); break; }                \
    case 3: { uint64_t c = x86_cf(cpu); r = (T)(a - b - c);                        \
              x86_set_cc(cpu, CC_OP(CC_SBB, SL), r, b, c); break; }                \
    case 4: r = (T)(a & b); x86_set_cc(cpu, CC_OP(CC_LOGIC, SL), r, 0, 0); break;  \
    case 5: case 7: r = (T)(a - b); x86_set_cc(cpu, CC_OP(CC_SUB, SL), r, b, 0); break; \
    default: r = (T)(a ^ b); x86_set_cc(cpu, CC_OP(CC_LOGIC, SL), r, 0, 0); break; \
    }

#define GEN_RR(name, opn)                                                          \
    static void rr64_##name(X86Cpu *cpu, const X86DecodedInsn *d)                  \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        uint64_t a = R[d->rm], b = R[d->reg];                                      \
        ALU_BODY(opn, uint64_t, 3)                                                 \
        if (opn != 7) R[d->rm] = r;                                                \
    }                                                                              \
    static void rr32_##name(X86Cpu *cpu, const X86DecodedInsn *d)                  \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        uint64_t a = (uint32_t)R[d->rm], b = (uint32_t)R[d->reg];                  \
        ALU_BODY(opn, uint32_t, 2)                                                 \
        if (opn != 7) R[d->rm] = r;                                                \
    }                                                                              \
    static void ri64_##name(X86Cpu *cpu, const X86DecodedInsn *d)                  \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        uint64_t a = R[d->rm], b = d->imm;                                         \
        ALU_BODY(opn, uint64_t, 3)                                                 \
        if (opn != 7) R[d->rm] = r;                                                \
    }                                                                              \
    static void ri32_##name(X86Cpu *cpu, const X86DecodedInsn *d)                  \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        uint64_t a = (uint32_t)R[d->rm], b = (uint32_t)d->imm;                     \
        ALU_BODY(opn, uint32_t, 2)                                                 \
        if (opn != 7) R[d->rm] = r;                                                \
    }

ALU_OPS(GEN_RR)

static const X86ExecFn rr64[8] = { rr64_add, rr64_or, rr64_adc, rr64_sbb, rr64_and, rr64_sub, rr64_xor, rr64_cmp };
static const X86ExecFn rr32[8] = { rr32_add, rr32_or, rr32_adc, rr32_sbb, rr32_and, rr32_sub, rr32_xor, rr32_cmp };
static const X86ExecFn ri64[8] = { ri64_add, ri64_or, ri64_adc, ri64_sbb, ri64_and, ri64_sub, ri64_xor, ri64_cmp };
static const X86ExecFn ri32[8] = { ri32_add, ri32_or, ri32_adc, ri32_sbb, ri32_and, ri32_sub, ri32_xor, ri32_cmp };

static void mov_rr64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->rm] = cpu->env->regs[d->reg];
}

static void mov_rr32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->rm] = (uint32_t)cpu->env->regs[d->reg];
}

static void mov_rr64_rev(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = cpu->env->regs[d->rm];
}

static void mov_rr32_rev(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = (uint32_t)cpu->env->regs[d->rm];
}

static void mov_load64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = x86_ld(cpu, d->seg, x86_insn_ea(cpu, d), 8);
}

static void mov_load32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = (uint32_t)x86_ld(cpu, d->seg, x86_insn_ea(cpu, d), 4);
}

static void mov_store64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, x86_insn_ea(cpu, d), cpu->env->regs[d->reg], 8);
}

static void mov_store32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, x86_insn_ea(cpu, d), cpu->env->regs[d->reg], 4);
}

static void mov_ri(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->rm] = d->imm;
}

static void lea64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = x86_insn_ea(cpu, d);
}

static void lea32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = (uint32_t)x86_insn_ea(cpu, d);
}

static void jcc_fast(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (x86_cond(cpu, d->op)) {
        cpu->env->rip = d->imm;
    }
}

/* SHL/SHR/SAR of a register by an immediate count (non-zero after masking
 * is checked at decode time). */
#define GEN_SHIFT(bits, T, SL, CNTMASK)                                            \
    static void shl##bits(X86Cpu *cpu, const X86DecodedInsn *d)                    \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        unsigned c = (unsigned)d->imm;                                             \
        uint64_t a = (T)R[d->rm], r = (T)(a << c);                                 \
        x86_set_cc(cpu, CC_OP(CC_SHL, SL), r, (T)(a << (c - 1)), 0);               \
        R[d->rm] = r;                                                              \
    }                                                                              \
    static void shr##bits(X86Cpu *cpu, const X86DecodedInsn *d)                    \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        unsigned c = (unsigned)d->imm;                                             \
        uint64_t a = (T)R[d->rm], r = a >> c;                                      \
        x86_set_cc(cpu, CC_OP(CC_SHR, SL), r, a >> (c - 1), a);                    \
        R[d->rm] = r;                                                              \
    }                                                                              \
    static void sar##bits(X86Cpu *cpu, const X86DecodedInsn *d)                    \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        unsigned c = (unsigned)d->imm;                                             \
        int64_t a = (int64_t)x86_sext(R[d->rm], bits / 8);                         \
        uint64_t r = (T)(a >> c);                                                  \
        x86_set_cc(cpu, CC_OP(CC_SAR, SL), r, (uint64_t)(a >> (c - 1)), 0);        \
        R[d->rm] = r;                                                              \
    }

GEN_SHIFT(32, uint32_t, 2, 31)
GEN_SHIFT(64, uint64_t, 3, 63)

static void test_rr64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t r = cpu->env->regs[d->rm] & cpu->env->regs[d->reg];
    x86_set_cc(cpu, CC_OP(CC_LOGIC, 3), r, 0, 0);
}

static void test_rr32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t r = (uint32_t)(cpu->env->regs[d->rm] & cpu->env->regs[d->reg]);
    x86_set_cc(cpu, CC_OP(CC_LOGIC, 2), r, 0, 0);
}

static void incdec64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    uint64_t cf = x86_cf(cpu);
    uint64_t r = d->op ? R[d->rm] - 1 : R[d->rm] + 1;
    x86_set_cc(cpu, CC_OP(d->op ? CC_DEC : CC_INC, 3), r, 1, cf);
    R[d->rm] = r;
}

static void incdec32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    uint64_t cf = x86_cf(cpu);
    uint64_t r = (uint32_t)(d->op ? R[d->rm] - 1 : R[d->rm] + 1);
    x86_set_cc(cpu, CC_OP(d->op ? CC_DEC : CC_INC, 2), r, 1, cf);
    R[d->rm] = r;
}

/* 64-bit mode stack operations (flat SS, 8-byte slots) */
static void push64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    uint64_t sp = R[R_ESP] - 8;
    x86_st(cpu, R_SS, sp, R[d->rm], 8);
    R[R_ESP] = sp;
}

static void pop64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    uint64_t v = x86_ld(cpu, R_SS, R[R_ESP], 8);
    R[R_ESP] += 8;
    R[d->rm] = v;
}

static void movzx_load(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = x86_ld(cpu, d->seg, x86_insn_ea(cpu, d), d->aux);
}

void x86_specialize(X86DecodedInsn *d)
{
    unsigned size = d->op2;
    bool reg = d->mod == 3;
    bool wide = size == 4 || size == 8;
    if (!wide || (d->prefixes & X86_PFX_LOCK)) {
        return;
    }
    if (d->exec == x86_h_alu_rm_r && reg) {
        d->exec = size == 8 ? rr64[d->op] : rr32[d->op];
    } else if (d->exec == x86_h_alu_r_rm && reg) {
        /* register form of "r, r/m": swap roles so rm is the destination */
        uint8_t t = d->rm;
        d->rm = d->reg;
        d->reg = t;
        d->exec = size == 8 ? rr64[d->op] : rr32[d->op];
    } else if (d->exec == x86_h_alu_rm_imm && reg) {
        d->exec = size == 8 ? ri64[d->op] : ri32[d->op];
    } else if (d->exec == x86_h_mov_rm_r) {
        d->exec = reg ? (size == 8 ? mov_rr64 : mov_rr32) : (size == 8 ? mov_store64 : mov_store32);
    } else if (d->exec == x86_h_mov_r_rm) {
        d->exec = reg ? (size == 8 ? mov_rr64_rev : mov_rr32_rev) : (size == 8 ? mov_load64 : mov_load32);
    } else if (d->exec == x86_h_mov_r_imm) {
        if (size == 4) {
            d->imm = (uint32_t)d->imm;
        }
        d->exec = mov_ri;
    } else if (d->exec == x86_h_lea && !reg && d->addrsize == 8) {
        d->exec = size == 8 ? lea64 : lea32;
    } else if (d->exec == x86_h_shift_rm && reg && d->aux == 2 &&
               (d->op == 4 || d->op == 5 || d->op == 6 || d->op == 7) &&
               (d->imm & (size == 8 ? 63 : 31)) != 0) {
        d->imm &= size == 8 ? 63 : 31;
        if (d->op == 5) {
            d->exec = size == 8 ? shr64 : shr32;
        } else if (d->op == 7) {
            d->exec = size == 8 ? sar64 : sar32;
        } else {
            d->exec = size == 8 ? shl64 : shl32;
        }
    } else if (d->exec == x86_h_test_rm_r && reg) {
        d->exec = size == 8 ? test_rr64 : test_rr32;
    } else if (d->exec == x86_h_incdec_rm && reg) {
        d->exec = size == 8 ? incdec64 : incdec32;
    } else if (d->exec == x86_h_push_r && d->code64 && size == 8) {
        d->exec = push64;
    } else if (d->exec == x86_h_pop_r && d->code64 && size == 8) {
        d->exec = pop64;
    } else if (d->exec == x86_h_movzx && !reg) {
        d->exec = movzx_load;
    } else if (d->exec == x86_h_jcc) {
        d->exec = jcc_fast;
    }
}
