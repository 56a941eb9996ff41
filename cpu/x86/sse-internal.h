/*
 * Shared definitions of the MMX/SSE half of the extension (sse-*.c): how the
 * decoder (sse-decode.c) fills insn->op / op2 / aux for the handlers, the
 * operand helpers (XMM and MMX registers, memory operands), the MMX state
 * transition of SDM vol. 1, 9.5.1 and the MXCSR bits of SDM vol. 1, 10.2.3.
 */
#ifndef KESTREL_CPU_X86_SSE_INTERNAL_H
#define KESTREL_CPU_X86_SSE_INTERNAL_H

#include <string.h>

#include "cpu/x86/ext-internal.h"

/* insn->op2: memory operand size in the low 5 bits (0 means 16), and: */
enum {
    SSE_MMX = 0x80,       /* the MMX (0F map, no prefix) form: 64-bit operands */
    SSE_UNALIGNED = 0x40, /* a 16-byte memory operand need not be aligned */
    SSE_SIZE_MASK = 0x1f,
};

/* MXCSR (SDM vol. 1, 10.2.3) */
enum {
    MXCSR_IE = 1u << 0, MXCSR_DE = 1u << 1, MXCSR_ZE = 1u << 2,
    MXCSR_OE = 1u << 3, MXCSR_UE = 1u << 4, MXCSR_PE = 1u << 5,
    MXCSR_DAZ = 1u << 6, MXCSR_MASK_SHIFT = 7, MXCSR_RC_SHIFT = 13,
    MXCSR_FTZ = 1u << 15, MXCSR_FLAGS = 0x3f,
};

/* A packed-integer operation: dst = op(dst, src) over `n` bytes (8 for MMX,
 * 16 for XMM); `imm` is the instruction's imm8.  src never aliases dst. */
typedef void (*SsePintFn)(XmmReg *dst, const XmmReg *src, unsigned n,
                          unsigned imm);

static inline XmmReg *sse_xmm(X86Cpu *cpu, unsigned r)
{
    return &cpu->env->fpu.xmm[r & 15];
}

static inline unsigned sse_msize(const X86DecodedInsn *d)
{
    unsigned s = d->op2 & SSE_SIZE_MASK;
    return s ? s : 16;
}

/* The ModRM.rm source operand of an XMM instruction, copied into *out:
 * the register, or sse_msize() bytes of memory zero-extended (16-byte
 * operands aligned unless SSE_UNALIGNED). */
static inline void sse_src(X86Cpu *cpu, const X86DecodedInsn *d, XmmReg *out)
{
    if (d->mod == 3) {
        *out = *sse_xmm(cpu, d->rm);
        return;
    }
    unsigned size = sse_msize(d);
    if (size == 16 && !(d->op2 & SSE_UNALIGNED)) {
        x86_ext_check_align(cpu, d, 16);
    }
    out->q[0] = out->q[1] = 0;
    x86_ext_load(cpu, d, 0, out, size);
}

/* MMX: entering MMX state sets TOP to 0 and tags every register valid; a
 * pending unmasked x87 exception raises #MF first (SDM vol. 1, 9.5-9.6). */
static inline void sse_mmx_enter(X86Cpu *cpu)
{
    X86FpuState *f = &cpu->env->fpu;
    x86_ext_check_mmx(cpu);
    if (f->fsw & 0x80) {
        x86_ext_raise(cpu, EXC_MF);
    }
    f->fsw &= ~0x3800;
    f->ftw = 0xff;
}

static inline uint64_t sse_mm_get(X86Cpu *cpu, unsigned r)
{
    return cpu->env->fpu.st[r & 7].mant;
}

static inline void sse_mm_set(X86Cpu *cpu, unsigned r, uint64_t v)
{
    cpu->env->fpu.st[r & 7].mant = v;
    cpu->env->fpu.st[r & 7].sign_exp = 0xffff;
}

/* The ModRM.rm source of an MMX instruction (register or 8 bytes, or
 * sse_msize() bytes when smaller). */
static inline uint64_t sse_mm_src(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t v = 0;
    if (d->mod == 3) {
        return sse_mm_get(cpu, d->rm);
    }
    unsigned size = sse_msize(d);
    x86_ext_load(cpu, d, 0, &v, size > 8 ? 8 : size);
    return v;
}

/* #XM when CR4.OSXMMEXCPT, else #UD: an unmasked SIMD floating-point
 * exception (SDM vol. 3, 6.15 interrupt 19). */
G_NORETURN void sse_raise_simd(X86Cpu *cpu);

/* Packed-integer and bitwise operations of sse_pint_fns (sse-int.c,
 * sse-shuffle.c).  Bitwise float forms (ANDPS...), the unpacks of floats and
 * the half-register moves use the same table. */
enum {
    PI_PADDB, PI_PADDW, PI_PADDD, PI_PADDQ, PI_PADDSB, PI_PADDSW, PI_PADDUSB,
    PI_PADDUSW, PI_PSUBB, PI_PSUBW, PI_PSUBD, PI_PSUBQ, PI_PSUBSB, PI_PSUBSW,
    PI_PSUBUSB, PI_PSUBUSW, PI_PMULLW, PI_PMULHW, PI_PMULHUW, PI_PMULUDQ,
    PI_PMADDWD, PI_PSADBW, PI_PAVGB, PI_PAVGW, PI_PMINUB, PI_PMAXUB,
    PI_PMINSW, PI_PMAXSW, PI_PAND, PI_PANDN, PI_POR, PI_PXOR,
    PI_PCMPEQB, PI_PCMPEQW, PI_PCMPEQD, PI_PCMPEQQ, PI_PCMPGTB, PI_PCMPGTW,
    PI_PCMPGTD, PI_PCMPGTQ,
    PI_PSRLW, PI_PSRLD, PI_PSRLQ, PI_PSRAW, PI_PSRAD, PI_PSLLW, PI_PSLLD,
    PI_PSLLQ, PI_PSRLDQ, PI_PSLLDQ,
    /* SSSE3 */
    PI_PHADDW, PI_PHADDD, PI_PHADDSW, PI_PHSUBW, PI_PHSUBD, PI_PHSUBSW,
    PI_PMADDUBSW, PI_PMULHRSW, PI_PSIGNB, PI_PSIGNW, PI_PSIGND, PI_PABSB,
    PI_PABSW, PI_PABSD,
    /* SSE4.1 */
    PI_PMULDQ, PI_PMULLD, PI_PMINSB, PI_PMINSD, PI_PMINUW, PI_PMINUD,
    PI_PMAXSB, PI_PMAXSD, PI_PMAXUW, PI_PMAXUD, PI_MPSADBW,
    PI_PCLMULQDQ,
    /* sse-shuffle.c */
    PI_PUNPCKLBW, PI_PUNPCKLWD, PI_PUNPCKLDQ, PI_PUNPCKLQDQ, PI_PUNPCKHBW,
    PI_PUNPCKHWD, PI_PUNPCKHDQ, PI_PUNPCKHQDQ, PI_PACKSSWB, PI_PACKSSDW,
    PI_PACKUSWB, PI_PACKUSDW, PI_PSHUFW, PI_PSHUFD, PI_PSHUFLW, PI_PSHUFHW,
    PI_PSHUFB, PI_PALIGNR, PI_SHUFPS, PI_SHUFPD, PI_BLENDPS, PI_BLENDPD,
    PI_PBLENDW, PI_PMOVSXBW, PI_PMOVSXBD, PI_PMOVSXBQ, PI_PMOVSXWD,
    PI_PMOVSXWQ, PI_PMOVSXDQ, PI_PMOVZXBW, PI_PMOVZXBD, PI_PMOVZXBQ,
    PI_PMOVZXWD, PI_PMOVZXWQ, PI_PMOVZXDQ,
    PI_COPY,        /* dst = src (loads: MOVAPS... and zero-extending loads) */
    PI_MOVLO64,     /* dst.q0 = src.q0 (MOVLPS/MOVLPD load, MOVSD reg) */
    PI_MOVHI64,     /* dst.q1 = src.q0 (MOVHPS/MOVHPD load, MOVLHPS) */
    PI_MOVHLPS,     /* dst.q0 = src.q1 */
    PI_MOVLO32,     /* dst.d0 = src.d0 (MOVSS reg) */
    PI_MOVQZX,      /* dst.q0 = src.q0, dst.q1 = 0 (MOVQ xmm, xmm/m64) */
    PI_MOVSLDUP, PI_MOVSHDUP, PI_MOVDDUP,
    PI_COUNT
};

/* sse_mov_store kinds (op) */
enum { SSE_ST_FULL, SSE_ST_LO32, SSE_ST_LO64, SSE_ST_HI64, SSE_ST_QZX };
/* sse_mov_gpr directions (op) */
enum { SSE_GPR_TO_VEC, SSE_VEC_TO_GPR };
/* sse_mov_mmx kinds (op) */
enum { SSE_MM_STORE, SSE_MM_Q2DQ, SSE_MM_DQ2Q };

/* Floating-point operations (sse_fp_arith: op) and shapes (aux) */
enum { FP_ADD, FP_SUB, FP_MUL, FP_DIV, FP_MIN, FP_MAX, FP_SQRT, FP_RCP,
       FP_RSQRT, FP_HADD, FP_HSUB, FP_ADDSUB };
enum { FPS_PS, FPS_PD, FPS_SS, FPS_SD };

/* Conversions (sse_cvt: op) */
enum {
    CV_PI2PS, CV_PI2PD, CV_SI2SS, CV_SI2SD, CV_TPS2PI, CV_TPD2PI, CV_TSS2SI,
    CV_TSD2SI, CV_PS2PI, CV_PD2PI, CV_SS2SI, CV_SD2SI, CV_PS2PD, CV_PD2PS,
    CV_SS2SD, CV_SD2SS, CV_DQ2PS, CV_PS2DQ, CV_TPS2DQ, CV_TPD2DQ, CV_DQ2PD,
    CV_PD2DQ,
};

extern const SsePintFn sse_shuffle_fns[];

/* handlers by file */
#define SSE_H(name) void sse_##name(X86Cpu *cpu, const X86DecodedInsn *d)
/* sse-int.c: op indexes sse_pint_fns; the generic MMX/XMM two-operand form
 * and the shift-by-immediate groups 0F 71..73 (rm is the destination) */
extern const SsePintFn sse_pint_fns[];
SSE_H(pint);
SSE_H(pint_shift_imm);
SSE_H(pxor_xmm);
SSE_H(pcmpeqb_xmm);
SSE_H(pmovmskb);
SSE_H(ptest);
SSE_H(pextrw);
SSE_H(pinsrw);
SSE_H(pext);          /* PEXTRB/W/D/Q, EXTRACTPS: op = element size */
SSE_H(pins);          /* PINSRB/D/Q: op = element size */
SSE_H(insertps);
SSE_H(maskmov);
SSE_H(phminposuw);
SSE_H(blendv);        /* op: element size; XMM0 is the mask */

/* sse-move.c */
SSE_H(mov_load);       /* xmm[reg] = rm, 16 bytes */
SSE_H(mov_store);      /* rm = xmm[reg], 16 bytes (aligned unless SSE_UNALIGNED) */
SSE_H(mov_scalar);     /* MOVSS/MOVSD and 64-bit forms: op = kind */
SSE_H(mov_gpr);        /* MOVD/MOVQ between GPR/memory and MMX/XMM: op = kind */
SSE_H(mov_mmx);        /* MOVQ mm forms, MOVQ2DQ, MOVDQ2Q, MOVNTQ: op = kind */
SSE_H(movmsk);         /* MOVMSKPS/PD: op = element size */
SSE_H(mxcsr);          /* op 0 LDMXCSR, 1 STMXCSR */
SSE_H(emms);

/* sse-fp.c */
SSE_H(fp_arith);       /* op = operation, aux = lanes / scalar / double */
SSE_H(fp_cmp);         /* CMPPS/PD/SS/SD */
SSE_H(fp_comi);        /* COMISS/UCOMISS/COMISD/UCOMISD */
SSE_H(fp_logic);       /* ANDPS ANDNPS ORPS XORPS (and PD) */
SSE_H(fp_dp);          /* DPPS/DPPD */

/* sse-convert.c */
SSE_H(cvt);            /* op = conversion kind */
SSE_H(round);          /* ROUNDPS/PD/SS/SD */

/* sse-string.c */
SSE_H(pcmpstr);        /* op bit 0: index (I) vs mask (M); bit 1: explicit length */

/* sse-crc.c */
SSE_H(crc32);          /* op = source size */

#endif
