/*
 * Placeholder for the x87/MMX/SSE extension (see ext.h): claims nothing, so
 * those opcodes raise #UD, and advertises no feature.  Removed from the
 * build when the extension's fpu-*.c / sse-*.c files arrive.
 */
#include "cpu/x86/ext.h"

bool x86_ext_decode(X86DecodedInsn *insn)
{
    return false;
}

void x86_ext_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx)
{
}
