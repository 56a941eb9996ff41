/*
 * The SIMD floating-point environment of the SSE half: MXCSR rounding on the
 * host's floating point (SDM vol. 1, 10.2.3 and 11.5: exception flags, masks,
 * DAZ, FTZ, the precedence of pre-computation exceptions -- invalid, divide
 * by zero, denormal operand -- over post-computation ones -- overflow,
 * underflow, precision -- and #XM/#UD for unmasked ones), and bit-level
 * classification of single and double precision values.
 *
 * An instruction runs sse_fp_begin(), computes every lane into a temporary
 * with the helpers below (NaN operands, invalid operations and division by
 * zero are resolved in software; only well-defined arithmetic reaches the
 * host FPU, whose rounding and flags are IEEE 754 as on x86), then
 * sse_fp_end() raises an unmasked exception (destination untouched) or
 * merges the flags into MXCSR, and the handler writes the destination.
 */
#ifndef KESTREL_CPU_X86_SSE_FPENV_H
#define KESTREL_CPU_X86_SSE_FPENV_H

#include "cpu/x86/sse-internal.h"

typedef struct SseFp {
    X86Cpu *cpu;
    uint32_t mxcsr;
    uint32_t pre;      /* IE DE ZE raised by operands */
    uint32_t post;     /* OE UE PE raised by results */
    bool lane_flags;   /* FTZ or unmasked OE/UE: host flags read per lane */
} SseFp;

void sse_fp_begin(X86Cpu *cpu, SseFp *e);
void sse_fp_end(SseFp *e);

#define F32_SIGN 0x80000000u
#define F32_QBIT 0x00400000u
#define F32_DEFAULT_NAN 0xffc00000u
#define F64_SIGN 0x8000000000000000ull
#define F64_QBIT 0x0008000000000000ull
#define F64_DEFAULT_NAN 0xfff8000000000000ull

static inline bool f32_is_nan(uint32_t u) { return (u & 0x7fffffffu) > 0x7f800000u; }
static inline bool f32_is_snan(uint32_t u) { return f32_is_nan(u) && !(u & F32_QBIT); }
static inline bool f32_is_inf(uint32_t u) { return (u & 0x7fffffffu) == 0x7f800000u; }
static inline bool f32_is_zero(uint32_t u) { return !(u & 0x7fffffffu); }
static inline bool f32_is_den(uint32_t u) { return !(u & 0x7f800000u) && (u & 0x7fffffu); }
static inline bool f64_is_nan(uint64_t u) { return (u & ~F64_SIGN) > 0x7ff0000000000000ull; }
static inline bool f64_is_snan(uint64_t u) { return f64_is_nan(u) && !(u & F64_QBIT); }
static inline bool f64_is_inf(uint64_t u) { return (u & ~F64_SIGN) == 0x7ff0000000000000ull; }
static inline bool f64_is_zero(uint64_t u) { return !(u & ~F64_SIGN); }
static inline bool f64_is_den(uint64_t u)
{
    return !(u & 0x7ff0000000000000ull) && (u & 0x000fffffffffffffull);
}

static inline float f32_from(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline double f64_from(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }
static inline uint64_t f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }

/* DAZ: a denormal source becomes a zero of the same sign. */
static inline uint32_t f32_daz(const SseFp *e, uint32_t u)
{
    return (e->mxcsr & MXCSR_DAZ) && f32_is_den(u) ? u & F32_SIGN : u;
}

static inline uint64_t f64_daz(const SseFp *e, uint64_t u)
{
    return (e->mxcsr & MXCSR_DAZ) && f64_is_den(u) ? u & F64_SIGN : u;
}

/* Arithmetic on one lane: FP_ADD FP_SUB FP_MUL FP_DIV FP_MIN FP_MAX FP_SQRT
 * (sqrt of b).  Applies DAZ, NaN rules, exceptions and FTZ. */
uint32_t sse_f32_op(SseFp *e, unsigned op, uint32_t a, uint32_t b);
uint64_t sse_f64_op(SseFp *e, unsigned op, uint64_t a, uint64_t b);
/* Post-processing of a host result computed from finite operands:
 * overflow/underflow/precision flags and FTZ. */
uint32_t sse_f32_result(SseFp *e, float r);
uint64_t sse_f64_result(SseFp *e, double r);

#endif
