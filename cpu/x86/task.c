/*
 * Hardware task switching in 16/32-bit protected mode (SDM vol. 3, chapter
 * 7: 7.2 the TSS formats, 7.3 "Task Switching", 7.4 "Task Linking", 7.6
 * for the 16-bit TSS; table 7-1 for the checks and their #TS/#NP/#SS
 * error codes; vol. 2 "IRET" for the NT return).  A switch saves the
 * current state in the old TSS, moves the busy bits, links the tasks (back
 * link and NT for CALL and interrupts), loads TR, sets CR0.TS and loads the
 * new state: CR3 (32-bit TSS, paging on), LDTR, EFLAGS, EIP, the general
 * registers and the segment registers, which are checked after the switch
 * so that their faults are taken in the new task.  EFLAGS.VM in the new
 * image starts a virtual-8086 task.  The TSS's T bit arms a #DB trap.
 */
#include "cpu/x86/protmode.h"

/* Offsets in the 32-bit and the 16-bit TSS. */
typedef struct TssLayout {
    unsigned size;      /* of the register fields */
    unsigned min_limit;
    unsigned ip, flags, regs, segs, ldt, nsegs;
} TssLayout;

static const TssLayout tss32 = { 4, 0x67, 0x20, 0x24, 0x28, 0x48, 0x60, 6 };
static const TssLayout tss16 = { 2, 0x2b, 0x0e, 0x10, 0x12, 0x22, 0x2a, 4 };

typedef struct TaskImage {
    uint32_t cr3, eip, eflags;
    uint32_t regs[8];
    uint16_t segs[6];
    uint16_t ldt;
    bool trap;
} TaskImage;

static uint32_t tss_ld(X86Cpu *cpu, uint64_t base, unsigned off, unsigned size)
{
    return (uint32_t)x86_ld_sys(cpu, (uint32_t)(base + off), size);
}

static void tss_st(X86Cpu *cpu, uint64_t base, unsigned off, uint32_t v, unsigned size)
{
    x86_st_sys(cpu, (uint32_t)(base + off), v, size);
}

static void read_image(X86Cpu *cpu, const SegmentCache *tr, const TssLayout *l, TaskImage *im)
{
    uint64_t b = tr->base;
    im->cr3 = l->size == 4 ? tss_ld(cpu, b, 0x1c, 4) : 0;
    im->eip = tss_ld(cpu, b, l->ip, l->size);
    im->eflags = tss_ld(cpu, b, l->flags, l->size);
    for (unsigned i = 0; i < 8; i++) {
        im->regs[i] = tss_ld(cpu, b, l->regs + i * l->size, l->size);
    }
    for (unsigned i = 0; i < 6; i++) {
        im->segs[i] = i < l->nsegs ? (uint16_t)tss_ld(cpu, b, l->segs + i * l->size, 2) : 0;
    }
    im->ldt = (uint16_t)tss_ld(cpu, b, l->ldt, 2);
    im->trap = l->size == 4 && (tss_ld(cpu, b, 0x64, 2) & 1);
}

static void save_state(X86Cpu *cpu, const TssLayout *l, uint32_t eflags)
{
    X86State *env = cpu->env;
    uint64_t b = env->tr.base;
    tss_st(cpu, b, l->ip, (uint32_t)env->rip, l->size);
    tss_st(cpu, b, l->flags, eflags, l->size);
    for (unsigned i = 0; i < 8; i++) {
        tss_st(cpu, b, l->regs + i * l->size, (uint32_t)env->regs[i], l->size);
    }
    for (unsigned i = 0; i < l->nsegs; i++) {
        tss_st(cpu, b, l->segs + i * l->size, env->segs[i].selector, 2);
    }
}

/* Fault now (#PF) unless supervisor writes to [lin, lin+len) can succeed,
 * one page at a time; 32-bit linear addresses. */
static void probe_sys_write(X86Cpu *cpu, uint32_t lin, unsigned len)
{
    uint32_t last = lin + len - 1;
    for (uint64_t page = lin & ~0xfffu; page <= (last & ~0xfffu); page += 0x1000) {
        x86_translate(cpu, page < lin ? lin : page, ACC_WRITE, MMU_SUP);
    }
}

/* Step 4 of SDM vol. 3, 7.3: everything the switch will write must be
 * reachable before anything is written, so a page fault leaves both tasks
 * as they were: the old TSS's register fields, the back link of the new
 * one, and the busy bits of both descriptors (the new TSS was read whole
 * before this). */
static void probe_switch_writes(X86Cpu *cpu, const TssLayout *ol, uint16_t sel,
                                uint64_t new_base, X86TaskReason why)
{
    X86State *env = cpu->env;
    uint32_t old_base = (uint32_t)env->tr.base;
    probe_sys_write(cpu, old_base + ol->ip, ol->segs + ol->nsegs * ol->size - ol->ip);
    if (why == X86_TASK_CALL || why == X86_TASK_INT) {
        probe_sys_write(cpu, (uint32_t)new_base, 2);
    }
    if (why == X86_TASK_JMP || why == X86_TASK_IRET) {
        probe_sys_write(cpu, (uint32_t)(env->gdt.base + (env->tr.selector & ~7u) + 5), 1);
    }
    if (why != X86_TASK_IRET) {
        probe_sys_write(cpu, (uint32_t)(env->gdt.base + (sel & ~7u) + 5), 1);
    }
}

/* Set or clear the busy bit of the TSS descriptor `sel` in the GDT. */
static void set_busy(X86Cpu *cpu, uint16_t sel, bool busy)
{
    uint32_t a = (uint32_t)(cpu->env->gdt.base + (sel & ~7u) + 5);
    uint32_t b = (uint32_t)x86_ld_sys(cpu, a, 1);
    x86_st_sys(cpu, a, busy ? (b | 2) : (b & ~2u), 1);
}

static void load_ldt(X86Cpu *cpu, uint16_t sel)
{
    SegmentCache *ldt = &cpu->env->ldt;
    uint32_t lo, hi;
    if ((sel & ~3u) == 0) {
        ldt->selector = sel;
        ldt->base = 0;
        ldt->limit = 0;
        ldt->flags = 0;
        return;
    }
    if ((sel & 4) || !x86_read_desc(cpu, sel & ~4u, &lo, &hi) || (hi & X86_DESC_S) ||
        x86_desc_type(hi) != X86_SYS_LDT || !(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_TS, sel & ~3u);
    }
    x86_desc_to_cache(ldt, sel, lo, hi);
}

/* Check and load one segment register of the new task (table 7-1). */
static void load_task_seg(X86Cpu *cpu, int seg, uint16_t sel, unsigned cpl)
{
    X86State *env = cpu->env;
    uint32_t lo, hi;
    unsigned rpl = sel & 3;
    if ((sel & ~3u) == 0) {
        if (seg == R_CS || seg == R_SS) {
            x86_raise_err(cpu, EXC_TS, sel & ~3u);
        }
        env->segs[seg].selector = sel;
        env->segs[seg].base = 0;
        env->segs[seg].limit = 0;
        env->segs[seg].flags = 0;
        x86_update_mode(cpu);
        return;
    }
    if (!x86_read_desc(cpu, sel, &lo, &hi) || !(hi & X86_DESC_S)) {
        x86_raise_err(cpu, EXC_TS, sel & ~3u);
    }
    unsigned type = x86_desc_type(hi), dpl = x86_desc_dpl(hi);
    bool code = type & 8, conforming = code && (type & 4);
    int not_present = EXC_NP;
    if (seg == R_CS) {
        if (!code || (conforming ? dpl > rpl : dpl != rpl)) {
            x86_raise_err(cpu, EXC_TS, sel & ~3u);
        }
    } else if (seg == R_SS) {
        if (code || !(type & 2) || rpl != cpl || dpl != cpl) {
            x86_raise_err(cpu, EXC_TS, sel & ~3u);
        }
        not_present = EXC_SS;
    } else if ((code && !(type & 2)) || (!conforming && (dpl < cpl || dpl < rpl))) {
        x86_raise_err(cpu, EXC_TS, sel & ~3u);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, not_present, sel & ~3u);
    }
    x86_desc_to_cache(&env->segs[seg], sel, lo, hi | (1u << 8));
    x86_update_mode(cpu);
}

void x86_task_switch(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                     X86TaskReason why, bool has_err, uint32_t err, uint32_t ext)
{
    X86State *env = cpu->env;
    SegmentCache ntr;
    x86_desc_to_cache(&ntr, sel, lo, hi);
    const TssLayout *nl = (x86_desc_type(hi) & 8) ? &tss32 : &tss16;
    const TssLayout *ol = (x86_desc_type(env->tr.flags) & 8) ? &tss32 : &tss16;
    if (ntr.limit < nl->min_limit) {
        x86_raise_err(cpu, EXC_TS, (sel & ~3u) | ext);
    }
    if (!(env->tr.flags & X86_DESC_P) || env->tr.limit < ol->ldt - 1) {
        x86_raise_err(cpu, EXC_TS, (env->tr.selector & ~3u) | ext);
    }
    TaskImage im;
    read_image(cpu, &ntr, nl, &im);
    if (env->cr0 & X86_CR0_PG) {
        probe_switch_writes(cpu, ol, sel, ntr.base, why);
    }

    /* the old task */
    uint32_t eflags = (uint32_t)x86_get_rflags(cpu);
    if (why == X86_TASK_IRET) {
        eflags &= ~X86_FLAG_NT;
    }
    save_state(cpu, ol, eflags);
    if (why == X86_TASK_JMP || why == X86_TASK_IRET) {
        set_busy(cpu, env->tr.selector, false);
    }
    /* the link to the new task */
    if (why != X86_TASK_IRET) {
        set_busy(cpu, sel, true);
    }
    if (why == X86_TASK_CALL || why == X86_TASK_INT) {
        tss_st(cpu, ntr.base, 0, env->tr.selector, 2);
        im.eflags |= X86_FLAG_NT;
    }
    /* From here on, faults belong to the new task. */
    cpu->cur = NULL;
    env->tr = ntr;
    env->tr.flags |= 2u << X86_DESC_TYPE_SHIFT;
    env->cr0 |= X86_CR0_TS;
    if (nl == &tss32 && (env->cr0 & X86_CR0_PG)) {
        env->cr3 = im.cr3;
        x86_tlb_flush(cpu);
    }
    env->rip = im.eip;
    for (unsigned i = 0; i < 8; i++) {
        if (nl == &tss32) {
            env->regs[i] = im.regs[i];
        } else {
            env->regs[i] = (env->regs[i] & ~0xffffull) | im.regs[i];
        }
    }
    x86_set_rflags(cpu, im.eflags, ~0ull);
    for (int i = 0; i < 6; i++) {
        env->segs[i].selector = im.segs[i];
        env->segs[i].flags = 0;
    }
    env->ldt.selector = im.ldt;
    env->ldt.flags = 0;
    x86_update_mode(cpu);
    load_ldt(cpu, im.ldt);
    if (cpu->vm86) {
        for (int i = 0; i < 6; i++) {
            x86_load_seg_real(cpu, i, im.segs[i]);
        }
    } else {
        unsigned cpl = im.segs[R_CS] & 3;
        load_task_seg(cpu, R_CS, im.segs[R_CS], cpl);
        load_task_seg(cpu, R_SS, im.segs[R_SS], cpl);
        for (int i = 0; i < 6; i++) {
            if (i != R_CS && i != R_SS) {
                load_task_seg(cpu, i, im.segs[i], cpl);
            }
        }
    }
    x86_update_mode(cpu);
    if (env->rip > env->segs[R_CS].limit) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if (has_err) {
        x86_push(cpu, err, nl->size);
    }
    if (im.trap) {
        cpu->dbg_trap |= 1u << 15; /* DR6.BT, delivered before the next instruction */
        cpu->debug_active = true;
    }
    cpu->stop_tb = true;
    cpu->tb_flush_req = true;
}

void x86_task_gate(X86Cpu *cpu, uint16_t tss_sel, X86TaskReason why,
                   bool has_err, uint32_t err, uint32_t ext)
{
    uint32_t lo, hi;
    if ((tss_sel & 4) || !x86_read_desc(cpu, tss_sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, (tss_sel & ~3u) | ext);
    }
    unsigned type = x86_desc_type(hi);
    if ((hi & X86_DESC_S) || (type != X86_SYS_TSS16 && type != X86_SYS_TSS32)) {
        x86_raise_err(cpu, EXC_GP, (tss_sel & ~3u) | ext);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, (tss_sel & ~3u) | ext);
    }
    x86_task_switch(cpu, tss_sel, lo, hi, why, has_err, err, ext);
}

void x86_task_return(X86Cpu *cpu)
{
    X86State *env = cpu->env;
    uint16_t link = (uint16_t)tss_ld(cpu, env->tr.base, 0, 2);
    uint32_t lo, hi;
    if ((link & 4) || (link & ~3u) == 0 || !x86_read_desc(cpu, link, &lo, &hi)) {
        x86_raise_err(cpu, EXC_TS, link & ~3u);
    }
    unsigned type = x86_desc_type(hi);
    if ((hi & X86_DESC_S) || (type != X86_SYS_TSS16_BUSY && type != X86_SYS_TSS32_BUSY)) {
        x86_raise_err(cpu, EXC_TS, link & ~3u);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, link & ~3u);
    }
    x86_task_switch(cpu, link, lo, hi, X86_TASK_IRET, false, 0, 0);
}
