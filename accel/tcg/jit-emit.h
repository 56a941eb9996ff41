/*
 * A tiny x86-64 machine-code emitter for the template JIT (jit.c): the few
 * instruction encodings it needs (Intel SDM vol. 2, chapter 2: REX prefix,
 * ModRM with a 32-bit displacement, immediates; MOV, CMP, CALL, Jcc, JMP,
 * PUSH/POP, RET).  Every emit writes at e->p; the caller guarantees room.
 */
#ifndef KESTREL_ACCEL_TCG_JIT_EMIT_H
#define KESTREL_ACCEL_TCG_JIT_EMIT_H

#include <stdint.h>
#include <string.h>

typedef struct JitEmit {
    uint8_t *p;
} JitEmit;

/* Host registers by encoding number */
enum {
    H_RAX = 0, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
    H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15,
};

static inline void je_u8(JitEmit *e, uint8_t b)
{
    *e->p++ = b;
}

static inline void je_u32(JitEmit *e, uint32_t v)
{
    memcpy(e->p, &v, 4);
    e->p += 4;
}

static inline void je_u64(JitEmit *e, uint64_t v)
{
    memcpy(e->p, &v, 8);
    e->p += 8;
}

/* REX.W (when w) with the R and B extensions of reg and base/rm. */
static inline void je_rex(JitEmit *e, int w, int reg, int rm)
{
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0));
    if (rex != 0x40) {
        je_u8(e, rex);
    }
}

/* ModRM for [base + disp32] (SIB when the base is RSP or R12). */
static inline void je_mem(JitEmit *e, int reg, int base, int32_t disp)
{
    je_u8(e, (uint8_t)(0x80 | ((reg & 7) << 3) | (base & 7)));
    if ((base & 7) == H_RSP) {
        je_u8(e, 0x24);
    }
    je_u32(e, (uint32_t)disp);
}

/* An instruction with a memory operand [base + index * 2^scale + disp32]
 * (index -1: none): optional REX (W, R, X, B), one or two opcode bytes,
 * ModRM with mod 10 and a SIB byte when needed. */
static inline void je_op_mem(JitEmit *e, int w, unsigned opcode, int reg, int base,
                             int index, unsigned scale, int32_t disp)
{
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                            (index >= 0 && (index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0));
    if (rex != 0x40) {
        je_u8(e, rex);
    }
    if (opcode > 0xff) {
        je_u8(e, (uint8_t)(opcode >> 8));
    }
    je_u8(e, (uint8_t)opcode);
    if (index < 0 && (base & 7) != H_RSP) {
        je_u8(e, (uint8_t)(0x80 | ((reg & 7) << 3) | (base & 7)));
    } else {
        je_u8(e, (uint8_t)(0x80 | ((reg & 7) << 3) | 4));
        je_u8(e, (uint8_t)((scale << 6) | ((index < 0 ? 4 : index) & 7) << 3 | (base & 7)));
    }
    je_u32(e, (uint32_t)disp);
}

/* An instruction with a register operand in ModRM.rm (mod 11). */
static inline void je_op_rr(JitEmit *e, int w, unsigned opcode, int reg, int rm)
{
    je_rex(e, w, reg, rm);
    if (opcode > 0xff) {
        je_u8(e, (uint8_t)(opcode >> 8));
    }
    je_u8(e, (uint8_t)opcode);
    je_u8(e, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

/* mov reg64, imm64 */
static inline void je_mov_imm64(JitEmit *e, int reg, uint64_t imm)
{
    je_rex(e, 1, 0, reg);
    je_u8(e, (uint8_t)(0xb8 + (reg & 7)));
    je_u64(e, imm);
}

/* mov [base + disp], reg64 */
static inline void je_store64(JitEmit *e, int base, int32_t disp, int reg)
{
    je_rex(e, 1, reg, base);
    je_u8(e, 0x89);
    je_mem(e, reg, base, disp);
}

/* mov qword [base + disp], simm32 */
static inline void je_store64_imm32(JitEmit *e, int base, int32_t disp, int32_t imm)
{
    je_rex(e, 1, 0, base);
    je_u8(e, 0xc7);
    je_mem(e, 0, base, disp);
    je_u32(e, (uint32_t)imm);
}

/* mov dst64, src64 */
static inline void je_mov_rr(JitEmit *e, int dst, int src)
{
    je_rex(e, 1, src, dst);
    je_u8(e, 0x89);
    je_u8(e, (uint8_t)(0xc0 | ((src & 7) << 3) | (dst & 7)));
}

/* mov r32, imm32 (flags unchanged) */
static inline void je_mov_imm32(JitEmit *e, int reg, uint32_t imm)
{
    je_rex(e, 0, 0, reg);
    je_u8(e, (uint8_t)(0xb8 + (reg & 7)));
    je_u32(e, imm);
}

/* cmp byte [base + disp], imm8 */
static inline void je_cmp_mem8_imm(JitEmit *e, int base, int32_t disp, uint8_t imm)
{
    je_rex(e, 0, 0, base);
    je_u8(e, 0x80);
    je_mem(e, 7, base, disp);
    je_u8(e, imm);
}

/* call target: rel32 when reachable from here, else through RAX */
static inline void je_call(JitEmit *e, const void *target)
{
    intptr_t rel = (intptr_t)target - (intptr_t)(e->p + 5);
    if (rel == (int32_t)rel) {
        je_u8(e, 0xe8);
        je_u32(e, (uint32_t)(int32_t)rel);
        return;
    }
    je_mov_imm64(e, H_RAX, (uint64_t)(uintptr_t)target);
    je_u8(e, 0xff);
    je_u8(e, 0xd0);
}

/* jcc rel32 (cc: the x86 condition number) to a later label */
static inline uint8_t *je_jcc_fwd(JitEmit *e, unsigned cc)
{
    je_u8(e, 0x0f);
    je_u8(e, (uint8_t)(0x80 | cc));
    uint8_t *at = e->p;
    je_u32(e, 0);
    return at;
}

/* jmp rel32 back to an earlier place */
static inline void je_jmp_to(JitEmit *e, const uint8_t *target)
{
    je_u8(e, 0xe9);
    int32_t rel = (int32_t)(target - (e->p + 4));
    je_u32(e, (uint32_t)rel);
}

/* jne rel32 / jmp rel32 to a later label: returns the place to patch */
static inline uint8_t *je_jne_fwd(JitEmit *e)
{
    je_u8(e, 0x0f);
    je_u8(e, 0x85);
    uint8_t *at = e->p;
    je_u32(e, 0);
    return at;
}

static inline uint8_t *je_jmp_fwd(JitEmit *e)
{
    je_u8(e, 0xe9);
    uint8_t *at = e->p;
    je_u32(e, 0);
    return at;
}

/* Point a rel32 at `at` to `target`. */
static inline void je_patch(uint8_t *at, const uint8_t *target)
{
    int32_t rel = (int32_t)(target - (at + 4));
    memcpy(at, &rel, 4);
}

static inline void je_push(JitEmit *e, int reg)
{
    je_rex(e, 0, 0, reg);
    je_u8(e, (uint8_t)(0x50 + (reg & 7)));
}

static inline void je_pop(JitEmit *e, int reg)
{
    je_rex(e, 0, 0, reg);
    je_u8(e, (uint8_t)(0x58 + (reg & 7)));
}

static inline void je_ret(JitEmit *e)
{
    je_u8(e, 0xc3);
}

#endif
