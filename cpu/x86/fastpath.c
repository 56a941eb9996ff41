/*
 * Specialised handlers for the most frequent instruction shapes: register-
 * register, register-immediate and memory-operand ALU operations, MOV/MOVZX/
 * MOVSX between registers and to/from memory, CMOVcc, SETcc, IMUL, shifts,
 * PUSH/POP.  They compute the same results and lazy flags as the generic
 * handlers (alu.c, move.c) without the per-execution operand-form and size
 * dispatch; memory operands use the precomputed effective address (x86_ea).
 * A read-modify-write of memory whose page is not a plain writable RAM page
 * in the TLB falls back to the generic handler.  x86_specialize() swaps them
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
    cpu->env->regs[d->reg] = x86_ld(cpu, d->seg, x86_ea(cpu, d), 8);
}

static void mov_load32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = (uint32_t)x86_ld(cpu, d->seg, x86_ea(cpu, d), 4);
}

static void mov_store64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, x86_ea(cpu, d), cpu->env->regs[d->reg], 8);
}

static void mov_store32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, x86_ea(cpu, d), cpu->env->regs[d->reg], 4);
}

static void mov_ri(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->rm] = d->imm;
}

static void lea64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = x86_ea(cpu, d);
}

static void lea32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = (uint32_t)x86_ea(cpu, d);
}

/* A condition (cc constant after inlining) evaluated inline for the flags of
 * 32/64-bit SUB/CMP and logic operations, the shapes compare-and-branch code
 * leaves; anything else asks flags.c. */
static inline bool cond_inline(const X86Cpu *cpu, unsigned cc)
{
    unsigned c = cc >> 1;
    bool r;
    if (c == 0 || c == 5) {
        return x86_cond(cpu, cc); /* O, P */
    }
    switch (cpu->cc_op) {
    case CC_OP(CC_SUB, 2): {
        uint32_t dst = (uint32_t)cpu->cc_dst, b = (uint32_t)cpu->cc_src, a = dst + b;
        r = c == 1 ? a < b : c == 2 ? dst == 0 : c == 3 ? a <= b : c == 4 ? (int32_t)dst < 0
          : c == 6 ? (int32_t)a < (int32_t)b : (int32_t)a <= (int32_t)b;
        break;
    }
    case CC_OP(CC_SUB, 3): {
        uint64_t dst = cpu->cc_dst, b = cpu->cc_src, a = dst + b;
        r = c == 1 ? a < b : c == 2 ? dst == 0 : c == 3 ? a <= b : c == 4 ? (int64_t)dst < 0
          : c == 6 ? (int64_t)a < (int64_t)b : (int64_t)a <= (int64_t)b;
        break;
    }
    case CC_OP(CC_LOGIC, 2): {
        int32_t dst = (int32_t)cpu->cc_dst;
        r = c == 1 ? false : c == 2 || c == 3 ? dst == 0 : c == 4 || c == 6 ? dst < 0 : dst <= 0;
        break;
    }
    case CC_OP(CC_LOGIC, 3): {
        int64_t dst = (int64_t)cpu->cc_dst;
        r = c == 1 ? false : c == 2 || c == 3 ? dst == 0 : c == 4 || c == 6 ? dst < 0 : dst <= 0;
        break;
    }
    default:
        return x86_cond(cpu, cc);
    }
    return r ^ (cc & 1);
}

/* Jcc at the end of a block, and inside a block that goes on at the fall-
 * through (a taken branch leaves the block), one handler per condition. */
#define GEN_JCC(cc)                                                                    static void jcc_end_##cc(X86Cpu *cpu, const X86DecodedInsn *d)                     {                                                                                      if (cond_inline(cpu, cc)) {                                                            cpu->env->rip = d->imm;                                                        }                                                                              }                                                                                  static void jcc_mid_##cc(X86Cpu *cpu, const X86DecodedInsn *d)                     {                                                                                      if (cond_inline(cpu, cc)) {                                                            cpu->env->rip = d->imm;                                                            cpu->stop_tb = true;                                                           }                                                                              }
#define CC16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
CC16(GEN_JCC)
#define FN_END(cc) jcc_end_##cc,
#define FN_MID(cc) jcc_mid_##cc,
static const X86ExecFn jcc_end[16] = { CC16(FN_END) };
static const X86ExecFn jcc_mid[16] = { CC16(FN_MID) };

bool x86_block_continues(X86DecodedInsn *d, uint64_t *next)
{
    if (d->exec == jcc_end[d->op & 15]) {
        d->exec = jcc_mid[d->op & 15];
        *next = d->next_ip;
        return true;
    }
    if (d->exec == x86_h_jmp_rel || d->exec == x86_h_call_rel) {
        *next = d->imm;
        return true;
    }
    return false;
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

/* ROL/ROR of a register by an immediate count (non-zero after masking):
 * CF and OF change, the other arithmetic flags stay. */
/* Rotates of a register by an immediate count (1..bits-1).  The _nf forms
 * leave the flags alone: x86_block_drop_dead_flags() picks them where the
 * block overwrites the flags before anything can read them. */
#define GEN_ROT_NOFLAGS(bits, T)                                                   \
    static void rol##bits##_nf(X86Cpu *cpu, const X86DecodedInsn *d)               \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        unsigned c = (unsigned)d->imm;                                             \
        T a = (T)R[d->rm];                                                         \
        R[d->rm] = (T)((a << c) | (a >> (bits - c)));                              \
    }                                                                              \
    static void ror##bits##_nf(X86Cpu *cpu, const X86DecodedInsn *d)               \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        unsigned c = (unsigned)d->imm;                                             \
        T a = (T)R[d->rm];                                                         \
        R[d->rm] = (T)((a >> c) | (a << (bits - c)));                              \
    }

GEN_ROT_NOFLAGS(32, uint32_t)
GEN_ROT_NOFLAGS(64, uint64_t)

/* CF and OF after a rotate whose result is r; SF, ZF, AF and PF are kept. */
static void set_rotate_flags(X86Cpu *cpu, uint64_t r, unsigned bits, bool left)
{
    bool msb = (r >> (bits - 1)) & 1;
    bool cf = left ? (r & 1) : msb;
    bool of = left ? msb ^ cf : msb ^ ((r >> (bits - 2)) & 1);
    uint32_t f = x86_arith_flags(cpu) & ~(uint32_t)(X86_FLAG_CF | X86_FLAG_OF);
    f |= (cf ? X86_FLAG_CF : 0) | (of ? X86_FLAG_OF : 0);
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
}

#define GEN_ROT(bits, dir, left)                                                   \
    static void dir##bits(X86Cpu *cpu, const X86DecodedInsn *d)                    \
    {                                                                              \
        dir##bits##_nf(cpu, d);                                                    \
        set_rotate_flags(cpu, cpu->env->regs[d->rm], bits, left);                  \
    }

GEN_ROT(32, rol, true)
GEN_ROT(32, ror, false)
GEN_ROT(64, rol, true)
GEN_ROT(64, ror, false)

static void not_r64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->rm] = ~cpu->env->regs[d->rm];
}

static void not_r32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->rm] = (uint32_t)~cpu->env->regs[d->rm];
}

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
    cpu->env->regs[d->reg] = x86_ld(cpu, d->seg, x86_ea(cpu, d), d->aux);
}


/* ---- memory-operand shapes ---- */

/* Host pointer for a read-modify-write of [lin, lin+size) when the page is
 * writable RAM in the TLB (so loading, computing flags and storing cannot
 * fault in between); NULL otherwise. */
static inline uint8_t *rmw_ptr(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_write == (lin & X86_PAGE_MASK) && (lin & 0xfff) + size <= 0x1000)) {
        return (uint8_t *)(uintptr_t)(lin + e->addend);
    }
    return NULL;
}

static inline uint64_t host_ld(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: return ld16(p);
    case 4: return ld32(p);
    default: return ld64(p);
    }
}

static inline void host_st(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *p = (uint8_t)v; return;
    case 2: st16(p, (uint16_t)v); return;
    case 4: st32(p, (uint32_t)v); return;
    default: st64(p, v); return;
    }
}

/* op r, [m] (r = 32/64 bit); op [m], imm and op [m], r with the memory
 * operand as destination (CMP only reads it). */
/* The body of "op [m], src": CMP only reads; the others update memory in
 * place through rmw_ptr() or, without a host pointer, through the general
 * handler `fallback`. */
#define MEM_DST_ALU(opn, bits, T, SL, src, fallback)                               \
        uint64_t b = src;                                                          \
        if (opn == 7) {                                                            \
            uint64_t a = (T)x86_ld(cpu, d->seg, x86_ea(cpu, d), bits / 8);         \
            ALU_BODY(opn, T, SL)                                                   \
            (void)r;                                                               \
            return;                                                                \
        }                                                                          \
        uint64_t lin = x86_seg_linear(cpu, d->seg, x86_ea(cpu, d), bits / 8, true); \
        uint8_t *p = rmw_ptr(cpu, lin, bits / 8);                                  \
        if (!p) {                                                                  \
            fallback(cpu, d);                                                      \
            return;                                                                \
        }                                                                          \
        uint64_t a = host_ld(p, bits / 8);                                         \
        ALU_BODY(opn, T, SL)                                                       \
        host_st(p, bits / 8, r);

#define GEN_MEM(name, opn, bits, T, SL)                                            \
    static void rm##bits##_##name(X86Cpu *cpu, const X86DecodedInsn *d)            \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        uint64_t b = (T)x86_ld(cpu, d->seg, x86_ea(cpu, d), bits / 8);             \
        uint64_t a = (T)R[d->reg];                                                 \
        ALU_BODY(opn, T, SL)                                                       \
        if (opn != 7) R[d->reg] = r;                                               \
    }                                                                              \
    static void mi##bits##_##name(X86Cpu *cpu, const X86DecodedInsn *d)            \
    {                                                                              \
        MEM_DST_ALU(opn, bits, T, SL, (T)d->imm, x86_h_alu_rm_imm)                 \
    }                                                                              \
    static void mr##bits##_##name(X86Cpu *cpu, const X86DecodedInsn *d)            \
    {                                                                              \
        MEM_DST_ALU(opn, bits, T, SL, (T)cpu->env->regs[d->reg], x86_h_alu_rm_r)   \
    }

#define GEN_MEM_ALL(name, opn) GEN_MEM(name, opn, 32, uint32_t, 2) GEN_MEM(name, opn, 64, uint64_t, 3)
ALU_OPS(GEN_MEM_ALL)

static const X86ExecFn rm32[8] = { rm32_add, rm32_or, rm32_adc, rm32_sbb, rm32_and, rm32_sub, rm32_xor, rm32_cmp };
static const X86ExecFn rm64[8] = { rm64_add, rm64_or, rm64_adc, rm64_sbb, rm64_and, rm64_sub, rm64_xor, rm64_cmp };
static const X86ExecFn mi32[8] = { mi32_add, mi32_or, mi32_adc, mi32_sbb, mi32_and, mi32_sub, mi32_xor, mi32_cmp };
static const X86ExecFn mi64[8] = { mi64_add, mi64_or, mi64_adc, mi64_sbb, mi64_and, mi64_sub, mi64_xor, mi64_cmp };
static const X86ExecFn mr32[8] = { mr32_add, mr32_or, mr32_adc, mr32_sbb, mr32_and, mr32_sub, mr32_xor, mr32_cmp };
static const X86ExecFn mr64[8] = { mr64_add, mr64_or, mr64_adc, mr64_sbb, mr64_and, mr64_sub, mr64_xor, mr64_cmp };

/* Byte-register ALU (AH..BH without REX), any operation, register form. */
static void rr8_alu(X86Cpu *cpu, const X86DecodedInsn *d)
{
    bool rex = x86_rex(d);
    uint64_t a = x86_get_reg(cpu, d->rm, 1, rex);
    uint64_t b = d->aux ? (uint8_t)d->imm : x86_get_reg(cpu, d->reg, 1, rex);
    ALU_BODY(d->op, uint8_t, 0)
    if (d->op != 7) {
        x86_set_reg(cpu, d->rm, 1, rex, r);
    }
}

/* CMP [m8], imm8 / CMP [m8], r8 / CMP r8, [m8] and TEST-free byte compares */
static void cmp8_mem(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t m = (uint8_t)x86_ld(cpu, d->seg, x86_ea(cpu, d), 1);
    uint64_t v = d->aux == 1 ? (uint8_t)d->imm : x86_get_reg(cpu, d->reg, 1, x86_rex(d));
    uint64_t a = d->aux == 2 ? v : m, b = d->aux == 2 ? m : v;
    x86_set_cc(cpu, CC_OP(CC_SUB, 0), (uint8_t)(a - b), b, 0);
}

/* Loads and stores of bytes and words, MOVZX/MOVSX */
static void mov_load8(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_set_reg(cpu, d->reg, 1, x86_rex(d), x86_ld(cpu, d->seg, x86_ea(cpu, d), 1));
}

static void mov_load16(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *r = &cpu->env->regs[d->reg];
    *r = (*r & ~0xffffull) | x86_ld(cpu, d->seg, x86_ea(cpu, d), 2);
}

static void mov_store8(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, x86_ea(cpu, d), x86_get_reg(cpu, d->reg, 1, x86_rex(d)), 1);
}

static void mov_store16(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, x86_ea(cpu, d), cpu->env->regs[d->reg], 2);
}

#define GEN_STORE_IMM(bytes)                                                       \
    static void mov_store_imm##bytes(X86Cpu *cpu, const X86DecodedInsn *d)         \
    {                                                                              \
        x86_st(cpu, d->seg, x86_ea(cpu, d), d->imm, bytes);                        \
    }
GEN_STORE_IMM(1) GEN_STORE_IMM(2) GEN_STORE_IMM(4) GEN_STORE_IMM(8)

static void mov_rr8(X86Cpu *cpu, const X86DecodedInsn *d)
{
    bool rex = x86_rex(d);
    x86_set_reg(cpu, d->rm, 1, rex, x86_get_reg(cpu, d->reg, 1, rex));
}

/* MOVZX r32/r64, r8/r16 (the destination is 32 or 64 bits: zero-extends) */
static void movzx_rr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->regs[d->reg] = x86_get_reg(cpu, d->rm, d->aux, x86_rex(d));
}

#define GEN_MOVSX(from, T)                                                         \
    static void movsx_load##from##_32(X86Cpu *cpu, const X86DecodedInsn *d)        \
    {                                                                              \
        cpu->env->regs[d->reg] =                                                   \
            (uint32_t)(T)x86_ld(cpu, d->seg, x86_ea(cpu, d), from / 8);            \
    }                                                                              \
    static void movsx_load##from##_64(X86Cpu *cpu, const X86DecodedInsn *d)        \
    {                                                                              \
        cpu->env->regs[d->reg] =                                                   \
            (uint64_t)(int64_t)(T)x86_ld(cpu, d->seg, x86_ea(cpu, d), from / 8);   \
    }
GEN_MOVSX(8, int8_t) GEN_MOVSX(16, int16_t) GEN_MOVSX(32, int32_t)

/* CMOVcc r, r/m (32-bit forms zero-extend even when the condition fails) */
static void cmov_rr64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    if (cond_inline(cpu, d->op)) {
        R[d->reg] = R[d->rm];
    }
}

static void cmov_rr32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    R[d->reg] = (uint32_t)(cond_inline(cpu, d->op) ? R[d->rm] : R[d->reg]);
}

static void setcc_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_set_reg(cpu, d->rm, 1, x86_rex(d), x86_cond(cpu, d->op));
}

static void imul_rr32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    int64_t p = (int64_t)(int32_t)R[d->reg] * (int32_t)R[d->rm];
    uint64_t lo = (uint32_t)p;
    x86_set_cc(cpu, CC_OP(CC_MUL, 2), lo, p != (int32_t)p, 0);
    R[d->reg] = lo;
}

static void imul_rr64(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *R = cpu->env->regs;
    __int128 p = (__int128)(int64_t)R[d->reg] * (int64_t)R[d->rm];
    uint64_t lo = (uint64_t)p;
    x86_set_cc(cpu, CC_OP(CC_MUL, 3), lo, p != (int64_t)lo, 0);
    R[d->reg] = lo;
}

/* TEST r/m, imm on a register */
static void test_ri(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t r = x86_get_reg(cpu, d->rm, size, x86_rex(d)) & d->imm & x86_size_mask(size);
    x86_set_cc(cpu, CC_OP(CC_LOGIC, size == 8 ? 3 : size == 4 ? 2 : size == 2 ? 1 : 0), r, 0, 0);
}

/* SHL/SHR/SAR r32/r64, CL: a zero count leaves the flags alone (the 32-bit
 * register is still written, zero-extended). */
#define GEN_SHIFT_CL(bits, T, SL)                                                  \
    static void shift_cl##bits(X86Cpu *cpu, const X86DecodedInsn *d)               \
    {                                                                              \
        uint64_t *R = cpu->env->regs;                                              \
        unsigned c = (unsigned)R[R_ECX] & (bits - 1);                              \
        uint64_t a = (T)R[d->rm];                                                  \
        if (c == 0) {                                                              \
            R[d->rm] = a;                                                          \
            return;                                                                \
        }                                                                          \
        uint64_t r;                                                                \
        if (d->op == 5) {                                                          \
            r = a >> c;                                                            \
            x86_set_cc(cpu, CC_OP(CC_SHR, SL), r, a >> (c - 1), a);                \
        } else if (d->op == 7) {                                                   \
            int64_t s = (int64_t)x86_sext(a, bits / 8);                            \
            r = (T)(s >> c);                                                       \
            x86_set_cc(cpu, CC_OP(CC_SAR, SL), r, (uint64_t)(s >> (c - 1)), 0);    \
        } else {                                                                   \
            r = (T)(a << c);                                                       \
            x86_set_cc(cpu, CC_OP(CC_SHL, SL), r, (T)(a << (c - 1)), 0);           \
        }                                                                          \
        R[d->rm] = r;                                                              \
    }
GEN_SHIFT_CL(32, uint32_t, 2)
GEN_SHIFT_CL(64, uint64_t, 3)

/* Byte and word specialisations (the 32/64-bit ones are below). */
static void specialize_narrow(X86DecodedInsn *d)
{
    unsigned size = d->op2;
    bool reg = d->mod == 3;
    if (d->exec == x86_h_mov_rm_r) {
        d->exec = reg ? (size == 1 ? mov_rr8 : d->exec) : (size == 1 ? mov_store8 : mov_store16);
    } else if (d->exec == x86_h_mov_r_rm && !reg) {
        d->exec = size == 1 ? mov_load8 : mov_load16;
    } else if (d->exec == x86_h_mov_rm_imm && !reg) {
        d->exec = size == 1 ? mov_store_imm1 : mov_store_imm2;
    } else if (size == 1 && reg && d->exec == x86_h_alu_rm_r) {
        d->exec = rr8_alu;
    } else if (size == 1 && reg && d->exec == x86_h_alu_rm_imm) {
        d->aux = 1;
        d->exec = rr8_alu;
    } else if (size == 1 && reg && d->exec == x86_h_alu_r_rm) {
        uint8_t t = d->rm;
        d->rm = d->reg;
        d->reg = t;
        d->exec = rr8_alu;
    } else if (size == 1 && !reg && d->op == 7 &&
               (d->exec == x86_h_alu_rm_imm || d->exec == x86_h_alu_rm_r ||
                d->exec == x86_h_alu_r_rm)) {
        d->aux = d->exec == x86_h_alu_rm_imm ? 1 : d->exec == x86_h_alu_r_rm ? 2 : 0;
        d->exec = cmp8_mem;
    } else if (d->exec == x86_h_setcc && reg) {
        d->exec = setcc_r;
    } else if (d->exec == x86_h_test_rm_imm && reg) {
        d->exec = test_ri;
    }
}

void x86_specialize(X86DecodedInsn *d)
{
    unsigned size = d->op2;
    bool reg = d->mod == 3;
    bool wide = size == 4 || size == 8;
    if (d->prefixes & X86_PFX_LOCK) {
        return;
    }
    if (d->exec == x86_h_jcc) {
        d->exec = jcc_end[d->op & 15];
        return;
    }
    if (!wide) {
        specialize_narrow(d);
        return;
    }
    if (d->exec == x86_h_movzx && reg) {
        d->exec = movzx_rr;
        return;
    }
    if (d->exec == x86_h_movsx && !reg) {
        static const X86ExecFn sx32[5] = { NULL, movsx_load8_32, movsx_load16_32, NULL, movsx_load32_32 };
        static const X86ExecFn sx64[5] = { NULL, movsx_load8_64, movsx_load16_64, NULL, movsx_load32_64 };
        if (sx32[d->aux]) {
            d->exec = size == 8 ? sx64[d->aux] : sx32[d->aux];
        }
        return;
    }
    if (!reg && (d->exec == x86_h_alu_r_rm || d->exec == x86_h_alu_rm_imm ||
                 d->exec == x86_h_alu_rm_r)) {
        const X86ExecFn *t = d->exec == x86_h_alu_r_rm ? (size == 8 ? rm64 : rm32)
                           : d->exec == x86_h_alu_rm_imm ? (size == 8 ? mi64 : mi32)
                           : (size == 8 ? mr64 : mr32);
        d->exec = t[d->op];
        return;
    }
    if (d->exec == x86_h_mov_rm_imm && !reg) {
        d->exec = size == 8 ? mov_store_imm8 : mov_store_imm4;
        return;
    }
    if (d->exec == x86_h_not_rm && reg) {
        d->exec = size == 8 ? not_r64 : not_r32;
        return;
    }
    if (d->exec == x86_h_cmov && reg) {
        d->exec = size == 8 ? cmov_rr64 : cmov_rr32;
        return;
    }
    if (d->exec == x86_h_imul_r_rm && reg) {
        d->exec = size == 8 ? imul_rr64 : imul_rr32;
        return;
    }
    if (d->exec == x86_h_test_rm_imm && reg) {
        d->exec = test_ri;
        return;
    }
    if (d->exec == x86_h_shift_rm && reg && d->aux == 1 &&
        (d->op == 4 || d->op == 5 || d->op == 6 || d->op == 7)) {
        d->exec = size == 8 ? shift_cl64 : shift_cl32;
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
    } else if (d->exec == x86_h_lea && !reg) {
        d->exec = size == 8 ? lea64 : lea32;
    } else if (d->exec == x86_h_shift_rm && reg && d->aux == 2 && d->op <= 1 &&
               (d->imm & (size == 8 ? 63 : 31)) != 0) {
        d->imm &= size == 8 ? 63 : 31;
        d->exec = d->op == 0 ? (size == 8 ? rol64 : rol32) : (size == 8 ? ror64 : ror32);
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
    }
}

/* The dead-flags pass (decode.h).  A rotate by an immediate count keeps
 * SF, ZF, AF and PF and sets CF and OF, so it has to materialise the lazy
 * flags; when a later instruction of the block overwrites all six before
 * anything reads them, the rotate runs without flags.  Between the two, only
 * instructions that neither read nor write flags nor leave the block may
 * stand: register moves, LEA, and loads, which can fault.  A fault there, or
 * in the overwriting instruction itself, must see the rotate's CF and OF:
 * those instructions record how far back the rotate is (flags_pending) and
 * x86_apply_pending_flags() completes the flags before the exception is
 * delivered.  The rotated register must stay as the rotate left it until
 * then, so nothing in between may write it. */
#define DEAD_FLAGS_WINDOW 16

/* Writes CF, PF, AF, ZF, SF and OF and reads no flag; *may_fault if it
 * accesses memory. */
static bool writes_all_flags(const X86DecodedInsn *d, bool *may_fault)
{
    X86Shape sh = x86_insn_shape(d);
    *may_fault = sh.kind == X86_SHAPE_ALU_RM || sh.kind == X86_SHAPE_CMP_MR ||
                 sh.kind == X86_SHAPE_CMP_MI;
    switch (sh.kind) {
    case X86_SHAPE_ALU_RR:
    case X86_SHAPE_ALU_RI:
    case X86_SHAPE_ALU_RM:
    case X86_SHAPE_CMP_MR:
    case X86_SHAPE_CMP_MI:
        return sh.alu != 2 && sh.alu != 3; /* ADC and SBB read CF */
    case X86_SHAPE_TEST_RR:
        return true;
    default:
        return d->exec == test_ri;
    }
}

/* Leaves the flags alone and writes only register *dst (and cannot leave
 * the block); *may_fault for loads. */
static bool ignores_flags(const X86DecodedInsn *d, unsigned *dst, bool *may_fault)
{
    X86Shape sh = x86_insn_shape(d);
    *dst = sh.dst;
    *may_fault = sh.kind == X86_SHAPE_LOAD || sh.kind == X86_SHAPE_LOAD_ZX;
    return sh.kind == X86_SHAPE_MOV_RR || sh.kind == X86_SHAPE_MOV_RI ||
           sh.kind == X86_SHAPE_LEA || sh.kind == X86_SHAPE_NOT_R || *may_fault;
}

/* The index of the instruction that overwrites the flags of the rotate at
 * insn[r], or 0 if something may read them first. */
static unsigned rotate_flags_killer(const X86DecodedInsn *insn, unsigned n, unsigned r)
{
    unsigned rot_dst = insn[r].rm;
    for (unsigned k = r + 1; k < n && k <= r + DEAD_FLAGS_WINDOW; k++) {
        bool may_fault;
        unsigned dst;
        if (writes_all_flags(&insn[k], &may_fault)) {
            return k;
        }
        if (!ignores_flags(&insn[k], &dst, &may_fault) || dst == rot_dst) {
            return 0;
        }
    }
    return 0;
}

void x86_block_drop_dead_flags(X86DecodedInsn *insn, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        insn[i].flags_pending = 0;
    }
    for (unsigned r = 0; r < n; r++) {
        X86DecodedInsn *d = &insn[r];
        X86ExecFn f = d->exec;
        if (f != rol32 && f != ror32 && f != rol64 && f != ror64) {
            continue;
        }
        unsigned k = rotate_flags_killer(insn, n, r);
        if (!k) {
            continue;
        }
        d->exec = f == rol32 ? rol32_nf : f == ror32 ? ror32_nf
                : f == rol64 ? rol64_nf : ror64_nf;
        for (unsigned j = r + 1; j <= k; j++) {
            bool may_fault;
            unsigned dst;
            if (j == k ? (writes_all_flags(&insn[j], &may_fault), may_fault)
                       : (ignores_flags(&insn[j], &dst, &may_fault), may_fault)) {
                insn[j].flags_pending = (uint8_t)(j - r);
            }
        }
        r = k - 1; /* windows do not overlap: the next rotate comes after k */
    }
}

void x86_apply_pending_flags(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (!d->flags_pending) {
        return;
    }
    const X86DecodedInsn *rot = d - d->flags_pending;
    unsigned bits = rot->exec == rol64_nf || rot->exec == ror64_nf ? 64 : 32;
    set_rotate_flags(cpu, cpu->env->regs[rot->rm], bits,
                     rot->exec == rol32_nf || rot->exec == rol64_nf);
}

X86Shape x86_insn_shape(const X86DecodedInsn *d)
{
    X86Shape sh = { .kind = X86_SHAPE_NONE };
    X86ExecFn f = d->exec;
    sh.size = d->op2;
    for (unsigned op = 0; op < 8; op++) {
        if (f == rr32[op] || f == rr64[op] || f == ri32[op] || f == ri64[op]) {
            sh.kind = f == rr32[op] || f == rr64[op] ? X86_SHAPE_ALU_RR : X86_SHAPE_ALU_RI;
            sh.alu = (uint8_t)op;
            sh.dst = d->rm;
            sh.src = d->reg;
            return sh;
        }
    }
    for (unsigned op = 0; op < 8; op++) {
        if (f == rm32[op] || f == rm64[op]) {
            sh.kind = X86_SHAPE_ALU_RM;
            sh.alu = (uint8_t)op;
            sh.dst = d->reg;
            return sh;
        }
    }
    if (f == mr32[7] || f == mr64[7] || f == mi32[7] || f == mi64[7]) {
        sh.kind = f == mr32[7] || f == mr64[7] ? X86_SHAPE_CMP_MR : X86_SHAPE_CMP_MI;
        sh.alu = 7;
        sh.src = d->reg;
        return sh;
    }
    if (f == cmp8_mem && (d->aux == 1 || x86_rex(d) || d->reg < 4 || d->reg >= 8)) {
        sh.kind = d->aux == 1 ? X86_SHAPE_CMP_MI : d->aux == 0 ? X86_SHAPE_CMP_MR : X86_SHAPE_ALU_RM;
        sh.alu = 7;
        sh.size = 1;
        sh.src = d->reg;
        sh.dst = d->reg;
        return sh;
    }
    if ((f == mov_store8 && (x86_rex(d) || d->reg < 4 || d->reg >= 8)) || f == mov_store16) {
        sh.kind = X86_SHAPE_STORE;
        sh.src = d->reg;
        sh.size = f == mov_store8 ? 1 : 2;
        return sh;
    }
    for (unsigned cc = 0; cc < 16; cc++) {
        if (f == jcc_end[cc] || f == jcc_mid[cc]) {
            sh.kind = X86_SHAPE_JCC;
            sh.cc = (uint8_t)cc;
            return sh;
        }
    }
    if (f == push64) {
        sh.kind = X86_SHAPE_PUSH;
        sh.src = d->rm;
    } else if (f == pop64) {
        sh.kind = X86_SHAPE_POP;
        sh.dst = d->rm;
    } else if (f == x86_h_call_rel && d->code64 && d->op2 == 8) {
        sh.kind = X86_SHAPE_CALL;
    } else if (f == x86_h_ret && d->code64 && d->op2 == 8 && d->imm2 == 0) {
        sh.kind = X86_SHAPE_RET;
    } else if (f == x86_h_jmp_rel) {
        sh.kind = X86_SHAPE_JMP;
    } else if (f == rol32_nf || f == ror32_nf || f == rol64_nf || f == ror64_nf) {
        sh.kind = X86_SHAPE_ROT_RI;
        sh.alu = f == ror32_nf || f == ror64_nf;
        sh.dst = d->rm;
    } else if (f == not_r32 || f == not_r64) {
        sh.kind = X86_SHAPE_NOT_R;
        sh.dst = d->rm;
    } else if (f == mov_rr64 || f == mov_rr32) {
        sh.kind = X86_SHAPE_MOV_RR;
        sh.dst = d->rm;
        sh.src = d->reg;
    } else if (f == mov_rr64_rev || f == mov_rr32_rev) {
        sh.kind = X86_SHAPE_MOV_RR;
        sh.dst = d->reg;
        sh.src = d->rm;
    } else if (f == mov_ri) {
        sh.kind = X86_SHAPE_MOV_RI;
        sh.dst = d->rm;
    } else if (f == test_rr64 || f == test_rr32) {
        sh.kind = X86_SHAPE_TEST_RR;
        sh.dst = d->rm;
        sh.src = d->reg;
    } else if (f == mov_load64 || f == mov_load32) {
        sh.kind = X86_SHAPE_LOAD;
        sh.dst = d->reg;
    } else if (f == movzx_load && (d->aux == 1 || d->aux == 2)) {
        sh.kind = X86_SHAPE_LOAD_ZX;
        sh.dst = d->reg;
        sh.size = (uint8_t)d->aux;
    } else if (f == mov_store64 || f == mov_store32) {
        sh.kind = X86_SHAPE_STORE;
        sh.src = d->reg;
    } else if (f == lea64 || f == lea32) {
        sh.kind = X86_SHAPE_LEA;
        sh.dst = d->reg;
    }
    return sh;
}
