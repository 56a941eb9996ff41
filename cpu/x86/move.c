/*
 * Data movement: MOV forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, XADD, CMPXCHG,
 * CMPXCHG8B/16B, CBW/CWD families, CMOVcc, SETcc, BSWAP, XLAT, moffs MOVs
 * (SDM vol. 2 instruction pages).
 */
#include "cpu/x86/rmw.h"

void x86_h_nop(X86Cpu *cpu, const X86DecodedInsn *d)
{
}

void x86_h_mov_rm_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_write_rm(cpu, d, d->op2, x86_get_reg(cpu, d->reg, d->op2, x86_rex(d)));
}

void x86_h_mov_r_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_set_reg(cpu, d->reg, d->op2, x86_rex(d), x86_read_rm(cpu, d, d->op2));
}

void x86_h_mov_rm_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_write_rm(cpu, d, d->op2, d->imm);
}

void x86_h_mov_r_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_set_reg(cpu, d->rm, d->op2, x86_rex(d), d->imm);
}

void x86_h_movzx(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_set_reg(cpu, d->reg, d->op2, x86_rex(d), x86_read_rm(cpu, d, d->aux));
}

void x86_h_movsx(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t v = x86_sext(x86_read_rm(cpu, d, d->aux), d->aux);
    x86_set_reg(cpu, d->reg, d->op2, x86_rex(d), v);
}

void x86_h_lea(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (d->mod == 3) {
        x86_raise(cpu, EXC_UD);
    }
    x86_set_reg(cpu, d->reg, d->op2, x86_rex(d), x86_ea(cpu, d));
}

void x86_h_mov_moffs_load(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t v = x86_ld(cpu, d->seg, d->imm, d->op2);
    x86_set_reg(cpu, R_EAX, d->op2, false, v);
}

void x86_h_mov_moffs_store(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_st(cpu, d->seg, d->imm, x86_get_reg(cpu, R_EAX, d->op2, false), d->op2);
}

void x86_h_xchg(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t r = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    if (d->mod == 3) {
        uint64_t o = x86_get_reg(cpu, d->rm, size, x86_rex(d));
        x86_set_reg(cpu, d->rm, size, x86_rex(d), r);
        x86_set_reg(cpu, d->reg, size, x86_rex(d), o);
        return;
    }
    /* XCHG with memory is always locked */
    uint64_t lin = x86_seg_linear(cpu, d->seg, x86_ea(cpu, d), size, true);
    uint64_t old;
    uint8_t *p = (lin & (size - 1)) == 0 ?
        x86_host_ptr(cpu, lin, size, ACC_WRITE, cpu->mmu_idx) : NULL;
    if (p) {
        switch (size) {
        case 1: old = __atomic_exchange_n(p, (uint8_t)r, __ATOMIC_SEQ_CST); break;
        case 2: old = __atomic_exchange_n((uint16_t *)p, (uint16_t)r, __ATOMIC_SEQ_CST); break;
        case 4: old = __atomic_exchange_n((uint32_t *)p, (uint32_t)r, __ATOMIC_SEQ_CST); break;
        default: old = __atomic_exchange_n((uint64_t *)p, r, __ATOMIC_SEQ_CST); break;
        }
    } else {
        x86_probe_write(cpu, lin, size);
        old = x86_ld_lin(cpu, lin, size);
        x86_st_lin(cpu, lin, r, size);
    }
    x86_set_reg(cpu, d->reg, size, x86_rex(d), old);
}

static uint64_t xadd_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                        uint64_t b, unsigned size)
{
    uint64_t r = (a + b) & x86_size_mask(size);
    x86_set_cc(cpu, CC_OP(CC_ADD, x86_size_log2(size)), r, b & x86_size_mask(size), 0);
    return r;
}

void x86_h_xadd(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t src = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    uint64_t old = x86_rmw(cpu, d, size, xadd_fn, src, true);
    if (d->mod == 3 && d->rm == d->reg) {
        return;
    }
    x86_set_reg(cpu, d->reg, size, x86_rex(d), old);
}

static uint64_t cmpxchg_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                           uint64_t src, unsigned size)
{
    uint64_t acc = x86_get_reg(cpu, R_EAX, size, false);
    uint64_t r = (acc - a) & x86_size_mask(size);
    x86_set_cc(cpu, CC_OP(CC_SUB, x86_size_log2(size)), r, a, 0);
    return a == acc ? src : a;
}

void x86_h_cmpxchg(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t src = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    uint64_t acc = x86_get_reg(cpu, R_EAX, size, false);
    if (d->mod == 3) {
        /* a register destination is written only on success (its upper
         * half survives a failing 32-bit compare) */
        uint64_t old = x86_get_reg(cpu, d->rm, size, x86_rex(d));
        cmpxchg_fn(cpu, d, old, src, size);
        if (old == acc) {
            x86_set_reg(cpu, d->rm, size, x86_rex(d), src);
        } else {
            x86_set_reg(cpu, R_EAX, size, false, old);
        }
        return;
    }
    uint64_t old = x86_rmw(cpu, d, size, cmpxchg_fn, src, true);
    if (old != acc) {
        x86_set_reg(cpu, R_EAX, size, false, old);
    }
}

void x86_h_cmpxchg8b(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *r = cpu->env->regs;
    uint64_t lin = x86_seg_linear(cpu, d->seg, x86_ea(cpu, d), 8, true);
    uint64_t expect = ((r[R_EDX] & 0xffffffffu) << 32) | (r[R_EAX] & 0xffffffffu);
    uint64_t repl = ((r[R_ECX] & 0xffffffffu) << 32) | (r[R_EBX] & 0xffffffffu);
    uint64_t old;
    uint8_t *p = (lin & 7) == 0 ? x86_host_ptr(cpu, lin, 8, ACC_WRITE, cpu->mmu_idx) : NULL;
    if (p) {
        old = expect;
        __atomic_compare_exchange_n((uint64_t *)p, &old, repl, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else {
        x86_probe_write(cpu, lin, 8);
        old = x86_ld_lin(cpu, lin, 8);
        x86_st_lin(cpu, lin, old == expect ? repl : old, 8);
    }
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
    if (old == expect) {
        f |= X86_FLAG_ZF;
    } else {
        r[R_EAX] = (uint32_t)old;
        r[R_EDX] = old >> 32;
    }
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
}

void x86_h_cmpxchg16b(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *r = cpu->env->regs;
    uint64_t lin = x86_seg_linear(cpu, d->seg, x86_ea(cpu, d), 16, true);
    if (lin & 15) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    x86_probe_write(cpu, lin, 8);
    x86_probe_write(cpu, lin + 8, 8);
    unsigned __int128 expect = ((unsigned __int128)r[R_EDX] << 64) | r[R_EAX];
    unsigned __int128 repl = ((unsigned __int128)r[R_ECX] << 64) | r[R_EBX];
    unsigned __int128 old;
    uint8_t *p = x86_host_ptr(cpu, lin, 16, ACC_WRITE, cpu->mmu_idx);
    if (p) {
        old = __sync_val_compare_and_swap((unsigned __int128 *)p, expect, repl);
    } else {
        old = ((unsigned __int128)x86_ld_lin(cpu, lin + 8, 8) << 64) | x86_ld_lin(cpu, lin, 8);
        unsigned __int128 w = old == expect ? repl : old;
        x86_st_lin(cpu, lin, (uint64_t)w, 8);
        x86_st_lin(cpu, lin + 8, (uint64_t)(w >> 64), 8);
    }
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
    if (old == expect) {
        f |= X86_FLAG_ZF;
    } else {
        r[R_EAX] = (uint64_t)old;
        r[R_EDX] = (uint64_t)(old >> 64);
    }
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
}

void x86_h_cbw(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint64_t v = x86_sext(x86_get_reg(cpu, R_EAX, size / 2, false), size / 2);
    x86_set_reg(cpu, R_EAX, size, false, v);
}

void x86_h_cwd(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint64_t v = x86_get_reg(cpu, R_EAX, size, false);
    bool neg = (v >> (size * 8 - 1)) & 1;
    x86_set_reg(cpu, R_EDX, size, false, neg ? ~0ull : 0);
}

void x86_h_cmov(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t v = x86_read_rm(cpu, d, size);
    if (x86_cond(cpu, d->op)) {
        x86_set_reg(cpu, d->reg, size, x86_rex(d), v);
    } else if (size == 4) {
        /* a 32-bit CMOV zero-extends even when it does not move */
        x86_set_reg(cpu, d->reg, 4, false, x86_get_reg(cpu, d->reg, 4, false));
    }
}

void x86_h_setcc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_write_rm(cpu, d, 1, x86_cond(cpu, d->op));
}

void x86_h_bswap(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *r = &cpu->env->regs[d->rm];
    switch (d->opsize) {
    case 8: *r = __builtin_bswap64(*r); break;
    case 4: *r = __builtin_bswap32((uint32_t)*r); break;
    default: *r &= ~0xffffull; break; /* undefined; hardware clears */
    }
}

void x86_h_xlat(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t *r = cpu->env->regs;
    uint64_t off = (r[R_EBX] + (r[R_EAX] & 0xff)) & x86_size_mask(d->addrsize);
    x86_set_reg(cpu, R_EAX, 1, false, x86_ld(cpu, d->seg, off, 1));
}
