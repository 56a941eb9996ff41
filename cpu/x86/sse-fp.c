/*
 * SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic (SDM vol. 2: ADD/SUB/MUL/
 * DIV/MIN/MAX/SQRT PS/PD/SS/SD, RCPPS/RCPSS/RSQRTPS/RSQRTSS, HADDPx/HSUBPx,
 * ADDSUBPx, CMPPS/PD/SS/SD, COMISS/UCOMISS/COMISD/UCOMISD, DPPS/DPPD) and
 * the MXCSR environment of sse-fpenv.h (vol. 1, 11.5).
 *
 * RCPPS/RSQRTPS: the SDM only bounds the relative error (|err| <= 1.5 *
 * 2^-12); hardware uses implementation-specific tables.  Kestrel returns the
 * correctly rounded single-precision reciprocal (square root), with the
 * hardware's special cases (zero and denormal sources give infinity,
 * tiny results are flushed to zero, no exception flags).
 */
#include <fenv.h>
#include <math.h>

#include "cpu/x86/sse-fpenv.h"

/* The host's floating-point environment for the C float/double operations
 * of this file: its rounding mode and its five IEEE flags (in MXCSR bit
 * positions).  On an x86-64 host those operations are SSE instructions and
 * MXCSR alone governs them, so it is read and written directly: glibc's
 * <fenv.h> functions also save and reload the whole x87 environment on each
 * call, hundreds of nanoseconds per SSE instruction.  Elsewhere, <fenv.h>. */
#define HOST_FLAGS (MXCSR_IE | MXCSR_ZE | MXCSR_OE | MXCSR_UE | MXCSR_PE)
#if defined(__x86_64__) && defined(__SSE2__)
#include <xmmintrin.h>

static inline uint32_t host_flags(void)
{
    return _mm_getcsr() & HOST_FLAGS;
}

/* Flags cleared, exceptions masked, rounding rc (MXCSR.RC encoding). */
static inline void host_reset(unsigned rc)
{
    uint32_t want = 0x1f80u | rc << MXCSR_RC_SHIFT;
    if (_mm_getcsr() != want) {
        _mm_setcsr(want);
    }
}
#else
static uint32_t host_flags(void)
{
    int f = fetestexcept(FE_ALL_EXCEPT);
    return (f & FE_INVALID ? MXCSR_IE : 0) | (f & FE_DIVBYZERO ? MXCSR_ZE : 0) |
           (f & FE_OVERFLOW ? MXCSR_OE : 0) | (f & FE_UNDERFLOW ? MXCSR_UE : 0) |
           (f & FE_INEXACT ? MXCSR_PE : 0);
}

static void host_reset(unsigned rc)
{
    static const int mode[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
    feclearexcept(FE_ALL_EXCEPT);
    if (fegetround() != mode[rc & 3]) {
        fesetround(mode[rc & 3]);
    }
}
#endif

void sse_fp_begin(X86Cpu *cpu, SseFp *e)
{
    uint32_t m = cpu->env->fpu.mxcsr;
    e->cpu = cpu;
    e->mxcsr = m;
    e->pre = e->post = 0;
    e->lane_flags = (m & MXCSR_FTZ) || !(m & (MXCSR_OE << MXCSR_MASK_SHIFT)) ||
                    !(m & (MXCSR_UE << MXCSR_MASK_SHIFT));
    host_reset((m >> MXCSR_RC_SHIFT) & 3);
}

G_NORETURN void sse_raise_simd(X86Cpu *cpu)
{
    x86_ext_raise(cpu, (cpu->env->cr4 & X86_CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD);
}

void sse_fp_end(SseFp *e)
{
    uint32_t *mx = &e->cpu->env->fpu.mxcsr;
    uint32_t masks = (e->mxcsr >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
    if (!e->lane_flags) {
        e->post |= host_flags();
    }
    host_reset(0); /* the rest of the emulator runs with the defaults */
    if (e->pre & ~masks) {
        *mx |= e->pre;
        sse_raise_simd(e->cpu);
    }
    uint32_t all = e->pre | e->post;
    *mx |= all;
    if (all & ~masks) {
        sse_raise_simd(e->cpu);
    }
}

/* Per-lane flags of a host result (only in lane_flags mode): unmasked
 * overflow or underflow report alone; FTZ flushes tiny results. */
static uint32_t lane_post(SseFp *e, bool tiny_bits, bool *flush)
{
    uint32_t f = host_flags();
    if (f) {
        host_reset((e->mxcsr >> MXCSR_RC_SHIFT) & 3);
    }
    bool tiny = tiny_bits || (f & MXCSR_UE);
    *flush = false;
    if (tiny && !(e->mxcsr & (MXCSR_UE << MXCSR_MASK_SHIFT))) {
        f = MXCSR_UE;
    } else if ((f & MXCSR_OE) && !(e->mxcsr & (MXCSR_OE << MXCSR_MASK_SHIFT))) {
        f = MXCSR_OE;
    } else if (tiny && (e->mxcsr & MXCSR_FTZ)) {
        f = MXCSR_UE | MXCSR_PE;
        *flush = true;
    }
    return f;
}

uint32_t sse_f32_result(SseFp *e, float r)
{
    volatile float vr = r;
    uint32_t u = f32_bits(vr);
    if (e->lane_flags) {
        bool flush;
        e->post |= lane_post(e, f32_is_den(u), &flush);
        if (flush) {
            u &= F32_SIGN;
        }
    }
    return u;
}

uint64_t sse_f64_result(SseFp *e, double r)
{
    volatile double vr = r;
    uint64_t u = f64_bits(vr);
    if (e->lane_flags) {
        bool flush;
        e->post |= lane_post(e, f64_is_den(u), &flush);
        if (flush) {
            u &= F64_SIGN;
        }
    }
    return u;
}

/* One lane, generic over the width: T value type, U bits, P prefix. */
#define LANE_OP(P, T, U, SIGN, QBIT, DNAN, SQRT)                            \
    U sse_##P##_op(SseFp *e, unsigned op, U a, U b)                         \
    {                                                                       \
        a = P##_daz(e, a);                                                  \
        b = P##_daz(e, b);                                                  \
        bool unary = op == FP_SQRT;                                         \
        if (unary) {                                                        \
            a = b;                                                          \
        }                                                                   \
        if (P##_is_nan(a) || P##_is_nan(b)) {                               \
            if (op == FP_MIN || op == FP_MAX) {                             \
                e->pre |= MXCSR_IE;                                         \
                return b;                                                   \
            }                                                               \
            if (P##_is_snan(a) || P##_is_snan(b)) {                         \
                e->pre |= MXCSR_IE;                                         \
            }                                                               \
            return P##_is_nan(a) ? a | QBIT : b | QBIT;                     \
        }                                                                   \
        bool den = P##_is_den(a) || P##_is_den(b);                          \
        bool sa = a & SIGN, sb = b & SIGN;                                  \
        switch (op) {                                                       \
        case FP_ADD: case FP_SUB:                                           \
            if (P##_is_inf(a) && P##_is_inf(b) &&                           \
                (sa != sb) == (op == FP_ADD)) {                             \
                e->pre |= MXCSR_IE;                                         \
                return DNAN;                                                \
            }                                                               \
            break;                                                          \
        case FP_MUL:                                                        \
            if ((P##_is_inf(a) && P##_is_zero(b)) ||                        \
                (P##_is_zero(a) && P##_is_inf(b))) {                        \
                e->pre |= MXCSR_IE;                                         \
                return DNAN;                                                \
            }                                                               \
            break;                                                          \
        case FP_DIV:                                                        \
            if ((P##_is_zero(a) && P##_is_zero(b)) ||                       \
                (P##_is_inf(a) && P##_is_inf(b))) {                         \
                e->pre |= MXCSR_IE;                                         \
                return DNAN;                                                \
            }                                                               \
            if (P##_is_zero(b) && !P##_is_inf(a)) {                         \
                e->pre |= MXCSR_ZE;                                         \
                return (sa != sb ? SIGN : 0) | (U)(DNAN & ~SIGN & ~QBIT);   \
            }                                                               \
            break;                                                          \
        case FP_SQRT:                                                       \
            if (sa && !P##_is_zero(a)) {                                    \
                e->pre |= MXCSR_IE;                                         \
                return DNAN;                                                \
            }                                                               \
            break;                                                          \
        case FP_MIN: case FP_MAX: {                                         \
            if (den) {                                                      \
                e->pre |= MXCSR_DE;                                         \
            }                                                               \
            T x = P##_from(a), y = P##_from(b);                             \
            if (op == FP_MIN) {                                             \
                return x < y ? a : b;                                       \
            }                                                               \
            return x > y ? a : b;                                           \
        }                                                                   \
        }                                                                   \
        if (den) {                                                          \
            e->pre |= MXCSR_DE;                                             \
        }                                                                   \
        volatile T va = P##_from(a), vb = P##_from(b);                      \
        T r;                                                                \
        switch (op) {                                                       \
        case FP_ADD: r = va + vb; break;                                    \
        case FP_SUB: r = va - vb; break;                                    \
        case FP_MUL: r = va * vb; break;                                    \
        case FP_DIV: r = va / vb; break;                                    \
        default: r = SQRT(vb); break;                                       \
        }                                                                   \
        return sse_##P##_result(e, r);                                      \
    }

LANE_OP(f32, float, uint32_t, F32_SIGN, F32_QBIT, F32_DEFAULT_NAN, sqrtf)
LANE_OP(f64, double, uint64_t, F64_SIGN, F64_QBIT, F64_DEFAULT_NAN, sqrt)

/* RCPPS / RSQRTPS lane (no flags; denormal sources count as zero). */
static uint32_t f32_approx(unsigned op, uint32_t a)
{
    uint32_t s = a & F32_SIGN;
    if (f32_is_nan(a)) {
        return a | F32_QBIT;
    }
    if (f32_is_zero(a) || f32_is_den(a)) {
        return s | 0x7f800000u;
    }
    if (op == FP_RSQRT && s) {
        return F32_DEFAULT_NAN;
    }
    if (f32_is_inf(a)) {
        return s;
    }
    double x = f32_from(a);
    float r = (float)(op == FP_RCP ? 1.0 / x : 1.0 / sqrt(x));
    uint32_t u = f32_bits(r);
    return f32_is_den(u) ? u & F32_SIGN : u;
}

static void fp_arith_ps(SseFp *e, unsigned op, XmmReg *r, const XmmReg *a, const XmmReg *b)
{
    switch (op) {
    case FP_HADD: case FP_HSUB: {
        unsigned o = op == FP_HADD ? FP_ADD : FP_SUB;
        r->d[0] = sse_f32_op(e, o, a->d[0], a->d[1]);
        r->d[1] = sse_f32_op(e, o, a->d[2], a->d[3]);
        r->d[2] = sse_f32_op(e, o, b->d[0], b->d[1]);
        r->d[3] = sse_f32_op(e, o, b->d[2], b->d[3]);
        return;
    }
    case FP_ADDSUB:
        for (unsigned i = 0; i < 4; i++) {
            r->d[i] = sse_f32_op(e, i & 1 ? FP_ADD : FP_SUB, a->d[i], b->d[i]);
        }
        return;
    case FP_RCP: case FP_RSQRT:
        for (unsigned i = 0; i < 4; i++) {
            r->d[i] = f32_approx(op, b->d[i]);
        }
        return;
    default:
        for (unsigned i = 0; i < 4; i++) {
            r->d[i] = sse_f32_op(e, op, a->d[i], b->d[i]);
        }
    }
}

static void fp_arith_pd(SseFp *e, unsigned op, XmmReg *r, const XmmReg *a, const XmmReg *b)
{
    switch (op) {
    case FP_HADD: case FP_HSUB: {
        unsigned o = op == FP_HADD ? FP_ADD : FP_SUB;
        r->q[0] = sse_f64_op(e, o, a->q[0], a->q[1]);
        r->q[1] = sse_f64_op(e, o, b->q[0], b->q[1]);
        return;
    }
    case FP_ADDSUB:
        r->q[0] = sse_f64_op(e, FP_SUB, a->q[0], b->q[0]);
        r->q[1] = sse_f64_op(e, FP_ADD, a->q[1], b->q[1]);
        return;
    default:
        r->q[0] = sse_f64_op(e, op, a->q[0], b->q[0]);
        r->q[1] = sse_f64_op(e, op, a->q[1], b->q[1]);
    }
}

void sse_fp_arith(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s, r;
    SseFp e;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    r = *x;
    if ((d->op == FP_RCP || d->op == FP_RSQRT)) {
        if (d->aux == FPS_PS) {
            fp_arith_ps(NULL, d->op, &r, x, &s);
        } else {
            r.d[0] = f32_approx(d->op, s.d[0]);
        }
        *x = r;
        return;
    }
    sse_fp_begin(cpu, &e);
    switch (d->aux) {
    case FPS_PS: fp_arith_ps(&e, d->op, &r, x, &s); break;
    case FPS_PD: fp_arith_pd(&e, d->op, &r, x, &s); break;
    case FPS_SS: r.d[0] = sse_f32_op(&e, d->op, x->d[0], s.d[0]); break;
    default: r.q[0] = sse_f64_op(&e, d->op, x->q[0], s.q[0]); break;
    }
    sse_fp_end(&e);
    *x = r;
}

/* Compare predicates 0..7 (EQ LT LE UNORD NEQ NLT NLE ORD): LT, LE, NLT and
 * NLE signal invalid on any NaN, the others only on SNaN. */
#define LANE_CMP(P, T, U)                                                   \
    static bool P##_cmp(SseFp *e, unsigned pred, U a, U b)                  \
    {                                                                       \
        a = P##_daz(e, a);                                                  \
        b = P##_daz(e, b);                                                  \
        bool unord = P##_is_nan(a) || P##_is_nan(b);                        \
        bool signaling = (pred & 3) == 1 || (pred & 3) == 2;                \
        if (unord) {                                                        \
            if (signaling || P##_is_snan(a) || P##_is_snan(b)) {            \
                e->pre |= MXCSR_IE;                                         \
            }                                                               \
        } else if (P##_is_den(a) || P##_is_den(b)) {                        \
            e->pre |= MXCSR_DE;                                             \
        }                                                                   \
        T x = unord ? 0 : P##_from(a), y = unord ? 0 : P##_from(b);         \
        bool res;                                                           \
        switch (pred & 3) {                                                 \
        case 0: res = !unord && x == y; break;                              \
        case 1: res = !unord && x < y; break;                               \
        case 2: res = !unord && x <= y; break;                              \
        default: res = unord; break;                                        \
        }                                                                   \
        return (pred & 4) ? !res : res;                                     \
    }

LANE_CMP(f32, float, uint32_t)
LANE_CMP(f64, double, uint64_t)

void sse_fp_cmp(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s, r;
    SseFp e;
    unsigned pred = d->imm & 7;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    r = *x;
    sse_fp_begin(cpu, &e);
    switch (d->aux) {
    case FPS_PS:
        for (unsigned i = 0; i < 4; i++) {
            r.d[i] = f32_cmp(&e, pred, x->d[i], s.d[i]) ? ~0u : 0;
        }
        break;
    case FPS_PD:
        for (unsigned i = 0; i < 2; i++) {
            r.q[i] = f64_cmp(&e, pred, x->q[i], s.q[i]) ? ~0ull : 0;
        }
        break;
    case FPS_SS:
        r.d[0] = f32_cmp(&e, pred, x->d[0], s.d[0]) ? ~0u : 0;
        break;
    default:
        r.q[0] = f64_cmp(&e, pred, x->q[0], s.q[0]) ? ~0ull : 0;
        break;
    }
    sse_fp_end(&e);
    *x = r;
}

/* COMISS/COMISD (op 1: invalid on any NaN) and UCOMISS/UCOMISD (op 0). */
void sse_fp_comi(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    SseFp e;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    const XmmReg *x = sse_xmm(cpu, d->reg);
    unsigned pred = d->op ? 1 : 0; /* signaling LT or quiet EQ: the flags */
    bool unord, lt, eq;
    sse_fp_begin(cpu, &e);
    if (d->aux == FPS_SS) {
        uint32_t a = f32_daz(&e, x->d[0]), b = f32_daz(&e, s.d[0]);
        f32_cmp(&e, pred, a, b);
        unord = f32_is_nan(a) || f32_is_nan(b);
        lt = !unord && f32_from(a) < f32_from(b);
        eq = !unord && f32_from(a) == f32_from(b);
    } else {
        uint64_t a = f64_daz(&e, x->q[0]), b = f64_daz(&e, s.q[0]);
        f64_cmp(&e, pred, a, b);
        unord = f64_is_nan(a) || f64_is_nan(b);
        lt = !unord && f64_from(a) < f64_from(b);
        eq = !unord && f64_from(a) == f64_from(b);
    }
    sse_fp_end(&e);
    uint32_t fl = unord ? X86_FLAG_ZF | X86_FLAG_PF | X86_FLAG_CF
                : lt ? X86_FLAG_CF : eq ? X86_FLAG_ZF : 0;
    x86_ext_set_arith_flags(cpu, fl);
}

/* DPPS / DPPD: imm[7:4] (imm[5:4]) select the products, summed pairwise,
 * imm[3:0] (imm[1:0]) the destination lanes that receive the sum. */
void sse_fp_dp(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s, r;
    SseFp e;
    unsigned imm = d->imm & 0xff;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    sse_fp_begin(cpu, &e);
    if (d->aux == FPS_PS) {
        uint32_t p[4];
        for (unsigned i = 0; i < 4; i++) {
            p[i] = (imm >> (4 + i)) & 1 ? sse_f32_op(&e, FP_MUL, x->d[i], s.d[i]) : 0;
        }
        uint32_t lo = sse_f32_op(&e, FP_ADD, p[0], p[1]);
        uint32_t hi = sse_f32_op(&e, FP_ADD, p[2], p[3]);
        uint32_t sum = sse_f32_op(&e, FP_ADD, lo, hi);
        for (unsigned i = 0; i < 4; i++) {
            r.d[i] = (imm >> i) & 1 ? sum : 0;
        }
    } else {
        uint64_t p[2];
        for (unsigned i = 0; i < 2; i++) {
            p[i] = (imm >> (4 + i)) & 1 ? sse_f64_op(&e, FP_MUL, x->q[i], s.q[i]) : 0;
        }
        uint64_t sum = sse_f64_op(&e, FP_ADD, p[0], p[1]);
        for (unsigned i = 0; i < 2; i++) {
            r.q[i] = (imm >> i) & 1 ? sum : 0;
        }
    }
    sse_fp_end(&e);
    *x = r;
}
