/*
 * The assembly half of the callgate kernel (see callgate.c): the targets of
 * the call gates, which record the stack frame the CPU built, and the way
 * down to ring 3 and back (SDM vol. 3, 5.8.5 stack switching, 5.8.6 return
 * from a called procedure).
 */
#define SEL_KDATA 0x10
#define SEL_UCODE 0x23
#define SEL_UDATA 0x2b

    .text
    .code32

/* Same-level target: record CS:EIP of the caller and return. */
    .globl same_target
same_target:
    movl %esp, same_esp
    movl 4(%esp), %eax
    movl %eax, same_cs
    lret

/* Ring-0 target reached from ring 3 with two parameters: copy the frame
 * (EIP, CS, two parameters, ESP, SS), load ES with a ring-0 data segment
 * (the return to ring 3 must null it), return popping the parameters. */
    .globl inner_target
inner_target:
    movl %esp, inner_esp
    xorl %ecx, %ecx
1:  movl (%esp,%ecx,4), %eax
    movl %eax, inner_frame(,%ecx,4)
    incl %ecx
    cmpl $6, %ecx
    jne 1b
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, inner_ss
    movw $SEL_KDATA, %ax
    movw %ax, %es
    lret $8

/* Ring-1 target: record CS and SS, return to ring 3. */
    .globl ring1_target
ring1_target:
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, ring1_cs
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, ring1_ss
    lret

/* run_ring3(entry): drop to ring 3 at entry; the ring-3 code comes back
 * through the exit gate to exit_target, which returns from run_ring3. */
    .globl run_ring3
run_ring3:
    pushal
    movl %esp, kernel_esp
    movl 36(%esp), %eax
    pushl $SEL_UDATA
    pushl $ring3_stack_top
    pushl $SEL_UCODE
    pushl %eax
    movw $SEL_UDATA, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    lret

    .globl exit_target
exit_target:
    movw $SEL_KDATA, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    movl kernel_esp, %esp
    popal
    ret

/* Ring 3: call through the gates and record what comes back. */
    .globl ring3_main
ring3_main:
    pushl $0x1111
    pushl $0x2222
    movl %esp, r3_esp_before
    lcall $0x3b, $0
    movl %esp, r3_esp_after
    movw %es, %ax
    movzwl %ax, %eax
    movl %eax, r3_es
    addl $8, %esp
    /* JMP through a gate cannot go to an inner level: #GP(code selector) */
    movl $1f, catch_resume
    ljmp $0x3b, $0
1:  movl caught+4, %eax
    movl %eax, r3_jmp_error
    lcall $0x43, $0

/* Ring 3: call a ring-1 target through a gate (the C part sets up the
 * TSS's SS1, valid or not); faults resume after the call. */
    .globl ring3_to_ring1
ring3_to_ring1:
    movl $2f, catch_resume
    lcall $0x83, $0
2:  lcall $0x43, $0

    .bss
    .balign 16
    .skip 4096
ring3_stack_top:
    .globl kernel_esp, same_esp, same_cs, inner_esp, inner_frame, inner_ss
    .globl r3_esp_before, r3_esp_after, r3_es, r3_jmp_error, ring1_cs, ring1_ss
kernel_esp: .long 0
same_esp: .long 0
same_cs: .long 0
inner_esp: .long 0
inner_frame: .skip 24
inner_ss: .long 0
r3_esp_before: .long 0
r3_esp_after: .long 0
r3_es: .long 0
r3_jmp_error: .long 0
ring1_cs: .long 0
ring1_ss: .long 0
