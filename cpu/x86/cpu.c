/*
 * Life cycle of the software CPU's execution context: initialisation over an
 * X86State and recomputation of the cached mode bits (CPL from SS.DPL as in
 * SDM vol. 3 5.5, code/stack sizes, MMU index, segment check ranges).
 */
#include <string.h>

#include "cpu/x86/mem.h"

void x86_cpu_init(X86Cpu *cpu, X86State *env)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->env = env;
    cpu->cc_op = CC_OP(CC_EFLAGS, 0);
    cpu->cc_src = env->rflags & X86_ARITH_FLAGS;
    x86_cpu_set_model(cpu, NULL);
    x86_tlb_flush(cpu);
    x86_update_mode(cpu);
}

void x86_update_mode(X86Cpu *cpu)
{
    X86State *env = cpu->env;
    const SegmentCache *cs = &env->segs[R_CS], *ss = &env->segs[R_SS];
    cpu->pe = env->cr0 & X86_CR0_PE;
    cpu->vm86 = cpu->pe && (env->rflags & X86_FLAG_VM);
    cpu->long_mode = env->efer & X86_EFER_LMA;
    if (cpu->long_mode && (cs->flags & X86_DESC_L)) {
        cpu->code_size = 8;
    } else {
        cpu->code_size = (cs->flags & X86_DESC_B) ? 4 : 2;
    }
    if (cpu->code_size == 8) {
        cpu->stack_size = 8;
    } else {
        cpu->stack_size = (ss->flags & X86_DESC_B) ? 4 : 2;
    }
    if (!cpu->pe) {
        cpu->cpl = 0;
    } else if (cpu->vm86) {
        cpu->cpl = 3;
    } else {
        cpu->cpl = (ss->flags >> X86_DESC_DPL_SHIFT) & 3;
    }
    cpu->mmu_idx = cpu->cpl == 3 ? MMU_USER : MMU_SUP;
    for (int i = 0; i < 6; i++) {
        x86_seg_cache_update(cpu, i);
    }
    x86_debug_update(cpu);
    x86_align_check_update(cpu);
}
