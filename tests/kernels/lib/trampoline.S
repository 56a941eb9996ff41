/*
 * Application-processor start-up code (Intel SDM vol. 3, 9.4 "Multiple-
 * Processor Initialization"; MP specification B.4).  trampoline_start ..
 * trampoline_end is copied to TRAMPOLINE_ADDR below 1 MiB; an AP receiving a
 * STARTUP IPI with vector TRAMPOLINE_ADDR >> 12 begins here in real mode at
 * CS:IP = (TRAMPOLINE_ADDR >> 4):0000.  It loads the kernel's GDT (whose
 * descriptor smp.c copies into tramp_gdt_desc), enters protected mode, takes
 * the next free AP stack and calls ap_entry() in C.
 */
#include "lib/layout.h"

    .text
    .code16
    .globl trampoline_start, trampoline_end, tramp_gdt_desc
trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (tramp_gdt_desc - trampoline_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $ap_entry32
    .balign 4
tramp_gdt_desc:
    .word 0
    .long 0
trampoline_end:

    .code32
ap_entry32:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $1, %eax
    lock xaddl %eax, ap_stack_next
    cmpl $MAX_CPUS, %eax
    jae 2f
    incl %eax
    imull $AP_STACK_SIZE, %eax
    addl $ap_stacks, %eax
    movl %eax, %esp
    call ap_entry
2:  cli
    hlt
    jmp 2b

    .data
    .balign 4
ap_stack_next:
    .long 0

    .bss
    .balign 16
ap_stacks:
    .skip AP_STACK_SIZE * MAX_CPUS
