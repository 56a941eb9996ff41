/*
 * x87 arithmetic and comparison (SDM vol. 1, 8.3.5-8.3.7 and vol. 2):
 * FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in all forms (m32/m64 real, m16/m32
 * integer, ST(0)/ST(i) both ways, popping), FCOM/FCOMP/FCOMPP, FUCOM*,
 * FICOM*, FCOMI/FUCOMI(P), FTST, FXAM, FCHS, FABS, FSQRT, FRNDINT,
 * FSCALE, FPREM, FPREM1, FXTRACT.  Values are computed by the host x87
 * (fpu-host.h) under the guest's rounding and precision control; stack
 * faults and unmasked exceptions follow 8.5 (no result, no pop).
 */
#include "cpu/x86/fpu-internal.h"

/* The memory operand of an arithmetic form: raw m32/m64 real bits (the
 * host operates on them directly), or an integer converted exactly. */
typedef struct FpuMemOperand {
    uint64_t bits;
    f80 value;
} FpuMemOperand;

static void load_operand(X86Cpu *cpu, const X86DecodedInsn *d, FpuMemOperand *m)
{
    m->bits = 0;
    m->value = 0;
    switch (d->op2) {
    case FPU_M32FP:
        x86_ext_load(cpu, d, 0, &m->bits, 4);
        break;
    case FPU_M64FP:
        x86_ext_load(cpu, d, 0, &m->bits, 8);
        break;
    case FPU_M16INT: {
        int16_t v;
        x86_ext_load(cpu, d, 0, &v, 2);
        m->value = v;
        break;
    }
    default: {
        int32_t v;
        x86_ext_load(cpu, d, 0, &v, 4);
        m->value = v;
        break;
    }
    }
}

static f80 arith_m32(unsigned kind, f80 dst, const uint32_t *m, uint16_t cw, uint16_t *sw)
{
    switch (kind) {
    case FPU_ADD: return fpu_host_add_m32(dst, m, cw, sw);
    case FPU_MUL: return fpu_host_mul_m32(dst, m, cw, sw);
    case FPU_SUB: return fpu_host_sub_m32(dst, m, cw, sw);
    case FPU_SUBR: return fpu_host_subr_m32(dst, m, cw, sw);
    case FPU_DIV: return fpu_host_div_m32(dst, m, cw, sw);
    default: return fpu_host_divr_m32(dst, m, cw, sw);
    }
}

static f80 arith_m64(unsigned kind, f80 dst, const uint64_t *m, uint16_t cw, uint16_t *sw)
{
    switch (kind) {
    case FPU_ADD: return fpu_host_add_m64(dst, m, cw, sw);
    case FPU_MUL: return fpu_host_mul_m64(dst, m, cw, sw);
    case FPU_SUB: return fpu_host_sub_m64(dst, m, cw, sw);
    case FPU_SUBR: return fpu_host_subr_m64(dst, m, cw, sw);
    case FPU_DIV: return fpu_host_div_m64(dst, m, cw, sw);
    default: return fpu_host_divr_m64(dst, m, cw, sw);
    }
}

/* The outcome of a compare (host status sw): C3 C2 C0 or ZF PF CF.  False
 * when an unmasked invalid/denormal exception leaves everything
 * unchanged. */
static bool compare_result(X86Cpu *cpu, uint16_t sw, unsigned how)
{
    X86FpuState *f = &cpu->env->fpu;
    /* FCOMI leaves C1 alone (as the AMD reference does; the SDM only
     * says it is cleared on a stack underflow); FCOM clears it */
    uint16_t c1 = (how & FPU_CMP_EFLAGS) ? (f->fsw & FSW_C1) : 0;
    if (!fpu_result_flags(f, (uint16_t)((sw & ~FSW_C1) | c1))) {
        return false;
    }
    if (how & FPU_CMP_EFLAGS) {
        x86_ext_set_arith_flags(cpu, ((sw & FSW_C3) ? X86_FLAG_ZF : 0) |
                                     ((sw & FSW_C2) ? X86_FLAG_PF : 0) |
                                     ((sw & FSW_C0) ? X86_FLAG_CF : 0));
    } else {
        fpu_set_cc(f, sw & (FSW_C0 | FSW_C2 | FSW_C3));
    }
    return true;
}

static bool compare(X86Cpu *cpu, f80 a, f80 b, unsigned how)
{
    uint16_t cw = cpu->env->fpu.fcw;
    return compare_result(cpu, (how & FPU_CMP_UNORDERED) ? fpu_host_ucom(a, b, cw)
                                                         : fpu_host_com(a, b, cw), how);
}

/* Stack underflow in a compare: masked, the result is "unordered". */
static bool compare_underflow(X86Cpu *cpu, unsigned how)
{
    X86FpuState *f = &cpu->env->fpu;
    if (!fpu_stack_underflow(f)) {
        return false;
    }
    if (how & FPU_CMP_EFLAGS) {
        x86_ext_set_arith_flags(cpu, X86_FLAG_ZF | X86_FLAG_PF | X86_FLAG_CF);
    } else {
        f->fsw |= FSW_C0 | FSW_C2 | FSW_C3;
    }
    return true;
}

static f80 arith(unsigned kind, f80 dst, f80 src, uint16_t cw, uint16_t *sw)
{
    switch (kind) {
    case FPU_ADD: return fpu_host_add(dst, src, cw, sw);
    case FPU_MUL: return fpu_host_mul(dst, src, cw, sw);
    case FPU_SUB: return fpu_host_sub(dst, src, cw, sw);
    case FPU_SUBR: return fpu_host_subr(dst, src, cw, sw);
    case FPU_DIV: return fpu_host_div(dst, src, cw, sw);
    default: return fpu_host_divr(dst, src, cw, sw);
    }
}

void fpu_exec_arith(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    unsigned kind = d->op, dst_i = 0, src_i = 0;
    bool mem = d->mod != 3, is_cmp = kind == FPU_COM || kind == FPU_COMP;
    FpuMemOperand m = { 0, 0 };
    uint16_t sw;
    fpu_enter(cpu, true);
    if (mem) {
        load_operand(cpu, d, &m);
    } else if (d->op2 == FPU_ST0_STI) {
        src_i = d->aux;
    } else {
        dst_i = d->aux;
    }
    fpu_note(cpu, d);
    bool pop = d->op2 == FPU_STI_ST0_POP || kind == FPU_COMP;
    if (fpu_empty(f, dst_i) || (!mem && fpu_empty(f, src_i))) {
        if (is_cmp) {
            if (!compare_underflow(cpu, 0)) {
                return;
            }
        } else if (fpu_stack_underflow(f)) {
            fpu_set(f, dst_i, fpu_indefinite());
        } else {
            return;
        }
        if (pop) {
            fpu_pop(f);
        }
        return;
    }
    f80 a = fpu_get(f, dst_i), r = 0;
    bool real = mem && (d->op2 == FPU_M32FP || d->op2 == FPU_M64FP);
    if (is_cmp) {
        bool ok;
        if (real) {
            uint32_t m32 = (uint32_t)m.bits;
            sw = d->op2 == FPU_M32FP ? fpu_host_com_m32(a, &m32, f->fcw)
                                     : fpu_host_com_m64(a, &m.bits, f->fcw);
            ok = compare_result(cpu, sw, 0);
        } else {
            ok = compare(cpu, a, mem ? m.value : fpu_get(f, src_i), 0);
        }
        if (ok && pop) {
            fpu_pop(f);
        }
        return;
    }
    if (real && d->op2 == FPU_M32FP) {
        uint32_t m32 = (uint32_t)m.bits;
        r = arith_m32(kind, a, &m32, f->fcw, &sw);
    } else if (real) {
        r = arith_m64(kind, a, &m.bits, f->fcw, &sw);
    } else {
        r = arith(kind, a, mem ? m.value : fpu_get(f, src_i), f->fcw, &sw);
    }
    if (!fpu_result_flags(f, sw)) {
        return;
    }
    fpu_set(f, dst_i, r);
    if (pop) {
        fpu_pop(f);
    }
}

void fpu_exec_compare(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    unsigned how = d->op, i = d->aux;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    bool ok;
    if (fpu_empty(f, 0) || (!(how & FPU_CMP_ZERO) && fpu_empty(f, i))) {
        ok = compare_underflow(cpu, how);
    } else {
        ok = compare(cpu, fpu_get(f, 0), (how & FPU_CMP_ZERO) ? 0.0L : fpu_get(f, i), how);
    }
    if (ok && (how & (FPU_CMP_POP | FPU_CMP_POP2))) {
        fpu_pop(f);
        if (how & FPU_CMP_POP2) {
            fpu_pop(f);
        }
    }
}

void fpu_exec_unary(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint16_t sw = 0;
    f80 r;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    if (fpu_empty(f, 0)) {
        if (fpu_stack_underflow(f)) {
            fpu_set(f, 0, fpu_indefinite());
        }
        return;
    }
    f80 a = fpu_get(f, 0);
    switch (d->op) {
    case FPU_FCHS:
        r = fpu_bits(fpu_mant(a), fpu_sign_exp(a) ^ 0x8000);
        break;
    case FPU_FABS:
        r = fpu_bits(fpu_mant(a), fpu_sign_exp(a) & 0x7fff);
        break;
    case FPU_FSQRT:
        r = fpu_host_sqrt(a, f->fcw, &sw);
        break;
    default:
        r = fpu_host_rndint(a, f->fcw, &sw);
        break;
    }
    if (fpu_result_flags(f, sw)) {
        fpu_set(f, 0, r);
    }
}

void fpu_exec_binary_st01(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint16_t sw;
    f80 r;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    if (fpu_empty(f, 0) || fpu_empty(f, 1)) {
        if (fpu_stack_underflow(f)) {
            fpu_set(f, 0, fpu_indefinite());
            if (d->op != FPU_FSCALE) {
                f->fsw &= (uint16_t)~FSW_C2; /* as for any NaN result */
            }
        }
        return;
    }
    f80 a = fpu_get(f, 0), b = fpu_get(f, 1);
    switch (d->op) {
    case FPU_FSCALE:
        r = fpu_host_scale(a, b, f->fcw, &sw);
        break;
    case FPU_FPREM:
        r = fpu_host_prem(a, b, f->fcw, &sw);
        break;
    default:
        r = fpu_host_prem1(a, b, f->fcw, &sw);
        break;
    }
    if (!fpu_result_flags(f, sw)) {
        return;
    }
    if (d->op != FPU_FSCALE) {
        if (r != r) {
            /* NaN result: no quotient; C0 and C3 keep their values */
            f->fsw &= (uint16_t)~(FSW_C1 | FSW_C2);
        } else {
            /* the quotient's low bits in C3 C1 C0, C2 = incomplete */
            fpu_set_cc(f, sw);
        }
    }
    fpu_set(f, 0, r);
}

void fpu_exec_fxam(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    const X87Reg *r = &f->st[fpu_phys(f, 0)];
    unsigned e = r->sign_exp & 0x7fff;
    bool j = r->mant >> 63;
    uint16_t cc;
    if (fpu_empty(f, 0)) {
        cc = FSW_C3 | FSW_C0;
    } else if (e == 0) {
        cc = r->mant ? FSW_C3 | FSW_C2 : FSW_C3;
    } else if (!j) {
        cc = 0; /* unnormal, pseudo-NaN, pseudo-infinity: unsupported */
    } else if (e == 0x7fff) {
        cc = (r->mant << 1) ? FSW_C0 : FSW_C2 | FSW_C0;
    } else {
        cc = FSW_C2;
    }
    if (r->sign_exp & 0x8000) {
        cc |= FSW_C1;
    }
    fpu_set_cc(f, cc);
}

void fpu_exec_fxtract(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint16_t sw;
    f80 sig;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    if (fpu_empty(f, 0)) {
        if (fpu_stack_underflow(f)) {
            fpu_set(f, 0, fpu_indefinite());
            fpu_push(f, fpu_indefinite());
        }
        return;
    }
    if (!fpu_empty(f, 7)) {
        if (fpu_stack_overflow(f)) {
            fpu_set(f, 0, fpu_indefinite());
            fpu_push(f, fpu_indefinite());
        }
        return;
    }
    f80 e = fpu_host_xtract(fpu_get(f, 0), &sig, f->fcw, &sw);
    if (fpu_result_flags(f, sw)) {
        fpu_set(f, 0, e);
        fpu_push(f, sig);
    }
}
