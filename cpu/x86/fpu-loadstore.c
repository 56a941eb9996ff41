/*
 * x87 data transfer and stack management (SDM vol. 1, 8.3.3-8.3.4 and
 * vol. 2): FLD (m32/m64/m80 real, ST(i)), FILD (m16/m32/m64), FBLD, the
 * constants FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ, FST/FSTP
 * (m32/m64/m80, ST(i)), FIST/FISTP/FISTTP (m16/m32/m64), FBSTP, FXCH,
 * FCMOVcc, FFREE(P), FINCSTP, FDECSTP.  Stores to memory convert first,
 * write memory (which may fault), and only then update the FPU state; an
 * unmasked exception leaves memory and the stack unchanged (8.5).
 */
#include "cpu/x86/fpu-internal.h"

void fpu_exec_fld(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint16_t sw = 0;
    f80 v = 0;
    fpu_enter(cpu, true);
    if (d->mod != 3) {
        switch (d->op2) {
        case FPU_M32FP: {
            uint32_t m;
            x86_ext_load(cpu, d, 0, &m, 4);
            v = fpu_host_ld32(&m, f->fcw, &sw);
            break;
        }
        case FPU_M64FP: {
            uint64_t m;
            x86_ext_load(cpu, d, 0, &m, 8);
            v = fpu_host_ld64(&m, f->fcw, &sw);
            break;
        }
        case FPU_M80FP:
            x86_ext_load(cpu, d, 0, &v, 10);
            break;
        case FPU_M16INT: {
            int16_t m;
            x86_ext_load(cpu, d, 0, &m, 2);
            v = m;
            break;
        }
        case FPU_M32INT: {
            int32_t m;
            x86_ext_load(cpu, d, 0, &m, 4);
            v = m;
            break;
        }
        default: {
            int64_t m;
            x86_ext_load(cpu, d, 0, &m, 8);
            v = (f80)m;
            break;
        }
        }
    }
    fpu_note(cpu, d);
    if (d->mod == 3) {
        if (fpu_empty(f, d->aux)) {
            /* the underflow is the one reported, even if ST(7) is full */
            if (fpu_stack_underflow(f)) {
                fpu_push(f, fpu_indefinite());
            }
            return;
        } else {
            v = fpu_get(f, d->aux);
        }
    }
    if (!fpu_empty(f, 7)) {
        fpu_push_checked(f, v);
        return;
    }
    if (fpu_result_flags(f, sw)) {
        fpu_push(f, v);
    }
}

/* The constants with 64 more bits of their exact value, rounded to 64 bits
 * under the rounding control (vol. 2, FLD1/FLDL2T/...: "rounded according
 * to the RC field"); precision control does not apply. */
static const struct {
    uint64_t mant, more;
    uint16_t sign_exp;
} fpu_constants[7] = {
    { 0x8000000000000000ull, 0, 0x3fff },                      /* 1 */
    { 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull, 0x4000 },  /* log2(10) */
    { 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0x3fff },  /* log2(e) */
    { 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 0x4000 },  /* pi */
    { 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, 0x3ffd },  /* log10(2) */
    { 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, 0x3ffe },  /* ln(2) */
    { 0, 0, 0 },                                               /* +0 */
};

void fpu_exec_fld_const(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    uint64_t m = fpu_constants[d->op].mant, more = fpu_constants[d->op].more;
    bool up;
    switch ((f->fcw >> 10) & 3) {
    case 0: /* nearest, ties to even */
        up = more > (1ull << 63) || (more == (1ull << 63) && (m & 1));
        break;
    case 2: /* toward +inf: the constants are positive */
        up = more != 0;
        break;
    default: /* toward -inf, toward zero */
        up = false;
        break;
    }
    fpu_push_checked(f, fpu_bits(m + up, fpu_constants[d->op].sign_exp));
}

void fpu_exec_fst(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    bool pop = d->op == FPU_FSTP;
    uint16_t sw = 0;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    bool empty = fpu_empty(f, 0);
    if (empty && !(f->fcw & FSW_IE)) {
        fpu_stack_underflow(f);
        return;
    }
    f80 v = empty ? fpu_indefinite() : fpu_get(f, 0);
    if (d->mod == 3) {
        fpu_set(f, d->aux, v);
    } else {
        union {
            uint32_t m32;
            uint64_t m64;
            f80 m80;
        } out;
        unsigned size = 10;
        if (d->op2 == FPU_M32FP) {
            fpu_host_st32(v, &out.m32, f->fcw, &sw);
            size = 4;
        } else if (d->op2 == FPU_M64FP) {
            fpu_host_st64(v, &out.m64, f->fcw, &sw);
            size = 8;
        } else {
            out.m80 = v;
        }
        /* a memory destination takes no result on any unmasked exception */
        if (!empty && (sw & ~f->fcw & FSW_EXC & ~FSW_PE)) {
            f->fsw |= (uint16_t)((sw & FSW_EXC) | FSW_ES | FSW_B);
            return;
        }
        x86_ext_store(cpu, d, 0, &out, size);
    }
    if (empty) {
        fpu_stack_underflow(f);
    } else {
        fpu_result_flags(f, sw);
    }
    if (pop) {
        fpu_pop(f);
    }
}

void fpu_exec_fist(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    unsigned size = d->op2 == FPU_M16INT ? 2 : d->op2 == FPU_M32INT ? 4 : 8;
    uint16_t cw = f->fcw, sw = 0;
    uint64_t out = 0;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    bool empty = fpu_empty(f, 0);
    if (empty && !(f->fcw & FSW_IE)) {
        fpu_stack_underflow(f);
        return;
    }
    if (d->op == FPU_FISTTP) {
        cw |= 0x0c00; /* truncate */
    }
    f80 v = empty ? fpu_indefinite() : fpu_get(f, 0);
    if (size == 2) {
        uint16_t o;
        fpu_host_ist16(v, &o, cw, &sw);
        out = o;
    } else if (size == 4) {
        uint32_t o;
        fpu_host_ist32(v, &o, cw, &sw);
        out = o;
    } else {
        fpu_host_ist64(v, &out, cw, &sw);
    }
    if (!empty && (sw & ~f->fcw & FSW_EXC & ~FSW_PE)) {
        f->fsw |= (uint16_t)((sw & FSW_EXC) | FSW_ES | FSW_B);
        return;
    }
    x86_ext_store(cpu, d, 0, &out, size);
    if (empty) {
        fpu_stack_underflow(f);
    } else {
        fpu_result_flags(f, sw);
    }
    if (d->op != FPU_FIST) {
        fpu_pop(f);
    }
}

void fpu_exec_fbld(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    FpuBcd m;
    uint16_t sw;
    fpu_enter(cpu, true);
    x86_ext_load(cpu, d, 0, &m, 10);
    fpu_note(cpu, d);
    f80 v = fpu_host_bld(&m, f->fcw, &sw);
    if (!fpu_empty(f, 7)) {
        fpu_push_checked(f, v);
        return;
    }
    if (fpu_result_flags(f, sw)) {
        fpu_push(f, v);
    }
}

void fpu_exec_fbstp(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    FpuBcd out;
    uint16_t sw = 0;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    bool empty = fpu_empty(f, 0);
    if (empty && !(f->fcw & FSW_IE)) {
        fpu_stack_underflow(f);
        return;
    }
    fpu_host_bstp(empty ? fpu_indefinite() : fpu_get(f, 0), &out, f->fcw, &sw);
    if (!empty && (sw & ~f->fcw & FSW_EXC & ~FSW_PE)) {
        f->fsw |= (uint16_t)((sw & FSW_EXC) | FSW_ES | FSW_B);
        return;
    }
    x86_ext_store(cpu, d, 0, &out, 10);
    if (empty) {
        fpu_stack_underflow(f);
    } else {
        fpu_result_flags(f, sw);
    }
    fpu_pop(f);
}

void fpu_exec_fxch(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    unsigned i = d->aux;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    if (fpu_empty(f, 0) || fpu_empty(f, i)) {
        if (!fpu_stack_underflow(f)) {
            return;
        }
        if (fpu_empty(f, 0)) {
            fpu_set(f, 0, fpu_indefinite());
        }
        if (fpu_empty(f, i)) {
            fpu_set(f, i, fpu_indefinite());
        }
    } else {
        f->fsw &= (uint16_t)~FSW_C1;
    }
    f80 a = fpu_get(f, 0), b = fpu_get(f, i);
    fpu_set(f, 0, b);
    fpu_set(f, i, a);
}

void fpu_exec_fcmov(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    uint64_t fl = x86_get_rflags(cpu);
    bool cond;
    switch (d->op & 3) {
    case 0: cond = fl & X86_FLAG_CF; break;
    case 1: cond = fl & X86_FLAG_ZF; break;
    case 2: cond = fl & (X86_FLAG_CF | X86_FLAG_ZF); break;
    default: cond = fl & X86_FLAG_PF; break;
    }
    if (d->op & 4) {
        cond = !cond;
    }
    if (fpu_empty(f, 0) || fpu_empty(f, d->aux)) {
        if (fpu_stack_underflow(f)) {
            fpu_set(f, 0, fpu_indefinite());
        }
        return;
    }
    if (cond) {
        fpu_set(f, 0, fpu_get(f, d->aux));
    }
}

void fpu_exec_ffree(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    f->ftw &= (uint8_t)~(1u << fpu_phys(f, d->aux));
    if (d->op) {
        fpu_pop(f); /* FFREEP */
    }
}

void fpu_exec_fincdecstp(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    fpu_set_top(f, fpu_top(f) + (d->op ? 1 : 7));
    f->fsw &= (uint16_t)~FSW_C1;
}
