/*
 * The template JIT (x86-64 hosts): turns a translation block's pre-decoded
 * instructions into straight-line host code, and chains blocks through a
 * small dispatcher without going back to the execution loop.  The hottest shapes (register
 * moves and ALU operations, 64-bit-mode loads/stores through an inline TLB
 * lookup, LEA, Jcc fused with the compare before it) become inline host
 * code; every other instruction becomes the stores the handlers expect
 * (cpu->cur, RIP of the next instruction), a direct call of its handler and
 * the stop_tb test, so the handlers stay the one definition of every
 * instruction.  Exceptions still longjmp out of the handlers to the
 * execution loop; self-modifying code and interrupts work as in the
 * interpreter.
 */
#ifndef KESTREL_ACCEL_TCG_JIT_H
#define KESTREL_ACCEL_TCG_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/x86/x86cpu.h"

/* Generated code for one block: runs it, returns how many instructions
 * completed (fewer than the block's when one stopped it). */
typedef unsigned (*JitBlockFn)(X86Cpu *cpu);

typedef struct JitBuffer {
    uint8_t *base;
    size_t size;
    size_t used;
    size_t dispatch_len;   /* the block dispatcher at the start of the buffer */
} JitBuffer;

/* Room one block may need at most (TB_MAX_INSNS instructions). */
#define JIT_MAX_BLOCK_BYTES (64 * 256 + 512)

#if defined(__x86_64__)
#define JIT_SUPPORTED 1
#else
#define JIT_SUPPORTED 0
#endif

/* Maps an executable buffer; false when the host refuses (then the
 * interpreter runs everything). */
bool jit_init(JitBuffer *j, size_t size);
void jit_destroy(JitBuffer *j);
/* Forget all generated code (the TB arena was flushed). */
void jit_reset(JitBuffer *j);
static inline bool jit_has_room(const JitBuffer *j)
{
    return j->used + JIT_MAX_BLOCK_BYTES <= j->size;
}
/* Generates the code of n decoded instructions of the block `self` (a TB,
 * tb.h), run with TLB set mmu_idx (the caller checked jit_has_room).  The
 * code returns the instructions done by this block and by the blocks it
 * chained to (see jit.c); the execution loop's current block
 * (TcgVCpu.cur_tb, TBCache.chain_prev) is then the last one that ran. */
JitBlockFn jit_translate(JitBuffer *j, const X86DecodedInsn *insn, unsigned n, int mmu_idx,
                         const void *self);

#endif
