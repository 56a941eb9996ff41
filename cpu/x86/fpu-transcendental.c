/*
 * x87 transcendental instructions (SDM vol. 1, 8.3.9-8.3.10 and vol. 2):
 * FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1.
 *
 * The special cases are the SDM's: NaN operands propagate (quieted, with
 * IE for an SNaN or an unsupported encoding), out-of-range trigonometric
 * operands (|x| >= 2^63) set C2 and leave the stack alone, infinities and
 * invalid domains give the QNaN indefinite with IE, log of zero ZE.  The
 * values themselves come from the host C library's long double functions
 * (sinl, expm1l, log2l, atan2l...), which are accurate to a few units in
 * the last place but not always bit-identical to the hardware's; C1 (the
 * round-up bit) is left clear.  Precision control does not apply to these
 * instructions (vol. 1, 8.1.5.2).
 */
#include <fenv.h>
#include <math.h>

#include "cpu/x86/fpu-internal.h"

static bool is_nan_or_unsupported(f80 v)
{
    unsigned e = fpu_sign_exp(v) & 0x7fff;
    uint64_t m = fpu_mant(v);
    return (e == 0x7fff && (m << 1)) || (e != 0 && !(m >> 63));
}

static bool is_denormal(f80 v)
{
    return (fpu_sign_exp(v) & 0x7fff) == 0 && fpu_mant(v) != 0;
}

static uint16_t host_flags(void)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    return (uint16_t)(((e & FE_INVALID) ? FSW_IE : 0) | ((e & FE_DIVBYZERO) ? FSW_ZE : 0) |
                      ((e & FE_OVERFLOW) ? FSW_OE : 0) | ((e & FE_UNDERFLOW) ? FSW_UE : 0) |
                      ((e & FE_INEXACT) ? FSW_PE : 0));
}

/* One-operand functions on ST(0). */
static f80 compute1(unsigned op, f80 x, f80 *second, uint16_t *sw)
{
    volatile f80 in = x, out, out2 = 1.0L;
    feclearexcept(FE_ALL_EXCEPT);
    switch (op) {
    case FPU_FSIN:
        out = sinl(in);
        break;
    case FPU_FCOS:
        out = cosl(in);
        break;
    case FPU_FPTAN:
        out = tanl(in);
        break;
    case FPU_FSINCOS:
        out = sinl(in);
        out2 = cosl(in);
        break;
    default: /* F2XM1: 2^x - 1 = expm1(x ln 2) */
        out = isinf(in) ? (in > 0 ? in : -1.0L) : expm1l(in * 0.693147180559945309417232121458176568L);
        break;
    }
    *sw = host_flags() & (uint16_t)~FSW_IE;
    if (isinf(x) && op != FPU_F2XM1) {
        *sw |= FSW_IE;
        out = out2 = fpu_indefinite();
    }
    if (x == 0) {
        *sw = 0;
        out = x;
        out2 = 1.0L;
        if (op == FPU_FCOS) {
            out = 1.0L;
        }
    }
    *second = out2;
    return out;
}

/* Two-operand functions: x = ST(0), y = ST(1); the result replaces ST(1). */
static f80 compute2(unsigned op, f80 x, f80 y, uint16_t *sw)
{
    volatile f80 vx = x, vy = y, out;
    feclearexcept(FE_ALL_EXCEPT);
    switch (op) {
    case FPU_FPATAN:
        out = atan2l(vy, vx);
        break;
    case FPU_FYL2X:
        out = vy * log2l(vx);
        break;
    default: /* FYL2XP1 */
        out = vy * (log1pl(vx) * 1.44269504088896340735992468100189214L);
        break;
    }
    *sw = host_flags();
    if (*sw & FSW_IE) {
        out = fpu_indefinite();
    }
    return out;
}

void fpu_exec_transcendental(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    unsigned op = d->op;
    bool two = op == FPU_FPATAN || op == FPU_FYL2X || op == FPU_FYL2XP1;
    bool pushes = op == FPU_FPTAN || op == FPU_FSINCOS;
    uint16_t sw = 0;
    f80 r, second = 1.0L;
    fpu_enter(cpu, true);
    fpu_note(cpu, d);
    if (fpu_empty(f, 0) || (two && fpu_empty(f, 1))) {
        if (fpu_stack_underflow(f)) {
            f->fsw &= (uint16_t)~FSW_C2;
            if (two) {
                fpu_set(f, 1, fpu_indefinite());
                fpu_pop(f);
            } else {
                fpu_set(f, 0, fpu_indefinite());
                if (pushes) {
                    fpu_push(f, fpu_indefinite());
                }
            }
        }
        return;
    }
    if (pushes && !fpu_empty(f, 7)) {
        if (fpu_stack_overflow(f)) {
            fpu_set(f, 0, fpu_indefinite());
            fpu_push(f, fpu_indefinite());
        }
        return;
    }
    f80 x = fpu_get(f, 0), y = two ? fpu_get(f, 1) : 0;
    bool trig = op == FPU_FSIN || op == FPU_FCOS || op == FPU_FPTAN || op == FPU_FSINCOS;
    if (is_nan_or_unsupported(x) || (two && is_nan_or_unsupported(y))) {
        /* the host's addition picks and quiets the NaN as the x87 does */
        r = fpu_host_add(x, two ? y : x, f->fcw, &sw);
        second = r;
    } else if (trig && !isinf(x) && (fpu_sign_exp(x) & 0x7fff) >= 0x3fff + 63) {
        f->fsw |= FSW_C2; /* operand out of range: no change */
        return;
    } else {
        if (two) {
            r = compute2(op, x, y, &sw);
        } else {
            r = compute1(op, x, &second, &sw);
        }
        if (is_denormal(x) || (two && is_denormal(y))) {
            sw |= FSW_DE;
        }
    }
    if (!fpu_result_flags(f, sw & (uint16_t)~FSW_C1)) {
        return;
    }
    if (trig) {
        f->fsw &= (uint16_t)~FSW_C2;
    }
    if (two) {
        fpu_set(f, 1, r);
        fpu_pop(f);
    } else if (pushes) {
        fpu_set(f, 0, r);
        fpu_push(f, second);
    } else {
        fpu_set(f, 0, r);
    }
}
