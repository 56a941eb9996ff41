/*
 * Far control transfers (SDM vol. 2 "JMP", "CALL", "RET", "IRET"; vol. 3,
 * 5.8): real-mode far jumps/calls/returns, protected-mode transfers to
 * conforming and non-conforming code segments, far returns and IRET to an
 * outer privilege level (with the nulling of data segment registers the
 * new level may not use), and 64-bit IRETQ/RETFQ.  Transfers through call
 * gates, task gates and TSSs are in callgate.c and task.c, IRET to
 * virtual-8086 mode in vm86.c.
 */
#include "cpu/x86/insn.h"
#include "cpu/x86/protmode.h"

/* Checks for a direct far JMP/CALL to a code segment (descriptor lo/hi). */
static void check_code_target(X86Cpu *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    unsigned dpl = (*hi >> X86_DESC_DPL_SHIFT) & 3, rpl = sel & 3;
    unsigned type = (*hi >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(type & 8)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (type & 4) {
        if (dpl > cpu->cpl) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u);
        }
    } else if (rpl > cpu->cpl || dpl != cpu->cpl) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (!(*hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, sel & ~3u);
    }
}

static uint64_t target_limit_check(X86Cpu *cpu, uint64_t off, uint32_t lo, uint32_t hi)
{
    SegmentCache sc;
    x86_desc_to_cache(&sc, 0, lo, hi);
    bool to64 = cpu->long_mode && (hi & X86_DESC_L);
    if (to64) {
        if (!x86_canonical(off)) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
    } else if (off > sc.limit) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    return off;
}

static void far_jump(X86Cpu *cpu, uint16_t sel, uint64_t off, bool call,
                     unsigned size, uint64_t ret_ip)
{
    X86State *env = cpu->env;
    if (!cpu->pe || cpu->vm86) {
        if (call) {
            x86_push(cpu, env->segs[R_CS].selector, size);
            x86_push(cpu, ret_ip, size);
        }
        x86_load_seg_real(cpu, R_CS, sel);
        env->rip = off & x86_size_mask(size);
        x86_update_mode(cpu);
        return;
    }
    uint32_t lo, hi;
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (!(hi & X86_DESC_S)) {
        x86_far_system(cpu, sel, lo, hi, call);
        return;
    }
    check_code_target(cpu, sel, &lo, &hi);
    target_limit_check(cpu, off, lo, hi);
    if (call) {
        x86_push(cpu, env->segs[R_CS].selector, size);
        x86_push(cpu, ret_ip, size);
    }
    x86_set_cs(cpu, sel, lo, hi, cpu->cpl);
    env->rip = off;
    x86_update_mode(cpu);
}

void x86_h_jmpf_ptr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    far_jump(cpu, d->imm2, d->imm, false, d->opsize, 0);
}

void x86_h_callf_ptr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    far_jump(cpu, d->imm2, d->imm, true, d->opsize, d->next_ip);
}

static void far_mem(X86Cpu *cpu, const X86DecodedInsn *d, bool call)
{
    if (d->mod == 3) {
        x86_raise(cpu, EXC_UD);
    }
    unsigned size = d->opsize;
    uint64_t ea = x86_ea(cpu, d);
    uint64_t off = x86_ld(cpu, d->seg, ea, size);
    uint16_t sel = (uint16_t)x86_ld(cpu, d->seg, (ea + size) & x86_size_mask(d->addrsize), 2);
    far_jump(cpu, sel, off, call, size, d->next_ip);
}

void x86_h_jmpf_m(X86Cpu *cpu, const X86DecodedInsn *d)
{
    far_mem(cpu, d, false);
}

void x86_h_callf_m(X86Cpu *cpu, const X86DecodedInsn *d)
{
    far_mem(cpu, d, true);
}

/* Returning to an outer level: data segments the new CPL may not use are
 * nulled (SDM vol. 3, 5.8.6). */
static void null_inaccessible_segs(X86Cpu *cpu)
{
    static const int segs[4] = { R_ES, R_DS, R_FS, R_GS };
    for (int i = 0; i < 4; i++) {
        SegmentCache *sc = &cpu->env->segs[segs[i]];
        unsigned type = (sc->flags >> X86_DESC_TYPE_SHIFT) & 15;
        unsigned dpl = (sc->flags >> X86_DESC_DPL_SHIFT) & 3;
        bool conf = (sc->flags & X86_DESC_S) && (type & 12) == 12;
        if ((sc->flags & X86_DESC_P) && !conf && dpl < cpu->cpl) {
            sc->selector = 0;
            sc->flags = 0;
            x86_seg_cache_update(cpu, segs[i]);
        }
    }
}

/* Common tail of RETF and IRET in protected/long mode: the stack holds
 * (after IP, CS[, FLAGS]) an optional SP and SS for an outer return. */
static void far_return(X86Cpu *cpu, unsigned size, uint16_t sel, uint64_t ip,
                       uint64_t sp_after, bool iret, uint64_t flags,
                       unsigned extra_pop)
{
    X86State *env = cpu->env;
    unsigned rpl = sel & 3;
    uint32_t lo, hi;
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
    unsigned type = (hi >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(hi & X86_DESC_S) || !(type & 8) || rpl < cpu->cpl ||
        ((type & 4) ? dpl > rpl : dpl != rpl)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, sel & ~3u);
    }
    bool outer = rpl > cpu->cpl;
    bool pop_ss = outer || (cpu->code_size == 8 && iret);
    uint64_t m = x86_sp_mask(cpu);
    uint64_t new_sp = 0;
    uint16_t new_ss = 0;
    if (pop_ss) {
        uint64_t sp = (sp_after + extra_pop) & m;
        new_sp = x86_ld(cpu, R_SS, sp, size);
        new_ss = (uint16_t)x86_ld(cpu, R_SS, (sp + size) & m, size);
    }
    target_limit_check(cpu, ip, lo, hi);
    unsigned oldcpl = cpu->cpl;
    if (iret) {
        uint64_t mask = X86_ARITH_FLAGS | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT |
                        X86_FLAG_RF | X86_FLAG_AC | X86_FLAG_ID;
        unsigned iopl = (env->rflags >> 12) & 3;
        if (oldcpl == 0) {
            mask |= X86_FLAG_IOPL | X86_FLAG_VIF | X86_FLAG_VIP;
        }
        if (oldcpl <= iopl) {
            mask |= X86_FLAG_IF;
        }
        if (size == 2) {
            mask &= 0xffff;
        }
        x86_set_rflags(cpu, flags, mask);
    }
    if (pop_ss) {
        /* load SS at the new privilege level */
        if ((new_ss & ~3u) == 0) {
            if (!(cpu->long_mode && (hi & X86_DESC_L) && rpl != 3)) {
                x86_raise_err(cpu, EXC_GP, 0);
            }
            SegmentCache *ss = &env->segs[R_SS];
            ss->selector = new_ss;
            ss->base = 0;
            ss->limit = 0;
            ss->flags = (rpl << X86_DESC_DPL_SHIFT) | X86_DESC_B;
        } else {
            uint32_t slo, shi;
            if (!x86_read_desc(cpu, new_ss, &slo, &shi)) {
                x86_raise_err(cpu, EXC_GP, new_ss & ~3u);
            }
            unsigned st = (shi >> X86_DESC_TYPE_SHIFT) & 15;
            if ((new_ss & 3) != rpl || !(shi & X86_DESC_S) || (st & 8) || !(st & 2) ||
                ((shi >> X86_DESC_DPL_SHIFT) & 3) != rpl) {
                x86_raise_err(cpu, EXC_GP, new_ss & ~3u);
            }
            if (!(shi & X86_DESC_P)) {
                x86_raise_err(cpu, EXC_SS, new_ss & ~3u);
            }
            x86_desc_to_cache(&env->segs[R_SS], new_ss, slo, shi | (1u << 8));
        }
        x86_set_cs(cpu, sel, lo, hi, (int)rpl);
        bool ss32 = env->segs[R_SS].flags & X86_DESC_B;
        bool to64 = cpu->long_mode && (hi & X86_DESC_L);
        if (to64 || size == 8) {
            env->regs[R_ESP] = new_sp;
        } else if (ss32) {
            env->regs[R_ESP] = (uint32_t)new_sp;
        } else {
            env->regs[R_ESP] = (env->regs[R_ESP] & ~0xffffull) | (new_sp & 0xffff);
        }
        if (!iret && extra_pop) {
            uint64_t nm = to64 ? ~0ull : ss32 ? 0xffffffffu : 0xffff;
            env->regs[R_ESP] = (env->regs[R_ESP] & ~nm) | ((env->regs[R_ESP] + extra_pop) & nm);
        }
    } else {
        x86_set_cs(cpu, sel, lo, hi, (int)cpu->cpl);
        env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | ((sp_after + extra_pop) & m);
    }
    env->rip = ip;
    x86_update_mode(cpu);
    if (cpu->cpl > oldcpl) {
        null_inaccessible_segs(cpu);
    }
}

void x86_h_retf(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    unsigned size = d->opsize;
    uint64_t m = x86_sp_mask(cpu);
    uint64_t sp = env->regs[R_ESP] & m;
    uint64_t ip = x86_ld(cpu, R_SS, sp, size);
    uint16_t sel = (uint16_t)x86_ld(cpu, R_SS, (sp + size) & m, size);
    uint64_t after = (sp + 2 * size) & m;
    if (!cpu->pe || cpu->vm86) {
        x86_load_seg_real(cpu, R_CS, sel);
        env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | ((after + d->imm2) & m);
        env->rip = ip & x86_size_mask(size);
        x86_update_mode(cpu);
        return;
    }
    far_return(cpu, size, sel, ip, after, false, 0, d->imm2);
}

void x86_h_iret(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    unsigned size = d->opsize;
    uint64_t m = x86_sp_mask(cpu);
    uint64_t sp = env->regs[R_ESP] & m;
    if (cpu->pe && !cpu->vm86 && (env->rflags & X86_FLAG_NT)) {
        if (cpu->long_mode) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        x86_task_return(cpu);
        return;
    }
    if (cpu->vm86 && ((env->rflags >> 12) & 3) < 3) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint64_t ip = x86_ld(cpu, R_SS, sp, size);
    uint16_t sel = (uint16_t)x86_ld(cpu, R_SS, (sp + size) & m, size);
    uint64_t fl = x86_ld(cpu, R_SS, (sp + 2 * size) & m, size);
    uint64_t after = (sp + 3 * size) & m;
    if (!cpu->pe || cpu->vm86) {
        uint64_t mask = X86_ARITH_FLAGS | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT |
                        X86_FLAG_IF | X86_FLAG_IOPL | X86_FLAG_RF | X86_FLAG_AC | X86_FLAG_ID;
        if (cpu->vm86) {
            mask &= ~(uint64_t)X86_FLAG_IOPL;
        }
        if (size == 2) {
            mask &= 0xffff;
        }
        x86_load_seg_real(cpu, R_CS, sel);
        env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | after;
        env->rip = ip & x86_size_mask(size);
        x86_set_rflags(cpu, fl, mask);
        x86_update_mode(cpu);
        return;
    }
    if (!cpu->long_mode && (fl & X86_FLAG_VM) && cpu->cpl == 0 && size == 4) {
        x86_vm86_enter_iret(cpu, (uint32_t)ip, sel, (uint32_t)fl, after);
        env->nmi_masked = false;
        return;
    }
    far_return(cpu, size, sel, ip, after, true, fl, 0);
    env->nmi_masked = false;
}
