/*
 * The two halves of the x87/MMX/SSE extension behind ext.h: the x87 FPU with
 * the FXSAVE/FXRSTOR state instructions (fpu-*.c), and MMX/SSE..SSE4.2 with
 * LDMXCSR/STMXCSR (sse-*.c).  ext.c asks each in turn to claim an opcode;
 * each claims only its own and returns false for the rest.
 */
#ifndef KESTREL_CPU_X86_EXT_INTERNAL_H
#define KESTREL_CPU_X86_EXT_INTERNAL_H

#include "cpu/x86/ext.h"

bool x86_fpu_decode(X86DecodedInsn *insn);
bool x86_sse_decode(X86DecodedInsn *insn);
void x86_fpu_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx);
void x86_sse_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx);

#endif
