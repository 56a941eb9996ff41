/*
 * System instructions (SDM vol. 2 pages; vol. 3 chapters 2, 5, 16, 18):
 * HLT, CLI/STI, IN/OUT with the IOPL and TSS I/O-bitmap checks, MOV to/from
 * CRn/DRn, CLTS, LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR, LMSW/SMSW, INVLPG,
 * LAR/LSL/VERR/VERW, MOV Sreg, LDS/LES/LSS/LFS/LGS, ARPL, RDMSR/WRMSR,
 * RDTSC/RDTSCP, CPUID, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS.
 */
#include "cpu/x86/insn.h"

static void need_cpl0(X86Cpu *cpu)
{
    if (cpu->cpl != 0) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
}

static void need_pm(X86Cpu *cpu)
{
    if (!cpu->pe || cpu->vm86) {
        x86_raise(cpu, EXC_UD);
    }
}

void x86_h_ud(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_raise(cpu, EXC_UD);
}

void x86_exec_ud(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_raise(cpu, EXC_UD);
}

void x86_h_fence(X86Cpu *cpu, const X86DecodedInsn *d)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void x86_h_pause(X86Cpu *cpu, const X86DecodedInsn *d)
{
    __builtin_ia32_pause();
}

void x86_h_rdrand(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_raise(cpu, EXC_UD);
}

void x86_h_hlt(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    cpu->env->halted = true;
    cpu->stop_tb = true;
}

static unsigned iopl(X86Cpu *cpu)
{
    return (cpu->env->rflags >> 12) & 3;
}

void x86_h_cli(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (cpu->pe && cpu->cpl > iopl(cpu)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    cpu->env->rflags &= ~(uint64_t)X86_FLAG_IF;
}

void x86_h_sti(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (cpu->pe && cpu->cpl > iopl(cpu)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if (!(cpu->env->rflags & X86_FLAG_IF)) {
        cpu->env->interrupt_shadow = true;
    }
    cpu->env->rflags |= X86_FLAG_IF;
}

void x86_check_io(X86Cpu *cpu, uint16_t port, unsigned size)
{
    if (!cpu->pe || (!cpu->vm86 && cpu->cpl <= iopl(cpu))) {
        return;
    }
    X86State *env = cpu->env;
    unsigned type = (env->tr.flags >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(env->tr.flags & X86_DESC_P) || !(type & 8) || env->tr.limit < 0x67) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint32_t base = (uint32_t)x86_ld_sys(cpu, env->tr.base + 0x66, 2);
    uint32_t off = base + port / 8;
    if (off + 1 > env->tr.limit) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint32_t bits = (uint32_t)x86_ld_sys(cpu, env->tr.base + off, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
}

uint64_t x86_io_read(X86Cpu *cpu, uint16_t port, unsigned size)
{
    if (unlikely(cpu->dbg_io_on)) {
        x86_debug_io(cpu, port, size);
    }
    return address_space_read_val_locked(cpu->io, cpu->lock, port, size);
}

void x86_io_write(X86Cpu *cpu, uint16_t port, uint64_t val, unsigned size)
{
    if (unlikely(cpu->dbg_io_on)) {
        x86_debug_io(cpu, port, size);
    }
    address_space_write_val_locked(cpu->io, cpu->lock, port, val, size);
}

void x86_h_in(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint16_t port = d->aux ? (uint16_t)cpu->env->regs[R_EDX] : (uint16_t)d->imm;
    x86_check_io(cpu, port, d->op2);
    x86_set_reg(cpu, R_EAX, d->op2, false, x86_io_read(cpu, port, d->op2));
}

void x86_h_out(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint16_t port = d->aux ? (uint16_t)cpu->env->regs[R_EDX] : (uint16_t)d->imm;
    x86_check_io(cpu, port, d->op2);
    x86_io_write(cpu, port, x86_get_reg(cpu, R_EAX, d->op2, false), d->op2);
}

/* ---- control registers ---- */

void x86_write_cr0(X86Cpu *cpu, uint64_t val)
{
    X86State *env = cpu->env;
    if (val >> 32) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    val |= X86_CR0_ET;
    if (((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
        ((val & X86_CR0_NW) && !(val & X86_CR0_CD))) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if ((val & X86_CR0_PG) && !(env->cr0 & X86_CR0_PG) && (env->efer & X86_EFER_LME)) {
        if (!(env->cr4 & X86_CR4_PAE)) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        env->efer |= X86_EFER_LMA;
    }
    if (!(val & X86_CR0_PG) && (env->cr0 & X86_CR0_PG) && (env->efer & X86_EFER_LMA)) {
        if (cpu->code_size == 8) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        env->efer &= ~(uint64_t)X86_EFER_LMA;
    }
    if ((val ^ env->cr0) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)) {
        x86_tlb_flush(cpu);
    }
    env->cr0 = val;
    x86_update_mode(cpu);
    cpu->stop_tb = true;
}

void x86_write_cr3(X86Cpu *cpu, uint64_t val)
{
    if (cpu->long_mode && (val >> 52)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    cpu->env->cr3 = cpu->long_mode ? val : (uint32_t)val;
    x86_tlb_flush(cpu);
    cpu->stop_tb = true;
}

/* not VME/PVI: the virtual-8086 mode extensions are not implemented (vm86.c) */
#define CR4_SUPPORTED (X86_CR4_TSD | X86_CR4_DE | \
                       X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | \
                       X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

void x86_write_cr4(X86Cpu *cpu, uint64_t val)
{
    X86State *env = cpu->env;
    if (val & ~(uint64_t)CR4_SUPPORTED) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if (cpu->long_mode && !(val & X86_CR4_PAE)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if ((val ^ env->cr4) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE)) {
        x86_tlb_flush(cpu);
    }
    env->cr4 = val;
    x86_debug_update(cpu);
    cpu->stop_tb = true;
}

void x86_write_efer(X86Cpu *cpu, uint64_t val)
{
    X86State *env = cpu->env;
    uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE;
    if (val & ~(allowed | X86_EFER_LMA)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if ((env->cr0 & X86_CR0_PG) && ((val ^ env->efer) & X86_EFER_LME)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint64_t nv = (val & allowed) | (env->efer & X86_EFER_LMA);
    if ((nv ^ env->efer) & X86_EFER_NXE) {
        x86_tlb_flush(cpu);
    }
    env->efer = nv;
    x86_update_mode(cpu);
}

void x86_h_mov_from_cr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    X86State *env = cpu->env;
    uint64_t v;
    switch (d->reg) {
    case 0: v = env->cr0; break;
    case 2: v = env->cr2; break;
    case 3: v = env->cr3; break;
    case 4: v = env->cr4; break;
    case 8: {
        uint64_t tpr = env->cr8 << 4;
        if (cpu->intr && cpu->intr->msr_read) {
            cpu->intr->msr_read(cpu->intr->apic_opaque, 0x808, &tpr);
        }
        v = (tpr >> 4) & 15;
        break;
    }
    default: x86_raise(cpu, EXC_UD);
    }
    cpu->env->regs[d->rm] = d->code64 ? v : (uint32_t)v;
}

void x86_h_mov_to_cr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    uint64_t v = cpu->env->regs[d->rm];
    if (!d->code64) {
        v = (uint32_t)v;
    }
    switch (d->reg) {
    case 0: x86_write_cr0(cpu, v); break;
    case 2: cpu->env->cr2 = v; break;
    case 3: x86_write_cr3(cpu, v); break;
    case 4: x86_write_cr4(cpu, v); break;
    case 8:
        if (v & ~15ull) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        cpu->env->cr8 = v;
        if (cpu->intr && cpu->intr->msr_write) {
            cpu->intr->msr_write(cpu->intr->apic_opaque, 0x808, v << 4);
        }
        cpu->stop_tb = true;
        break;
    default: x86_raise(cpu, EXC_UD);
    }
}

void x86_h_mov_from_dr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    unsigned r = d->reg;
    if (r > 7) {
        x86_raise(cpu, EXC_UD);
    }
    if (r == 4 || r == 5) {
        if (cpu->env->cr4 & X86_CR4_DE) {
            x86_raise(cpu, EXC_UD);
        }
        r += 2;
    }
    uint64_t v = x86_debug_read_dr(cpu, r);
    cpu->env->regs[d->rm] = d->code64 ? v : (uint32_t)v;
}

void x86_h_mov_to_dr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    unsigned r = d->reg;
    if (r > 7) {
        x86_raise(cpu, EXC_UD);
    }
    if (r == 4 || r == 5) {
        if (cpu->env->cr4 & X86_CR4_DE) {
            x86_raise(cpu, EXC_UD);
        }
        r += 2;
    }
    uint64_t v = cpu->env->regs[d->rm];
    if (!d->code64) {
        v = (uint32_t)v;
    }
    if (d->code64 && r >= 6 && (v >> 32)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    x86_debug_write_dr(cpu, r, v);
}

void x86_h_clts(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    cpu->env->cr0 &= ~(uint64_t)X86_CR0_TS;
}

void x86_h_wbinvd(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
}

/* ---- descriptor tables ---- */

static void load_system_seg(X86Cpu *cpu, SegmentCache *sc, uint16_t sel,
                            unsigned want_type_mask, bool is_tr)
{
    uint32_t lo, hi;
    if (sel & 4) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (!x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    unsigned type = (hi >> X86_DESC_TYPE_SHIFT) & 15;
    if ((hi & X86_DESC_S) || !((1u << type) & want_type_mask)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (!(hi & X86_DESC_P)) {
        x86_raise_err(cpu, EXC_NP, sel & ~3u);
    }
    uint64_t base_hi = 0;
    if (cpu->long_mode) {
        base_hi = x86_ld_sys(cpu, cpu->env->gdt.base + (sel & ~7u) + 8, 4);
    }
    if (is_tr) {
        /* mark busy */
        uint64_t a = cpu->env->gdt.base + (sel & ~7u) + 5;
        if (!cpu->long_mode) {
            a = (uint32_t)a;
        }
        x86_st_sys(cpu, a, ((hi >> 8) & 0xff) | 2, 1);
        hi |= 2u << X86_DESC_TYPE_SHIFT;
    }
    x86_desc_to_cache(sc, sel, lo, hi);
    sc->base |= base_hi << 32;
}

void x86_h_grp6(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_pm(cpu);
    X86State *env = cpu->env;
    unsigned op = d->reg & 7;
    switch (op) {
    case 0: /* SLDT */
    case 1: /* STR */ {
        uint16_t v = op == 0 ? env->ldt.selector : env->tr.selector;
        if (d->mod == 3) {
            x86_set_reg(cpu, d->rm, d->opsize, false, v);
        } else {
            x86_write_rm(cpu, d, 2, v);
        }
        return;
    }
    case 2: { /* LLDT */
        need_cpl0(cpu);
        uint16_t sel = (uint16_t)x86_read_rm(cpu, d, 2);
        if ((sel & ~3u) == 0) {
            env->ldt.selector = sel;
            env->ldt.base = 0;
            env->ldt.limit = 0;
            env->ldt.flags = 0;
            return;
        }
        load_system_seg(cpu, &env->ldt, sel, 1u << 2, false);
        return;
    }
    case 3: { /* LTR */
        need_cpl0(cpu);
        uint16_t sel = (uint16_t)x86_read_rm(cpu, d, 2);
        if ((sel & ~3u) == 0) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        load_system_seg(cpu, &env->tr, sel, cpu->long_mode ? (1u << 9) : ((1u << 1) | (1u << 9)), true);
        return;
    }
    case 4: case 5: { /* VERR VERW */
        uint16_t sel = (uint16_t)x86_read_rm(cpu, d, 2);
        uint32_t lo, hi;
        bool ok = false;
        if ((sel & ~3u) && x86_read_desc(cpu, sel, &lo, &hi) && (hi & X86_DESC_S)) {
            unsigned type = (hi >> X86_DESC_TYPE_SHIFT) & 15;
            unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
            bool conf = (type & 12) == 12;
            bool priv = conf || (dpl >= cpu->cpl && dpl >= (sel & 3u));
            ok = priv && (op == 4 ? (!(type & 8) || (type & 2)) : (!(type & 8) && (type & 2)));
        }
        uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
        x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f | (ok ? X86_FLAG_ZF : 0), 0);
        return;
    }
    default:
        x86_raise(cpu, EXC_UD);
    }
}

void x86_h_grp7(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    unsigned op = d->reg & 7;
    if (d->mod == 3) {
        switch (d->modrm) {
        case 0xf8: /* SWAPGS */
            if (!d->code64) {
                x86_raise(cpu, EXC_UD);
            }
            need_cpl0(cpu);
            {
                uint64_t t = env->segs[R_GS].base;
                env->segs[R_GS].base = env->kernel_gs_base;
                env->kernel_gs_base = t;
            }
            return;
        case 0xf9: /* RDTSCP */
            x86_h_rdtscp(cpu, d);
            return;
        default:
            break;
        }
        if (op == 4) { /* SMSW r */
            x86_set_reg(cpu, d->rm, d->opsize, false, env->cr0 & x86_size_mask(d->opsize));
            return;
        }
        if (op == 6) { /* LMSW r */
            need_cpl0(cpu);
            uint64_t v = x86_get_reg(cpu, d->rm, 2, false);
            x86_write_cr0(cpu, (env->cr0 & ~0xeull) | (v & 0xf) | (env->cr0 & 1));
            return;
        }
        x86_raise(cpu, EXC_UD);
    }
    uint64_t ea = x86_ea(cpu, d);
    uint64_t am = x86_size_mask(d->addrsize);
    switch (op) {
    case 0: case 1: { /* SGDT SIDT */
        const DescriptorTable *t = op == 0 ? &env->gdt : &env->idt;
        x86_st(cpu, d->seg, ea, t->limit, 2);
        if (d->code64) {
            x86_st(cpu, d->seg, (ea + 2) & am, t->base, 8);
        } else {
            x86_st(cpu, d->seg, (ea + 2) & am, (uint32_t)t->base, 4);
        }
        return;
    }
    case 2: case 3: { /* LGDT LIDT */
        need_cpl0(cpu);
        uint16_t limit = (uint16_t)x86_ld(cpu, d->seg, ea, 2);
        uint64_t base;
        if (d->code64) {
            base = x86_ld(cpu, d->seg, (ea + 2) & am, 8);
            if (!x86_canonical(base)) {
                x86_raise_err(cpu, EXC_GP, 0);
            }
        } else {
            base = x86_ld(cpu, d->seg, (ea + 2) & am, 4);
            if (d->opsize == 2) {
                base &= 0xffffff;
            }
        }
        DescriptorTable *t = op == 2 ? &env->gdt : &env->idt;
        t->limit = limit;
        t->base = base;
        return;
    }
    case 4: /* SMSW m16 */
        x86_st(cpu, d->seg, ea, env->cr0 & 0xffff, 2);
        return;
    case 6: { /* LMSW m16 */
        need_cpl0(cpu);
        uint64_t v = x86_ld(cpu, d->seg, ea, 2);
        x86_write_cr0(cpu, (env->cr0 & ~0xeull) | (v & 0xf) | (env->cr0 & 1));
        return;
    }
    case 7: { /* INVLPG */
        need_cpl0(cpu);
        uint64_t lin = x86_seg_linear(cpu, d->seg, ea, 1, false);
        x86_tlb_flush_page(cpu, lin);
        cpu->stop_tb = true;
        return;
    }
    default:
        x86_raise(cpu, EXC_UD);
    }
}

void x86_h_lar(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_pm(cpu);
    uint16_t sel = (uint16_t)x86_read_rm(cpu, d, 2);
    uint32_t lo, hi;
    bool ok = false;
    if ((sel & ~3u) && x86_read_desc(cpu, sel, &lo, &hi)) {
        unsigned type = (hi >> X86_DESC_TYPE_SHIFT) & 15;
        unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
        if (hi & X86_DESC_S) {
            ok = ((type & 12) == 12) || (dpl >= cpu->cpl && dpl >= (sel & 3u));
        } else {
            static const uint16_t valid32 = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
                                            (1u << 5) | (1u << 9) | (1u << 11) | (1u << 12);
            static const uint16_t valid64 = (1u << 2) | (1u << 9) | (1u << 11) | (1u << 12);
            ok = ((cpu->long_mode ? valid64 : valid32) >> type) & 1;
            ok = ok && dpl >= cpu->cpl && dpl >= (sel & 3u);
        }
        if (ok) {
            x86_set_reg(cpu, d->reg, d->opsize, x86_rex(d), hi & 0x00f0ff00u);
        }
    }
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f | (ok ? X86_FLAG_ZF : 0), 0);
}

void x86_h_lsl(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_pm(cpu);
    uint16_t sel = (uint16_t)x86_read_rm(cpu, d, 2);
    uint32_t lo, hi;
    bool ok = false;
    if ((sel & ~3u) && x86_read_desc(cpu, sel, &lo, &hi)) {
        unsigned type = (hi >> X86_DESC_TYPE_SHIFT) & 15;
        unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
        if (hi & X86_DESC_S) {
            ok = ((type & 12) == 12) || (dpl >= cpu->cpl && dpl >= (sel & 3u));
        } else {
            static const uint16_t valid32 = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 9) | (1u << 11);
            static const uint16_t valid64 = (1u << 2) | (1u << 9) | (1u << 11);
            ok = ((cpu->long_mode ? valid64 : valid32) >> type) & 1;
            ok = ok && dpl >= cpu->cpl && dpl >= (sel & 3u);
        }
        if (ok) {
            SegmentCache sc;
            x86_desc_to_cache(&sc, sel, lo, hi);
            x86_set_reg(cpu, d->reg, d->opsize, x86_rex(d), sc.limit);
        }
    }
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f | (ok ? X86_FLAG_ZF : 0), 0);
}

void x86_h_mov_seg_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned seg = d->reg & 7;
    if (seg == R_CS || seg > R_GS) {
        x86_raise(cpu, EXC_UD);
    }
    uint16_t sel = (uint16_t)x86_read_rm(cpu, d, 2);
    x86_load_seg(cpu, (int)seg, sel);
    if (seg == R_SS) {
        cpu->env->interrupt_shadow = true;
        cpu->dbg_ss_shadow = true;
    }
}

void x86_h_mov_rm_seg(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned seg = d->reg & 7;
    if (seg > R_GS) {
        x86_raise(cpu, EXC_UD);
    }
    uint16_t sel = cpu->env->segs[seg].selector;
    if (d->mod == 3) {
        x86_set_reg(cpu, d->rm, d->opsize, false, sel);
    } else {
        x86_write_rm(cpu, d, 2, sel);
    }
}

void x86_h_lxs(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (d->mod == 3) {
        x86_raise(cpu, EXC_UD);
    }
    unsigned size = d->opsize;
    uint64_t ea = x86_ea(cpu, d);
    uint64_t off = x86_ld(cpu, d->seg, ea, size);
    uint16_t sel = (uint16_t)x86_ld(cpu, d->seg, (ea + size) & x86_size_mask(d->addrsize), 2);
    x86_load_seg(cpu, d->op, sel);
    x86_set_reg(cpu, d->reg, size, x86_rex(d), off);
    if (d->op == R_SS) {
        cpu->env->interrupt_shadow = true;
    }
}

void x86_h_arpl(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_pm(cpu);
    uint64_t dst = x86_read_rm(cpu, d, 2);
    uint64_t src = x86_get_reg(cpu, d->reg, 2, false);
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
    if ((dst & 3) < (src & 3)) {
        x86_write_rm(cpu, d, 2, (dst & ~3ull) | (src & 3));
        f |= X86_FLAG_ZF;
    }
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
}

/* ---- MSRs, TSC, CPUID ---- */

void x86_h_rdmsr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    uint64_t v;
    if (!x86_msr_read(cpu, (uint32_t)cpu->env->regs[R_ECX], &v)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    cpu->env->regs[R_EAX] = (uint32_t)v;
    cpu->env->regs[R_EDX] = v >> 32;
}

void x86_h_wrmsr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    need_cpl0(cpu);
    uint64_t v = ((cpu->env->regs[R_EDX] & 0xffffffffu) << 32) |
                 (cpu->env->regs[R_EAX] & 0xffffffffu);
    if (!x86_msr_write(cpu, (uint32_t)cpu->env->regs[R_ECX], v)) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    cpu->stop_tb = true;
}

void x86_h_rdtsc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if ((cpu->env->cr4 & X86_CR4_TSD) && cpu->cpl != 0) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint64_t t = x86_rdtsc(cpu);
    cpu->env->regs[R_EAX] = (uint32_t)t;
    cpu->env->regs[R_EDX] = t >> 32;
}

void x86_h_rdtscp(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_h_rdtsc(cpu, d);
    cpu->env->regs[R_ECX] = (uint32_t)cpu->env->tsc_aux;
}

void x86_h_rdpmc(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_raise_err(cpu, EXC_GP, 0);
}

void x86_h_cpuid(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t out[4];
    x86_cpuid(cpu, (uint32_t)cpu->env->regs[R_EAX], (uint32_t)cpu->env->regs[R_ECX], out);
    cpu->env->regs[R_EAX] = out[0];
    cpu->env->regs[R_EBX] = out[1];
    cpu->env->regs[R_ECX] = out[2];
    cpu->env->regs[R_EDX] = out[3];
}

/* ---- fast system calls ---- */

static void flat_seg(SegmentCache *sc, uint16_t sel, bool code, bool l, unsigned dpl)
{
    sc->selector = sel;
    sc->base = 0;
    sc->limit = 0xffffffffu;
    sc->flags = X86_DESC_P | X86_DESC_S | X86_DESC_G | (dpl << X86_DESC_DPL_SHIFT) |
                ((code ? 11u : 3u) << X86_DESC_TYPE_SHIFT) |
                (l ? X86_DESC_L : X86_DESC_B);
}

void x86_h_syscall(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    if (!(env->efer & X86_EFER_SCE)) {
        x86_raise(cpu, EXC_UD);
    }
    uint16_t sel = (uint16_t)(env->star >> 32) & ~3u;
    if (cpu->long_mode) {
        env->regs[R_ECX] = d->next_ip;
        env->regs[R_R11] = x86_get_rflags(cpu) & ~(uint64_t)X86_FLAG_RF;
        flat_seg(&env->segs[R_CS], sel, true, true, 0);
        flat_seg(&env->segs[R_SS], sel + 8, false, false, 0);
        x86_set_rflags(cpu, 0, env->fmask | X86_FLAG_RF);
        env->rip = cpu->code_size == 8 ? env->lstar : env->cstar;
    } else {
        env->regs[R_ECX] = (uint32_t)d->next_ip;
        flat_seg(&env->segs[R_CS], sel, true, false, 0);
        flat_seg(&env->segs[R_SS], sel + 8, false, false, 0);
        x86_set_rflags(cpu, 0, X86_FLAG_IF | X86_FLAG_VM | X86_FLAG_RF);
        env->rip = (uint32_t)env->star;
    }
    x86_update_mode(cpu);
}

void x86_h_sysret(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    if (!(env->efer & X86_EFER_SCE)) {
        x86_raise(cpu, EXC_UD);
    }
    if (!cpu->pe || cpu->cpl != 0) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint16_t sel = (uint16_t)(env->star >> 48);
    if (cpu->long_mode) {
        bool to64 = d->opsize == 8;
        uint64_t rip = to64 ? env->regs[R_ECX] : (uint32_t)env->regs[R_ECX];
        if (!x86_canonical(rip)) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        if (to64) {
            flat_seg(&env->segs[R_CS], (uint16_t)((sel + 16) | 3), true, true, 3);
        } else {
            flat_seg(&env->segs[R_CS], sel | 3, true, false, 3);
        }
        x86_set_rflags(cpu, env->regs[R_R11], 0x3f7fd5);
        env->rflags &= ~(uint64_t)(X86_FLAG_RF | X86_FLAG_VM);
        env->rip = rip;
    } else {
        flat_seg(&env->segs[R_CS], sel | 3, true, false, 3);
        x86_set_rflags(cpu, X86_FLAG_IF, X86_FLAG_IF);
        env->rip = (uint32_t)env->regs[R_ECX];
    }
    /* SS keeps its cached attributes except selector and DPL (SDM) */
    flat_seg(&env->segs[R_SS], (uint16_t)((sel + 8) | 3), false, false, 3);
    x86_update_mode(cpu);
}

void x86_h_sysenter(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    if (!cpu->pe) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    uint16_t cs = (uint16_t)env->sysenter_cs & ~3u;
    if (cs == 0) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    x86_set_rflags(cpu, 0, X86_FLAG_VM | X86_FLAG_IF | X86_FLAG_RF);
    flat_seg(&env->segs[R_CS], cs, true, cpu->long_mode, 0);
    flat_seg(&env->segs[R_SS], cs + 8, false, false, 0);
    env->regs[R_ESP] = cpu->long_mode ? env->sysenter_esp : (uint32_t)env->sysenter_esp;
    env->rip = cpu->long_mode ? env->sysenter_eip : (uint32_t)env->sysenter_eip;
    x86_update_mode(cpu);
}

void x86_h_sysexit(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86State *env = cpu->env;
    uint16_t cs = (uint16_t)env->sysenter_cs & ~3u;
    if (!cpu->pe || cpu->cpl != 0 || cs == 0) {
        x86_raise_err(cpu, EXC_GP, 0);
    }
    if (d->opsize == 8) {
        flat_seg(&env->segs[R_CS], (uint16_t)((cs + 32) | 3), true, true, 3);
        flat_seg(&env->segs[R_SS], (uint16_t)((cs + 40) | 3), false, false, 3);
        env->regs[R_ESP] = env->regs[R_ECX];
        env->rip = env->regs[R_EDX];
    } else {
        flat_seg(&env->segs[R_CS], (uint16_t)((cs + 16) | 3), true, false, 3);
        flat_seg(&env->segs[R_SS], (uint16_t)((cs + 24) | 3), false, false, 3);
        env->regs[R_ESP] = (uint32_t)env->regs[R_ECX];
        env->rip = (uint32_t)env->regs[R_EDX];
    }
    x86_update_mode(cpu);
}
