/*
 * The extension entry points of ext.h: the x87 half (fpu-*.c) and the
 * MMX/SSE half (sse-*.c) each claim their own opcodes and CPUID bits.
 */
#include "cpu/x86/ext-internal.h"

bool x86_ext_decode(X86DecodedInsn *insn)
{
    return x86_fpu_decode(insn) || x86_sse_decode(insn);
}

void x86_ext_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx)
{
    x86_fpu_cpuid_features(leaf1_edx, leaf1_ecx, ext1_ecx);
    x86_sse_cpuid_features(leaf1_edx, leaf1_ecx, ext1_ecx);
}
