/*
 * The boundary between the integer core and the x87 / MMX / SSE extension
 * (cpu/x86/fpu-*.c, cpu/x86/sse-*.c).
 *
 * Decoding: the integer decoder (decode.c) parses prefixes, REX, the opcode
 * map and byte, ModRM/SIB/displacement and the immediate of EVERY opcode (it
 * knows the length of all of them), then calls x86_ext_decode() for the
 * opcodes it does not implement itself:
 *   - one-byte map D8..DF (x87 escape),
 *   - map 0F: 10..17, 28..2F, 50..7F, C2..C6, D0..FF, 0F AE /0../3 (FXSAVE,
 *     FXRSTOR, LDMXCSR, STMXCSR), 0F AE /4.. (XSAVE..., fences: the core
 *     handles LFENCE/MFENCE/SFENCE/CLFLUSH itself), 0F 77 (EMMS),
 *     0F B8 with F3 (POPCNT is core), 0F 0F (3DNow!, never claimed),
 *   - maps 0F38 and 0F3A (except MOVBE 0F38 F0/F1, core).
 * x86_ext_decode() either claims the instruction -- sets insn->exec to its
 * handler and may use insn->op / op2 / aux for its own sub-decoding -- and
 * returns true, or returns false and the instruction raises #UD.
 * insn->mandatory holds the SSE mandatory prefix (66, F3, F2 or 0; the last
 * of F2/F3 wins over 66, per SDM 2.1.2), and insn->imm the imm8 where the
 * opcode has one (0F 70..73, C2, C4..C6, all of 0F3A).
 *
 * Execution: the handler runs with cpu->env->rip already past the
 * instruction.  It uses only the helpers below and cpu->env->fpu / cpu->env
 * registers; faults longjmp out of the helpers, so a handler must finish its
 * memory accesses (which can fault) before it changes architectural state.
 */
#ifndef KESTREL_CPU_X86_EXT_H
#define KESTREL_CPU_X86_EXT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86/decode.h"
#include "cpu/x86/x86cpu.h"

/* Implemented by the extension (ext.c, which asks fpu-*.c and sse-*.c; see ext-internal.h). */
bool x86_ext_decode(X86DecodedInsn *insn);
/* The CPUID feature bits the extension implements, to be ORed into leaf 1
 * EDX/ECX and leaf 0x80000001 ECX by cpuid.c (FPU, MMX, FXSR, SSE, SSE2,
 * SSE3, SSSE3, SSE4_1, SSE4_2 ...). */
void x86_ext_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx);
/* Reset of the extension's state inside X86FpuState is done by
 * x86_state_reset (FCW 0x37F, MXCSR 0x1F80); FNINIT is the extension's. */

/* ---- helpers provided by the core (ext-helpers.c) ---- */

/* Memory operand of a ModRM instruction (insn->mod != 3): load/store `size`
 * bytes (1, 2, 4, 8, 10 or 16) at the effective address, through the
 * segment and the TLB, raising #GP/#SS/#PF as the hardware would.  `offset`
 * is added to the effective offset (for FXSAVE-style multi-part areas). */
void x86_ext_load(X86Cpu *cpu, const X86DecodedInsn *insn, uint64_t offset,
                  void *buf, unsigned size);
void x86_ext_store(X86Cpu *cpu, const X86DecodedInsn *insn, uint64_t offset,
                   const void *buf, unsigned size);
/* Check a whole area (e.g. 512 bytes for FXSAVE) for writability/readability
 * before touching it, so that a fault leaves memory unchanged. */
void x86_ext_probe(X86Cpu *cpu, const X86DecodedInsn *insn, unsigned size,
                   bool write);
/* #GP(0) unless the effective address is aligned to `align` bytes (movaps,
 * fxsave...). */
void x86_ext_check_align(X86Cpu *cpu, const X86DecodedInsn *insn,
                         unsigned align);

/* General-purpose registers (reg 0..15; size 1/2/4/8; writes of size 4 zero
 * the upper half as in 64-bit mode; size 1 follows the REX rule of insn). */
uint64_t x86_ext_get_gpr(X86Cpu *cpu, const X86DecodedInsn *insn, int reg,
                         unsigned size);
void x86_ext_set_gpr(X86Cpu *cpu, const X86DecodedInsn *insn, int reg,
                     unsigned size, uint64_t value);

/* Set the six arithmetic flags (CF PF AF ZF SF OF) to `flags` (others kept):
 * COMISS/UCOMISS, FCOMI, PTEST, PCMPxSTRx. */
void x86_ext_set_arith_flags(X86Cpu *cpu, uint32_t flags);

/* Raise exceptions.  x86_ext_check_sse: #UD if CR0.EM or !CR4.OSFXSR, #NM if
 * CR0.TS.  x86_ext_check_fpu: #NM if CR0.EM or CR0.TS.  x86_ext_check_mmx:
 * #UD if CR0.EM, #NM if CR0.TS. */
void x86_ext_check_sse(X86Cpu *cpu);
void x86_ext_check_fpu(X86Cpu *cpu);
void x86_ext_check_mmx(X86Cpu *cpu);
G_NORETURN void x86_ext_raise(X86Cpu *cpu, int vector); /* #UD, #NM, #MF, #XM */

#endif
