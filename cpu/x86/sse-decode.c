/*
 * Decoding of the MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2
 * instructions (SDM vol. 2, appendix A opcode maps 0F, 0F38, 0F3A with the
 * 66/F3/F2 mandatory prefixes): picks the handler of sse-*.c once per
 * translation and fills insn->op (sub-operation), op2 (SSE_MMX, alignment,
 * memory operand size) and aux (shape).  Also the CPUID bits this half
 * implements.
 */
#include "cpu/x86/sse-internal.h"

static bool claim(X86DecodedInsn *d, X86ExecFn fn, unsigned op, unsigned op2)
{
    d->exec = fn;
    d->op = (uint8_t)op;
    d->op2 = (uint8_t)op2;
    return true;
}

/* Packed-integer opcodes of map 0F with an MMX form (no prefix) and an XMM
 * form (66): the sse_pint_fns index plus one. */
static const uint8_t pint_0f[256] = {
    [0x60] = PI_PUNPCKLBW + 1, [0x61] = PI_PUNPCKLWD + 1,
    [0x62] = PI_PUNPCKLDQ + 1, [0x63] = PI_PACKSSWB + 1,
    [0x64] = PI_PCMPGTB + 1, [0x65] = PI_PCMPGTW + 1, [0x66] = PI_PCMPGTD + 1,
    [0x67] = PI_PACKUSWB + 1, [0x68] = PI_PUNPCKHBW + 1,
    [0x69] = PI_PUNPCKHWD + 1, [0x6a] = PI_PUNPCKHDQ + 1,
    [0x6b] = PI_PACKSSDW + 1, [0x74] = PI_PCMPEQB + 1,
    [0x75] = PI_PCMPEQW + 1, [0x76] = PI_PCMPEQD + 1,
    [0xd1] = PI_PSRLW + 1, [0xd2] = PI_PSRLD + 1, [0xd3] = PI_PSRLQ + 1,
    [0xd4] = PI_PADDQ + 1, [0xd5] = PI_PMULLW + 1, [0xd8] = PI_PSUBUSB + 1,
    [0xd9] = PI_PSUBUSW + 1, [0xda] = PI_PMINUB + 1, [0xdb] = PI_PAND + 1,
    [0xdc] = PI_PADDUSB + 1, [0xdd] = PI_PADDUSW + 1, [0xde] = PI_PMAXUB + 1,
    [0xdf] = PI_PANDN + 1, [0xe0] = PI_PAVGB + 1, [0xe1] = PI_PSRAW + 1,
    [0xe2] = PI_PSRAD + 1, [0xe3] = PI_PAVGW + 1, [0xe4] = PI_PMULHUW + 1,
    [0xe5] = PI_PMULHW + 1, [0xe8] = PI_PSUBSB + 1, [0xe9] = PI_PSUBSW + 1,
    [0xea] = PI_PMINSW + 1, [0xeb] = PI_POR + 1, [0xec] = PI_PADDSB + 1,
    [0xed] = PI_PADDSW + 1, [0xee] = PI_PMAXSW + 1, [0xef] = PI_PXOR + 1,
    [0xf1] = PI_PSLLW + 1, [0xf2] = PI_PSLLD + 1, [0xf3] = PI_PSLLQ + 1,
    [0xf4] = PI_PMULUDQ + 1, [0xf5] = PI_PMADDWD + 1, [0xf6] = PI_PSADBW + 1,
    [0xf8] = PI_PSUBB + 1, [0xf9] = PI_PSUBW + 1, [0xfa] = PI_PSUBD + 1,
    [0xfb] = PI_PSUBQ + 1, [0xfc] = PI_PADDB + 1, [0xfd] = PI_PADDW + 1,
    [0xfe] = PI_PADDD + 1,
};

/* Map 0F38 00..41 (66 form; 00..0B and 1C..1E also have an MMX form). */
static const uint8_t pint_0f38[0x42] = {
    [0x00] = PI_PSHUFB + 1, [0x01] = PI_PHADDW + 1, [0x02] = PI_PHADDD + 1,
    [0x03] = PI_PHADDSW + 1, [0x04] = PI_PMADDUBSW + 1,
    [0x05] = PI_PHSUBW + 1, [0x06] = PI_PHSUBD + 1, [0x07] = PI_PHSUBSW + 1,
    [0x08] = PI_PSIGNB + 1, [0x09] = PI_PSIGNW + 1, [0x0a] = PI_PSIGND + 1,
    [0x0b] = PI_PMULHRSW + 1, [0x1c] = PI_PABSB + 1, [0x1d] = PI_PABSW + 1,
    [0x1e] = PI_PABSD + 1,
    [0x20] = PI_PMOVSXBW + 1, [0x21] = PI_PMOVSXBD + 1,
    [0x22] = PI_PMOVSXBQ + 1, [0x23] = PI_PMOVSXWD + 1,
    [0x24] = PI_PMOVSXWQ + 1, [0x25] = PI_PMOVSXDQ + 1,
    [0x28] = PI_PMULDQ + 1, [0x29] = PI_PCMPEQQ + 1, [0x2b] = PI_PACKUSDW + 1,
    [0x30] = PI_PMOVZXBW + 1, [0x31] = PI_PMOVZXBD + 1,
    [0x32] = PI_PMOVZXBQ + 1, [0x33] = PI_PMOVZXWD + 1,
    [0x34] = PI_PMOVZXWQ + 1, [0x35] = PI_PMOVZXDQ + 1,
    [0x37] = PI_PCMPGTQ + 1, [0x38] = PI_PMINSB + 1, [0x39] = PI_PMINSD + 1,
    [0x3a] = PI_PMINUW + 1, [0x3b] = PI_PMINUD + 1, [0x3c] = PI_PMAXSB + 1,
    [0x3d] = PI_PMAXSD + 1, [0x3e] = PI_PMAXUW + 1, [0x3f] = PI_PMAXUD + 1,
    [0x40] = PI_PMULLD + 1,
};

/* memory operand size of PMOVSX/ZX by (opcode & 7) */
static const uint8_t pmovx_size[6] = { 8, 4, 2, 8, 4, 8 };

static unsigned fp_shape(unsigned pfx)
{
    return pfx == 0x66 ? FPS_PD : pfx == 0xf3 ? FPS_SS : pfx == 0xf2 ? FPS_SD : FPS_PS;
}

static unsigned fp_msize(unsigned shape)
{
    return shape == FPS_SS ? 4 : shape == FPS_SD ? 8 : 0;
}

static bool claim_fp(X86DecodedInsn *d, X86ExecFn fn, unsigned op, unsigned shape)
{
    d->aux = (uint16_t)shape;
    return claim(d, fn, op, fp_msize(shape));
}

static bool claim_pint(X86DecodedInsn *d, unsigned op, unsigned op2)
{
    if (op == PI_PXOR && !(op2 & SSE_MMX)) {
        return claim(d, sse_pxor_xmm, op, op2);
    }
    if (op == PI_PCMPEQB && !(op2 & SSE_MMX)) {
        return claim(d, sse_pcmpeqb_xmm, op, op2);
    }
    return claim(d, sse_pint, op, op2);
}

static bool decode_0f(X86DecodedInsn *d)
{
    unsigned pfx = d->mandatory, opc = d->opcode, r = d->reg & 7;
    bool mem = d->mod != 3, np = pfx == 0, p66 = pfx == 0x66;
    bool f3 = pfx == 0xf3, f2 = pfx == 0xf2;

    if (pint_0f[opc] && (np || p66)) {
        unsigned op = pint_0f[opc] - 1;
        unsigned size = 0;
        if (np && opc >= 0x60 && opc <= 0x62) {
            size = 4; /* MMX PUNPCKLxx read 32 bits */
        }
        return claim_pint(d, op, np ? SSE_MMX | (size ? size : 8) : 0);
    }
    switch (opc) {
    case 0x10: /* MOVUPS MOVUPD MOVSS MOVSD (loads) */
        if (np || p66) {
            return claim(d, sse_mov_load, 0, SSE_UNALIGNED);
        }
        if (!mem) {
            return claim(d, sse_pint, f3 ? PI_MOVLO32 : PI_MOVLO64, 0);
        }
        return claim(d, sse_pint, PI_COPY, f3 ? 4 : 8);
    case 0x11:
        return claim(d, sse_mov_store, np || p66 ? SSE_ST_FULL : f3 ? SSE_ST_LO32 : SSE_ST_LO64,
                     SSE_UNALIGNED);
    case 0x12:
        if (f3) {
            return claim(d, sse_pint, PI_MOVSLDUP, 0);
        }
        if (f2) {
            return claim(d, sse_pint, PI_MOVDDUP, 8);
        }
        if (!mem) {
            return np ? claim(d, sse_pint, PI_MOVHLPS, 0) : false;
        }
        return claim(d, sse_pint, PI_MOVLO64, 8);
    case 0x16:
        if (f3) {
            return claim(d, sse_pint, PI_MOVSHDUP, 0);
        }
        if (f2 || (!mem && p66)) {
            return false;
        }
        return claim(d, sse_pint, PI_MOVHI64, 8);
    case 0x13: case 0x17:
        if (!mem || !(np || p66)) {
            return false;
        }
        return claim(d, sse_mov_store, opc == 0x13 ? SSE_ST_LO64 : SSE_ST_HI64, 0);
    case 0x14: case 0x15:
        if (!(np || p66)) {
            return false;
        }
        return claim(d, sse_pint, opc == 0x14 ? (np ? PI_PUNPCKLDQ : PI_PUNPCKLQDQ)
                                              : (np ? PI_PUNPCKHDQ : PI_PUNPCKHQDQ), 0);
    case 0x28:
        return np || p66 ? claim(d, sse_mov_load, 0, 0) : false;
    case 0x29:
        return np || p66 ? claim(d, sse_mov_store, SSE_ST_FULL, 0) : false;
    case 0x2b:
        return (np || p66) && mem ? claim(d, sse_mov_store, SSE_ST_FULL, 0) : false;
    case 0x2a:
        if (np || p66) {
            return claim(d, sse_cvt, np ? CV_PI2PS : CV_PI2PD, 8);
        }
        return claim(d, sse_cvt, f3 ? CV_SI2SS : CV_SI2SD, d->opsize == 8 ? 8 : 4);
    case 0x2c: case 0x2d: {
        static const uint8_t t[2][4] = {
            { CV_TPS2PI, CV_TPD2PI, CV_TSS2SI, CV_TSD2SI },
            { CV_PS2PI, CV_PD2PI, CV_SS2SI, CV_SD2SI },
        };
        unsigned shape = fp_shape(pfx);
        return claim(d, sse_cvt, t[opc & 1][shape], shape == FPS_PD ? 0 : shape == FPS_SS ? 4 : 8);
    }
    case 0x2e: case 0x2f:
        if (!(np || p66)) {
            return false;
        }
        return claim_fp(d, sse_fp_comi, opc & 1, np ? FPS_SS : FPS_SD);
    case 0x50:
        return (np || p66) && !mem ? claim(d, sse_movmsk, np ? 4 : 8, 0) : false;
    case 0x51:
        return claim_fp(d, sse_fp_arith, FP_SQRT, fp_shape(pfx));
    case 0x52: case 0x53:
        if (!(np || f3)) {
            return false;
        }
        return claim_fp(d, sse_fp_arith, opc == 0x52 ? FP_RSQRT : FP_RCP, fp_shape(pfx));
    case 0x54: case 0x55: case 0x56: case 0x57: {
        static const uint8_t t[4] = { PI_PAND, PI_PANDN, PI_POR, PI_PXOR };
        return np || p66 ? claim_pint(d, t[opc - 0x54], 0) : false;
    }
    case 0x58: case 0x59: case 0x5c: case 0x5d: case 0x5e: case 0x5f: {
        static const uint8_t t[8] = { FP_ADD, FP_MUL, 0, 0, FP_SUB, FP_MIN, FP_DIV, FP_MAX };
        return claim_fp(d, sse_fp_arith, t[opc - 0x58], fp_shape(pfx));
    }
    case 0x5a: {
        static const uint8_t t[4] = { CV_PS2PD, CV_PD2PS, CV_SS2SD, CV_SD2SS };
        static const uint8_t sz[4] = { 8, 0, 4, 8 };
        unsigned shape = fp_shape(pfx);
        return claim(d, sse_cvt, t[shape], sz[shape]);
    }
    case 0x5b:
        if (f2) {
            return false;
        }
        return claim(d, sse_cvt, np ? CV_DQ2PS : p66 ? CV_PS2DQ : CV_TPS2DQ, 0);
    case 0x6c: case 0x6d:
        return p66 ? claim(d, sse_pint, opc == 0x6c ? PI_PUNPCKLQDQ : PI_PUNPCKHQDQ, 0) : false;
    case 0x6e:
        return np || p66 ? claim(d, sse_mov_gpr, SSE_GPR_TO_VEC, np ? SSE_MMX : 0) : false;
    case 0x7e:
        if (f3) {
            return claim(d, sse_pint, PI_MOVQZX, 8);
        }
        return np || p66 ? claim(d, sse_mov_gpr, SSE_VEC_TO_GPR, np ? SSE_MMX : 0) : false;
    case 0x6f:
        if (np) {
            return claim(d, sse_pint, PI_COPY, SSE_MMX | 8);
        }
        if (p66 || f3) {
            return claim(d, sse_mov_load, 0, f3 ? SSE_UNALIGNED : 0);
        }
        return false;
    case 0x7f:
        if (np) {
            return claim(d, sse_mov_mmx, SSE_MM_STORE, 0);
        }
        if (p66 || f3) {
            return claim(d, sse_mov_store, SSE_ST_FULL, f3 ? SSE_UNALIGNED : 0);
        }
        return false;
    case 0x70: {
        if (np) {
            return claim(d, sse_pint, PI_PSHUFW, SSE_MMX | 8);
        }
        return claim(d, sse_pint, p66 ? PI_PSHUFD : f3 ? PI_PSHUFHW : PI_PSHUFLW, 0);
    }
    case 0x71: case 0x72: case 0x73: {
        static const int8_t t[3][8] = {
            { -1, -1, PI_PSRLW, -1, PI_PSRAW, -1, PI_PSLLW, -1 },
            { -1, -1, PI_PSRLD, -1, PI_PSRAD, -1, PI_PSLLD, -1 },
            { -1, -1, PI_PSRLQ, PI_PSRLDQ, -1, -1, PI_PSLLQ, PI_PSLLDQ },
        };
        int op = t[opc - 0x71][r];
        if (mem || op < 0 || !(np || p66) || (np && (r == 3 || r == 7))) {
            return false;
        }
        return claim(d, sse_pint_shift_imm, (unsigned)op, np ? SSE_MMX : 0);
    }
    case 0x77:
        return np ? claim(d, sse_emms, 0, 0) : false;
    case 0x7c: case 0x7d:
        if (!(p66 || f2)) {
            return false;
        }
        return claim_fp(d, sse_fp_arith, opc == 0x7c ? FP_HADD : FP_HSUB, p66 ? FPS_PD : FPS_PS);
    case 0xae:
        if (mem && np && (r == 2 || r == 3)) {
            return claim(d, sse_mxcsr, r == 3, 0);
        }
        return false;
    case 0xc2:
        return claim_fp(d, sse_fp_cmp, 0, fp_shape(pfx));
    case 0xc4:
        if (!(np || p66)) {
            return false;
        }
        return claim(d, sse_pins, 2, np ? SSE_MMX : 0);
    case 0xc5:
        return (np || p66) && !mem ? claim(d, sse_pextrw, 0, np ? SSE_MMX : 0) : false;
    case 0xc6:
        return np || p66 ? claim(d, sse_pint, np ? PI_SHUFPS : PI_SHUFPD, 0) : false;
    case 0xd0:
        return p66 || f2 ? claim_fp(d, sse_fp_arith, FP_ADDSUB, p66 ? FPS_PD : FPS_PS) : false;
    case 0xd6:
        if (p66) {
            return claim(d, sse_mov_store, SSE_ST_QZX, 0);
        }
        if ((f3 || f2) && !mem) {
            return claim(d, sse_mov_mmx, f3 ? SSE_MM_Q2DQ : SSE_MM_DQ2Q, 0);
        }
        return false;
    case 0xd7:
        return (np || p66) && !mem ? claim(d, sse_pmovmskb, 0, np ? SSE_MMX : 0) : false;
    case 0xe6:
        if (np) {
            return false;
        }
        return claim(d, sse_cvt, p66 ? CV_TPD2DQ : f3 ? CV_DQ2PD : CV_PD2DQ, f3 ? 8 : 0);
    case 0xe7:
        if (!mem) {
            return false;
        }
        if (np) {
            return claim(d, sse_mov_mmx, SSE_MM_STORE, 0);
        }
        return p66 ? claim(d, sse_mov_store, SSE_ST_FULL, 0) : false;
    case 0xf0:
        return f2 && mem ? claim(d, sse_mov_load, 0, SSE_UNALIGNED) : false;
    case 0xf7:
        return (np || p66) && !mem ? claim(d, sse_maskmov, 0, np ? SSE_MMX : 0) : false;
    default:
        return false;
    }
}

static bool decode_0f38(X86DecodedInsn *d)
{
    unsigned pfx = d->mandatory, opc = d->opcode;
    bool np = pfx == 0, p66 = pfx == 0x66;
    if (opc < sizeof(pint_0f38) && pint_0f38[opc]) {
        unsigned op = pint_0f38[opc] - 1;
        bool has_mmx = opc <= 0x0b || (opc >= 0x1c && opc <= 0x1e);
        if (np && has_mmx) {
            return claim_pint(d, op, SSE_MMX | 8);
        }
        if (!p66) {
            return false;
        }
        bool pmovx = (opc >= 0x20 && opc <= 0x25) || (opc >= 0x30 && opc <= 0x35);
        return claim_pint(d, op, pmovx ? pmovx_size[opc & 7] : 0);
    }
    switch (opc) {
    case 0x10: case 0x14: case 0x15:
        return p66 ? claim(d, sse_blendv, opc == 0x10 ? 1 : opc == 0x14 ? 4 : 8, 0) : false;
    case 0x17:
        return p66 ? claim(d, sse_ptest, 0, 0) : false;
    case 0x2a:
        return p66 && d->mod != 3 ? claim(d, sse_mov_load, 0, 0) : false;
    case 0x41:
        return p66 ? claim(d, sse_phminposuw, 0, 0) : false;
    case 0xf0: case 0xf1:
        if (!(d->prefixes & X86_PFX_REPNZ)) {
            return false;
        }
        return claim(d, sse_crc32, opc == 0xf0 ? 1 : d->opsize, 0);
    default:
        return false;
    }
}

static bool decode_0f3a(X86DecodedInsn *d)
{
    unsigned opc = d->opcode;
    if (d->mandatory == 0 && opc == 0x0f) {
        return claim(d, sse_pint, PI_PALIGNR, SSE_MMX | 8);
    }
    if (d->mandatory != 0x66) {
        return false;
    }
    switch (opc) {
    case 0x08: case 0x09: case 0x0a: case 0x0b: {
        static const uint8_t shape[4] = { FPS_PS, FPS_PD, FPS_SS, FPS_SD };
        return claim_fp(d, sse_round, 0, shape[opc - 8]);
    }
    case 0x0c: return claim(d, sse_pint, PI_BLENDPS, 0);
    case 0x0d: return claim(d, sse_pint, PI_BLENDPD, 0);
    case 0x0e: return claim(d, sse_pint, PI_PBLENDW, 0);
    case 0x0f: return claim(d, sse_pint, PI_PALIGNR, 0);
    case 0x14: return claim(d, sse_pext, 1, 0);
    case 0x15: return claim(d, sse_pext, 2, 0);
    case 0x16: return claim(d, sse_pext, d->opsize == 8 ? 8 : 4, 0);
    case 0x17: return claim(d, sse_pext, 4, 0);
    case 0x20: return claim(d, sse_pins, 1, 0);
    case 0x21: return claim(d, sse_insertps, 0, 4);
    case 0x22: return claim(d, sse_pins, d->opsize == 8 ? 8 : 4, 0);
    case 0x40: return claim_fp(d, sse_fp_dp, 0, FPS_PS);
    case 0x41: return claim_fp(d, sse_fp_dp, 0, FPS_PD);
    case 0x42: return claim(d, sse_pint, PI_MPSADBW, 0);
    case 0x44: return claim(d, sse_pint, PI_PCLMULQDQ, 0);
    case 0x60: case 0x61: case 0x62: case 0x63:
        return claim(d, sse_pcmpstr, opc & 3, SSE_UNALIGNED);
    default:
        return false;
    }
}

bool x86_sse_decode(X86DecodedInsn *insn)
{
    if (insn->prefixes & X86_PFX_LOCK) {
        return false;
    }
    switch (insn->map) {
    case X86_MAP_0F: return decode_0f(insn);
    case X86_MAP_0F38: return decode_0f38(insn);
    case X86_MAP_0F3A: return decode_0f3a(insn);
    default: return false;
    }
}

/* CPUID.1:EDX MMX(23) SSE(25) SSE2(26); ECX SSE3(0) PCLMULQDQ(1) SSSE3(9)
 * SSE4.1(19) SSE4.2(20). */
void x86_sse_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx)
{
    (void)ext1_ecx;
    *leaf1_edx |= 1u << 23 | 1u << 25 | 1u << 26;
    *leaf1_ecx |= 1u << 0 | 1u << 1 | 1u << 9 | 1u << 19 | 1u << 20;
}
