/*
 * Stack operations and near control flow: PUSH/POP forms, PUSHA/POPA,
 * PUSHF/POPF (with the IOPL/CPL rules of SDM vol. 2 "POPF"), ENTER/LEAVE,
 * Jcc/JMP/CALL/RET near, LOOPcc/JrCXZ, INT n/INT3/INTO/INT1, BOUND.
 */
#include "cpu/x86/insn.h"

void x86_push(X86Cpu *cpu, uint64_t v, unsigned size)
{
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *rsp = &cpu->env->regs[R_ESP];
    uint64_t sp = (*rsp - size) & m;
    x86_st(cpu, R_SS, sp, v, size);
    *rsp = (*rsp & ~m) | sp;
}

uint64_t x86_pop(X86Cpu *cpu, unsigned size)
{
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *rsp = &cpu->env->regs[R_ESP];
    uint64_t v = x86_ld(cpu, R_SS, *rsp & m, size);
    *rsp = (*rsp & ~m) | ((*rsp + size) & m);
    return v;
}

void x86_h_push_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_push(cpu, cpu->env->regs[d->rm], d->op2);
}

void x86_h_pop_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t v = x86_pop(cpu, d->op2);
    x86_set_reg(cpu, d->rm, d->op2, true, v);
}

void x86_h_push_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_push(cpu, d->imm, d->op2);
}

void x86_h_push_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_push(cpu, x86_read_rm(cpu, d, d->op2), d->op2);
}

void x86_h_pop_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    /* POP r/m: the address is computed after RSP is incremented */
    uint64_t m = x86_sp_mask(cpu);
    uint64_t old = cpu->env->regs[R_ESP];
    uint64_t v = x86_ld(cpu, R_SS, old & m, d->op2);
    cpu->env->regs[R_ESP] = (old & ~m) | ((old + d->op2) & m);
    if (d->mod == 3) {
        x86_set_reg(cpu, d->rm, d->op2, true, v);
        return;
    }
    uint64_t ea = x86_ea(cpu, d);
    cpu->env->regs[R_ESP] = old;
    uint64_t lin = x86_seg_linear(cpu, d->seg, ea, d->op2, true);
    x86_probe_write(cpu, lin, d->op2);
    cpu->env->regs[R_ESP] = (old & ~m) | ((old + d->op2) & m);
    x86_st_lin(cpu, lin, v, d->op2);
}

void x86_h_pusha(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *r = cpu->env->regs;
    uint64_t sp = r[R_ESP];
    for (int i = 0; i < 8; i++) {
        uint64_t v = i == R_ESP ? sp : r[i];
        x86_st(cpu, R_SS, (sp - (i + 1) * size) & m, v, size);
    }
    r[R_ESP] = (sp & ~m) | ((sp - 8 * size) & m);
}

void x86_h_popa(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->opsize;
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *r = cpu->env->regs;
    uint64_t sp = r[R_ESP];
    uint64_t vals[8];
    for (int i = 0; i < 8; i++) {
        vals[7 - i] = x86_ld(cpu, R_SS, (sp + i * size) & m, size);
    }
    for (int i = 0; i < 8; i++) {
        if (i != R_ESP) {
            x86_set_reg(cpu, i, size, false, vals[i]);
        }
    }
    r[R_ESP] = (sp & ~m) | ((sp + 8 * size) & m);
}

void x86_h_pushf(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (cpu->vm86 && ((cpu->env->rflags >> 12) & 3) < 3) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint64_t f = x86_get_rflags(cpu) & ~(uint64_t)(X86_FLAG_VM | X86_FLAG_RF);
    x86_push(cpu, f, d->op2);
}

void x86_h_popf(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    unsigned iopl = (cpu->env->rflags >> 12) & 3;
    if (cpu->vm86 && iopl < 3) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint64_t v = x86_pop(cpu, size);
    uint64_t mask = X86_ARITH_FLAGS | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT |
                    X86_FLAG_AC | X86_FLAG_ID | X86_FLAG_IF | X86_FLAG_IOPL;
    if (cpu->cpl > 0) {
        mask &= ~(uint64_t)X86_FLAG_IOPL;
        if (cpu->cpl > iopl) {
            mask &= ~(uint64_t)X86_FLAG_IF;
        }
    }
    if (size == 2) {
        mask &= 0xffff;
    }
    x86_set_rflags(cpu, v, mask);
    cpu->env->rflags &= ~(uint64_t)X86_FLAG_RF;
}

void x86_h_enter(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    unsigned level = d->imm2 & 31;
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *r = cpu->env->regs;
    uint64_t sp = r[R_ESP];
    uint64_t bp = r[R_EBP];
    sp = (sp - size) & m;
    x86_st(cpu, R_SS, sp, bp, size);
    uint64_t frame = sp;
    if (level > 0) {
        for (unsigned i = 1; i < level; i++) {
            bp = (bp - size) & m;
            uint64_t v = x86_ld(cpu, R_SS, bp, size);
            sp = (sp - size) & m;
            x86_st(cpu, R_SS, sp, v, size);
        }
        sp = (sp - size) & m;
        x86_st(cpu, R_SS, sp, frame, size);
    }
    sp = (sp - (d->imm & 0xffff)) & m;
    /* the new stack top must be writable */
    x86_seg_linear(cpu, R_SS, sp, 1, true);
    x86_set_reg(cpu, R_EBP, size, false, frame);
    r[R_ESP] = (r[R_ESP] & ~m) | sp;
}

void x86_h_leave(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *r = cpu->env->regs;
    uint64_t bp = r[R_EBP] & m;
    uint64_t v = x86_ld(cpu, R_SS, bp, d->op2);
    r[R_ESP] = (r[R_ESP] & ~m) | ((bp + d->op2) & m);
    x86_set_reg(cpu, R_EBP, d->op2, false, v);
}

static void check_near_target(X86Cpu *cpu, uint64_t t)
{
    if (cpu->code_size == 8) {
        if (!x86_canonical(t)) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
    } else if (t > cpu->env->segs[R_CS].limit) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
}

void x86_h_jcc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (x86_cond(cpu, d->op)) {
        cpu->env->rip = d->imm;
    }
}

void x86_h_jmp_rel(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->rip = d->imm;
}

void x86_h_call_rel(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_push(cpu, d->next_ip, d->op2);
    cpu->env->rip = d->imm;
}

void x86_h_ret(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t m = x86_sp_mask(cpu);
    uint64_t *rsp = &cpu->env->regs[R_ESP];
    uint64_t t = x86_ld(cpu, R_SS, *rsp & m, d->op2);
    check_near_target(cpu, t);
    *rsp = (*rsp & ~m) | ((*rsp + d->op2 + d->imm2) & m);
    cpu->env->rip = t;
}

void x86_h_jmp_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t t = x86_read_rm(cpu, d, d->op2);
    check_near_target(cpu, t);
    cpu->env->rip = t;
}

void x86_h_call_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t t = x86_read_rm(cpu, d, d->op2);
    check_near_target(cpu, t);
    x86_push(cpu, d->next_ip, d->op2);
    cpu->env->rip = t;
}

void x86_h_loop(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned as = d->addrsize;
    uint64_t c = x86_get_reg(cpu, R_ECX, as, false);
    bool take;
    if (d->op == 3) {
        take = c == 0;
    } else {
        c = (c - 1) & x86_size_mask(as);
        x86_set_reg(cpu, R_ECX, as, false, c);
        take = c != 0;
        if (d->op == 0) {
            take = take && !x86_cond(cpu, 4);
        } else if (d->op == 1) {
            take = take && x86_cond(cpu, 4);
        }
    }
    if (take) {
        cpu->env->rip = d->imm;
    }
}

void x86_h_int_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (cpu->vm86 && ((cpu->env->rflags >> 12) & 3) < 3) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    x86_do_interrupt(cpu, (int)(d->imm & 0xff), true, false, 0);
}

void x86_h_int3(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_do_interrupt(cpu, EXC_BP, true, false, 0);
}

void x86_h_into(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (x86_cond(cpu, 0)) {
        x86_do_interrupt(cpu, EXC_OF, true, false, 0);
    }
}

void x86_h_int1(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_do_interrupt(cpu, EXC_DB, false, false, 0);
}

void x86_h_bound(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (d->mod == 3) {
        x86_raise(cpu, EXC_UD);
    }
    unsigned size = d->opsize;
    uint64_t ea = x86_ea(cpu, d);
    int64_t lo = (int64_t)x86_sext(x86_ld(cpu, d->seg, ea, size), size);
    int64_t hi = (int64_t)x86_sext(x86_ld(cpu, d->seg, (ea + size) & x86_size_mask(d->addrsize), size), size);
    int64_t idx = (int64_t)x86_sext(x86_get_reg(cpu, d->reg, size, false), size);
    if (idx < lo || idx > hi) {
        x86_raise(cpu, EXC_BR);
    }
}

void x86_h_push_seg(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_push(cpu, cpu->env->segs[d->op].selector, d->op2);
}

void x86_h_pop_seg(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t m = x86_sp_mask(cpu);
    uint64_t sp = cpu->env->regs[R_ESP];
    uint16_t sel = (uint16_t)x86_ld(cpu, R_SS, sp & m, d->op2);
    x86_load_seg(cpu, d->op, sel);
    cpu->env->regs[R_ESP] = (sp & ~m) | ((sp + d->op2) & m);
    if (d->op == R_SS) {
        cpu->env->interrupt_shadow = true;
        cpu->dbg_ss_shadow = true;
    }
}
