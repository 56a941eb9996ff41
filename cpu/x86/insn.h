/*
 * Instruction handlers of the integer core, by file.  Each is an X86ExecFn;
 * the decoder (decode.c) picks one per instruction and fills the fields the
 * comment names.  Common conventions: insn->op2 is the operand size in bytes
 * (1, 2, 4 or 8) of the main operand; insn->op a sub-operation.
 */
#ifndef KESTREL_CPU_X86_INSN_H
#define KESTREL_CPU_X86_INSN_H

#include "cpu/x86/decode.h"
#include "cpu/x86/mem.h"

#define H(name) void x86_h_##name(X86Cpu *cpu, const X86DecodedInsn *d)

/* operands (operand.c) */
uint64_t x86_read_rm(X86Cpu *cpu, const X86DecodedInsn *d, unsigned size);
void x86_write_rm(X86Cpu *cpu, const X86DecodedInsn *d, unsigned size, uint64_t v);
static inline bool x86_rex(const X86DecodedInsn *d)
{
    return d->prefixes & X86_PFX_REX;
}

/* fastpath.c: replace a generic handler with a specialised one */
void x86_specialize(X86DecodedInsn *d);

/* alu.c: op = ALU operation (ADD OR ADC SBB AND SUB XOR CMP) */
H(alu_rm_r); H(alu_r_rm); H(alu_rm_imm);
H(test_rm_r); H(test_rm_imm);
H(incdec_rm);   /* op 0 inc, 1 dec */
H(not_rm); H(neg_rm);
H(mul_rm); H(imul1_rm); H(div_rm); H(idiv_rm);
H(imul_r_rm); H(imul_r_rm_imm);
H(shift_rm);    /* op = /reg (ROL ROR RCL RCR SHL SHR SAL SAR); aux 0:1 1:CL 2:imm */
H(shd);         /* op 0 SHLD 1 SHRD; aux 1:CL 2:imm */
H(bt_r); H(bt_imm); /* op 0 BT 1 BTS 2 BTR 3 BTC */
H(bsf); H(bsr); H(tzcnt); H(lzcnt); H(popcnt);
H(mov_rm_r); H(mov_r_rm); H(mov_rm_imm); H(mov_r_imm);
H(movzx); H(movsx); /* aux = source size */
H(lea);
H(xchg); H(xadd); H(cmpxchg); H(cmpxchg8b); H(cmpxchg16b);
H(cbw); H(cwd);
H(cmov); H(setcc);  /* op = condition */
H(bswap);
H(daa); H(das); H(aaa); H(aas); H(aam); H(aad);
H(lahf); H(sahf); H(cmc); H(clc); H(stc); H(cld); H(std);
H(xlat); H(nop);
H(mov_moffs_load); H(mov_moffs_store); /* imm = offset */

/* ctrl.c: imm = branch target for relative branches */
H(jcc); H(jmp_rel); H(call_rel); H(ret); H(jmp_rm); H(call_rm);
H(loop);         /* op 0 LOOPNE 1 LOOPE 2 LOOP 3 JrCXZ */
H(jmpf_ptr); H(callf_ptr); H(jmpf_m); H(callf_m); H(retf); H(iret);
H(int_imm); H(int3); H(into); H(int1);
H(enter); H(leave);
H(push_r); H(pop_r); H(push_imm); H(push_rm); H(pop_rm); H(push_seg);
H(pop_seg); H(pusha); H(popa); H(pushf); H(popf);
H(bound);

/* string.c: op2 = element size */
H(movs); H(cmps); H(stos); H(lods); H(scas); H(ins); H(outs);

/* sys.c */
/* #GP(0) unless CPL <= IOPL or the TSS I/O bitmap allows the ports */
void x86_check_io(X86Cpu *cpu, uint16_t port, unsigned size);
H(hlt); H(cli); H(sti); H(in); H(out); /* aux 0: imm port, 1: DX */
H(grp6); H(grp7); H(mov_from_cr); H(mov_to_cr); H(mov_from_dr); H(mov_to_dr);
H(clts); H(wbinvd); H(rdmsr); H(wrmsr); H(rdtsc); H(rdtscp); H(rdpmc);
H(cpuid); H(syscall); H(sysret); H(sysenter); H(sysexit);
H(lar); H(lsl); H(mov_seg_rm); H(mov_rm_seg); H(lxs); /* op = segment */
H(arpl); H(ud); H(fence); H(pause); H(rdrand);

#undef H
#endif
