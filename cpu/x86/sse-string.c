/*
 * The SSE4.2 string compares PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM
 * (SDM vol. 2, 4.1 "Imm8 control byte operation for PCMPESTRI/PCMPESTRM/
 * PCMPISTRI/PCMPISTRM"): element format, aggregation (equal any, ranges,
 * equal each, equal ordered), polarity, and the index or mask output with
 * CF ZF SF OF.  The lengths come from EAX/EDX (RAX/RDX with REX.W) for the
 * explicit forms and from the first zero element for the implicit ones.
 */
#include "cpu/x86/sse-internal.h"

/* element i of v in the format imm[1:0] */
static int32_t elem(const XmmReg *v, unsigned fmt, unsigned i)
{
    switch (fmt & 3) {
    case 0: return v->b[i];
    case 1: return v->w[i];
    case 2: return (int8_t)v->b[i];
    default: return (int16_t)v->w[i];
    }
}

static unsigned implicit_len(const XmmReg *v, unsigned fmt, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!elem(v, fmt, i)) {
            return i;
        }
    }
    return n;
}

static unsigned explicit_len(X86Cpu *cpu, const X86DecodedInsn *d, int reg, unsigned n)
{
    bool w = d->rex & X86_REX_W;
    uint64_t v = x86_ext_get_gpr(cpu, d, reg, w ? 8 : 4);
    int64_t s = w ? (int64_t)v : (int32_t)(uint32_t)v;
    uint64_t mag = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
    return mag > n ? n : (unsigned)mag;
}

static uint32_t aggregate(const XmmReg *a, const XmmReg *b, unsigned imm,
                          unsigned n, unsigned la, unsigned lb)
{
    uint32_t res = 0;
    switch ((imm >> 2) & 3) {
    case 0: /* equal any */
        for (unsigned j = 0; j < lb; j++) {
            for (unsigned i = 0; i < la; i++) {
                if (elem(a, imm, i) == elem(b, imm, j)) {
                    res |= 1u << j;
                    break;
                }
            }
        }
        break;
    case 1: /* ranges: pairs (a[i], a[i+1]) are [lower, upper] */
        for (unsigned j = 0; j < lb; j++) {
            int32_t x = elem(b, imm, j);
            for (unsigned i = 0; i + 1 < la; i += 2) {
                if (x >= elem(a, imm, i) && x <= elem(a, imm, i + 1)) {
                    res |= 1u << j;
                    break;
                }
            }
        }
        break;
    case 2: /* equal each */
        for (unsigned i = 0; i < n; i++) {
            bool va = i < la, vb = i < lb;
            if (va && vb ? elem(a, imm, i) == elem(b, imm, i) : !va && !vb) {
                res |= 1u << i;
            }
        }
        break;
    default: /* equal ordered: a is a substring of b at j */
        for (unsigned j = 0; j < n; j++) {
            bool match = true;
            for (unsigned i = 0; i + j < n && i < la; i++) {
                if (i + j >= lb || elem(a, imm, i) != elem(b, imm, i + j)) {
                    match = false;
                    break;
                }
            }
            if (match) {
                res |= 1u << j;
            }
        }
        break;
    }
    return res;
}

/* op bit 0: index output (I) rather than mask (M); bit 1: implicit lengths */
void sse_pcmpstr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg b;
    unsigned imm = d->imm & 0xff, n = (imm & 1) ? 8 : 16;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &b);
    const XmmReg *a = sse_xmm(cpu, d->reg);
    unsigned la, lb;
    if (d->op & 2) {
        la = implicit_len(a, imm, n);
        lb = implicit_len(&b, imm, n);
    } else {
        la = explicit_len(cpu, d, R_EAX, n);
        lb = explicit_len(cpu, d, R_EDX, n);
    }
    uint32_t all = (1u << n) - 1;
    uint32_t r1 = aggregate(a, &b, imm, n, la, lb), r2;
    switch ((imm >> 4) & 3) {
    case 1: r2 = ~r1 & all; break;
    case 3: r2 = r1 ^ ((1u << lb) - 1); break;
    default: r2 = r1; break;
    }
    if (d->op & 1) {
        unsigned idx = n;
        if (r2) {
            idx = (imm & 0x40) ? 31 - (unsigned)__builtin_clz(r2)
                               : (unsigned)__builtin_ctz(r2);
        }
        x86_ext_set_gpr(cpu, d, R_ECX, 4, idx);
    } else {
        XmmReg *m = sse_xmm(cpu, 0);
        if (imm & 0x40) {
            for (unsigned i = 0; i < n; i++) {
                bool bit = (r2 >> i) & 1;
                if (n == 16) {
                    m->b[i] = bit ? 0xff : 0;
                } else {
                    m->w[i] = bit ? 0xffff : 0;
                }
            }
        } else {
            m->q[0] = r2;
            m->q[1] = 0;
        }
    }
    x86_ext_set_arith_flags(cpu, (r2 ? X86_FLAG_CF : 0) |
                                 (lb < n ? X86_FLAG_ZF : 0) |
                                 (la < n ? X86_FLAG_SF : 0) |
                                 ((r2 & 1) ? X86_FLAG_OF : 0));
}
