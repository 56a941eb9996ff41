/*
 * ModRM operand access shared by the instruction handlers: register or
 * memory r/m operands, and locked read-modify-write of memory operands with
 * host atomics (SDM vol. 3, 9.1.2.2 LOCK semantics).
 */
#include "cpu/x86/insn.h"

uint64_t x86_read_rm(X86Cpu *cpu, const X86DecodedInsn *d, unsigned size)
{
    if (d->mod == 3) {
        return x86_get_reg(cpu, d->rm, size, x86_rex(d));
    }
    return x86_ld(cpu, d->seg, x86_ea(cpu, d), size);
}

void x86_write_rm(X86Cpu *cpu, const X86DecodedInsn *d, unsigned size, uint64_t v)
{
    if (d->mod == 3) {
        x86_set_reg(cpu, d->rm, size, x86_rex(d), v);
        return;
    }
    x86_st(cpu, d->seg, x86_ea(cpu, d), v, size);
}
