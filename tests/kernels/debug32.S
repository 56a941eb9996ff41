/*
 * The assembly half of the debug kernel (see debug.c): exception stubs that
 * log (vector, EIP, DR6) and return with IRET, and the instruction
 * sequences under test, with labels the C part compares EIPs with.
 */
#define TF 0x100

    .text
    .code32

/* log(vector): append vector, frame EIP and DR6 to the event log; clear
 * DR6.  Expects the frame's EIP at 8(%esp) after its own call. */
log_event:
    pushl %edx
    pushl %ecx
    movl n_ev, %ecx
    cmpl $32, %ecx
    jae 1f
    movl %eax, ev_vec(,%ecx,4)
    movl 16(%esp), %edx
    movl %edx, ev_eip(,%ecx,4)
    movl %dr6, %edx
    movl %edx, ev_dr6(,%ecx,4)
    incl n_ev
1:  xorl %edx, %edx
    movl %edx, %dr6
    popl %ecx
    popl %edx
    ret

    .globl db_stub
db_stub:
    pushl %eax
    movl $1, %eax
    call log_event
    /* an instruction breakpoint (a fault): resume with RF */
    movl ev_dr6 - 4(,%ecx,4), %eax
    cmpl $0, set_rf
    je 1f
    orl $0x10000, 12(%esp)
1:  popl %eax
    iret

    .globl bp_stub
bp_stub:
    pushl %eax
    movl $3, %eax
    call log_event
    popl %eax
    iret

    .globl gp_stub
gp_stub:
    addl $4, %esp               /* error code */
    pushl %eax
    movl $13, %eax
    call log_event
    movl gp_resume, %eax
    movl %eax, 4(%esp)
    popl %eax
    iret

/* Single-step: TF set by POPF (no trap after it), two NOPs, TF cleared by
 * POPF (which traps: TF was set when it started). */
    .globl seq_step
seq_step:
    pushfl
    orl $TF, (%esp)
    popfl
    nop
    .globl step_l1
step_l1:
    nop
    .globl step_l2
step_l2:
    pushfl
    andl $~TF, (%esp)
    popfl
    .globl step_end
step_end:
    ret

/* Single-step over a faulting instruction, then one more instruction. */
    .globl seq_step_fault
seq_step_fault:
    movl $fault_resume, gp_resume
    movw $0x1230, %ax
    pushfl
    orl $TF, (%esp)
    popfl
    .globl fault_insn
fault_insn:
    movw %ax, %fs
    .globl fault_resume
fault_resume:
    nop
    .globl fault_after
fault_after:
    pushfl
    andl $~TF, (%esp)
    popfl
    ret

/* MOV SS delays the single-step trap past the next instruction. */
    .globl seq_movss
seq_movss:
    movw %ss, %ax
    pushfl
    orl $TF, (%esp)
    popfl
    movw %ax, %ss
    .globl movss_l1
movss_l1:
    nop
    .globl movss_l2
movss_l2:
    pushfl
    andl $~TF, (%esp)
    popfl
    ret

/* ICEBP and INT3 */
    .globl seq_icebp
seq_icebp:
    .byte 0xf1
    .globl icebp_after
icebp_after:
    int3
    .globl int3_after
int3_after:
    ret

/* An instruction breakpoint target. */
    .globl seq_ibp
seq_ibp:
    nop
    .globl ibp_target
ibp_target:
    nop
    nop
    ret

/* Data accesses: EAX = address, the store/load right after a label. */
    .globl store32
store32:
    movl $1, (%eax)
    .globl store32_after
store32_after:
    ret
    .globl load32
load32:
    movl (%eax), %eax
    .globl load32_after
load32_after:
    ret
    .globl store8
store8:
    movb $1, (%eax)
    ret

    .bss
    .globl n_ev, ev_vec, ev_eip, ev_dr6, gp_resume, set_rf
n_ev: .long 0
ev_vec: .skip 128
ev_eip: .skip 128
ev_dr6: .skip 128
gp_resume: .long 0
set_rf: .long 0

/* General detect: with DR7.GD set, the next MOV from a debug register is
 * a #DB fault (DR6.BD) that clears GD; the handler returns to it and it
 * runs again. */
    .text
    .globl seq_gd, gd_insn
seq_gd:
    movl %dr7, %eax
    orl $0x2000, %eax
    movl %eax, %dr7
gd_insn:
    movl %dr0, %eax
    ret
