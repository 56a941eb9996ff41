/*
 * Moves between XMM/MMX registers, general registers and memory (SDM vol. 2:
 * MOVAPS/MOVUPS/MOVDQA/MOVDQU and their stores, MOVSS/MOVSD/MOVLPx/MOVHPx/
 * MOVQ stores, MOVNTx, MOVD/MOVQ with general registers, MOVQ2DQ/MOVDQ2Q,
 * MOVMSKPS/PD, PEXTRx/PINSRx/EXTRACTPS, MASKMOVQ/MASKMOVDQU), the MXCSR
 * load/store (vol. 1, 10.2.3) and EMMS (vol. 1, 9.5.1).
 */
#include "cpu/x86/sse-internal.h"

/* MOVAPS/MOVUPS/MOVDQA/MOVDQU... xmm, xmm/m128 */
void sse_mov_load(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg s;
    x86_ext_check_sse(cpu);
    sse_src(cpu, d, &s);
    *sse_xmm(cpu, d->reg) = s;
}

/* Stores from xmm[reg] to rm; op = SSE_ST_* (sse-internal.h). */
void sse_mov_store(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_ext_check_sse(cpu);
    const XmmReg *x = sse_xmm(cpu, d->reg);
    if (d->mod == 3) {
        XmmReg *r = sse_xmm(cpu, d->rm);
        switch (d->op) {
        case SSE_ST_FULL: *r = *x; break;
        case SSE_ST_LO32: r->d[0] = x->d[0]; break;
        case SSE_ST_LO64: r->q[0] = x->q[0]; break;
        case SSE_ST_QZX: r->q[0] = x->q[0]; r->q[1] = 0; break;
        default: break;
        }
        return;
    }
    switch (d->op) {
    case SSE_ST_FULL:
        if (!(d->op2 & SSE_UNALIGNED)) {
            x86_ext_check_align(cpu, d, 16);
        }
        x86_ext_store(cpu, d, 0, x, 16);
        break;
    case SSE_ST_LO32:
        x86_ext_store(cpu, d, 0, &x->d[0], 4);
        break;
    case SSE_ST_LO64:
    case SSE_ST_QZX:
        x86_ext_store(cpu, d, 0, &x->q[0], 8);
        break;
    case SSE_ST_HI64:
        x86_ext_store(cpu, d, 0, &x->q[1], 8);
        break;
    }
}

/* MOVD/MOVQ between a general register or memory and MMX/XMM. */
void sse_mov_gpr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->opsize == 8 ? 8 : 4;
    bool mmx = d->op2 & SSE_MMX;
    uint64_t v = 0;
    if (mmx) {
        sse_mmx_enter(cpu);
    } else {
        x86_ext_check_sse(cpu);
    }
    if (d->op == SSE_GPR_TO_VEC) {
        if (d->mod == 3) {
            v = x86_ext_get_gpr(cpu, d, d->rm, size);
        } else {
            x86_ext_load(cpu, d, 0, &v, size);
        }
        if (mmx) {
            sse_mm_set(cpu, d->reg, v);
        } else {
            XmmReg *x = sse_xmm(cpu, d->reg);
            x->q[0] = v;
            x->q[1] = 0;
        }
        return;
    }
    v = mmx ? sse_mm_get(cpu, d->reg) : sse_xmm(cpu, d->reg)->q[0];
    if (size == 4) {
        v = (uint32_t)v;
    }
    if (d->mod == 3) {
        x86_ext_set_gpr(cpu, d, d->rm, size, v);
    } else {
        x86_ext_store(cpu, d, 0, &v, size);
    }
}

/* MOVQ mm/m64, mm; MOVNTQ; MOVQ2DQ; MOVDQ2Q (op = SSE_MM_*). */
void sse_mov_mmx(X86Cpu *cpu, const X86DecodedInsn *d)
{
    if (d->op == SSE_MM_STORE) {
        sse_mmx_enter(cpu);
        uint64_t v = sse_mm_get(cpu, d->reg);
        if (d->mod == 3) {
            sse_mm_set(cpu, d->rm, v);
        } else {
            x86_ext_store(cpu, d, 0, &v, 8);
        }
        return;
    }
    x86_ext_check_sse(cpu);
    sse_mmx_enter(cpu);
    if (d->op == SSE_MM_Q2DQ) {
        XmmReg *x = sse_xmm(cpu, d->reg);
        x->q[0] = sse_mm_get(cpu, d->rm);
        x->q[1] = 0;
    } else {
        sse_mm_set(cpu, d->reg, sse_xmm(cpu, d->rm)->q[0]);
    }
}

/* MOVMSKPS / MOVMSKPD: op = element size. */
void sse_movmsk(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_ext_check_sse(cpu);
    const XmmReg *x = sse_xmm(cpu, d->rm);
    uint32_t m = 0;
    if (d->op == 4) {
        for (unsigned i = 0; i < 4; i++) {
            m |= (x->d[i] >> 31) << i;
        }
    } else {
        m = (uint32_t)(x->q[0] >> 63) | (uint32_t)(x->q[1] >> 63) << 1;
    }
    x86_ext_set_gpr(cpu, d, d->reg, d->opsize == 8 ? 8 : 4, m);
}

void sse_mxcsr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint32_t l;
    x86_ext_check_sse(cpu);
    if (d->op) {
        x86_ext_store(cpu, d, 0, &f->mxcsr, 4);
        return;
    }
    x86_ext_load(cpu, d, 0, &l, 4);
    if (l & ~0xffffu) {
        x86_ext_raise(cpu, EXC_GP);
    }
    f->mxcsr = l;
}

void sse_emms(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    (void)d;
    x86_ext_check_mmx(cpu);
    if (f->fsw & 0x80) {
        x86_ext_raise(cpu, EXC_MF);
    }
    f->fsw &= ~0x3800; /* TOP = 0 (SDM vol. 1, table 9-2) */
    f->ftw = 0;
}

/* PEXTRB/PEXTRW/PEXTRD/PEXTRQ/EXTRACTPS r/m, xmm, imm8: op = size. */
void sse_pext(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op;
    x86_ext_check_sse(cpu);
    const XmmReg *x = sse_xmm(cpu, d->reg);
    uint64_t v = 0;
    memcpy(&v, x->b + (d->imm & (16 / size - 1)) * size, size);
    if (d->mod == 3) {
        x86_ext_set_gpr(cpu, d, d->rm, size == 8 ? 8 : 4, v);
    } else {
        x86_ext_store(cpu, d, 0, &v, size);
    }
}

/* PEXTRW r32, mm/xmm, imm8 (0F C5, register source only). */
void sse_pextrw(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint16_t w;
    if (d->op2 & SSE_MMX) {
        sse_mmx_enter(cpu);
        w = (uint16_t)(sse_mm_get(cpu, d->rm) >> (16 * (d->imm & 3)));
    } else {
        x86_ext_check_sse(cpu);
        w = sse_xmm(cpu, d->rm)->w[d->imm & 7];
    }
    x86_ext_set_gpr(cpu, d, d->reg, d->opsize == 8 ? 8 : 4, w);
}

/* PINSRB/PINSRW/PINSRD/PINSRQ: op = size; MMX form of PINSRW too. */
void sse_pins(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op;
    uint64_t v = 0;
    bool mmx = d->op2 & SSE_MMX;
    if (mmx) {
        sse_mmx_enter(cpu);
    } else {
        x86_ext_check_sse(cpu);
    }
    if (d->mod == 3) {
        v = x86_ext_get_gpr(cpu, d, d->rm, size == 8 ? 8 : 4);
    } else {
        x86_ext_load(cpu, d, 0, &v, size);
    }
    if (mmx) {
        unsigned sh = 16 * (d->imm & 3);
        uint64_t m = sse_mm_get(cpu, d->reg) & ~(0xffffull << sh);
        sse_mm_set(cpu, d->reg, m | (v & 0xffff) << sh);
        return;
    }
    XmmReg *x = sse_xmm(cpu, d->reg);
    memcpy(x->b + (d->imm & (16 / size - 1)) * size, &v, size);
}

/* MASKMOVQ / MASKMOVDQU: byte stores to DS:rDI (segment override allowed)
 * where the mask register's byte has its top bit set. */
void sse_maskmov(X86Cpu *cpu, const X86DecodedInsn *d)
{
    XmmReg v, m;
    unsigned n;
    if (d->op2 & SSE_MMX) {
        sse_mmx_enter(cpu);
        v.q[0] = sse_mm_get(cpu, d->reg);
        m.q[0] = sse_mm_get(cpu, d->rm);
        n = 8;
    } else {
        x86_ext_check_sse(cpu);
        v = *sse_xmm(cpu, d->reg);
        m = *sse_xmm(cpu, d->rm);
        n = 16;
    }
    X86DecodedInsn at = *d;
    at.mod = 0;
    at.base = R_EDI;
    at.index = X86_REG_NONE;
    at.disp = 0;
    at.rip_rel = 0;
    if (m.q[0] & 0x8080808080808080ull || (n == 16 && m.q[1] & 0x8080808080808080ull)) {
        x86_ext_probe(cpu, &at, n, true); /* all or nothing on a fault */
    }
    for (unsigned i = 0; i < n; i++) {
        if (m.b[i] & 0x80) {
            x86_ext_store(cpu, &at, i, &v.b[i], 1);
        }
    }
}
