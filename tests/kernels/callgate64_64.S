/*
 * The long-mode half of the callgate64 kernel (see callgate64.c): enters
 * long mode, calls through the ring-0 gate at ring 0, goes to ring 3 with
 * IRETQ (IOPL 3, so that it can print and exit), calls through the DPL-3
 * gate to ring 0 and checks what gate_target saw and what RETFQ restored.
 * A failed check prints its number.
 */
#include "lib/layout.h"

#define MSR_EFER 0xc0000080
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define EXIT_PASS 0x10
#define EXIT_FAIL 0x11
#define SEL_CODE64_USER 0x23
#define SEL_DATA_USER 0x2b
#define SEL_TSS64 0x30

/* CHECK n, a, b: compare two quadword operands (b may be a register or a
 * sign-extended immediate); on a difference report check n. */
.macro CHECK n, a, b
    movl $\n, fail_id(%rip)
    cmpq \b, \a
    jne fail
.endm

    .text
    .code32
    .globl run_long_mode
run_long_mode:
    movl 4(%esp), %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $(1 << 5), %eax             /* PAE */
    movl %eax, %cr4
    movl $MSR_EFER, %ecx
    rdmsr
    orl $(1 << 8), %eax             /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    ljmp $SEL_CODE64, $long_entry

    .code64
long_entry:
    movl %esp, %esp
    movw $SEL_TSS64, %ax
    ltr %ax

    /* ring 0 to ring 0 through a gate: CS and RIP pushed as quadwords */
    movq %rsp, %rbx
    lcall *gate_kernel_ptr(%rip)
ret_kernel:
    leaq ret_kernel(%rip), %rax
    CHECK 1, g_ret_rip(%rip), %rax
    CHECK 2, g_ret_cs(%rip), $SEL_CODE64
    leaq -16(%rbx), %rax
    CHECK 3, g_rsp(%rip), %rax
    CHECK 4, g_cs(%rip), $SEL_CODE64
    CHECK 5, %rsp, %rbx

    /* to ring 3 */
    pushq $SEL_DATA_USER
    leaq user_stack_top(%rip), %rax
    pushq %rax
    pushq $0x3002                   /* IOPL 3 */
    pushq $SEL_CODE64_USER
    leaq user_entry(%rip), %rax
    pushq %rax
    iretq

user_entry:
    movq %cs, %rax
    CHECK 6, %rax, $SEL_CODE64_USER
    movq %rsp, %rbx
    lcall *gate_user_ptr(%rip)
ret_user:
    CHECK 7, g_cs(%rip), $SEL_CODE64
    CHECK 8, g_ss(%rip), $0
    movq tss_rsp0(%rip), %rax
    subq $32, %rax
    CHECK 9, g_rsp(%rip), %rax
    leaq ret_user(%rip), %rax
    CHECK 10, g_ret_rip(%rip), %rax
    CHECK 11, g_ret_cs(%rip), $SEL_CODE64_USER
    CHECK 12, g_old_rsp(%rip), %rbx
    CHECK 13, g_old_ss(%rip), $SEL_DATA_USER
    movq %cs, %rax
    CHECK 14, %rax, $SEL_CODE64_USER
    movq %ss, %rax
    CHECK 15, %rax, $SEL_DATA_USER
    CHECK 16, %rsp, %rbx

    leaq msg_pass(%rip), %rsi
    call puts64
    movl $EXIT_PASS, %eax
    jmp out
fail:
    leaq msg_fail(%rip), %rsi
    call puts64
    movl fail_id(%rip), %edi
    call putdec64
    leaq msg_nl(%rip), %rsi
    call puts64
    movl $EXIT_FAIL, %eax
out:
    movw $DEBUG_EXIT_PORT, %dx
    outl %eax, %dx
1:  jmp 1b

/* Target of both gates (ring 0, 64-bit): records what the call left. */
    .globl gate_target
gate_target:
    movq %rsp, g_rsp(%rip)
    movq %cs, %rax
    movq %rax, g_cs(%rip)
    movq %ss, %rax
    movq %rax, g_ss(%rip)
    movq 0(%rsp), %rax
    movq %rax, g_ret_rip(%rip)
    movq 8(%rsp), %rax
    movq %rax, g_ret_cs(%rip)
    movq 16(%rsp), %rax
    movq %rax, g_old_rsp(%rip)
    movq 24(%rsp), %rax
    movq %rax, g_old_ss(%rip)
    lretq

/* Write %al to COM1 once its transmitter is empty. */
putc64:
    pushq %rdx
    pushq %rax
    movw $(COM1 + 5), %dx
2:  inb %dx, %al
    testb $0x20, %al
    jz 2b
    popq %rax
    movw $COM1, %dx
    outb %al, %dx
    popq %rdx
    ret

/* Print the NUL-terminated string at %rsi. */
puts64:
    lodsb
    testb %al, %al
    jz 3f
    call putc64
    jmp puts64
3:  ret

/* Print %edi (below 100) in decimal. */
putdec64:
    movl %edi, %eax
    xorl %edx, %edx
    movl $10, %ecx
    divl %ecx
    addb $'0', %al
    call putc64
    movb %dl, %al
    addb $'0', %al
    call putc64
    ret

    .section .rodata
gate_kernel_ptr:
    .long 0
    .word 0x50
gate_user_ptr:
    .long 0
    .word 0x43
msg_pass:
    .asciz "callgate64: PASS\r\n"
msg_fail:
    .asciz "callgate64: FAIL: check "
msg_nl:
    .asciz "\r\n"

    .bss
    .balign 16
user_stack:
    .space 4096
user_stack_top:
    .balign 8
g_rsp: .quad 0
g_cs: .quad 0
g_ss: .quad 0
g_ret_rip: .quad 0
g_ret_cs: .quad 0
g_old_rsp: .quad 0
g_old_ss: .quad 0
fail_id: .long 0
