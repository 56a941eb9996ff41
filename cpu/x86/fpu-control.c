/*
 * x87 control: the entry checks every x87 instruction makes (#NM from
 * CR0.EM/TS, SDM vol. 3, 2.5; a pending unmasked exception reported as #MF
 * at the next waiting instruction when CR0.NE, vol. 1, 8.7), the exception
 * bookkeeping of vol. 1, 8.4-8.5 (flags, ES/B, masked responses to stack
 * faults), the last-instruction pointers of 8.1.8-8.1.9, and the control
 * instructions FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FNOP and FWAIT.
 */
#include "cpu/x86/fpu-internal.h"

void fpu_enter(X86Cpu *cpu, bool waiting)
{
    x86_ext_check_fpu(cpu);
    /* With CR0.NE clear the hardware signals FERR# to the chipset
     * (IRQ 13) instead; that legacy path is not modelled. */
    if (waiting && (cpu->env->fpu.fsw & FSW_ES) && (cpu->env->cr0 & X86_CR0_NE)) {
        x86_ext_raise(cpu, EXC_MF);
    }
}

void fpu_note(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    f->fip = d->ip;
    f->fcs = cpu->env->segs[R_CS].selector;
    f->fop = (uint16_t)(((d->opcode & 7) << 8) | d->modrm);
    if (d->mod != 3) {
        f->fdp = x86_insn_ea(cpu, d);
        f->fds = cpu->env->segs[d->seg].selector;
    }
}

void fpu_update_es(X86FpuState *f)
{
    if (f->fsw & ~f->fcw & FSW_EXC) {
        f->fsw |= FSW_ES | FSW_B;
    } else {
        f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
    }
}

bool fpu_result_flags(X86FpuState *f, uint16_t host_sw)
{
    unsigned exc = host_sw & FSW_EXC;
    unsigned unmasked = exc & ~f->fcw & FSW_EXC;
    if (unmasked & (FSW_IE | FSW_DE | FSW_ZE)) {
        f->fsw |= (uint16_t)((exc & (FSW_IE | FSW_DE | FSW_ZE)) | FSW_ES | FSW_B);
        return false;
    }
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (host_sw & FSW_C1) | exc);
    if (unmasked) {
        f->fsw |= FSW_ES | FSW_B;
    }
    return true;
}

static bool stack_fault(X86FpuState *f, uint16_t c1)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | c1 | FSW_IE | FSW_SF);
    if (f->fcw & FSW_IE) {
        return true;
    }
    f->fsw |= FSW_ES | FSW_B;
    return false;
}

bool fpu_stack_underflow(X86FpuState *f)
{
    return stack_fault(f, 0);
}

bool fpu_stack_overflow(X86FpuState *f)
{
    return stack_fault(f, FSW_C1);
}

bool fpu_push_checked(X86FpuState *f, f80 v)
{
    if (!fpu_empty(f, 7)) {
        if (!fpu_stack_overflow(f)) {
            return false;
        }
        v = fpu_indefinite();
    } else {
        f->fsw &= (uint16_t)~FSW_C1;
    }
    fpu_push(f, v);
    return true;
}

void fpu_init_state(X86FpuState *f)
{
    f->fcw = 0x37f;
    f->fsw = 0;
    f->ftw = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

void fpu_exec_fnop(X86Cpu *cpu, const X86DecodedInsn *d)
{
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
}

void fpu_exec_fwait(X86Cpu *cpu, const X86DecodedInsn *d)
{
    /* WAIT: #NM only when both MP and TS are set (vol. 3, 2.5) */
    uint64_t cr0 = cpu->env->cr0;
    if ((cr0 & X86_CR0_MP) && (cr0 & X86_CR0_TS)) {
        x86_ext_raise(cpu, EXC_NM);
    }
    if ((cpu->env->fpu.fsw & FSW_ES) && (cr0 & X86_CR0_NE)) {
        x86_ext_raise(cpu, EXC_MF);
    }
}

void fpu_exec_fninit(X86Cpu *cpu, const X86DecodedInsn *d)
{
    fpu_enter(cpu, false);
    fpu_init_state(&cpu->env->fpu);
}

void fpu_exec_fnclex(X86Cpu *cpu, const X86DecodedInsn *d)
{
    fpu_enter(cpu, false);
    cpu->env->fpu.fsw &= 0x7f00;
}

void fpu_exec_fldcw(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint16_t w;
    fpu_enter(cpu, true);
    x86_ext_load(cpu, d, 0, &w, 2);
    cpu->env->fpu.fcw = (uint16_t)((w & 0x1f3f) | 0x40);
    fpu_update_es(&cpu->env->fpu);
}

void fpu_exec_fnstcw(X86Cpu *cpu, const X86DecodedInsn *d)
{
    fpu_enter(cpu, false);
    x86_ext_store(cpu, d, 0, &cpu->env->fpu.fcw, 2);
}

void fpu_exec_fnstsw(X86Cpu *cpu, const X86DecodedInsn *d)
{
    fpu_enter(cpu, false);
    if (d->mod == 3) {
        x86_ext_set_gpr(cpu, d, R_EAX, 2, cpu->env->fpu.fsw);
    } else {
        x86_ext_store(cpu, d, 0, &cpu->env->fpu.fsw, 2);
    }
}
