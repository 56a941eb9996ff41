/*
 * Data movement inside and between vector registers (SDM vol. 2): the
 * unpacks (PUNPCKx, UNPCKx), packs with saturation (PACKSSx, PACKUSx),
 * shuffles (PSHUFW/D/LW/HW, PSHUFB, SHUFPS/PD, PALIGNR), blends with an
 * immediate (BLENDPS/PD, PBLENDW) or XMM0 (PBLENDVB, BLENDVPS/PD), sign and
 * zero extension (PMOVSX/ZX), INSERTPS, and the register-half moves
 * (MOVLPS/MOVHPS loads, MOVHLPS/MOVLHPS, MOVSS/MOVSD between registers,
 * MOVSLDUP/MOVSHDUP/MOVDDUP).  All but the XMM0 blends and INSERTPS are
 * entries of the packed-integer table run by sse_pint (sse-int.c).
 */
#include "cpu/x86/sse-internal.h"

#define FN(name) static void name(XmmReg *d, const XmmReg *s, unsigned n, unsigned imm)

static void unpack(XmmReg *d, const XmmReg *s, unsigned n, unsigned esize,
                   bool high)
{
    XmmReg r;
    unsigned pairs = n / esize / 2, from = high ? pairs * esize : 0;
    for (unsigned i = 0; i < pairs; i++) {
        memcpy(r.b + 2 * i * esize, d->b + from + i * esize, esize);
        memcpy(r.b + (2 * i + 1) * esize, s->b + from + i * esize, esize);
    }
    memcpy(d, &r, n);
}

FN(punpcklbw) { (void)imm; unpack(d, s, n, 1, false); }
FN(punpcklwd) { (void)imm; unpack(d, s, n, 2, false); }
FN(punpckldq) { (void)imm; unpack(d, s, n, 4, false); }
FN(punpcklqdq) { (void)imm; unpack(d, s, n, 8, false); }
FN(punpckhbw) { (void)imm; unpack(d, s, n, 1, true); }
FN(punpckhwd) { (void)imm; unpack(d, s, n, 2, true); }
FN(punpckhdq) { (void)imm; unpack(d, s, n, 4, true); }
FN(punpckhqdq) { (void)imm; unpack(d, s, n, 8, true); }

static inline int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

FN(packsswb)
{
    XmmReg r;
    unsigned k = n / 2;
    (void)imm;
    for (unsigned i = 0; i < k; i++) {
        r.b[i] = (uint8_t)clamp((int16_t)d->w[i], -128, 127);
        r.b[k + i] = (uint8_t)clamp((int16_t)s->w[i], -128, 127);
    }
    memcpy(d, &r, n);
}

FN(packuswb)
{
    XmmReg r;
    unsigned k = n / 2;
    (void)imm;
    for (unsigned i = 0; i < k; i++) {
        r.b[i] = (uint8_t)clamp((int16_t)d->w[i], 0, 255);
        r.b[k + i] = (uint8_t)clamp((int16_t)s->w[i], 0, 255);
    }
    memcpy(d, &r, n);
}

static inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

FN(packssdw)
{
    XmmReg r;
    unsigned k = n / 4;
    (void)imm;
    for (unsigned i = 0; i < k; i++) {
        r.w[i] = (uint16_t)clamp64((int32_t)d->d[i], -32768, 32767);
        r.w[k + i] = (uint16_t)clamp64((int32_t)s->d[i], -32768, 32767);
    }
    memcpy(d, &r, n);
}

FN(packusdw)
{
    XmmReg r;
    unsigned k = n / 4;
    (void)imm;
    for (unsigned i = 0; i < k; i++) {
        r.w[i] = (uint16_t)clamp64((int32_t)d->d[i], 0, 65535);
        r.w[k + i] = (uint16_t)clamp64((int32_t)s->d[i], 0, 65535);
    }
    memcpy(d, &r, n);
}

FN(pshufw)
{
    XmmReg r;
    (void)n;
    for (unsigned i = 0; i < 4; i++) {
        r.w[i] = s->w[(imm >> (2 * i)) & 3];
    }
    d->q[0] = r.q[0];
}

FN(pshufd)
{
    XmmReg r;
    (void)n;
    for (unsigned i = 0; i < 4; i++) {
        r.d[i] = s->d[(imm >> (2 * i)) & 3];
    }
    *d = r;
}

FN(pshuflw)
{
    (void)n;
    for (unsigned i = 0; i < 4; i++) {
        d->w[i] = s->w[(imm >> (2 * i)) & 3];
    }
    d->q[1] = s->q[1];
}

FN(pshufhw)
{
    (void)n;
    for (unsigned i = 0; i < 4; i++) {
        d->w[4 + i] = s->w[4 + ((imm >> (2 * i)) & 3)];
    }
    d->q[0] = s->q[0];
}

FN(pshufb)
{
    XmmReg r;
    (void)imm;
    for (unsigned i = 0; i < n; i++) {
        r.b[i] = (s->b[i] & 0x80) ? 0 : d->b[s->b[i] & (n - 1)];
    }
    memcpy(d, &r, n);
}

/* PALIGNR: (dst:src) >> (imm * 8), low n bytes. */
FN(palignr)
{
    uint8_t cat[32];
    memcpy(cat, s->b, n);
    memcpy(cat + n, d->b, n);
    for (unsigned i = 0; i < n; i++) {
        d->b[i] = i + imm < 2 * n ? cat[i + imm] : 0;
    }
}

FN(shufps)
{
    XmmReg r;
    (void)n;
    r.d[0] = d->d[imm & 3];
    r.d[1] = d->d[(imm >> 2) & 3];
    r.d[2] = s->d[(imm >> 4) & 3];
    r.d[3] = s->d[(imm >> 6) & 3];
    *d = r;
}

FN(shufpd)
{
    XmmReg r;
    (void)n;
    r.q[0] = d->q[imm & 1];
    r.q[1] = s->q[(imm >> 1) & 1];
    *d = r;
}

FN(blendps)
{
    (void)n;
    for (unsigned i = 0; i < 4; i++) {
        if (imm & (1u << i)) {
            d->d[i] = s->d[i];
        }
    }
}

FN(blendpd)
{
    (void)n;
    for (unsigned i = 0; i < 2; i++) {
        if (imm & (1u << i)) {
            d->q[i] = s->q[i];
        }
    }
}

FN(pblendw)
{
    (void)n;
    for (unsigned i = 0; i < 8; i++) {
        if (imm & (1u << i)) {
            d->w[i] = s->w[i];
        }
    }
}

/* PMOVSX/PMOVZX: widen the low elements of src. */
#define EXTEND(name, dfield, count, expr)                                   \
    FN(name)                                                                \
    {                                                                       \
        XmmReg r;                                                           \
        (void)n;                                                            \
        (void)imm;                                                          \
        for (unsigned i = 0; i < (count); i++) {                            \
            r.dfield[i] = (expr);                                           \
        }                                                                   \
        *d = r;                                                             \
    }

EXTEND(pmovsxbw, w, 8, (uint16_t)(int8_t)s->b[i])
EXTEND(pmovsxbd, d, 4, (uint32_t)(int8_t)s->b[i])
EXTEND(pmovsxbq, q, 2, (uint64_t)(int8_t)s->b[i])
EXTEND(pmovsxwd, d, 4, (uint32_t)(int16_t)s->w[i])
EXTEND(pmovsxwq, q, 2, (uint64_t)(int16_t)s->w[i])
EXTEND(pmovsxdq, q, 2, (uint64_t)(int32_t)s->d[i])
EXTEND(pmovzxbw, w, 8, s->b[i])
EXTEND(pmovzxbd, d, 4, s->b[i])
EXTEND(pmovzxbq, q, 2, s->b[i])
EXTEND(pmovzxwd, d, 4, s->w[i])
EXTEND(pmovzxwq, q, 2, s->w[i])
EXTEND(pmovzxdq, q, 2, s->d[i])

FN(copy) { (void)imm; memcpy(d, s, n); }
FN(movlo64) { (void)n; (void)imm; d->q[0] = s->q[0]; }
FN(movhi64) { (void)n; (void)imm; d->q[1] = s->q[0]; }
FN(movhlps) { (void)n; (void)imm; d->q[0] = s->q[1]; }
FN(movlo32) { (void)n; (void)imm; d->d[0] = s->d[0]; }
FN(movqzx) { (void)n; (void)imm; d->q[0] = s->q[0]; d->q[1] = 0; }

FN(movsldup)
{
    (void)n;
    (void)imm;
    d->d[0] = d->d[1] = s->d[0];
    d->d[2] = d->d[3] = s->d[2];
}

FN(movshdup)
{
    (void)n;
    (void)imm;
    d->d[0] = d->d[1] = s->d[1];
    d->d[2] = d->d[3] = s->d[3];
}

FN(movddup) { (void)n; (void)imm; d->q[0] = d->q[1] = s->q[0]; }

#define AT(op) [PI_##op - PI_PUNPCKLBW]
const SsePintFn sse_shuffle_fns[PI_COUNT - PI_PUNPCKLBW] = {
    AT(PUNPCKLBW) = punpcklbw, AT(PUNPCKLWD) = punpcklwd,
    AT(PUNPCKLDQ) = punpckldq, AT(PUNPCKLQDQ) = punpcklqdq,
    AT(PUNPCKHBW) = punpckhbw, AT(PUNPCKHWD) = punpckhwd,
    AT(PUNPCKHDQ) = punpckhdq, AT(PUNPCKHQDQ) = punpckhqdq,
    AT(PACKSSWB) = packsswb, AT(PACKSSDW) = packssdw,
    AT(PACKUSWB) = packuswb, AT(PACKUSDW) = packusdw,
    AT(PSHUFW) = pshufw, AT(PSHUFD) = pshufd, AT(PSHUFLW) = pshuflw,
    AT(PSHUFHW) = pshufhw, AT(PSHUFB) = pshufb, AT(PALIGNR) = palignr,
    AT(SHUFPS) = shufps, AT(SHUFPD) = shufpd, AT(BLENDPS) = blendps,
    AT(BLENDPD) = blendpd, AT(PBLENDW) = pblendw,
    AT(PMOVSXBW) = pmovsxbw, AT(PMOVSXBD) = pmovsxbd,
    AT(PMOVSXBQ) = pmovsxbq, AT(PMOVSXWD) = pmovsxwd,
    AT(PMOVSXWQ) = pmovsxwq, AT(PMOVSXDQ) = pmovsxdq,
    AT(PMOVZXBW) = pmovzxbw, AT(PMOVZXBD) = pmovzxbd,
    AT(PMOVZXBQ) = pmovzxbq, AT(PMOVZXWD) = pmovzxwd,
    AT(PMOVZXWQ) = pmovzxwq, AT(PMOVZXDQ) = pmovzxdq,
    AT(COPY) = copy, AT(MOVLO64) = movlo64, AT(MOVHI64) = movhi64,
    AT(MOVHLPS) = movhlps, AT(MOVLO32) = movlo32, AT(MOVQZX) = movqzx,
    AT(MOVSLDUP) = movsldup, AT(MOVSHDUP) = movshdup, AT(MOVDDUP) = movddup,
};

/* PBLENDVB / BLENDVPS / BLENDVPD: op = element size; the top bit of each
 * XMM0 element selects src. */
void sse_blendv(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    XmmReg *x = sse_xmm(cpu, d->reg);
    const XmmReg *m = sse_xmm(cpu, 0);
    unsigned e = d->op;
    for (unsigned i = 0; i < 16; i += e) {
        if (m->b[i + e - 1] & 0x80) {
            memcpy(x->b + i, s.b + i, e);
        }
    }
}

/* INSERTPS: imm[7:6] source dword (register form), imm[5:4] destination,
 * imm[3:0] zero mask. */
void sse_insertps(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    unsigned imm = (unsigned)d->imm;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    uint32_t v = d->mod == 3 ? s.d[(imm >> 6) & 3] : s.d[0];
    XmmReg *x = sse_xmm(cpu, d->reg);
    x->d[(imm >> 4) & 3] = v;
    for (unsigned i = 0; i < 4; i++) {
        if (imm & (1u << i)) {
            x->d[i] = 0;
        }
    }
}
