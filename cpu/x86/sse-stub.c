/*
 * Placeholder for the MMX/SSE half of the extension (see ext.h and
 * ext-internal.h), used until sse-*.c replace it.  It advertises no CPUID
 * feature and claims only LDMXCSR and STMXCSR (SDM vol. 1, 10.2.3), which an
 * operating system runs when it initialises the SSE state.
 */
#include "cpu/x86/ext-internal.h"

enum { OP_LDMXCSR, OP_STMXCSR };

static void exec_mxcsr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint32_t l;
    x86_ext_check_sse(cpu);
    if (d->op == OP_STMXCSR) {
        x86_ext_store(cpu, d, 0, &f->mxcsr, 4);
        return;
    }
    x86_ext_load(cpu, d, 0, &l, 4);
    if (l & ~0xffffu) {
        x86_ext_raise(cpu, EXC_GP);
    }
    f->mxcsr = l;
}

bool x86_sse_decode(X86DecodedInsn *insn)
{
    unsigned r = insn->reg & 7;
    if (insn->map == X86_MAP_0F && insn->opcode == 0xae && insn->mod != 3 &&
        !insn->mandatory && (r == 2 || r == 3)) {
        insn->op = r == 2 ? OP_LDMXCSR : OP_STMXCSR;
        insn->exec = exec_mxcsr;
        return true;
    }
    return false;
}

void x86_sse_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx)
{
    (void)leaf1_edx;
    (void)leaf1_ecx;
    (void)ext1_ecx;
}
