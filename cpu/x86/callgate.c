/*
 * Far CALL and JMP to system descriptors (SDM vol. 2 "CALL", "JMP"; vol. 3,
 * 5.8.3 "Call Gates", 5.8.3.1 "IA-32e Mode Call Gates", 5.8.4 "Accessing a
 * Code Segment Through a Call Gate", 5.8.5 "Stack Switching", 7.3 for the
 * task gate and TSS cases, which go to task.c).  A call gate to a more
 * privileged non-conforming code segment switches to the stack of the TSS
 * and copies the gate's parameter count of words or doublewords; a 64-bit
 * gate pushes 8-byte SS, RSP, CS, RIP on the TSS's RSPn with a null SS.
 * The return (far RET to an outer level) is in farctl.c.
 */
#include "cpu/x86/protmode.h"

/* The third and fourth doublewords of a 16-byte (64-bit) gate. */
static uint64_t read_gate_upper(X86Cpu *cpu, uint16_t sel)
{
    X86State *env = cpu->env;
    uint64_t base = (sel & 4) ? env->ldt.base : env->gdt.base;
    uint32_t limit = (sel & 4) ? env->ldt.limit : env->gdt.limit;
    if ((uint32_t)(sel & ~7u) + 15 > limit) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    return x86_ld_sys(cpu, base + (sel & ~7u) + 8, 8);
}

/* CALL through a legacy gate to a more privileged level: new SS:ESP from
 * the TSS, then old SS, old ESP, the parameters, CS and EIP. */
static void call_inner_legacy(X86Cpu *cpu, uint16_t csel, uint32_t lo, uint32_t hi,
                              uint32_t off, unsigned size, unsigned nparams)
{
    X86State *env = cpu->env;
    unsigned dpl = x86_desc_dpl(hi);
    uint16_t ss;
    uint64_t sp;
    uint32_t slo, shi;
    x86_tss_stack(cpu, dpl, &ss, &sp, 0);
    if ((ss & ~3u) == 0 || (ss & 3) != dpl || !x86_read_desc(cpu, ss, &slo, &shi)) {
        x86_raise_err(cpu, EXC_TS, ss & ~3u);
    }
    unsigned st = x86_desc_type(shi);
    if (!(shi & X86_DESC_S) || (st & 8) || !(st & 2) || x86_desc_dpl(shi) != dpl) {
        x86_raise_err(cpu, EXC_TS, ss & ~3u);
    }
    if (!(shi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_SS, ss & ~3u);
    }
    SegmentCache nss;
    x86_desc_to_cache(&nss, ss, slo, shi | (1u << 8));
    uint64_t m = (shi & X86_DESC_B) ? 0xffffffffu : 0xffff;
    uint64_t words[4 + 31];
    unsigned n = 0;
    uint64_t old_m = x86_sp_mask(cpu), old_sp = env->regs[R_ESP];
    words[n++] = env->segs[R_SS].selector;
    words[n++] = old_sp & x86_size_mask(size);
    for (unsigned i = nparams; i-- > 0;) {
        words[n++] = x86_ld(cpu, R_SS, (old_sp + i * size) & old_m, size);
    }
    words[n++] = env->segs[R_CS].selector;
    words[n++] = env->rip;
    for (unsigned i = 0; i < n; i++) {
        if (!x86_stack_fits(&nss, (sp - (i + 1) * size) & m, size)) {
            x86_raise_err(cpu, EXC_SS, ss & ~3u);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = (sp - (i + 1) * size) & m;
        x86_st_sys(cpu, (uint32_t)(nss.base + a), words[i], size);
    }
    sp = (sp - n * size) & m;
    env->segs[R_SS] = nss;
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | sp;
    x86_set_cs(cpu, csel, lo, hi, (int)dpl);
    env->rip = off;
}

/* CALL through a 64-bit gate to a more privileged level: RSPn from the
 * 64-bit TSS, a null SS, 8-byte SS, RSP, CS, RIP (no parameters). */
static void call_inner_long(X86Cpu *cpu, uint16_t csel, uint32_t lo, uint32_t hi,
                            uint64_t off)
{
    X86State *env = cpu->env;
    unsigned dpl = x86_desc_dpl(hi);
    uint32_t at = 4 + dpl * 8;
    if (at + 7 > env->tr.limit) {
        x86_raise_err(cpu, EXC_TS, env->tr.selector & ~3u);
    }
    uint64_t sp = x86_ld_sys(cpu, env->tr.base + at, 8);
    uint64_t words[4] = { env->segs[R_SS].selector, env->regs[R_ESP],
                          env->segs[R_CS].selector, env->rip };
    for (unsigned i = 0; i < 4; i++) {
        if (!x86_canonical(sp - (i + 1) * 8) || !x86_canonical(sp - i * 8 - 1)) {
            x86_raise_err(cpu, EXC_SS, 0);
        }
    }
    for (unsigned i = 0; i < 4; i++) {
        x86_st_slow(cpu, sp - (i + 1) * 8, words[i], 8, MMU_SUP);
    }
    SegmentCache *ss = &env->segs[R_SS];
    ss->selector = (uint16_t)dpl;
    ss->base = 0;
    ss->limit = 0;
    ss->flags = (dpl << X86_DESC_DPL_SHIFT) | X86_DESC_B;
    env->regs[R_ESP] = sp - 32;
    x86_set_cs(cpu, csel, lo, hi, (int)dpl);
    env->rip = off;
}

/* CALL through a gate at the same level: CS and the return address in the
 * gate's size, on the current stack. */
static void call_same(X86Cpu *cpu, uint16_t csel, uint32_t lo, uint32_t hi,
                      uint64_t off, unsigned size)
{
    X86State *env = cpu->env;
    uint64_t m = x86_sp_mask(cpu), sp = env->regs[R_ESP];
    x86_st(cpu, R_SS, (sp - size) & m, env->segs[R_CS].selector, size);
    x86_st(cpu, R_SS, (sp - 2 * size) & m, env->rip, size);
    env->regs[R_ESP] = (sp & ~m) | ((sp - 2 * size) & m);
    x86_set_cs(cpu, csel, lo, hi, cpu->cpl);
    env->rip = off;
}

static void through_call_gate(X86Cpu *cpu, uint16_t gsel, uint32_t glo, uint32_t ghi,
                              bool call)
{
    unsigned gdpl = x86_desc_dpl(ghi);
    if (gdpl < cpu->cpl || gdpl < (gsel & 3u)) {
        x86_raise_err(cpu, EXC_GP, gsel & ~3u);
    }
    if (!(ghi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, gsel & ~3u);
    }
    bool gate64 = cpu->long_mode;
    bool gate32 = x86_desc_type(ghi) == X86_SYS_CALL32;
    uint64_t off = (glo & 0xffff) | (gate32 ? (ghi & 0xffff0000u) : 0);
    if (gate64) {
        uint64_t up = read_gate_upper(cpu, gsel);
        if ((up >> 40) & 0x1f) {
            x86_raise_err(cpu, EXC_GP, gsel & ~3u);
        }
        off |= (up & 0xffffffffu) << 32;
    }
    uint16_t csel = glo >> 16;
    uint32_t lo, hi;
    if ((csel & ~3u) == 0) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if (!x86_read_desc(cpu, csel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, csel & ~3u);
    }
    unsigned type = x86_desc_type(hi), dpl = x86_desc_dpl(hi);
    bool conforming = type & 4;
    if (!(hi & X86_DESC_S) || !(type & 8) || dpl > cpu->cpl ||
        (!call && !conforming && dpl != cpu->cpl) ||
        (gate64 && (!(hi & X86_DESC_L) || (hi & X86_DESC_B)))) {
        x86_raise_err(cpu, EXC_GP, csel & ~3u);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, csel & ~3u);
    }
    if (gate64) {
        if (!x86_canonical(off)) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
    } else {
        SegmentCache sc;
        x86_desc_to_cache(&sc, csel, lo, hi);
        if (off > sc.limit) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
    }
    unsigned size = gate64 ? 8 : gate32 ? 4 : 2;
    if (!call) {
        x86_set_cs(cpu, csel, lo, hi, cpu->cpl);
        cpu->env->rip = off;
    } else if (!conforming && dpl < cpu->cpl) {
        if (gate64) {
            call_inner_long(cpu, csel, lo, hi, off);
        } else {
            call_inner_legacy(cpu, csel, lo, hi, (uint32_t)off, size, ghi & 31);
        }
    } else {
        call_same(cpu, csel, lo, hi, off, size);
    }
    x86_update_mode(cpu);
}

void x86_far_system(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                    bool call)
{
    unsigned type = x86_desc_type(hi);
    unsigned dpl = x86_desc_dpl(hi);
    X86TaskReason why = call ? X86_TASK_CALL : X86_TASK_JMP;
    if (cpu->long_mode) {
        if (type != X86_SYS_CALL32) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u);
        }
        through_call_gate(cpu, sel, lo, hi, call);
        return;
    }
    switch (type) {
    case X86_SYS_CALL16:
    case X86_SYS_CALL32:
        through_call_gate(cpu, sel, lo, hi, call);
        return;
    case X86_SYS_TASK:
        if (dpl < cpu->cpl || dpl < (sel & 3u)) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u);
        }
        if (!(hi & X86_DESC_P)) {
            x86_raise_err(cpu, EXC_NP, sel & ~3u);
        }
        x86_task_gate(cpu, lo >> 16, why, false, 0, 0);
        return;
    case X86_SYS_TSS16:
    case X86_SYS_TSS32:
        if (dpl < cpu->cpl || dpl < (sel & 3u)) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u);
        }
        if (!(hi & X86_DESC_P)) {
            x86_raise_err(cpu, EXC_NP, sel & ~3u);
        }
        x86_task_switch(cpu, sel, lo, hi, why, false, 0, 0);
        return;
    default:
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
}
