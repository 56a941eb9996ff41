/*
 * Internal interfaces between the protected-mode system files of the
 * software CPU: far transfers (farctl.c), call gates (callgate.c), task
 * switching (task.c), virtual-8086 mode (vm86.c) and exception delivery
 * (except.c).  Descriptor field helpers follow SDM vol. 3, 3.4.5 and 5.8.
 */
#ifndef KESTREL_CPU_X86_PROTMODE_H
#define KESTREL_CPU_X86_PROTMODE_H

#include "cpu/x86/mem.h"

static inline unsigned x86_desc_type(uint32_t hi)
{
    return (hi >> X86_DESC_TYPE_SHIFT) & 15;
}

static inline unsigned x86_desc_dpl(uint32_t hi)
{
    return (hi >> X86_DESC_DPL_SHIFT) & 3;
}

/* Does [off, off + size) lie inside the stack segment (expand-up or
 * expand-down, SDM vol. 3, 5.3)? */
static inline bool x86_stack_fits(const SegmentCache *ss, uint64_t off, unsigned size)
{
    uint64_t top = (ss->flags & X86_DESC_B) ? 0xffffffffu : 0xffff;
    if (x86_desc_type(ss->flags) & 4) {
        return off > ss->limit && off + size - 1 <= top;
    }
    return off + size - 1 <= ss->limit;
}

/* System descriptor types (S = 0), SDM vol. 3, table 3-2. */
enum {
    X86_SYS_TSS16 = 1, X86_SYS_LDT = 2, X86_SYS_TSS16_BUSY = 3,
    X86_SYS_CALL16 = 4, X86_SYS_TASK = 5, X86_SYS_INTR16 = 6,
    X86_SYS_TRAP16 = 7, X86_SYS_TSS32 = 9, X86_SYS_TSS32_BUSY = 11,
    X86_SYS_CALL32 = 12, X86_SYS_INTR32 = 14, X86_SYS_TRAP32 = 15,
};

/* callgate.c: far JMP/CALL whose selector names a system descriptor (a call
 * gate, a task gate or a TSS); RIP is past the instruction. */
void x86_far_system(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                    bool call);

/* except.c: the stack pointer for privilege level `dpl` from the current
 * TSS (16- or 32-bit); #TS(TR selector + ext) when it lies outside. */
void x86_tss_stack(X86Cpu *cpu, unsigned dpl, uint16_t *ss, uint64_t *sp,
                   uint32_t ext);

/* task.c: task switches (SDM vol. 3, 7.3). */
typedef enum X86TaskReason {
    X86_TASK_JMP, X86_TASK_CALL, X86_TASK_IRET, X86_TASK_INT
} X86TaskReason;
/* Switch to the TSS `sel` whose descriptor words are lo/hi (already checked
 * for type and privilege by the caller).  For X86_TASK_INT, an error code
 * is pushed on the new task's stack when has_err. */
void x86_task_switch(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                     X86TaskReason why, bool has_err, uint32_t err, uint32_t ext);
/* Through a task gate's TSS selector (JMP/CALL, INT n, exceptions): the
 * TSS descriptor checks, then the switch.  ext is 1 for events the program
 * did not cause directly (the EXT bit of error codes). */
void x86_task_gate(X86Cpu *cpu, uint16_t tss_sel, X86TaskReason why,
                   bool has_err, uint32_t err, uint32_t ext);
/* IRET with EFLAGS.NT set: return to the task of the back link. */
void x86_task_return(X86Cpu *cpu);

/* vm86.c: virtual-8086 mode (SDM vol. 3, chapter 20). */
/* IRET at CPL 0 to an EFLAGS image with VM set: the rest of the frame (ESP,
 * SS, ES, DS, FS, GS) is at SS:sp (the offset after EFLAGS). */
void x86_vm86_enter_iret(X86Cpu *cpu, uint32_t eip, uint16_t cs,
                         uint32_t eflags, uint64_t sp);
/* Interrupt or exception from virtual-8086 mode through a 16/32-bit
 * interrupt/trap gate to the ring-0 code segment (cs_sel, lo, hi) at
 * `off`: the stack switch from TSS.SS0:ESP0, the frame with GS, FS, DS,
 * ES, SS, ESP, EFLAGS, CS, EIP (and the error code), the data segments
 * nulled. */
void x86_vm86_interrupt(X86Cpu *cpu, uint16_t cs_sel, uint32_t lo, uint32_t hi,
                        uint32_t off, bool gate32, bool trap_gate, bool has_err,
                        uint32_t err, uint32_t ext);

#endif
