/*
 * Packed-integer arithmetic, logic, compares and shifts of MMX, SSE2, SSSE3,
 * SSE4.1 and SSE4.2 (SDM vol. 2: PADDx, PSUBx, PMULx, PMADDx, PSADBW,
 * PAVGx, PMINx/PMAXx, PAND/PANDN/POR/PXOR, PCMPEQx/PCMPGTx, PSLLx/PSRLx/
 * PSRAx, PHADDx/PHSUBx, PSIGNx, PABSx, MPSADBW, PCLMULQDQ), and the generic
 * two-operand handler that runs every entry of sse_pint_fns on MMX (8-byte)
 * or XMM (16-byte) operands.
 */
#include "cpu/x86/sse-internal.h"

static inline int sat8s(int v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int sat8u(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }
static inline int sat16s(int v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
static inline int sat16u(int v) { return v < 0 ? 0 : v > 65535 ? 65535 : v; }

/* Lane-wise dst = expr(a, b) over the n bytes, a = dst lane, b = src lane. */
#define LANEWISE(name, field, T, expr)                                      \
    static void name(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)  \
    {                                                                       \
        (void)imm;                                                          \
        for (unsigned i = 0; i < n / sizeof(d->field[0]); i++) {            \
            T a = (T)d->field[i], b = (T)s->field[i];                       \
            (void)a;                                                        \
            (void)b;                                                        \
            d->field[i] = (expr);                                           \
        }                                                                   \
    }

LANEWISE(paddb, b, uint8_t, (uint8_t)(a + b))
LANEWISE(paddw, w, uint16_t, (uint16_t)(a + b))
LANEWISE(paddd, d, uint32_t, a + b)
LANEWISE(paddq, q, uint64_t, a + b)
LANEWISE(paddsb, b, int8_t, (uint8_t)sat8s(a + b))
LANEWISE(paddsw, w, int16_t, (uint16_t)sat16s(a + b))
LANEWISE(paddusb, b, uint8_t, (uint8_t)sat8u(a + b))
LANEWISE(paddusw, w, uint16_t, (uint16_t)sat16u(a + b))
LANEWISE(psubb, b, uint8_t, (uint8_t)(a - b))
LANEWISE(psubw, w, uint16_t, (uint16_t)(a - b))
LANEWISE(psubd, d, uint32_t, a - b)
LANEWISE(psubq, q, uint64_t, a - b)
LANEWISE(psubsb, b, int8_t, (uint8_t)sat8s(a - b))
LANEWISE(psubsw, w, int16_t, (uint16_t)sat16s(a - b))
LANEWISE(psubusb, b, uint8_t, (uint8_t)sat8u(a - b))
LANEWISE(psubusw, w, uint16_t, (uint16_t)sat16u(a - b))
LANEWISE(pmullw, w, int16_t, (uint16_t)((int32_t)a * b))
LANEWISE(pmulhw, w, int16_t, (uint16_t)(((int32_t)a * b) >> 16))
LANEWISE(pmulhuw, w, uint16_t, (uint16_t)(((uint32_t)a * b) >> 16))
LANEWISE(pavgb, b, uint8_t, (uint8_t)((a + b + 1) >> 1))
LANEWISE(pavgw, w, uint16_t, (uint16_t)((a + b + 1) >> 1))
LANEWISE(pminub, b, uint8_t, a < b ? a : b)
LANEWISE(pmaxub, b, uint8_t, a > b ? a : b)
LANEWISE(pminsw, w, int16_t, (uint16_t)(a < b ? a : b))
LANEWISE(pmaxsw, w, int16_t, (uint16_t)(a > b ? a : b))
LANEWISE(pand, q, uint64_t, a & b)
LANEWISE(pandn, q, uint64_t, ~a & b)
LANEWISE(por, q, uint64_t, a | b)
LANEWISE(pxor, q, uint64_t, a ^ b)
LANEWISE(pcmpeqb, b, uint8_t, a == b ? 0xff : 0)
LANEWISE(pcmpeqw, w, uint16_t, a == b ? 0xffff : 0)
LANEWISE(pcmpeqd, d, uint32_t, a == b ? ~0u : 0)
LANEWISE(pcmpeqq, q, uint64_t, a == b ? ~0ull : 0)
LANEWISE(pcmpgtb, b, int8_t, a > b ? 0xff : 0)
LANEWISE(pcmpgtw, w, int16_t, a > b ? 0xffff : 0)
LANEWISE(pcmpgtd, d, int32_t, a > b ? ~0u : 0)
LANEWISE(pcmpgtq, q, int64_t, a > b ? ~0ull : 0)
LANEWISE(psignb, b, int8_t, (uint8_t)(b < 0 ? -a : b ? a : 0))
LANEWISE(psignw, w, int16_t, (uint16_t)(b < 0 ? -a : b ? a : 0))
LANEWISE(psignd, d, int32_t, (uint32_t)(b < 0 ? -(uint32_t)a : b ? (uint32_t)a : 0))
LANEWISE(pabsb, b, int8_t, (uint8_t)(b < 0 ? -b : b))
LANEWISE(pabsw, w, int16_t, (uint16_t)(b < 0 ? -b : b))
LANEWISE(pabsd, d, int32_t, b < 0 ? -(uint32_t)b : (uint32_t)b)
LANEWISE(pmulhrsw, w, int16_t, (uint16_t)((((int32_t)a * b >> 14) + 1) >> 1))
LANEWISE(pmulld, d, uint32_t, a * b)
LANEWISE(pminsb, b, int8_t, (uint8_t)(a < b ? a : b))
LANEWISE(pmaxsb, b, int8_t, (uint8_t)(a > b ? a : b))
LANEWISE(pminsd, d, int32_t, (uint32_t)(a < b ? a : b))
LANEWISE(pmaxsd, d, int32_t, (uint32_t)(a > b ? a : b))
LANEWISE(pminuw, w, uint16_t, a < b ? a : b)
LANEWISE(pmaxuw, w, uint16_t, a > b ? a : b)
LANEWISE(pminud, d, uint32_t, a < b ? a : b)
LANEWISE(pmaxud, d, uint32_t, a > b ? a : b)

static void pmuludq(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 8; i++) {
        d->q[i] = (uint64_t)d->d[2 * i] * s->d[2 * i];
    }
}

static void pmuldq(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 8; i++) {
        d->q[i] = (uint64_t)((int64_t)(int32_t)d->d[2 * i] * (int32_t)s->d[2 * i]);
    }
}

static void pmaddwd(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 4; i++) {
        int64_t v = (int64_t)(int16_t)d->w[2 * i] * (int16_t)s->w[2 * i] +
                    (int64_t)(int16_t)d->w[2 * i + 1] * (int16_t)s->w[2 * i + 1];
        d->d[i] = (uint32_t)v;
    }
}

static void pmaddubsw(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 2; i++) {
        int v = d->b[2 * i] * (int8_t)s->b[2 * i] +
                d->b[2 * i + 1] * (int8_t)s->b[2 * i + 1];
        d->w[i] = (uint16_t)sat16s(v);
    }
}

static void psadbw(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned q = 0; q < n / 8; q++) {
        unsigned sum = 0;
        for (unsigned i = 0; i < 8; i++) {
            int diff = d->b[q * 8 + i] - s->b[q * 8 + i];
            sum += (unsigned)(diff < 0 ? -diff : diff);
        }
        d->q[q] = sum;
    }
}

/* Horizontal add/subtract: results from dst's pairs, then src's pairs. */
#define HORIZONTAL(name, field, T, expr)                                    \
    static void name(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)  \
    {                                                                       \
        XmmReg r;                                                           \
        unsigned half = n / sizeof(d->field[0]) / 2;                        \
        (void)imm;                                                          \
        for (unsigned i = 0; i < half; i++) {                               \
            T a = (T)d->field[2 * i], b = (T)d->field[2 * i + 1];           \
            r.field[i] = (expr);                                            \
            a = (T)s->field[2 * i];                                         \
            b = (T)s->field[2 * i + 1];                                     \
            r.field[half + i] = (expr);                                     \
        }                                                                   \
        memcpy(d, &r, n);                                                   \
    }

HORIZONTAL(phaddw, w, uint16_t, (uint16_t)(a + b))
HORIZONTAL(phaddd, d, uint32_t, a + b)
HORIZONTAL(phaddsw, w, int16_t, (uint16_t)sat16s(a + b))
HORIZONTAL(phsubw, w, uint16_t, (uint16_t)(a - b))
HORIZONTAL(phsubd, d, uint32_t, a - b)
HORIZONTAL(phsubsw, w, int16_t, (uint16_t)sat16s(a - b))

/* Shifts: the count is the whole low quadword of the source. */
#define SHIFT(name, field, T, bits, expr, big)                              \
    static void name(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)  \
    {                                                                       \
        uint64_t c = s->q[0];                                               \
        (void)imm;                                                          \
        for (unsigned i = 0; i < n / sizeof(d->field[0]); i++) {            \
            T a = (T)d->field[i];                                           \
            d->field[i] = c >= (bits) ? (big) : (expr);                     \
        }                                                                   \
    }

SHIFT(psrlw, w, uint16_t, 16, (uint16_t)(a >> c), 0)
SHIFT(psrld, d, uint32_t, 32, a >> c, 0)
SHIFT(psrlq, q, uint64_t, 64, a >> c, 0)
SHIFT(psllw, w, uint16_t, 16, (uint16_t)((uint32_t)a << c), 0)
SHIFT(pslld, d, uint32_t, 32, a << c, 0)
SHIFT(psllq, q, uint64_t, 64, a << c, 0)
SHIFT(psraw, w, int16_t, 16, (uint16_t)(a >> c), (uint16_t)(a >> 15))
SHIFT(psrad, d, int32_t, 32, (uint32_t)(a >> c), (uint32_t)(a >> 31))

static void psrldq(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    uint64_t c = s->q[0] > 16 ? 16 : s->q[0];
    XmmReg r = { 0 };
    (void)imm;
    memcpy(r.b, d->b + c, n - c);
    *d = r;
}

static void pslldq(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    uint64_t c = s->q[0] > 16 ? 16 : s->q[0];
    XmmReg r = { 0 };
    (void)imm;
    memcpy(r.b + c, d->b, n - c);
    *d = r;
}

/* MPSADBW: eight sums of absolute differences of 4-byte groups; imm[2]
 * selects the dst offset (0 or 4 bytes), imm[1:0] the src group. */
static void mpsadbw(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    XmmReg r;
    unsigned ao = (imm & 4) ? 4 : 0, bo = (imm & 3) * 4;
    (void)n;
    for (unsigned i = 0; i < 8; i++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 4; j++) {
            int diff = d->b[ao + i + j] - s->b[bo + j];
            sum += (unsigned)(diff < 0 ? -diff : diff);
        }
        r.w[i] = (uint16_t)sum;
    }
    *d = r;
}

/* PCLMULQDQ: carry-less product of the quadwords imm[0] of dst and imm[4]
 * of src. */
static void pclmulqdq(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)
{
    uint64_t a = d->q[imm & 1], b = s->q[(imm >> 4) & 1], lo = 0, hi = 0;
    (void)n;
    for (unsigned i = 0; i < 64; i++) {
        if ((b >> i) & 1) {
            lo ^= a << i;
            hi ^= i ? a >> (64 - i) : 0;
        }
    }
    d->q[0] = lo;
    d->q[1] = hi;
}

const SsePintFn sse_pint_fns[PI_PUNPCKLBW] = {
    [PI_PADDB] = paddb, [PI_PADDW] = paddw, [PI_PADDD] = paddd,
    [PI_PADDQ] = paddq, [PI_PADDSB] = paddsb, [PI_PADDSW] = paddsw,
    [PI_PADDUSB] = paddusb, [PI_PADDUSW] = paddusw, [PI_PSUBB] = psubb,
    [PI_PSUBW] = psubw, [PI_PSUBD] = psubd, [PI_PSUBQ] = psubq,
    [PI_PSUBSB] = psubsb, [PI_PSUBSW] = psubsw, [PI_PSUBUSB] = psubusb,
    [PI_PSUBUSW] = psubusw, [PI_PMULLW] = pmullw, [PI_PMULHW] = pmulhw,
    [PI_PMULHUW] = pmulhuw, [PI_PMULUDQ] = pmuludq, [PI_PMADDWD] = pmaddwd,
    [PI_PSADBW] = psadbw, [PI_PAVGB] = pavgb, [PI_PAVGW] = pavgw,
    [PI_PMINUB] = pminub, [PI_PMAXUB] = pmaxub, [PI_PMINSW] = pminsw,
    [PI_PMAXSW] = pmaxsw, [PI_PAND] = pand, [PI_PANDN] = pandn,
    [PI_POR] = por, [PI_PXOR] = pxor, [PI_PCMPEQB] = pcmpeqb,
    [PI_PCMPEQW] = pcmpeqw, [PI_PCMPEQD] = pcmpeqd, [PI_PCMPEQQ] = pcmpeqq,
    [PI_PCMPGTB] = pcmpgtb, [PI_PCMPGTW] = pcmpgtw, [PI_PCMPGTD] = pcmpgtd,
    [PI_PCMPGTQ] = pcmpgtq, [PI_PSRLW] = psrlw, [PI_PSRLD] = psrld,
    [PI_PSRLQ] = psrlq, [PI_PSRAW] = psraw, [PI_PSRAD] = psrad,
    [PI_PSLLW] = psllw, [PI_PSLLD] = pslld, [PI_PSLLQ] = psllq,
    [PI_PSRLDQ] = psrldq, [PI_PSLLDQ] = pslldq,
    [PI_PHADDW] = phaddw, [PI_PHADDD] = phaddd, [PI_PHADDSW] = phaddsw,
    [PI_PHSUBW] = phsubw, [PI_PHSUBD] = phsubd, [PI_PHSUBSW] = phsubsw,
    [PI_PMADDUBSW] = pmaddubsw, [PI_PMULHRSW] = pmulhrsw,
    [PI_PSIGNB] = psignb, [PI_PSIGNW] = psignw, [PI_PSIGND] = psignd,
    [PI_PABSB] = pabsb, [PI_PABSW] = pabsw, [PI_PABSD] = pabsd,
    [PI_PMULDQ] = pmuldq, [PI_PMULLD] = pmulld, [PI_PMINSB] = pminsb,
    [PI_PMINSD] = pminsd, [PI_PMINUW] = pminuw, [PI_PMINUD] = pminud,
    [PI_PMAXSB] = pmaxsb, [PI_PMAXSD] = pmaxsd, [PI_PMAXUW] = pmaxuw,
    [PI_PMAXUD] = pmaxud, [PI_MPSADBW] = mpsadbw,
    [PI_PCLMULQDQ] = pclmulqdq,
};

void sse_pint(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s, t;
    SsePintFn fn = d->op < PI_PUNPCKLBW ? sse_pint_fns[d->op]
                                        : sse_shuffle_fns[d->op - PI_PUNPCKLBW];
    if (d->op2 & SSE_MMX) {
        sse_mmx_enter(cpu);
        s.q[0] = sse_mm_src(cpu, d);
        s.q[1] = 0;
        t.q[0] = sse_mm_get(cpu, d->reg);
        t.q[1] = 0;
        fn(&t, &s, 8, (unsigned)d->imm);
        sse_mm_set(cpu, d->reg, t.q[0]);
        return;
    }
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    fn(sse_xmm(cpu, d->reg), &s, 16, (unsigned)d->imm);
}

/* 0F 71..73 groups: shift ModRM.rm by imm8. */
void sse_pint_shift_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s = { .q = { d->imm & 0xff, 0 } };
    SsePintFn fn = sse_pint_fns[d->op];
    if (d->op2 & SSE_MMX) {
        XmmReg t = { .q = { 0, 0 } };
        sse_mmx_enter(cpu);
        t.q[0] = sse_mm_get(cpu, d->rm);
        fn(&t, &s, 8, 0);
        sse_mm_set(cpu, d->rm, t.q[0]);
        return;
    }
    x86_ext_check_sse(cpu);
    fn(sse_xmm(cpu, d->rm), &s, 16, 0);
}

/* Hot shapes of string and memory functions: PXOR and PCMPEQB on XMM. */
void sse_pxor_xmm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    x->q[0] ^= s.q[0];
    x->q[1] ^= s.q[1];
}

void sse_pcmpeqb_xmm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    for (unsigned i = 0; i < 16; i++) {
        x->b[i] = x->b[i] == s.b[i] ? 0xff : 0;
    }
}

void sse_pmovmskb(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint32_t m = 0;
    if (d->op2 & SSE_MMX) {
        sse_mmx_enter(cpu);
        uint64_t v = sse_mm_get(cpu, d->rm);
        for (unsigned i = 0; i < 8; i++) {
            m |= (uint32_t)((v >> (8 * i + 7)) & 1) << i;
        }
    } else {
        x86_ext_check_sse(cpu);
        const XmmReg *x = sse_xmm(cpu, d->rm);
        for (unsigned i = 0; i < 16; i++) {
            m |= (uint32_t)(x->b[i] >> 7) << i;
        }
    }
    x86_ext_set_gpr(cpu, d, d->reg, d->opsize == 8 ? 8 : 4, m);
}

/* PTEST: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0. */
void sse_ptest(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    const XmmReg *x = sse_xmm(cpu, d->reg);
    uint32_t fl = 0;
    if (!((x->q[0] & s.q[0]) | (x->q[1] & s.q[1]))) {
        fl |= X86_FLAG_ZF;
    }
    if (!((~x->q[0] & s.q[0]) | (~x->q[1] & s.q[1]))) {
        fl |= X86_FLAG_CF;
    }
    x86_ext_set_arith_flags(cpu, fl);
}

/* PHMINPOSUW: the smallest word and its index. */
void sse_phminposuw(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    unsigned best = 0;
    for (unsigned i = 1; i < 8; i++) {
        if (s.w[i] < s.w[best]) {
            best = i;
        }
    }
    XmmReg *x = sse_xmm(cpu, d->reg);
    x->q[0] = s.w[best] | (uint64_t)best << 16;
    x->q[1] = 0;
}
