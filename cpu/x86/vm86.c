/*
 * Virtual-8086 mode (SDM vol. 3, chapter 20: 20.2 "Virtual-8086 Mode",
 * 20.2.7 "Sensitive Instructions", 20.3 "Interrupt and Exception Handling
 * in Virtual-8086 Mode", figure 20-3 for the ring-0 frame; vol. 2 "IRET"
 * for the return to virtual-8086 mode).  Entry is by IRET at CPL 0 with
 * EFLAGS.VM in the image (here) or by a task switch (task.c).  In the mode
 * itself addressing is real-mode style at CPL 3 (seg.c, cpu.c), the
 * IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET) raise
 * #GP(0) when IOPL < 3 (ctrl.c, sys.c, farctl.c) and port I/O is checked
 * against the TSS's I/O permission bitmap whatever the IOPL (sys.c).
 * Interrupts and exceptions leave the mode through a 32-bit (or 16-bit)
 * interrupt or trap gate to a ring-0 non-conforming code segment, with the
 * nine-item frame (GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP).  The virtual
 * mode extensions (CR4.VME, PVI) are not implemented and not advertised.
 */
#include "cpu/x86/protmode.h"

void x86_vm86_enter_iret(X86Cpu *cpu, uint32_t eip, uint16_t cs,
                         uint32_t eflags, uint64_t sp)
{
    X86State *env = cpu->env;
    uint64_t m = x86_sp_mask(cpu);
    uint32_t v[6]; /* ESP, SS, ES, DS, FS, GS */
    for (unsigned i = 0; i < 6; i++) {
        v[i] = (uint32_t)x86_ld(cpu, R_SS, (sp + i * 4) & m, 4);
    }
    x86_set_rflags(cpu, eflags, ~0ull);
    x86_update_mode(cpu);
    x86_load_seg_real(cpu, R_CS, cs);
    x86_load_seg_real(cpu, R_SS, (uint16_t)v[1]);
    x86_load_seg_real(cpu, R_ES, (uint16_t)v[2]);
    x86_load_seg_real(cpu, R_DS, (uint16_t)v[3]);
    x86_load_seg_real(cpu, R_FS, (uint16_t)v[4]);
    x86_load_seg_real(cpu, R_GS, (uint16_t)v[5]);
    env->regs[R_ESP] = v[0];
    env->rip = eip;
    x86_update_mode(cpu);
    cpu->stop_tb = true;
}

void x86_vm86_interrupt(X86Cpu *cpu, uint16_t cs_sel, uint32_t lo, uint32_t hi,
                        uint32_t off, bool gate32, bool trap_gate, bool has_err,
                        uint32_t err, uint32_t ext)
{
    X86State *env = cpu->env;
    uint16_t ss;
    uint64_t sp;
    uint32_t slo, shi;
    x86_tss_stack(cpu, 0, &ss, &sp, ext);
    if ((ss & ~3u) == 0 || (ss & 3) != 0 || !x86_read_desc(cpu, ss, &slo, &shi)) {
        x86_raise_err(cpu, EXC_TS, (ss & ~3u) | ext);
    }
    unsigned st = x86_desc_type(shi);
    if (!(shi & X86_DESC_S) || (st & 8) || !(st & 2) || x86_desc_dpl(shi) != 0) {
        x86_raise_err(cpu, EXC_TS, (ss & ~3u) | ext);
    }
    if (!(shi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_SS, (ss & ~3u) | ext);
    }
    SegmentCache nss;
    x86_desc_to_cache(&nss, ss, slo, shi | (1u << 8));
    uint64_t m = (shi & X86_DESC_B) ? 0xffffffffu : 0xffff;
    unsigned size = gate32 ? 4 : 2;
    uint64_t words[10] = {
        env->segs[R_GS].selector, env->segs[R_FS].selector,
        env->segs[R_DS].selector, env->segs[R_ES].selector,
        env->segs[R_SS].selector, env->regs[R_ESP] & x86_size_mask(size),
        x86_get_rflags(cpu), env->segs[R_CS].selector, env->rip, err,
    };
    unsigned n = has_err ? 10 : 9;
    for (unsigned i = 0; i < n; i++) {
        if (!x86_stack_fits(&nss, (sp - (i + 1) * size) & m, size)) {
            x86_raise_err(cpu, EXC_SS, (ss & ~3u) | ext);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = (sp - (i + 1) * size) & m;
        x86_st_sys(cpu, (uint32_t)(nss.base + a), words[i], size);
    }
    uint64_t clear = X86_FLAG_VM | X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF;
    if (!trap_gate) {
        clear |= X86_FLAG_IF;
    }
    x86_set_rflags(cpu, 0, clear);
    static const int data_segs[4] = { R_ES, R_DS, R_FS, R_GS };
    for (unsigned i = 0; i < 4; i++) {
        SegmentCache *sc = &env->segs[data_segs[i]];
        sc->selector = 0;
        sc->base = 0;
        sc->limit = 0;
        sc->flags = 0;
    }
    env->segs[R_SS] = nss;
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | ((sp - n * size) & m);
    x86_set_cs(cpu, cs_sel, lo, hi, 0);
    env->rip = off;
    x86_update_mode(cpu);
}
