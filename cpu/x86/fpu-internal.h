/*
 * Shared by the x87 FPU files (fpu-*.c): the register stack of SDM vol. 1,
 * 8.1 (physical registers R0..R7 addressed as ST(i) relative to TOP, the
 * abridged tag bits of X86FpuState.ftw), the status-word bits, the
 * exception bookkeeping of 8.4-8.7 (masked responses, stack faults, pending
 * unmasked exceptions reported at the next waiting instruction) and the
 * instruction handlers that fpu-decode.c installs.
 */
#ifndef KESTREL_CPU_X86_FPU_INTERNAL_H
#define KESTREL_CPU_X86_FPU_INTERNAL_H

#include <string.h>

#include "cpu/x86/ext-internal.h"
#include "cpu/x86/fpu-host.h"

/* Status word (8.1.3) */
enum {
    FSW_IE = 1u << 0, FSW_DE = 1u << 1, FSW_ZE = 1u << 2, FSW_OE = 1u << 3,
    FSW_UE = 1u << 4, FSW_PE = 1u << 5, FSW_SF = 1u << 6, FSW_ES = 1u << 7,
    FSW_C0 = 1u << 8, FSW_C1 = 1u << 9, FSW_C2 = 1u << 10, FSW_TOP = 7u << 11,
    FSW_C3 = 1u << 14, FSW_B = 1u << 15,
};
#define FSW_EXC 0x3fu
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* Memory / register operand forms (X86DecodedInsn.op2 of x87 handlers) */
enum {
    FPU_M32FP, FPU_M64FP, FPU_M80FP, FPU_M16INT, FPU_M32INT, FPU_M64INT,
    FPU_ST0_STI,     /* ST(0) <- ST(0) op ST(i) */
    FPU_STI_ST0,     /* ST(i) <- ST(i) op ST(0) */
    FPU_STI_ST0_POP, /* the same, then pop */
};

/* Arithmetic kinds (ModRM.reg of D8/DC memory forms) */
enum { FPU_ADD, FPU_MUL, FPU_COM, FPU_COMP, FPU_SUB, FPU_SUBR, FPU_DIV, FPU_DIVR };

static inline f80 fpu_indefinite(void)
{
    const X87Reg r = { 0xc000000000000000ull, 0xffff };
    f80 v = 0;
    memcpy(&v, &r, 10);
    return v;
}

static inline f80 fpu_bits(uint64_t mant, uint16_t sign_exp)
{
    const X87Reg r = { mant, sign_exp };
    f80 v = 0;
    memcpy(&v, &r, 10);
    return v;
}

static inline uint16_t fpu_sign_exp(f80 v)
{
    uint16_t se;
    memcpy(&se, (const uint8_t *)&v + 8, 2);
    return se;
}

static inline uint64_t fpu_mant(f80 v)
{
    uint64_t m;
    memcpy(&m, &v, 8);
    return m;
}

static inline unsigned fpu_top(const X86FpuState *f)
{
    return (f->fsw >> 11) & 7;
}

static inline void fpu_set_top(X86FpuState *f, unsigned top)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_TOP) | ((top & 7) << 11));
}

static inline unsigned fpu_phys(const X86FpuState *f, unsigned i)
{
    return (fpu_top(f) + i) & 7;
}

static inline bool fpu_empty(const X86FpuState *f, unsigned i)
{
    return !(f->ftw & (1u << fpu_phys(f, i)));
}

static inline f80 fpu_get(const X86FpuState *f, unsigned i)
{
    f80 v = 0;
    memcpy(&v, &f->st[fpu_phys(f, i)], 10);
    return v;
}

static inline void fpu_set(X86FpuState *f, unsigned i, f80 v)
{
    unsigned p = fpu_phys(f, i);
    memcpy(&f->st[p], &v, 10);
    f->ftw |= (uint8_t)(1u << p);
}

static inline void fpu_pop(X86FpuState *f)
{
    f->ftw &= (uint8_t)~(1u << fpu_top(f));
    fpu_set_top(f, fpu_top(f) + 1);
}

static inline void fpu_push(X86FpuState *f, f80 v)
{
    fpu_set_top(f, fpu_top(f) - 1);
    fpu_set(f, 0, v);
}

static inline void fpu_set_cc(X86FpuState *f, uint16_t cc)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_CC) | (cc & FSW_CC));
}

/* ---- fpu-control.c: entry checks and exception bookkeeping ---- */

/* Every x87 instruction: #NM when CR0.EM or CR0.TS.  A waiting one then
 * reports a pending unmasked exception (FSW.ES) as #MF when CR0.NE. */
void fpu_enter(X86Cpu *cpu, bool waiting);
/* Record FIP/FCS/FOP (and FDP/FDS for a memory operand) of a
 * non-control instruction (8.1.8, 8.1.9). */
void fpu_note(X86Cpu *cpu, const X86DecodedInsn *d);
/* Fold an operation's host status (exception flags, C1) into FSW.  False
 * when an unmasked invalid, denormal or divide-by-zero exception occurred:
 * the destination must then stay unchanged (8.5: pre-computation
 * exceptions). */
bool fpu_result_flags(X86FpuState *f, uint16_t host_sw);
/* Stack underflow / overflow (8.5.1.1): IE and SF, C1 = 0 / 1.  True when
 * IE is masked: the caller then writes the QNaN indefinite. */
bool fpu_stack_underflow(X86FpuState *f);
bool fpu_stack_overflow(X86FpuState *f);
/* ES and B from the exception flags and masks (after FLDCW, FLDENV...). */
void fpu_update_es(X86FpuState *f);
/* FNINIT's state. */
void fpu_init_state(X86FpuState *f);
/* Push a value (overflow handled); false if nothing was pushed. */
bool fpu_push_checked(X86FpuState *f, f80 v);

/* ---- handlers (X86ExecFn) ---- */
void fpu_exec_arith(X86Cpu *cpu, const X86DecodedInsn *d);     /* fpu-arith.c */
void fpu_exec_compare(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_unary(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_binary_st01(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fxam(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fxtract(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fld(X86Cpu *cpu, const X86DecodedInsn *d);       /* fpu-loadstore.c */
void fpu_exec_fld_const(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fst(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fist(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fbld(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fbstp(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fxch(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fcmov(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_ffree(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fincdecstp(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_transcendental(X86Cpu *cpu, const X86DecodedInsn *d); /* fpu-transcendental.c */
void fpu_exec_fnop(X86Cpu *cpu, const X86DecodedInsn *d);      /* fpu-control.c */
void fpu_exec_fwait(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fninit(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fnclex(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fldcw(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fnstcw(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fnstsw(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fldenv(X86Cpu *cpu, const X86DecodedInsn *d);    /* fpu-state.c */
void fpu_exec_fnstenv(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_frstor(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fnsave(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fxsave(X86Cpu *cpu, const X86DecodedInsn *d);
void fpu_exec_fxrstor(X86Cpu *cpu, const X86DecodedInsn *d);

/* Sub-operations (X86DecodedInsn.op) of the grouped handlers */
enum {
    /* fpu_exec_unary */
    FPU_FCHS, FPU_FABS, FPU_FSQRT, FPU_FRNDINT,
    /* fpu_exec_binary_st01 */
    FPU_FSCALE, FPU_FPREM, FPU_FPREM1,
    /* fpu_exec_compare: op2 = FPU_CMP_* flags, aux = ST(i) */
    /* fpu_exec_transcendental */
    FPU_F2XM1, FPU_FYL2X, FPU_FPTAN, FPU_FPATAN, FPU_FYL2XP1, FPU_FSINCOS,
    FPU_FSIN, FPU_FCOS,
    /* fpu_exec_fist */
    FPU_FIST, FPU_FISTP, FPU_FISTTP,
    /* fpu_exec_fst */
    FPU_FST, FPU_FSTP,
};

/* fpu_exec_compare flags (op) */
enum {
    FPU_CMP_UNORDERED = 1, /* FUCOM*: only SNaN signals */
    FPU_CMP_POP = 2,
    FPU_CMP_POP2 = 4,
    FPU_CMP_EFLAGS = 8,    /* FCOMI/FUCOMI: ZF PF CF */
    FPU_CMP_ZERO = 16,     /* FTST */
};

#endif
