/*
 * The long-mode half of the longmode kernel: turn on PAE, LME and paging,
 * far jump to a 64-bit code segment, then print from 64-bit code and exit
 * through isa-debug-exit.  Passes if EFER.LMA is set and a 64-bit multiply
 * gives the expected result.
 */
#include "lib/layout.h"

#define MSR_EFER 0xc0000080
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define EXIT_PASS 0x10
#define EXIT_FAIL 0x11

    .text
    .code32
    .globl enter_long_mode
enter_long_mode:
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
    movl %esp, %esp                 /* zero-extend the stack pointer */
    leaq msg_hello(%rip), %rsi
    call puts64

    movl $MSR_EFER, %ecx
    rdmsr
    testl $(1 << 10), %eax          /* LMA */
    jz fail

    movabsq $0x123456789, %rax
    movabsq $0x1000000001, %rbx
    mulq %rbx                       /* rdx:rax = 0x123456789 * 0x1000000001 */
    movabsq $0x3456789123456789, %rcx
    cmpq %rcx, %rax
    jne fail
    cmpq $0x12, %rdx
    jne fail

    mov %rax, %rdi
    leaq msg_value(%rip), %rsi
    call puts64
    call puthex64
    leaq msg_pass(%rip), %rsi
    call puts64
    movl $EXIT_PASS, %eax
    jmp out
fail:
    leaq msg_fail(%rip), %rsi
    call puts64
    movl $EXIT_FAIL, %eax
out:
    movw $DEBUG_EXIT_PORT, %dx
    outl %eax, %dx
1:  cli
    hlt
    jmp 1b

/* Write the byte in %al to COM1 once its transmitter is empty. */
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

/* Print %rdi as 16 hex digits. */
puthex64:
    movl $16, %ecx
4:  rolq $4, %rdi
    movl %edi, %eax
    andl $0xf, %eax
    leaq hex_digits(%rip), %rdx
    movb (%rdx,%rax), %al
    call putc64
    decl %ecx
    jnz 4b
    ret

    .section .rodata
hex_digits:
    .ascii "0123456789abcdef"
msg_hello:
    .asciz "longmode: running 64-bit code\r\n"
msg_value:
    .asciz "longmode: 0x123456789 * 0x1000000001 = 0x12"
msg_pass:
    .asciz "\r\nlongmode: PASS\r\n"
msg_fail:
    .asciz "longmode: FAIL\r\n"
