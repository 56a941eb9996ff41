/*
 * Interrupt entry stubs for all 256 vectors (Intel SDM vol. 3, 6.12): each
 * pushes a dummy error code where the CPU does not push one, then the vector
 * number, saves the general registers and calls isr_dispatch(frame).
 *
 * The return path does not use IRET: it restores EFLAGS with POPF and
 * returns with a far RET that also drops the saved EFLAGS.  That is the same
 * thing for a same-privilege interrupt without NMIs, and it lets the kernels
 * run on hosts whose KVM executes guest kernel code in its instruction
 * emulator (the nested kvm_pvm module), which cannot emulate a protected-mode
 * IRET.
 */
#include "lib/layout.h"

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
                      (v) == 21 || (v) == 29 || (v) == 30)

    .text
    .code32
isr_common:
    pushal
    movl %esp, %eax
    pushl %eax
    call isr_dispatch
    addl $4, %esp
    popal
    addl $8, %esp       /* vector and error code */
    pushl 8(%esp)       /* EIP, CS, EFLAGS -> EFLAGS, EIP, CS, EFLAGS */
    popfl
    lret $4

    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !HAS_ERROR(vec)
    pushl $0
    .endif
    pushl $vec
    jmp isr_common
    .set vec, vec + 1
    .endr
