/*
 * The pre-decoded x86 instruction: what the decoder (decode.c) extracts from
 * the byte stream once per translation block, and what instruction handlers
 * receive at execution time.  Intel SDM vol. 2, chapter 2 (instruction format:
 * legacy prefixes, REX, opcode maps 0F / 0F38 / 0F3A, ModRM, SIB,
 * displacement, immediate).
 *
 * This struct is also the boundary with the x87/MMX/SSE extension (ext.h):
 * the decoder always determines an instruction's length, ModRM/SIB fields and
 * immediate, then asks x86_ext_decode() to claim opcodes it does not handle
 * itself.
 */
#ifndef KESTREL_CPU_X86_DECODE_H
#define KESTREL_CPU_X86_DECODE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct X86Cpu X86Cpu;
typedef struct X86DecodedInsn X86DecodedInsn;

/* An instruction handler.  On entry cpu->env->rip already holds the address
 * of the next instruction (so RIP-relative operands and relative branches use
 * it); a handler that branches overwrites it.  Faults longjmp out through
 * x86_raise() and restore RIP to insn->ip. */
typedef void (*X86ExecFn)(X86Cpu *cpu, const X86DecodedInsn *insn);

/* Opcode maps */
enum {
    X86_MAP_1B = 0,   /* one-byte opcodes */
    X86_MAP_0F = 1,   /* 0F xx */
    X86_MAP_0F38 = 2, /* 0F 38 xx */
    X86_MAP_0F3A = 3, /* 0F 3A xx */
};

/* Prefix bits (X86DecodedInsn.prefixes) */
enum {
    X86_PFX_LOCK = 1u << 0,
    X86_PFX_REPZ = 1u << 1,  /* F3 */
    X86_PFX_REPNZ = 1u << 2, /* F2 */
    X86_PFX_OPSIZE = 1u << 3, /* 66 */
    X86_PFX_ADSIZE = 1u << 4, /* 67 */
    X86_PFX_SEG = 1u << 5,   /* a segment override was present */
    X86_PFX_REX = 1u << 6,   /* a REX prefix was present (byte regs SPL..DIL) */
};

/* REX bits (X86DecodedInsn.rex, the low nibble of the REX byte) */
enum { X86_REX_B = 1, X86_REX_X = 2, X86_REX_R = 4, X86_REX_W = 8 };

#define X86_REG_NONE 0xff

struct X86DecodedInsn {
    X86ExecFn exec;
    uint64_t ip;       /* RIP of this instruction (CS-relative) */
    uint64_t next_ip;  /* RIP of the next one, wrapped to the code size */
    uint64_t imm;      /* first immediate, sign- or zero-extended per opcode;
                        * moffs for A0..A3; far-pointer offset */
    int32_t disp;      /* displacement of the memory operand */
    uint16_t imm2;     /* second immediate: ENTER level, far-pointer selector */
    uint8_t map;       /* X86_MAP_* */
    uint8_t opcode;    /* last opcode byte */
    uint8_t len;       /* instruction length in bytes (1..15) */
    uint8_t prefixes;  /* X86_PFX_* */
    uint8_t rex;       /* X86_REX_* bits */
    uint8_t mandatory; /* SSE mandatory prefix: 0, 0x66, 0xF3 or 0xF2 */
    uint8_t modrm;     /* raw ModRM byte (valid if has_modrm) */
    uint8_t mod;       /* ModRM.mod (3 = register operand) */
    uint8_t reg;       /* ModRM.reg extended by REX.R (0..15) */
    uint8_t rm;        /* ModRM.rm extended by REX.B (0..15); register or base */
    uint8_t base;      /* memory operand base register or X86_REG_NONE */
    uint8_t index;     /* memory operand index register or X86_REG_NONE */
    uint8_t scale;     /* index shift (0..3) */
    uint8_t seg;       /* effective segment R_ES..R_GS (override or default) */
    uint8_t opsize;    /* operand size in bytes: 2, 4 or 8 (byte ops by opcode) */
    uint8_t addrsize;  /* address size in bytes: 2, 4 or 8 */
    uint8_t has_modrm;
    uint8_t rip_rel;   /* memory operand is RIP-relative (64-bit mode) */
    uint8_t code64;    /* decoded in 64-bit mode */
    uint8_t ends_block; /* see x86_insn_ends_block() */
    /* Free for the handler that claimed the opcode (integer core or
     * extension): a sub-operation, an operand size, a second register... */
    uint8_t op;
    uint8_t op2;
    uint16_t aux;
    /* The memory operand's effective address in a branchless form, filled
     * once per decode (x86_decode_ea_precompute): ea_disp + base + index <<
     * scale, where an absent base or index is masked out (ea_has_* 0 or 1)
     * and the sum is wrapped by shifting ~0 right by ea_wrap_shift.  RIP-
     * relative operands have next_ip folded into ea_disp. */
    uint64_t ea_disp;
    uint8_t ea_base, ea_index;
    uint8_t ea_has_base, ea_has_index;
    uint8_t ea_wrap_shift;
    /* Set by x86_block_drop_dead_flags(): if this instruction faults, the
     * rotate this many instructions earlier still owes CF and OF. */
    uint8_t flags_pending;
};

/* The decoder.  Fetches through x86_fetch_code(); returns false when the
 * fetch faulted (cpu->pending_fault describes it) so the translator can end
 * the block before this instruction.  Unknown opcodes decode to a #UD
 * handler, which is not a failure. */
bool x86_decode(X86Cpu *cpu, uint64_t ip, X86DecodedInsn *insn);

/* Does this instruction end a translation block (branches, mode changes,
 * HLT, anything whose effect the block key depends on)? */
bool x86_insn_ends_block(const X86DecodedInsn *insn);

/* Effective offset of the memory operand (before the segment base), wrapped
 * to the address size, from base/index/scale/disp (works on instructions the
 * caller has built or changed itself; the integer core's handlers use the
 * precomputed inline x86_ea() of mem.h). */
uint64_t x86_insn_ea(X86Cpu *cpu, const X86DecodedInsn *insn);

/* The translator asks, for an instruction that ends a block, whether the
 * block may go on (a Jcc at its fall-through, a direct JMP or CALL at its
 * target): if so, returns true with *next the address to decode next, after
 * swapping in a handler that leaves the block when control goes elsewhere
 * (a taken Jcc sets cpu->stop_tb). */
bool x86_block_continues(X86DecodedInsn *insn, uint64_t *next);

/* What a specialised handler (fastpath.c) does, for code generators that
 * want to emit it inline (accel/tcg/jit.c); X86_SHAPE_NONE for every other
 * handler.  Registers are 0..15; `size` is the operand size (4 or 8; 1 for
 * byte compares with memory, whose byte register is never AH..BH) or, for
 * LOAD_ZX, the source size (1 or 2; the destination is zero-extended). */
typedef enum X86ShapeKind {
    X86_SHAPE_NONE = 0,
    X86_SHAPE_MOV_RR,   /* R[dst] = R[src] */
    X86_SHAPE_MOV_RI,   /* R[dst] = imm (already zero-extended for size 4) */
    X86_SHAPE_ALU_RR,   /* R[dst] = R[dst] alu R[src], lazy flags; CMP only flags */
    X86_SHAPE_ALU_RI,   /* R[dst] = R[dst] alu imm */
    X86_SHAPE_TEST_RR,  /* flags of R[dst] & R[src] */
    X86_SHAPE_LOAD,     /* R[dst] = [ea] */
    X86_SHAPE_LOAD_ZX,  /* R[dst] = zero-extended [ea] */
    X86_SHAPE_STORE,    /* [ea] = R[src] (size 1, 2, 4 or 8; no AH..BH) */
    X86_SHAPE_ALU_RM,   /* R[dst] = R[dst] alu [ea], lazy flags; CMP only flags */
    X86_SHAPE_CMP_MR,   /* flags of [ea] - R[src] */
    X86_SHAPE_CMP_MI,   /* flags of [ea] - imm */
    X86_SHAPE_LEA,      /* R[dst] = ea (wrapped to the operand size) */
    X86_SHAPE_JCC,      /* if cond(op): RIP = imm (and leave the block) */
    /* 64-bit mode stack and near control flow (8-byte slots, flat SS) */
    X86_SHAPE_PUSH,     /* [RSP - 8] = R[src]; RSP -= 8 */
    X86_SHAPE_POP,      /* RSP += 8; R[dst] = [old RSP] */
    X86_SHAPE_CALL,     /* push next_ip; RIP = imm */
    X86_SHAPE_RET,      /* RIP = [RSP] (canonical); RSP += 8 */
    X86_SHAPE_JMP,      /* RIP = imm */
    X86_SHAPE_NOT_R,    /* R[dst] = ~R[dst] */
    X86_SHAPE_ROT_RI,   /* R[dst] rotated by imm (1..size*8-1; alu 0 left, 1
                         * right), flags left as they are (they are dead) */
} X86ShapeKind;

typedef struct X86Shape {
    X86ShapeKind kind;
    uint8_t size;
    uint8_t alu;        /* ALU_*: ADD OR ADC SBB AND SUB XOR CMP (0..7) */
    uint8_t dst, src;
    uint8_t cc;         /* JCC: the condition */
} X86Shape;

/* A pass over a translated block: rotates whose flag results are
 * overwritten before anything can read them switch to handlers that skip
 * computing them (fastpath.c says which instructions may stand between). */
void x86_block_drop_dead_flags(X86DecodedInsn *insn, unsigned n);
/* Before delivering an exception raised by `insn`: complete the flags a
 * rotate earlier in its block left to it (insn->flags_pending). */
void x86_apply_pending_flags(X86Cpu *cpu, const X86DecodedInsn *insn);

/* Describe the specialised handler of `insn`; returns kind NONE if none. */
X86Shape x86_insn_shape(const X86DecodedInsn *insn);

/* Fill the ea_* fields from base/index/scale/disp/rip_rel/addrsize. */
void x86_decode_ea_precompute(X86DecodedInsn *insn);

#endif
