/*
 * The x87 half of the extension's decoder (ext-internal.h): the escape
 * opcodes D8..DF (SDM vol. 2, appendix A.4, tables ), FWAIT
 * (9B), FXSAVE/FXRSTOR (0F AE /0 /1), and the CPUID bits of the x87 half.
 * Each opcode gets its handler; X86DecodedInsn.op is the sub-operation,
 * op2 the operand form, aux the ST(i) index.  The undocumented register
 * aliases that every Intel CPU executes (FSTP1, FCOM2, FCOMP3, FXCH4,
 * FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9) decode like the documented forms;
 * the 8087/287 leftovers FENI, FDISI and FSETPM are no-ops.
 */
#include "cpu/x86/fpu-internal.h"

static bool claim(X86DecodedInsn *d, X86ExecFn fn, unsigned op, unsigned op2)
{
    d->exec = fn;
    d->op = (uint8_t)op;
    d->op2 = (uint8_t)op2;
    return true;
}

static bool decode_mem(X86DecodedInsn *d, unsigned r)
{
    static const uint8_t arith_form[4] = { FPU_M32FP, FPU_M32INT, FPU_M64FP, FPU_M16INT };
    switch (d->opcode) {
    case 0xd8: case 0xda: case 0xdc: case 0xde:
        return claim(d, fpu_exec_arith, r, arith_form[(d->opcode - 0xd8) / 2]);
    case 0xd9:
        switch (r) {
        case 0: return claim(d, fpu_exec_fld, 0, FPU_M32FP);
        case 2: return claim(d, fpu_exec_fst, FPU_FST, FPU_M32FP);
        case 3: return claim(d, fpu_exec_fst, FPU_FSTP, FPU_M32FP);
        case 4: return claim(d, fpu_exec_fldenv, 0, 0);
        case 5: return claim(d, fpu_exec_fldcw, 0, 0);
        case 6: return claim(d, fpu_exec_fnstenv, 0, 0);
        case 7: return claim(d, fpu_exec_fnstcw, 0, 0);
        default: return false;
        }
    case 0xdb:
        switch (r) {
        case 0: return claim(d, fpu_exec_fld, 0, FPU_M32INT);
        case 1: return claim(d, fpu_exec_fist, FPU_FISTTP, FPU_M32INT);
        case 2: return claim(d, fpu_exec_fist, FPU_FIST, FPU_M32INT);
        case 3: return claim(d, fpu_exec_fist, FPU_FISTP, FPU_M32INT);
        case 5: return claim(d, fpu_exec_fld, 0, FPU_M80FP);
        case 7: return claim(d, fpu_exec_fst, FPU_FSTP, FPU_M80FP);
        default: return false;
        }
    case 0xdd:
        switch (r) {
        case 0: return claim(d, fpu_exec_fld, 0, FPU_M64FP);
        case 1: return claim(d, fpu_exec_fist, FPU_FISTTP, FPU_M64INT);
        case 2: return claim(d, fpu_exec_fst, FPU_FST, FPU_M64FP);
        case 3: return claim(d, fpu_exec_fst, FPU_FSTP, FPU_M64FP);
        case 4: return claim(d, fpu_exec_frstor, 0, 0);
        case 6: return claim(d, fpu_exec_fnsave, 0, 0);
        case 7: return claim(d, fpu_exec_fnstsw, 0, 0);
        default: return false;
        }
    default: /* 0xdf */
        switch (r) {
        case 0: return claim(d, fpu_exec_fld, 0, FPU_M16INT);
        case 1: return claim(d, fpu_exec_fist, FPU_FISTTP, FPU_M16INT);
        case 2: return claim(d, fpu_exec_fist, FPU_FIST, FPU_M16INT);
        case 3: return claim(d, fpu_exec_fist, FPU_FISTP, FPU_M16INT);
        case 4: return claim(d, fpu_exec_fbld, 0, FPU_M80FP);
        case 5: return claim(d, fpu_exec_fld, 0, FPU_M64INT);
        case 6: return claim(d, fpu_exec_fbstp, 0, FPU_M80FP);
        default: return claim(d, fpu_exec_fist, FPU_FISTP, FPU_M64INT);
        }
    }
}

/* D9 E0..FF: one-byte operations on the stack top. */
static bool decode_d9_misc(X86DecodedInsn *d, unsigned low)
{
    switch (d->modrm) {
    case 0xe0: return claim(d, fpu_exec_unary, FPU_FCHS, 0);
    case 0xe1: return claim(d, fpu_exec_unary, FPU_FABS, 0);
    case 0xe4: return claim(d, fpu_exec_compare, FPU_CMP_ZERO, 0);
    case 0xe5: return claim(d, fpu_exec_fxam, 0, 0);
    case 0xe8 ... 0xee: return claim(d, fpu_exec_fld_const, low, 0);
    case 0xf0: return claim(d, fpu_exec_transcendental, FPU_F2XM1, 0);
    case 0xf1: return claim(d, fpu_exec_transcendental, FPU_FYL2X, 0);
    case 0xf2: return claim(d, fpu_exec_transcendental, FPU_FPTAN, 0);
    case 0xf3: return claim(d, fpu_exec_transcendental, FPU_FPATAN, 0);
    case 0xf4: return claim(d, fpu_exec_fxtract, 0, 0);
    case 0xf5: return claim(d, fpu_exec_binary_st01, FPU_FPREM1, 0);
    case 0xf6: return claim(d, fpu_exec_fincdecstp, 0, 0);
    case 0xf7: return claim(d, fpu_exec_fincdecstp, 1, 0);
    case 0xf8: return claim(d, fpu_exec_binary_st01, FPU_FPREM, 0);
    case 0xf9: return claim(d, fpu_exec_transcendental, FPU_FYL2XP1, 0);
    case 0xfa: return claim(d, fpu_exec_unary, FPU_FSQRT, 0);
    case 0xfb: return claim(d, fpu_exec_transcendental, FPU_FSINCOS, 0);
    case 0xfc: return claim(d, fpu_exec_unary, FPU_FRNDINT, 0);
    case 0xfd: return claim(d, fpu_exec_binary_st01, FPU_FSCALE, 0);
    case 0xfe: return claim(d, fpu_exec_transcendental, FPU_FSIN, 0);
    case 0xff: return claim(d, fpu_exec_transcendental, FPU_FCOS, 0);
    default: return false;
    }
}

static bool decode_reg(X86DecodedInsn *d, unsigned r)
{
    unsigned i = d->modrm & 7;
    switch (d->opcode) {
    case 0xd8:
        return claim(d, fpu_exec_arith, r, FPU_ST0_STI);
    case 0xd9:
        switch (r) {
        case 0: return claim(d, fpu_exec_fld, 0, 0);
        case 1: return claim(d, fpu_exec_fxch, 0, 0);
        case 2: return i == 0 ? claim(d, fpu_exec_fnop, 0, 0) : false;
        case 3: return claim(d, fpu_exec_fst, FPU_FSTP, 0);    /* FSTP1 */
        default: return decode_d9_misc(d, i);
        }
    case 0xda:
        if (r < 4) {
            return claim(d, fpu_exec_fcmov, r, 0);
        }
        return d->modrm == 0xe9 ? claim(d, fpu_exec_compare,
                                        FPU_CMP_UNORDERED | FPU_CMP_POP2, 0) : false;
    case 0xdb:
        switch (r) {
        case 0: case 1: case 2: case 3:
            return claim(d, fpu_exec_fcmov, r | 4, 0);
        case 4:
            switch (d->modrm) {
            case 0xe0: case 0xe1: case 0xe4: return claim(d, fpu_exec_fnop, 0, 0);
            case 0xe2: return claim(d, fpu_exec_fnclex, 0, 0);
            case 0xe3: return claim(d, fpu_exec_fninit, 0, 0);
            default: return false;
            }
        case 5: return claim(d, fpu_exec_compare, FPU_CMP_UNORDERED | FPU_CMP_EFLAGS, 0);
        case 6: return claim(d, fpu_exec_compare, FPU_CMP_EFLAGS, 0);
        default: return false;
        }
    case 0xdc:
        if (r == 2 || r == 3) {
            return claim(d, fpu_exec_arith, r, FPU_ST0_STI); /* FCOM2, FCOMP3 */
        }
        /* ST(i) <- ST(i) op ST(0); /4../7 are SUBR, SUB, DIVR, DIV */
        return claim(d, fpu_exec_arith, r >= 4 ? r ^ 1 : r, FPU_STI_ST0);
    case 0xdd:
        switch (r) {
        case 0: return claim(d, fpu_exec_ffree, 0, 0);
        case 1: return claim(d, fpu_exec_fxch, 0, 0);           /* FXCH4 */
        case 2: return claim(d, fpu_exec_fst, FPU_FST, 0);
        case 3: return claim(d, fpu_exec_fst, FPU_FSTP, 0);
        case 4: return claim(d, fpu_exec_compare, FPU_CMP_UNORDERED, 0);
        case 5: return claim(d, fpu_exec_compare, FPU_CMP_UNORDERED | FPU_CMP_POP, 0);
        default: return false;
        }
    case 0xde:
        if (r == 2) {
            return claim(d, fpu_exec_arith, FPU_COMP, FPU_ST0_STI); /* FCOMP5 */
        }
        if (r == 3) {
            return d->modrm == 0xd9 ? claim(d, fpu_exec_compare, FPU_CMP_POP2, 0) : false;
        }
        return claim(d, fpu_exec_arith, r >= 4 ? r ^ 1 : r, FPU_STI_ST0_POP);
    default: /* 0xdf */
        switch (r) {
        case 0: return claim(d, fpu_exec_ffree, 1, 0);          /* FFREEP */
        case 1: return claim(d, fpu_exec_fxch, 0, 0);           /* FXCH7 */
        case 2: case 3: return claim(d, fpu_exec_fst, FPU_FSTP, 0); /* FSTP8/9 */
        case 4: return d->modrm == 0xe0 ? claim(d, fpu_exec_fnstsw, 0, 0) : false;
        case 5: return claim(d, fpu_exec_compare,
                             FPU_CMP_UNORDERED | FPU_CMP_EFLAGS | FPU_CMP_POP, 0);
        case 6: return claim(d, fpu_exec_compare, FPU_CMP_EFLAGS | FPU_CMP_POP, 0);
        default: return false;
        }
    }
}

bool x86_fpu_decode(X86DecodedInsn *d)
{
    if (d->map == X86_MAP_1B && d->opcode == 0x9b) {
        return claim(d, fpu_exec_fwait, 0, 0);
    }
    if (d->map == X86_MAP_0F && d->opcode == 0xae && d->mod != 3 && !d->mandatory) {
        unsigned r = (d->modrm >> 3) & 7;
        if (r == 0) {
            return claim(d, fpu_exec_fxsave, 0, 0);
        }
        if (r == 1) {
            return claim(d, fpu_exec_fxrstor, 0, 0);
        }
        return false;
    }
    if (d->map != X86_MAP_1B || d->opcode < 0xd8 || d->opcode > 0xdf) {
        return false;
    }
    d->aux = d->modrm & 7;
    unsigned r = (d->modrm >> 3) & 7;
    return d->mod != 3 ? decode_mem(d, r) : decode_reg(d, r);
}

void x86_fpu_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx)
{
    *leaf1_edx |= (1u << 0) | (1u << 24); /* FPU, FXSR */
}
