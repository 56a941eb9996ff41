/*
 * SSE/SSE2 conversions and SSE4.1 rounding (SDM vol. 2: CVTPI2PS/PD,
 * CVTSI2SS/SD, CVT(T)PS2PI, CVT(T)PD2PI, CVT(T)SS2SI, CVT(T)SD2SI,
 * CVTPS2PD, CVTPD2PS, CVTSS2SD, CVTSD2SS, CVTDQ2PS, CVT(T)PS2DQ,
 * CVT(T)PD2DQ, CVTDQ2PD, ROUNDPS/PD/SS/SD).  Float-to-integer conversions
 * round by MXCSR.RC (or truncate) and give the integer indefinite (only the
 * sign bit set) with #I for NaNs and out-of-range values (vol. 1, 4.8.3.8).
 */
#include "cpu/x86/sse-fpenv.h"

/* Round a finite double to an integer value by rc (0 nearest-even, 1 down,
 * 2 up, 3 toward zero), with integer arithmetic only (host library rounding
 * functions may raise flags of their own); *inexact when it changed. */
static double round_int(double x, unsigned rc, bool *inexact)
{
    uint64_t u = f64_bits(x);
    bool neg = u >> 63;
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    uint64_t val, rem, half;
    if (e >= 52) {
        *inexact = false;
        return x;
    }
    if (e < 0) {
        val = 0;
        rem = u & ~F64_SIGN;                 /* nonzero unless x is zero */
        half = 0x3fe0000000000000ull;        /* 0.5 */
    } else {
        uint64_t m = (u & 0x000fffffffffffffull) | (1ull << 52);
        unsigned sh = 52u - (unsigned)e;
        val = m >> sh;
        rem = m & ((1ull << sh) - 1);
        half = 1ull << (sh - 1);
    }
    *inexact = rem != 0;
    bool up;
    switch (rc & 3) {
    case 0: up = rem > half || (rem == half && (val & 1)); break;
    case 1: up = neg && rem; break;
    case 2: up = !neg && rem; break;
    default: up = false; break;
    }
    val += up;
    return neg ? -(double)val : (double)val;
}

/* double (or widened float) -> int32/int64, `bits` wide */
static uint64_t to_int(SseFp *e, double x, bool nan, bool trunc, unsigned bits)
{
    uint64_t indefinite = bits == 64 ? 1ull << 63 : 1ull << 31;
    bool inexact;
    if (nan) {
        e->pre |= MXCSR_IE;
        return indefinite;
    }
    double r = round_int(x, trunc ? 3 : (e->mxcsr >> MXCSR_RC_SHIFT) & 3, &inexact);
    double lim = bits == 64 ? 9223372036854775808.0 : 2147483648.0;
    if (!(r >= -lim && r < lim)) {
        e->pre |= MXCSR_IE;
        return indefinite;
    }
    if (inexact) {
        e->post |= MXCSR_PE;
    }
    return bits == 64 ? (uint64_t)(int64_t)r : (uint32_t)(int32_t)r;
}

static uint64_t f32_to_int(SseFp *e, uint32_t u, bool trunc, unsigned bits)
{
    u = f32_daz(e, u);
    return to_int(e, f32_from(u), f32_is_nan(u), trunc, bits);
}

static uint64_t f64_to_int(SseFp *e, uint64_t u, bool trunc, unsigned bits)
{
    u = f64_daz(e, u);
    return to_int(e, f64_from(u), f64_is_nan(u), trunc, bits);
}

static uint32_t int_to_f32(SseFp *e, int64_t v)
{
    volatile int64_t vv = v;
    return sse_f32_result(e, (float)vv);
}

static uint64_t int_to_f64(SseFp *e, int64_t v)
{
    volatile int64_t vv = v;
    return sse_f64_result(e, (double)vv);
}

static uint64_t f32_to_f64(SseFp *e, uint32_t u)
{
    u = f32_daz(e, u);
    if (f32_is_nan(u)) {
        if (f32_is_snan(u)) {
            e->pre |= MXCSR_IE;
        }
        u |= F32_QBIT;
    } else if (f32_is_den(u)) {
        e->pre |= MXCSR_DE;
    }
    volatile float f = f32_from(u);
    return f64_bits((double)f);
}

static uint32_t f64_to_f32(SseFp *e, uint64_t u)
{
    u = f64_daz(e, u);
    if (f64_is_nan(u)) {
        if (f64_is_snan(u)) {
            e->pre |= MXCSR_IE;
        }
        u |= F64_QBIT;
        return (uint32_t)((u >> 32) & F32_SIGN) | 0x7fc00000u |
               (uint32_t)((u >> 29) & 0x3fffffu);
    }
    if (f64_is_den(u)) {
        e->pre |= MXCSR_DE;
    }
    volatile double f = f64_from(u);
    return sse_f32_result(e, (float)f);
}

/* The source operand of a conversion: register (XMM, or MMX for CVTPI2Px)
 * or memory of op2's size. */
static void cvt_src(X86Cpu *cpu, const X86DecodedInsn *d, XmmReg *s, bool mmx_src)
{
    if (mmx_src && d->mod == 3) {
        sse_mmx_enter(cpu);
        s->q[0] = sse_mm_get(cpu, d->rm);
        s->q[1] = 0;
        return;
    }
    sse_src(cpu, d, s);
}

void sse_cvt(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s, r;
    SseFp e;
    unsigned op = d->op, gsize = d->opsize == 8 ? 8 : 4;
    bool to_mmx = op == CV_TPS2PI || op == CV_TPD2PI || op == CV_PS2PI || op == CV_PD2PI;
    bool to_gpr = op == CV_TSS2SI || op == CV_TSD2SI || op == CV_SS2SI || op == CV_SD2SI;
    bool trunc = op == CV_TPS2PI || op == CV_TPD2PI || op == CV_TSS2SI ||
                 op == CV_TSD2SI || op == CV_TPS2DQ || op == CV_TPD2DQ;
    uint64_t g = 0;

    x86_ext_check_sse(cpu);
    if (op == CV_SI2SS || op == CV_SI2SD) {
        if (d->mod == 3) {
            g = x86_ext_get_gpr(cpu, d, d->rm, gsize);
        } else {
            x86_ext_load(cpu, d, 0, &g, gsize);
        }
    } else {
        cvt_src(cpu, d, &s, op == CV_PI2PS || op == CV_PI2PD);
    }
    if (to_mmx) {
        sse_mmx_enter(cpu);
    }
    XmmReg *x = sse_xmm(cpu, d->reg);
    r = *x;
    sse_fp_begin(cpu, &e);
    switch (op) {
    case CV_PI2PS:
        r.d[0] = int_to_f32(&e, (int32_t)s.d[0]);
        r.d[1] = int_to_f32(&e, (int32_t)s.d[1]);
        break;
    case CV_PI2PD: case CV_DQ2PD:
        r.q[0] = int_to_f64(&e, (int32_t)s.d[0]);
        r.q[1] = int_to_f64(&e, (int32_t)s.d[1]);
        break;
    case CV_SI2SS:
        r.d[0] = int_to_f32(&e, gsize == 8 ? (int64_t)g : (int32_t)g);
        break;
    case CV_SI2SD:
        r.q[0] = int_to_f64(&e, gsize == 8 ? (int64_t)g : (int32_t)g);
        break;
    case CV_TPS2PI: case CV_PS2PI:
        r.d[0] = (uint32_t)f32_to_int(&e, s.d[0], trunc, 32);
        r.d[1] = (uint32_t)f32_to_int(&e, s.d[1], trunc, 32);
        break;
    case CV_TPD2PI: case CV_PD2PI:
        r.d[0] = (uint32_t)f64_to_int(&e, s.q[0], trunc, 32);
        r.d[1] = (uint32_t)f64_to_int(&e, s.q[1], trunc, 32);
        break;
    case CV_TSS2SI: case CV_SS2SI:
        g = f32_to_int(&e, s.d[0], trunc, gsize * 8);
        break;
    case CV_TSD2SI: case CV_SD2SI:
        g = f64_to_int(&e, s.q[0], trunc, gsize * 8);
        break;
    case CV_PS2PD:
        r.q[0] = f32_to_f64(&e, s.d[0]);
        r.q[1] = f32_to_f64(&e, s.d[1]);
        break;
    case CV_PD2PS:
        r.d[0] = f64_to_f32(&e, s.q[0]);
        r.d[1] = f64_to_f32(&e, s.q[1]);
        r.q[1] = 0;
        break;
    case CV_SS2SD:
        r.q[0] = f32_to_f64(&e, s.d[0]);
        break;
    case CV_SD2SS:
        r.d[0] = f64_to_f32(&e, s.q[0]);
        break;
    case CV_DQ2PS:
        for (unsigned i = 0; i < 4; i++) {
            r.d[i] = int_to_f32(&e, (int32_t)s.d[i]);
        }
        break;
    case CV_PS2DQ: case CV_TPS2DQ:
        for (unsigned i = 0; i < 4; i++) {
            r.d[i] = (uint32_t)f32_to_int(&e, s.d[i], trunc, 32);
        }
        break;
    case CV_PD2DQ: case CV_TPD2DQ:
        r.d[0] = (uint32_t)f64_to_int(&e, s.q[0], trunc, 32);
        r.d[1] = (uint32_t)f64_to_int(&e, s.q[1], trunc, 32);
        r.q[1] = 0;
        break;
    }
    sse_fp_end(&e);
    if (to_gpr) {
        x86_ext_set_gpr(cpu, d, d->reg, gsize, g);
    } else if (to_mmx) {
        sse_mm_set(cpu, d->reg, r.q[0]);
    } else {
        *x = r;
    }
}

/* ROUNDPS/PD/SS/SD: imm[1:0] rounding mode unless imm[2] (MXCSR.RC);
 * imm[3] suppresses the precision exception.  Invalid only for SNaN. */
static uint32_t round_f32(SseFp *e, uint32_t u, unsigned imm, unsigned rc)
{
    u = f32_daz(e, u);
    if (f32_is_nan(u)) {
        if (f32_is_snan(u)) {
            e->pre |= MXCSR_IE;
        }
        return u | F32_QBIT;
    }
    bool inexact;
    float r = (float)round_int(f32_from(u), rc, &inexact);
    if (inexact && !(imm & 8)) {
        e->post |= MXCSR_PE;
    }
    return f32_bits(r);
}

static uint64_t round_f64(SseFp *e, uint64_t u, unsigned imm, unsigned rc)
{
    u = f64_daz(e, u);
    if (f64_is_nan(u)) {
        if (f64_is_snan(u)) {
            e->pre |= MXCSR_IE;
        }
        return u | F64_QBIT;
    }
    bool inexact;
    double r = round_int(f64_from(u), rc, &inexact);
    if (inexact && !(imm & 8)) {
        e->post |= MXCSR_PE;
    }
    return f64_bits(r);
}

void sse_round(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s, r;
    SseFp e;
    unsigned imm = d->imm & 0xff;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    r = *x;
    sse_fp_begin(cpu, &e);
    unsigned rc = (imm & 4) ? (e.mxcsr >> MXCSR_RC_SHIFT) & 3 : imm & 3;
    switch (d->aux) {
    case FPS_PS:
        for (unsigned i = 0; i < 4; i++) {
            r.d[i] = round_f32(&e, s.d[i], imm, rc);
        }
        break;
    case FPS_PD:
        r.q[0] = round_f64(&e, s.q[0], imm, rc);
        r.q[1] = round_f64(&e, s.q[1], imm, rc);
        break;
    case FPS_SS:
        r.d[0] = round_f32(&e, s.d[0], imm, rc);
        break;
    default:
        r.q[0] = round_f64(&e, s.q[0], imm, rc);
        break;
    }
    sse_fp_end(&e);
    *x = r;
}
