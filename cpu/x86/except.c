/*
 * Exceptions and interrupts (SDM vol. 3, chapter 6): raising faults from
 * handlers, double faults by exception class (6.15, tables 6-4 and 6-5)
 * and triple faults, delivery through the real-mode IVT, protected-mode
 * 16/32-bit interrupt and trap gates (with the stack switch through the
 * TSS), task gates (task.c), interrupts and exceptions from
 * virtual-8086 mode (vm86.c), and long-mode 64-bit gates (IST, 16-byte
 * aligned frame, SS:RSP always pushed).  Fault-class exceptions push EFLAGS
 * with RF set (SDM vol. 3, 17.3.1.1).
 */
#include "cpu/x86/protmode.h"

void x86_raise(X86Cpu *cpu, int vector)
{
    cpu->exc_vector = vector;
    cpu->exc_error = 0;
    cpu->exc_has_error = false;
    longjmp(*cpu->jmp, 1);
}

void x86_raise_err(X86Cpu *cpu, int vector, uint32_t error)
{
    cpu->exc_vector = vector;
    cpu->exc_error = error;
    cpu->exc_has_error = true;
    longjmp(*cpu->jmp, 1);
}

void x86_raise_pf(X86Cpu *cpu, uint64_t addr, uint32_t error)
{
    cpu->exc_cr2 = addr;
    x86_raise_err(cpu, EXC_PF, error);
}

void x86_raise_recorded(X86Cpu *cpu)
{
    longjmp(*cpu->jmp, 1);
}

/* Exception classes for double faults (SDM vol. 3, 6.15, table 6-4): the
 * class of the exception being delivered is kept in cpu->exc_delivering. */
enum {
    EXC_CLASS_NONE,
    EXC_CLASS_BENIGN,
    EXC_CLASS_CONTRIBUTORY,
    EXC_CLASS_PAGE_FAULT,
    EXC_CLASS_DOUBLE_FAULT,
};

static int exc_class(int vec)
{
    switch (vec) {
    case EXC_DE:
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP:
        return EXC_CLASS_CONTRIBUTORY;
    case EXC_PF:
        return EXC_CLASS_PAGE_FAULT;
    case EXC_DF:
        return EXC_CLASS_DOUBLE_FAULT;
    default:
        return EXC_CLASS_BENIGN;
    }
}

/* Table 6-5: a contributory exception or a page fault while delivering a
 * page fault, or a contributory exception while delivering a contributory
 * one, is a double fault; anything else is delivered serially. */
static bool makes_double_fault(int first, int second)
{
    if (second == EXC_CLASS_CONTRIBUTORY) {
        return first == EXC_CLASS_CONTRIBUTORY || first == EXC_CLASS_PAGE_FAULT;
    }
    return second == EXC_CLASS_PAGE_FAULT && first == EXC_CLASS_PAGE_FAULT;
}

void x86_deliver_exception(X86Cpu *cpu)
{
    int vec = cpu->exc_vector;
    bool has_err = cpu->exc_has_error;
    uint32_t err = cpu->exc_error;
    int first = cpu->exc_delivering, second = exc_class(vec);
    /* CR2 is loaded when the page fault is detected, also when it turns
     * into a double fault */
    if (vec == EXC_PF) {
        cpu->env->cr2 = cpu->exc_cr2;
    }
    if (first == EXC_CLASS_DOUBLE_FAULT && second != EXC_CLASS_BENIGN) {
        /* a fault while delivering #DF: shutdown */
        cpu->triple_fault = true;
        cpu->exc_delivering = EXC_CLASS_NONE;
        return;
    }
    if (makes_double_fault(first, second)) {
        vec = EXC_DF;
        has_err = true;
        err = 0;
        second = EXC_CLASS_DOUBLE_FAULT;
    }
    cpu->exc_delivering = second;
    /* the instruction did not complete: no debug trap after it */
    cpu->dbg_trap = 0;
    /* the EFLAGS image of a fault has RF set, except for #DB (SDM vol. 3,
     * 17.3.1.1); #DF and #MC are aborts */
    if (vec != EXC_DB && vec != EXC_DF && vec != EXC_MC) {
        cpu->env->rflags |= X86_FLAG_RF;
    }
    x86_do_interrupt(cpu, vec, false, has_err, err);
    cpu->exc_delivering = EXC_CLASS_NONE;
}

static void do_real(X86Cpu *cpu, int vec)
{
    X86State *env = cpu->env;
    if ((uint32_t)vec * 4 + 3 > env->idt.limit) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2);
    }
    uint64_t ent = x86_ld_sys(cpu, (uint32_t)(env->idt.base + vec * 4), 4);
    uint64_t fl = x86_get_rflags(cpu);
    x86_push(cpu, fl, 2);
    x86_push(cpu, env->segs[R_CS].selector, 2);
    x86_push(cpu, env->rip, 2);
    x86_set_rflags(cpu, 0, X86_FLAG_IF | X86_FLAG_TF | X86_FLAG_AC | X86_FLAG_RF);
    x86_load_seg_real(cpu, R_CS, (uint16_t)(ent >> 16));
    env->rip = ent & 0xffff;
}

void x86_tss_stack(X86Cpu *cpu, unsigned dpl, uint16_t *ss, uint64_t *sp,
                   uint32_t ext)
{
    X86State *env = cpu->env;
    unsigned type = (env->tr.flags >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(env->tr.flags & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_TS, (env->tr.selector & ~3u) | ext);
    }
    if (type & 8) {
        uint32_t off = 4 + dpl * 8;
        if (off + 5 > env->tr.limit) {
            x86_raise_err(cpu, EXC_TS, (env->tr.selector & ~3u) | ext);
        }
        *sp = x86_ld_sys(cpu, (uint32_t)(env->tr.base + off), 4);
        *ss = (uint16_t)x86_ld_sys(cpu, (uint32_t)(env->tr.base + off + 4), 2);
    } else {
        uint32_t off = 2 + dpl * 4;
        if (off + 3 > env->tr.limit) {
            x86_raise_err(cpu, EXC_TS, (env->tr.selector & ~3u) | ext);
        }
        *sp = x86_ld_sys(cpu, (uint32_t)(env->tr.base + off), 2);
        *ss = (uint16_t)x86_ld_sys(cpu, (uint32_t)(env->tr.base + off + 2), 2);
    }
}

static void do_protected(X86Cpu *cpu, int vec, bool sw, bool has_err, uint32_t err)
{
    X86State *env = cpu->env;
    uint32_t ext = sw ? 0 : 1;
    if ((uint32_t)vec * 8 + 7 > env->idt.limit) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2 + ext);
    }
    uint64_t g = x86_ld_sys(cpu, (uint32_t)(env->idt.base + vec * 8), 8);
    uint32_t glo = (uint32_t)g, ghi = (uint32_t)(g >> 32);
    unsigned type = (ghi >> 8) & 0x1f;
    unsigned gdpl = (ghi >> 13) & 3;
    if (type != 0x0e && type != 0x0f && type != 0x06 && type != 0x07 &&
        type != X86_SYS_TASK) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2 + ext);
    }
    if (sw && gdpl < cpu->cpl) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2);
    }
    if (!(ghi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, vec * 8 + 2 + ext);
    }
    if (type == X86_SYS_TASK) {
        x86_task_gate(cpu, (uint16_t)(glo >> 16), X86_TASK_INT, has_err, err, ext);
        return;
    }
    bool gate32 = type & 8;
    uint16_t sel = glo >> 16;
    uint32_t off = (glo & 0xffff) | (gate32 ? (ghi & 0xffff0000u) : 0);
    uint32_t lo, hi;
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, (sel & ~3u) + ext);
    }
    unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
    unsigned ctype = (hi >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(hi & X86_DESC_S) || !(ctype & 8) || dpl > cpu->cpl) {
        x86_raise_err(cpu, EXC_GP, (sel & ~3u) + ext);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, (sel & ~3u) + ext);
    }
    if (cpu->vm86) {
        if ((ctype & 4) || dpl != 0) {
            x86_raise_err(cpu, EXC_GP, (sel & ~3u) + ext);
        }
        x86_vm86_interrupt(cpu, sel, lo, hi, off, gate32, type & 1, has_err, err, ext);
        return;
    }
    unsigned size = gate32 ? 4 : 2;
    uint64_t fl = x86_get_rflags(cpu);
    unsigned newcpl = (ctype & 4) ? cpu->cpl : dpl;
    uint64_t old_ss = env->segs[R_SS].selector, old_sp = env->regs[R_ESP];

    if (newcpl < cpu->cpl) {
        uint16_t ss;
        uint64_t sp;
        uint32_t slo, shi;
        x86_tss_stack(cpu, newcpl, &ss, &sp, ext);
        if ((ss & ~3u) == 0 || (ss & 3) != newcpl || !x86_read_desc(cpu, ss, &slo, &shi)) {
            x86_raise_err(cpu, EXC_TS, (ss & ~3u) + ext);
        }
        unsigned st = (shi >> X86_DESC_TYPE_SHIFT) & 15;
        if (!(shi & X86_DESC_S) || (st & 8) || !(st & 2) ||
            ((shi >> X86_DESC_DPL_SHIFT) & 3) != newcpl) {
            x86_raise_err(cpu, EXC_TS, (ss & ~3u) + ext);
        }
        if (!(shi & X86_DESC_P)) {
            x86_raise_err(cpu, EXC_SS, (ss & ~3u) + ext);
        }
        SegmentCache nss;
        x86_desc_to_cache(&nss, ss, slo, shi);
        uint64_t m = (shi & X86_DESC_B) ? 0xffffffffu : 0xffff;
        uint64_t base = nss.base;
        uint64_t words[6];
        int n = 0;
        words[n++] = old_ss;
        words[n++] = old_sp;
        words[n++] = fl;
        words[n++] = env->segs[R_CS].selector;
        words[n++] = env->rip;
        if (has_err) {
            words[n++] = err;
        }
        for (int i = 0; i < n; i++) {
            sp = (sp - size) & m;
            x86_st_sys(cpu, (uint32_t)(base + sp), words[i], size);
        }
        env->segs[R_SS] = nss;
        env->segs[R_SS].flags |= 1u << 8;
        env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | sp;
    } else {
        uint64_t m = x86_sp_mask(cpu);
        uint64_t sp = env->regs[R_ESP];
        uint64_t words[4];
        int n = 0;
        words[n++] = fl;
        words[n++] = env->segs[R_CS].selector;
        words[n++] = env->rip;
        if (has_err) {
            words[n++] = err;
        }
        for (int i = 0; i < n; i++) {
            sp = (sp - size) & m;
            x86_st(cpu, R_SS, sp, words[i], size);
        }
        env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | sp;
    }
    x86_set_cs(cpu, sel, lo, hi, (int)newcpl);
    env->rip = off;
    uint64_t clear = X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM;
    if (!(type & 1)) {
        clear |= X86_FLAG_IF;
    }
    x86_set_rflags(cpu, 0, clear);
    x86_update_mode(cpu);
}

static void do_long(X86Cpu *cpu, int vec, bool sw, bool has_err, uint32_t err)
{
    X86State *env = cpu->env;
    uint32_t ext = sw ? 0 : 1;
    if ((uint32_t)vec * 16 + 15 > env->idt.limit) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2 + ext);
    }
    uint64_t ga = env->idt.base + vec * 16;
    uint64_t g0 = x86_ld_sys(cpu, ga, 8);
    uint64_t g1 = x86_ld_sys(cpu, ga + 8, 8);
    uint32_t glo = (uint32_t)g0, ghi = (uint32_t)(g0 >> 32);
    unsigned type = (ghi >> 8) & 0x1f;
    unsigned gdpl = (ghi >> 13) & 3;
    if (type != 0x0e && type != 0x0f) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2 + ext);
    }
    if (sw && gdpl < cpu->cpl) {
        x86_raise_err(cpu, EXC_GP, vec * 8 + 2);
    }
    if (!(ghi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, vec * 8 + 2 + ext);
    }
    uint16_t sel = glo >> 16;
    uint64_t off = (glo & 0xffff) | (ghi & 0xffff0000u) | ((g1 & 0xffffffffu) << 32);
    unsigned ist = ghi & 7;
    uint32_t lo, hi;
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, (sel & ~3u) + ext);
    }
    unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
    unsigned ctype = (hi >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(hi & X86_DESC_S) || !(ctype & 8) || dpl > cpu->cpl || !(hi & X86_DESC_L) ||
        (hi & X86_DESC_B)) {
        x86_raise_err(cpu, EXC_GP, (sel & ~3u) + ext);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, (sel & ~3u) + ext);
    }
    unsigned newcpl = (ctype & 4) ? cpu->cpl : dpl;
    uint64_t fl = x86_get_rflags(cpu);
    uint64_t sp;
    if (ist) {
        sp = x86_ld_sys(cpu, env->tr.base + 0x24 + (ist - 1) * 8, 8);
    } else if (newcpl < cpu->cpl) {
        sp = x86_ld_sys(cpu, env->tr.base + 4 + newcpl * 8, 8);
    } else {
        sp = env->regs[R_ESP];
    }
    sp &= ~0xfull;
    uint64_t words[6];
    int n = 0;
    words[n++] = env->segs[R_SS].selector;
    words[n++] = env->regs[R_ESP];
    words[n++] = fl;
    words[n++] = env->segs[R_CS].selector;
    words[n++] = env->rip;
    if (has_err) {
        words[n++] = err;
    }
    int mmu = newcpl == 3 ? MMU_USER : MMU_SUP;
    for (int i = 0; i < n; i++) {
        sp -= 8;
        if (!x86_canonical(sp)) {
            x86_raise_err(cpu, EXC_SS, 0);
        }
        x86_st_slow(cpu, sp, words[i], 8, mmu);
    }
    if (newcpl < cpu->cpl) {
        SegmentCache *ss = &env->segs[R_SS];
        ss->selector = (uint16_t)newcpl;
        ss->base = 0;
        ss->limit = 0;
        ss->flags = (newcpl << X86_DESC_DPL_SHIFT) | X86_DESC_B;
    }
    env->regs[R_ESP] = sp;
    x86_set_cs(cpu, sel, lo, hi, (int)newcpl);
    env->rip = off;
    uint64_t clear = X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM;
    if (!(type & 1)) {
        clear |= X86_FLAG_IF;
    }
    x86_set_rflags(cpu, 0, clear);
    x86_update_mode(cpu);
}

void x86_do_interrupt(X86Cpu *cpu, int vector, bool software, bool has_error,
                      uint32_t error)
{
    X86State *env = cpu->env;
    env->halted = false;
    env->interrupt_shadow = false;
    /* the single-step trap of an instruction that delivers an event is not
     * taken: the handler starts with TF clear */
    cpu->dbg_tf = false;
    if (!cpu->pe) {
        do_real(cpu, vector);
    } else if (cpu->long_mode) {
        do_long(cpu, vector, software, has_error, error);
    } else {
        do_protected(cpu, vector, software, has_error, error);
    }
    cpu->stop_tb = true;
}
