/*
 * The IEEE-754 double-extended arithmetic of the x87 emulation, done by the
 * host's own x87 unit (an x86-64 host, whose `long double` is that format).
 *
 * Each helper runs one host instruction under the guest's rounding and
 * precision control with every host exception masked, and returns the
 * result with the host status word: its exception flags (IE DE ZE OE UE PE)
 * and C0-C3 are the masked-response outcome of the same operation on the
 * guest's operands, bit for bit (SDM vol. 1, 4.9 and 8.5).  Doing the
 * operation inside one asm statement keeps the compiler from moving it
 * across the control-word change and gives C1 (the round-up bit), which C's
 * <fenv.h> does not expose.  The guest-visible architecture -- the stack,
 * tags, stack faults, unmasked exceptions, state formats -- is the
 * emulator's (fpu-*.c); this file only computes.
 */
#ifndef KESTREL_CPU_X86_FPU_HOST_H
#define KESTREL_CPU_X86_FPU_HOST_H

#include <float.h>
#include <stdint.h>

#if !defined(__x86_64__) || LDBL_MANT_DIG != 64
#error "the x87 emulation needs an x86-64 host whose long double is the 80-bit x87 format"
#endif
_Static_assert(LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384,
               "long double must be the x87 double-extended format");

typedef long double f80;

/* The host control word for a guest control word: the guest's precision
 * and rounding control, all exceptions masked. */
static inline uint16_t fpu_host_cw(uint16_t guest_fcw)
{
    return (uint16_t)((guest_fcw & 0x0f00) | 0x007f);
}

#define FPU_HOST_PRE "fnstcw %[sv]\n\tfnclex\n\tfldcw %[cw]\n\t"
#define FPU_HOST_POST "\n\tfnstsw %[sw]\n\tfldcw %[sv]"

/* ST(0) <- ST(0) op ST(1), with a in ST(0) and b in ST(1) (no pop). */
#define FPU_HOST_BINARY(name, insn)                                          \
    static inline f80 name(f80 a, f80 b, uint16_t cw, uint16_t *sw)          \
    {                                                                        \
        f80 r;                                                               \
        uint16_t saved, hcw = fpu_host_cw(cw);                               \
        __asm__ volatile(FPU_HOST_PRE insn FPU_HOST_POST                     \
                         : "=t"(r), [sw] "=m"(*sw), [sv] "=m"(saved)         \
                         : "0"(a), "u"(b), [cw] "m"(hcw));                   \
        return r;                                                            \
    }

FPU_HOST_BINARY(fpu_host_add, "fadd %%st(1), %%st")
FPU_HOST_BINARY(fpu_host_sub, "fsub %%st(1), %%st")
FPU_HOST_BINARY(fpu_host_mul, "fmul %%st(1), %%st")
FPU_HOST_BINARY(fpu_host_div, "fdiv %%st(1), %%st")
FPU_HOST_BINARY(fpu_host_subr, "fsubr %%st(1), %%st")
FPU_HOST_BINARY(fpu_host_divr, "fdivr %%st(1), %%st")
FPU_HOST_BINARY(fpu_host_scale, "fscale")
FPU_HOST_BINARY(fpu_host_prem, "fprem")
FPU_HOST_BINARY(fpu_host_prem1, "fprem1")

/* ST(0) <- op ST(0). */
#define FPU_HOST_UNARY(name, insn)                                           \
    static inline f80 name(f80 a, uint16_t cw, uint16_t *sw)                 \
    {                                                                        \
        f80 r;                                                               \
        uint16_t saved, hcw = fpu_host_cw(cw);                               \
        __asm__ volatile(FPU_HOST_PRE insn FPU_HOST_POST                     \
                         : "=t"(r), [sw] "=m"(*sw), [sv] "=m"(saved)         \
                         : "0"(a), [cw] "m"(hcw));                           \
        return r;                                                            \
    }

FPU_HOST_UNARY(fpu_host_sqrt, "fsqrt")
FPU_HOST_UNARY(fpu_host_rndint, "frndint")

/* ST(0) <- ST(0) op m32/m64 real: the conversion and the operation in one
 * instruction, so that exceptions are prioritised as the hardware does. */
#define FPU_HOST_MEMOP(name, type, insn)                                     \
    static inline f80 name(f80 a, const type *m, uint16_t cw, uint16_t *sw)  \
    {                                                                        \
        f80 r;                                                               \
        uint16_t saved, hcw = fpu_host_cw(cw);                               \
        __asm__ volatile(FPU_HOST_PRE insn " %[m]" FPU_HOST_POST             \
                         : "=t"(r), [sw] "=m"(*sw), [sv] "=m"(saved)         \
                         : "0"(a), [m] "m"(*m), [cw] "m"(hcw));              \
        return r;                                                            \
    }

FPU_HOST_MEMOP(fpu_host_add_m32, uint32_t, "fadds")
FPU_HOST_MEMOP(fpu_host_mul_m32, uint32_t, "fmuls")
FPU_HOST_MEMOP(fpu_host_sub_m32, uint32_t, "fsubs")
FPU_HOST_MEMOP(fpu_host_subr_m32, uint32_t, "fsubrs")
FPU_HOST_MEMOP(fpu_host_div_m32, uint32_t, "fdivs")
FPU_HOST_MEMOP(fpu_host_divr_m32, uint32_t, "fdivrs")
FPU_HOST_MEMOP(fpu_host_add_m64, uint64_t, "faddl")
FPU_HOST_MEMOP(fpu_host_mul_m64, uint64_t, "fmull")
FPU_HOST_MEMOP(fpu_host_sub_m64, uint64_t, "fsubl")
FPU_HOST_MEMOP(fpu_host_subr_m64, uint64_t, "fsubrl")
FPU_HOST_MEMOP(fpu_host_div_m64, uint64_t, "fdivl")
FPU_HOST_MEMOP(fpu_host_divr_m64, uint64_t, "fdivrl")

/* FCOM m32/m64: C0 C2 C3 and the exception flags. */
#define FPU_HOST_MEMCOM(name, type, insn)                                    \
    static inline uint16_t name(f80 a, const type *m, uint16_t cw)           \
    {                                                                        \
        uint16_t saved, sw, hcw = fpu_host_cw(cw);                           \
        __asm__ volatile(FPU_HOST_PRE insn " %[m]" FPU_HOST_POST             \
                         : [sw] "=m"(sw), [sv] "=m"(saved)                   \
                         : "t"(a), [m] "m"(*m), [cw] "m"(hcw));              \
        return sw;                                                           \
    }

FPU_HOST_MEMCOM(fpu_host_com_m32, uint32_t, "fcoms")
FPU_HOST_MEMCOM(fpu_host_com_m64, uint64_t, "fcoml")

/* FXTRACT: significand in *sig, exponent returned. */
static inline f80 fpu_host_xtract(f80 a, f80 *sig, uint16_t cw, uint16_t *sw)
{
    f80 e, s;
    uint16_t saved, hcw = fpu_host_cw(cw);
    __asm__ volatile(FPU_HOST_PRE "fxtract" FPU_HOST_POST
                     : "=t"(s), "=u"(e), [sw] "=m"(*sw), [sv] "=m"(saved)
                     : "0"(a), [cw] "m"(hcw));
    *sig = s;
    return e;
}

/* FCOM / FUCOM of a (ST(0)) with b: the status word holds C0 C2 C3. */
#define FPU_HOST_COMPARE(name, insn)                                         \
    static inline uint16_t name(f80 a, f80 b, uint16_t cw)                   \
    {                                                                        \
        uint16_t saved, sw, hcw = fpu_host_cw(cw);                           \
        __asm__ volatile(FPU_HOST_PRE insn FPU_HOST_POST                     \
                         : [sw] "=m"(sw), [sv] "=m"(saved)                   \
                         : "t"(a), "u"(b), [cw] "m"(hcw));                   \
        return sw;                                                           \
    }

FPU_HOST_COMPARE(fpu_host_com, "fcom %%st(1)")
FPU_HOST_COMPARE(fpu_host_ucom, "fucom %%st(1)")

/* Loads that convert: m32 and m64 real (SNaN -> QNaN with IE, denormal
 * -> DE), packed BCD. */
#define FPU_HOST_LOAD(name, type, insn)                                      \
    static inline f80 name(const type *m, uint16_t cw, uint16_t *sw)         \
    {                                                                        \
        f80 r;                                                               \
        uint16_t saved, hcw = fpu_host_cw(cw);                               \
        __asm__ volatile(FPU_HOST_PRE insn " %[m]" FPU_HOST_POST             \
                         : "=t"(r), [sw] "=m"(*sw), [sv] "=m"(saved)         \
                         : [m] "m"(*m), [cw] "m"(hcw));                      \
        return r;                                                            \
    }

FPU_HOST_LOAD(fpu_host_ld32, uint32_t, "flds")
FPU_HOST_LOAD(fpu_host_ld64, uint64_t, "fldl")

typedef struct FpuBcd {
    uint8_t b[10];
} FpuBcd;

FPU_HOST_LOAD(fpu_host_bld, FpuBcd, "fbld")

/* Stores that convert (rounding per cw): a copy of ST(0) is pushed and
 * stored with pop, so the operand stays on the host stack for the
 * compiler. */
#define FPU_HOST_STORE(name, type, insn)                                     \
    static inline void name(f80 a, type *m, uint16_t cw, uint16_t *sw)       \
    {                                                                        \
        uint16_t saved, hcw = fpu_host_cw(cw);                               \
        __asm__ volatile(FPU_HOST_PRE "fld %%st(0)\n\t" insn " %[m]"         \
                         FPU_HOST_POST                                       \
                         : [m] "=m"(*m), [sw] "=m"(*sw), [sv] "=m"(saved)    \
                         : "t"(a), [cw] "m"(hcw));                           \
    }

FPU_HOST_STORE(fpu_host_st32, uint32_t, "fstps")
FPU_HOST_STORE(fpu_host_st64, uint64_t, "fstpl")
FPU_HOST_STORE(fpu_host_ist16, uint16_t, "fistps")
FPU_HOST_STORE(fpu_host_ist32, uint32_t, "fistpl")
FPU_HOST_STORE(fpu_host_ist64, uint64_t, "fistpll")
FPU_HOST_STORE(fpu_host_bstp, FpuBcd, "fbstp")

#undef FPU_HOST_PRE
#undef FPU_HOST_POST

#endif
