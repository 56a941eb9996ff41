/*
 * The MMX/SSE group of the differential test (difftest.h): random MMX, SSE,
 * SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2 instructions with register and
 * [rbx+disp8] memory operands, in 64- and 32-bit code.  start() seeds the
 * XMM registers and the start of the data page with special values (signed
 * zeros, infinities, quiet and signalling NaNs, denormals, extremes, small
 * integers) for float lanes of both widths; the harness supplies a random
 * MXCSR rounding mode, DAZ and FTZ.  RCPPS/RSQRTPS results are compared
 * with a tolerance (g->xmm_approx): hardware uses its own tables.
 */
#include "tests/cpu/difftest.h"

/* operand shapes */
enum {
    X,      /* xmm, xmm/m128 aligned */
    XU,     /* xmm, xmm/m128 unaligned */
    X8,     /* xmm, xmm/m64 */
    X4,     /* xmm, xmm/m32 */
    X2,     /* xmm, xmm/m16 */
    XR,     /* xmm, xmm (register only) */
    XM8,    /* xmm, m64 (memory only) */
    XMU,    /* xmm, m128 unaligned (memory only) */
    XMA,    /* xmm, m128 aligned (memory only) */
    SX,     /* store: xmm/m128 aligned <- xmm */
    SXU,    /* store: xmm/m128 unaligned <- xmm */
    SX8,    /* store: xmm/m64 <- xmm */
    SX4,    /* store: xmm/m32 <- xmm */
    SM8,    /* store: m64 <- xmm (memory only) */
    SMA,    /* store: m128 aligned <- xmm (memory only) */
    M,      /* mm, mm/m64 */
    M4,     /* mm, mm/m32 */
    SM,     /* store: mm/m64 <- mm */
    SMM8,   /* store: m64 <- mm (memory only) */
    XM,     /* xmm, mm/m64 (CVTPI2Px) */
    MX8,    /* mm, xmm/m64 (CVTPS2PI) */
    MX,     /* mm, xmm/m128 aligned (CVTPD2PI) */
    GX4,    /* r32/64, xmm/m32 (CVTSS2SI) */
    GX8,    /* r32/64, xmm/m64 */
    XG,     /* xmm, r/m32/64 (CVTSI2Sx, MOVD/MOVQ) */
    MG,     /* mm, r/m32/64 (MOVD) */
    GSX,    /* r/m32/64 <- xmm (MOVD store) */
    GSM,    /* r/m32/64 <- mm */
    GRX,    /* r32 <- xmm register (PMOVMSKB, MOVMSKPS, PEXTRW C5) */
    GRM,    /* r32 <- mm register */
    XGB,    /* xmm, r32/m8 (PINSRB) */
    XGW,    /* xmm, r32/m16 (PINSRW) */
    MGW,    /* mm, r32/m16 (PINSRW) */
    GSXB,   /* r32/m8 <- xmm (PEXTRB) */
    GSXW,   /* r32/m16 <- xmm (PEXTRW 3A 15) */
    GSX4,   /* r32/m32 <- xmm (EXTRACTPS) */
    SHX,    /* shift group on xmm register, /digit in aux */
    SHM,    /* shift group on mm register */
    XMM0,   /* xmm, xmm/m128 aligned, reads XMM0 (BLENDV): dst != 0 */
    CRC,    /* CRC32 r, r/m (aux: 0 byte, 1 word/dword/qword) */
    STR,    /* PCMPxSTRx: reads EAX/EDX, writes ECX or XMM0 */
    MQ2DQ,  /* MOVQ2DQ xmm, mm */
    MDQ2Q,  /* MOVDQ2Q mm, xmm */
    MSKX,   /* MASKMOVDQU */
    MSKM,   /* MASKMOVQ */
};

/* instruction flags */
enum {
    IMM = 1,      /* an imm8 follows */
    FLAGS = 2,    /* writes all six arithmetic flags */
    W = 4,        /* REX.W form allowed (64-bit code) */
    APPROX = 8,   /* RCPPS/RSQRTPS: the destination is compared loosely */
    MMX = 16,     /* touches the x87/MMX registers */
    IMM_RND = 32, /* ROUNDx: imm8 limited to 0..15 */
    IMM_CMP = 64, /* CMPPS: imm8 limited to 0..7 */
};

typedef struct Insn {
    uint8_t pfx, map, opc, shape, flags, aux;
} Insn;

#define P0 0
#define P66 0x66
#define PF3 0xf3
#define PF2 0xf2
#define M0F 1
#define M38 2
#define M3A 3

static const Insn insns[] = {
    /* moves */
    { P0, M0F, 0x10, XU }, { P66, M0F, 0x10, XU }, { PF3, M0F, 0x10, X4 }, { PF2, M0F, 0x10, X8 },
    { P0, M0F, 0x11, SXU }, { P66, M0F, 0x11, SXU }, { PF3, M0F, 0x11, SX4 }, { PF2, M0F, 0x11, SX8 },
    { P0, M0F, 0x12, XR }, { P0, M0F, 0x12, XM8 }, { P66, M0F, 0x12, XM8 },
    { PF3, M0F, 0x12, X }, { PF2, M0F, 0x12, X8 },
    { P0, M0F, 0x13, SM8 }, { P66, M0F, 0x13, SM8 },
    { P0, M0F, 0x16, XR }, { P0, M0F, 0x16, XM8 }, { P66, M0F, 0x16, XM8 }, { PF3, M0F, 0x16, X },
    { P0, M0F, 0x17, SM8 }, { P66, M0F, 0x17, SM8 },
    { P0, M0F, 0x14, X }, { P66, M0F, 0x14, X }, { P0, M0F, 0x15, X }, { P66, M0F, 0x15, X },
    { P0, M0F, 0x28, X }, { P66, M0F, 0x28, X }, { P0, M0F, 0x29, SX }, { P66, M0F, 0x29, SX },
    { P0, M0F, 0x2b, SMA }, { P66, M0F, 0x2b, SMA },
    { P0, M0F, 0x50, GRX }, { P66, M0F, 0x50, GRX },
    { P66, M0F, 0x6e, XG, W }, { P66, M0F, 0x7e, GSX, W }, { PF3, M0F, 0x7e, X8 },
    { P0, M0F, 0x6e, MG, W | MMX }, { P0, M0F, 0x7e, GSM, W | MMX },
    { P0, M0F, 0x6f, M, MMX }, { P0, M0F, 0x7f, SM, MMX }, { P0, M0F, 0xe7, SMM8, MMX },
    { P66, M0F, 0x6f, X }, { PF3, M0F, 0x6f, XU }, { P66, M0F, 0x7f, SX }, { PF3, M0F, 0x7f, SXU },
    { P66, M0F, 0xd6, SX8 }, { PF3, M0F, 0xd6, MQ2DQ, MMX }, { PF2, M0F, 0xd6, MDQ2Q, MMX },
    { P66, M0F, 0xe7, SMA }, { PF2, M0F, 0xf0, XMU }, { P66, M38, 0x2a, XMA },
    { P66, M0F, 0xf7, MSKX }, { P0, M0F, 0xf7, MSKM, MMX },
    /* float arithmetic: 51 sqrt, 58 add, 59 mul, 5c sub, 5d min, 5e div, 5f max */
    { P0, M0F, 0x51, X }, { P66, M0F, 0x51, X }, { PF3, M0F, 0x51, X4 }, { PF2, M0F, 0x51, X8 },
    { P0, M0F, 0x52, X, APPROX }, { PF3, M0F, 0x52, X4, APPROX },
    { P0, M0F, 0x53, X, APPROX }, { PF3, M0F, 0x53, X4, APPROX },
    { P0, M0F, 0x54, X }, { P66, M0F, 0x54, X }, { P0, M0F, 0x55, X }, { P66, M0F, 0x55, X },
    { P0, M0F, 0x56, X }, { P66, M0F, 0x56, X }, { P0, M0F, 0x57, X }, { P66, M0F, 0x57, X },
#define FPARITH(o) { P0, M0F, o, X }, { P66, M0F, o, X }, { PF3, M0F, o, X4 }, { PF2, M0F, o, X8 }
    FPARITH(0x58), FPARITH(0x59), FPARITH(0x5c), FPARITH(0x5d), FPARITH(0x5e), FPARITH(0x5f),
    { P66, M0F, 0x7c, X }, { PF2, M0F, 0x7c, X }, { P66, M0F, 0x7d, X }, { PF2, M0F, 0x7d, X },
    { P66, M0F, 0xd0, X }, { PF2, M0F, 0xd0, X },
    { P0, M0F, 0xc2, X, IMM_CMP }, { P66, M0F, 0xc2, X, IMM_CMP },
    { PF3, M0F, 0xc2, X4, IMM_CMP }, { PF2, M0F, 0xc2, X8, IMM_CMP },
    { P0, M0F, 0x2e, X4, FLAGS }, { P66, M0F, 0x2e, X8, FLAGS },
    { P0, M0F, 0x2f, X4, FLAGS }, { P66, M0F, 0x2f, X8, FLAGS },
    { P0, M0F, 0xc6, X, IMM }, { P66, M0F, 0xc6, X, IMM },
    { P66, M3A, 0x40, X, IMM }, { P66, M3A, 0x41, X, IMM },
    { P66, M3A, 0x08, X, IMM_RND }, { P66, M3A, 0x09, X, IMM_RND },
    { P66, M3A, 0x0a, X4, IMM_RND }, { P66, M3A, 0x0b, X8, IMM_RND },
    /* conversions */
    { P0, M0F, 0x2a, XM, MMX }, { P66, M0F, 0x2a, XM, MMX },
    { PF3, M0F, 0x2a, XG, W }, { PF2, M0F, 0x2a, XG, W },
    { P0, M0F, 0x2c, MX8, MMX }, { P66, M0F, 0x2c, MX, MMX },
    { PF3, M0F, 0x2c, GX4, W }, { PF2, M0F, 0x2c, GX8, W },
    { P0, M0F, 0x2d, MX8, MMX }, { P66, M0F, 0x2d, MX, MMX },
    { PF3, M0F, 0x2d, GX4, W }, { PF2, M0F, 0x2d, GX8, W },
    { P0, M0F, 0x5a, X8 }, { P66, M0F, 0x5a, X }, { PF3, M0F, 0x5a, X4 }, { PF2, M0F, 0x5a, X8 },
    { P0, M0F, 0x5b, X }, { P66, M0F, 0x5b, X }, { PF3, M0F, 0x5b, X },
    { P66, M0F, 0xe6, X }, { PF3, M0F, 0xe6, X8 }, { PF2, M0F, 0xe6, X },
    /* integer: shuffles and inserts */
    { P0, M0F, 0x70, M, IMM | MMX }, { P66, M0F, 0x70, X, IMM }, { PF3, M0F, 0x70, X, IMM },
    { PF2, M0F, 0x70, X, IMM },
    { P0, M0F, 0xc4, MGW, IMM | MMX }, { P66, M0F, 0xc4, XGW, IMM },
    { P0, M0F, 0xc5, GRM, IMM | MMX }, { P66, M0F, 0xc5, GRX, IMM },
    { P0, M0F, 0xd7, GRM, MMX }, { P66, M0F, 0xd7, GRX },
    { P66, M0F, 0x6c, X }, { P66, M0F, 0x6d, X },
    { P0, M0F, 0x71, SHM, IMM | MMX, 2 }, { P0, M0F, 0x71, SHM, IMM | MMX, 4 },
    { P0, M0F, 0x71, SHM, IMM | MMX, 6 }, { P0, M0F, 0x72, SHM, IMM | MMX, 2 },
    { P0, M0F, 0x72, SHM, IMM | MMX, 4 }, { P0, M0F, 0x72, SHM, IMM | MMX, 6 },
    { P0, M0F, 0x73, SHM, IMM | MMX, 2 }, { P0, M0F, 0x73, SHM, IMM | MMX, 6 },
    { P66, M0F, 0x71, SHX, IMM, 2 }, { P66, M0F, 0x71, SHX, IMM, 4 }, { P66, M0F, 0x71, SHX, IMM, 6 },
    { P66, M0F, 0x72, SHX, IMM, 2 }, { P66, M0F, 0x72, SHX, IMM, 4 }, { P66, M0F, 0x72, SHX, IMM, 6 },
    { P66, M0F, 0x73, SHX, IMM, 2 }, { P66, M0F, 0x73, SHX, IMM, 3 }, { P66, M0F, 0x73, SHX, IMM, 6 },
    { P66, M0F, 0x73, SHX, IMM, 7 },
    /* SSSE3 / SSE4.1 / SSE4.2 with an immediate or special operands */
    { P0, M3A, 0x0f, M, IMM | MMX }, { P66, M3A, 0x0f, X, IMM },
    { P66, M3A, 0x0c, X, IMM }, { P66, M3A, 0x0d, X, IMM }, { P66, M3A, 0x0e, X, IMM },
    { P66, M3A, 0x42, X, IMM }, { P66, M3A, 0x44, X, IMM },
    { P66, M3A, 0x14, GSXB, IMM }, { P66, M3A, 0x15, GSXW, IMM }, { P66, M3A, 0x16, GSX, IMM | W },
    { P66, M3A, 0x17, GSX4, IMM }, { P66, M3A, 0x20, XGB, IMM }, { P66, M3A, 0x21, X4, IMM },
    { P66, M3A, 0x22, XG, IMM | W },
    { P66, M38, 0x10, XMM0 }, { P66, M38, 0x14, XMM0 }, { P66, M38, 0x15, XMM0 },
    { P66, M38, 0x17, X, FLAGS }, { P66, M38, 0x41, X },
    { P66, M38, 0x20, X8 }, { P66, M38, 0x21, X4 }, { P66, M38, 0x22, X2 },
    { P66, M38, 0x23, X8 }, { P66, M38, 0x24, X4 }, { P66, M38, 0x25, X8 },
    { P66, M38, 0x30, X8 }, { P66, M38, 0x31, X4 }, { P66, M38, 0x32, X2 },
    { P66, M38, 0x33, X8 }, { P66, M38, 0x34, X4 }, { P66, M38, 0x35, X8 },
    { PF2, M38, 0xf0, CRC, W, 0 }, { PF2, M38, 0xf1, CRC, W, 1 },
    { P66, M3A, 0x60, STR, IMM | FLAGS | W }, { P66, M3A, 0x61, STR, IMM | FLAGS | W },
    { P66, M3A, 0x62, STR, IMM | FLAGS }, { P66, M3A, 0x63, STR, IMM | FLAGS },
};

/* Two-operand packed-integer opcodes of map 0F with MMX and XMM forms. */
static const uint8_t pint_0f[] = {
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76,
    0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3,
    0xf4, 0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
};
/* Map 0F38 packed-integer opcodes: SSSE3 (MMX and XMM forms), then SSE4 (XMM). */
static const uint8_t pint_0f38_mmx[] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x1c, 0x1d, 0x1e,
};
static const uint8_t pint_0f38_xmm[] = {
    0x28, 0x29, 0x2b, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40,
};

static unsigned nregs(const Gen *g)
{
    return g->m32 ? 8 : 16;
}

/* An XMM register that holds an exact value (not a loose RCP result). */
static unsigned pick_xmm(Gen *g)
{
    for (;;) {
        unsigned r = rn(g, nregs(g));
        if (!(g->xmm_approx & (1u << r))) {
            return r;
        }
    }
}

/* An MMX register (a physical x87 register) whose value is exact: the x87
 * group marks approximate results in g->x87_approx.  8 when none is. */
static unsigned pick_mm(Gen *g)
{
    if (g->x87_approx == 0xff) {
        return 8;
    }
    for (;;) {
        unsigned r = rn(g, 8);
        if (!(g->x87_approx & (1u << r))) {
            return r;
        }
    }
}

static void emit_prefixes(Gen *g, const Insn *in, unsigned reg, unsigned rm, bool mem, bool w)
{
    if (in->pfx) {
        emit(g, in->pfx);
    }
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | (!mem && (rm & 8) ? 1 : 0));
    if (rex != 0x40 || (!g->m32 && rn(g, 8) == 0)) {
        emit_rex(g, rex);
    }
    emit(g, 0x0f);
    if (in->map == M38) {
        emit(g, 0x38);
    } else if (in->map == M3A) {
        emit(g, 0x3a);
    }
    emit(g, in->opc);
}

/* The ModRM (and disp8) of a register or [rbx+disp8] operand; `align`
 * keeps the displacement a multiple of 16. */
static void emit_modrm(Gen *g, unsigned reg, unsigned rm, bool mem, bool align)
{
    if (mem) {
        emit_mem_rbx(g, reg, (uint8_t)(align ? rn(g, 8) * 16 : rn(g, 0x70)));
    } else {
        emit(g, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
    }
}

static void emit_imm(Gen *g, const Insn *in)
{
    if (in->flags & IMM_RND) {
        emit(g, (uint8_t)rn(g, 16));
    } else if (in->flags & IMM_CMP) {
        emit(g, (uint8_t)rn(g, 8));
    } else if (in->flags & IMM) {
        emit(g, (uint8_t)rnd(g));
    }
}

/* x87 state after an MMX instruction: TOP 0, every register valid (the
 * x87 group's model follows). */
static void mmx_touched(Gen *g)
{
    g->x87_top = 0;
    g->x87_valid = 0xff;
}

static bool emit_insn(Gen *g, const Insn *in)
{
    if (in->shape == XMM0 && (g->xmm_approx & 1)) {
        return false;
    }
    bool mem = rn(g, 3) == 0, w = (in->flags & W) && !g->m32 && rn(g, 2);
    unsigned xr = pick_xmm(g), xs = pick_xmm(g), mr = pick_mm(g), ms = pick_mm(g);
    if ((in->flags & MMX) && mr == 8) {
        return false;
    }
    unsigned gr = pick_reg(g), gs = pick_reg(g);
    unsigned reg = xr, rm = xs;
    bool align = true;
    switch (in->shape) {
    case X: case XMM0: break;
    case XU: case SXU: align = false; break;
    case X8: case X4: case X2: case SX8: case SX4: align = false; break;
    case XR: mem = false; break;
    case XM8: case SM8: mem = true; align = false; break;
    case XMU: mem = true; align = false; break;
    case XMA: case SMA: mem = true; break;
    case SX: break;
    case M: case M4: case SM: reg = mr; rm = ms; align = false; break;
    case SMM8: reg = mr; mem = true; align = false; break;
    case XM: rm = ms; align = false; break;
    case MX8: reg = mr; align = false; break;
    case MX: reg = mr; break;
    case GX4: case GX8: reg = gr; align = false; break;
    case XG: case XGB: case XGW: rm = gs; align = false; break;
    case MG: case MGW: reg = mr; rm = gs; align = false; break;
    case GSX: case GSXB: case GSXW: case GSX4: rm = gs; align = false; break;
    case GSM: reg = mr; rm = gs; align = false; break;
    case GRX: reg = gr; mem = false; break;
    case GRM: reg = gr; rm = ms; mem = false; break;
    case SHX: reg = in->aux; rm = xr; mem = false; break;
    case SHM: reg = in->aux; rm = mr; mem = false; break;
    case CRC: reg = gr; rm = gs; align = false; break;
    case STR: align = false; break;
    case MQ2DQ: rm = ms; mem = false; break;
    case MDQ2Q: reg = mr; mem = false; break;
    case MSKX: case MSKM: {
        /* lea edi/rdi, [rbx+disp8] */
        emit_rex(g, 0x48);
        emit(g, 0x8d);
        emit(g, 0x7b);
        emit(g, (uint8_t)rn(g, 0x70));
        mem = false;
        if (in->shape == MSKM) {
            reg = mr;
            rm = ms;
        }
        break;
    }
    }
    while (in->shape == XMM0 && (reg == 0 || (g->xmm_approx & (1u << reg)))) {
        reg = rn(g, nregs(g)); /* XMM0 is the mask */
    }
    if (in->flags & APPROX) {
        while (reg == 0 || (g->xmm_approx & (1u << reg))) {
            reg = rn(g, nregs(g));
        }
    }
    if (in->shape == STR && !(in->opc & 2)) {
        /* explicit lengths: mov eax/edx, small signed values */
        emit_osize(g, 4);
        emit(g, 0xb8);
        emit_n(g, (uint32_t)((int32_t)rn(g, 41) - 20), 4);
        emit_osize(g, 4);
        emit(g, 0xba);
        emit_n(g, (uint32_t)((int32_t)rn(g, 41) - 20), 4);
    }
    if (in->shape == CRC && in->aux == 1) {
        bool src16 = rn(g, 3) == 0;
        emit_osize(g, src16 ? 2 : 4); /* a 16- or 32-bit source */
        if (src16) {
            w = false;
        }
    }
    emit_prefixes(g, in, reg, rm, mem, w);
    emit_modrm(g, reg, rm, mem, align);
    emit_imm(g, in);
    if (in->flags & APPROX) {
        g->xmm_approx |= (uint16_t)(1u << reg);
    }
    if ((in->flags & MMX) && !(in->shape == XM && mem)) {
        mmx_touched(g); /* CVTPI2Px from memory leaves the x87 state alone */
    }
    if (in->flags & FLAGS) {
        g->unknown = 0;
    }
    return true;
}

/* A two-operand packed-integer instruction, MMX or XMM form. */
static bool emit_pint(Gen *g, uint8_t map, uint8_t opc, bool mmx)
{
    Insn in = { mmx ? P0 : P66, map, opc, mmx ? M : X, mmx ? MMX : 0, 0 };
    if (mmx && map == M0F && opc >= 0x60 && opc <= 0x62) {
        in.shape = M4;
    }
    return emit_insn(g, &in);
}

/* LDMXCSR of a random control word (exceptions stay masked: the harness
 * needs every run to finish), STMXCSR, EMMS. */
static bool emit_state(Gen *g)
{
    uint8_t d = (uint8_t)(rn(g, 0x1d) * 4);
    switch (rn(g, 3)) {
    case 0: {
        uint32_t m = 0x1f80u | (uint32_t)(rn(g, 4) << 13) | (uint32_t)(rnd(g) & 0x3f);
        if (rn(g, 3) == 0) {
            m |= 0x8000; /* FTZ */
        }
        if (rn(g, 3) == 0) {
            m |= 0x40; /* DAZ */
        }
        emit_osize(g, 4);
        emit(g, 0xc7); /* mov dword [rbx+d], imm32 */
        emit_mem_rbx(g, 0, d);
        emit_n(g, m, 4);
        emit(g, 0x0f);
        emit(g, 0xae);
        emit_mem_rbx(g, 2, d);
        return true;
    }
    case 1:
        emit(g, 0x0f);
        emit(g, 0xae);
        emit_mem_rbx(g, 3, d);
        return true;
    default:
        emit(g, 0x0f);
        emit(g, 0x77);
        g->x87_valid = 0; /* EMMS: every tag empty, TOP 0 */
        g->x87_top = 0;
        return true;
    }
}

static bool sse_one(Gen *g)
{
    unsigned k = rn(g, 10);
    if (rn(g, 24) == 0) {
        return emit_state(g);
    }
    if (k < 3) {
        return emit_pint(g, M0F, pint_0f[rn(g, sizeof(pint_0f))], rn(g, 3) == 0);
    }
    if (k < 4) {
        if (rn(g, 2)) {
            return emit_pint(g, M38, pint_0f38_mmx[rn(g, sizeof(pint_0f38_mmx))], rn(g, 3) == 0);
        }
        return emit_pint(g, M38, pint_0f38_xmm[rn(g, sizeof(pint_0f38_xmm))], false);
    }
    const Insn *in = &insns[rn(g, sizeof(insns) / sizeof(insns[0]))];
    if ((in->flags & APPROX) && __builtin_popcount(g->xmm_approx) >= 3) {
        return false;
    }
    return emit_insn(g, in);
}

/* Special float values for the lanes of the initial registers and data. */
static uint32_t special32(Gen *g)
{
    static const uint32_t v[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
        0x7fa00001, 0xff800123, 0x00000001, 0x807fffff, 0x00400000, 0x00800000,
        0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000, 0x4f000000, 0xcf000000,
        0x5f000000, 0x3f000000, 0x4b7fffff, 0x3fc00000,
    };
    switch (rn(g, 3)) {
    case 0: return v[rn(g, sizeof(v) / sizeof(v[0]))];
    case 1: { /* a small integer or half-integer */
        int32_t i = (int32_t)rn(g, 2001) - 1000;
        float f = (float)i / (rn(g, 2) ? 1.0f : 2.0f);
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    }
    default: /* a random value of moderate exponent */
        return (uint32_t)((rnd(g) & 0x807fffffu) | ((uint32_t)(100 + rn(g, 56)) << 23));
    }
}

static uint64_t special64(Gen *g)
{
    static const uint64_t v[] = {
        0, 0x8000000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
        0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff4000000000001ull,
        0x0000000000000001ull, 0x800fffffffffffffull, 0x0010000000000000ull,
        0x7fefffffffffffffull, 0x3ff0000000000000ull, 0xbff8000000000000ull,
        0x41e0000000000000ull, 0xc1e0000000200000ull, 0x43e0000000000000ull,
        0x3810000000000000ull, 0x47efffffe0000000ull, 0x36a0000000000000ull,
    };
    switch (rn(g, 3)) {
    case 0: return v[rn(g, sizeof(v) / sizeof(v[0]))];
    case 1: {
        double f = (double)((int64_t)rn(g, 200001) - 100000) / (rn(g, 2) ? 1.0 : 4.0);
        uint64_t u;
        memcpy(&u, &f, 8);
        return u;
    }
    default: /* moderate exponent, sometimes near the single-precision range */
        return (rnd(g) & 0x800fffffffffffffull) |
               ((uint64_t)(rn(g, 2) ? 1023 - 60 + rn(g, 120) : 1023 - 150 + rn(g, 30)) << 52);
    }
}

static void fill_special(Gen *g, uint8_t *p, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i += 16) {
        switch (rn(g, 3)) {
        case 0: /* keep random bits (integer data) */
            break;
        case 1:
            for (unsigned j = 0; j < 16; j += 4) {
                uint32_t v = special32(g);
                memcpy(p + i + j, &v, 4);
            }
            break;
        default:
            for (unsigned j = 0; j < 16; j += 8) {
                uint64_t v = special64(g);
                memcpy(p + i + j, &v, 8);
            }
            break;
        }
    }
}

static void sse_start(Gen *g)
{
    g->xmm_approx = 0;
    fill_special(g, g->fx_in + FX_XMM, 16 * nregs(g));
    /* the data page: [rbx+0 .. rbx+0x7f+16) are the operands */
    fill_special(g, g->fx_in - FX_IN + DATA_BASE, 0x90);
}

const DiffGen gen_sse = { .name = "sse", .start = sse_start, .one = sse_one };
