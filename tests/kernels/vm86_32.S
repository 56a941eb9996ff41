/*
 * The assembly half of the vm86 kernel (see vm86.c): the 16-bit program
 * copied below 1 MiB, the entry into virtual-8086 mode by IRET, and the
 * monitor's handlers, which return to virtual-8086 mode with IRET (SDM vol.
 * 3, 20.3; figure 20-3 for their stack frame).
 */
#define SEL_KDATA 0x10

    .text
/* The virtual-8086 program (position independent, run at 0700:0000). */
    .code16
    .globl v86_prog, v86_prog_end
v86_prog:
    movw $0x1234, %ax
    movw %ax, %ds
    movw $0x55aa, 0x10          /* linear 0x12350 */
    cli                         /* IOPL-sensitive: #GP(0) when IOPL < 3 */
    sti
    pushfw
    popfw
    int $0x21
    inb $0x80, %al              /* allowed by the I/O bitmap */
    outb %al, $0x84             /* denied by the I/O bitmap: #GP(0) */
    int3                        /* not IOPL-sensitive: #BP through the IDT */
    movw %sp, %bx
    ud2                         /* the end: #UD */
v86_prog_end:

    .code32
/* run_v86(eflags): enter the program; the #UD handler returns here. */
    .globl run_v86
run_v86:
    pushal
    movl %esp, v86_kernel_esp
    movl 36(%esp), %eax
    pushl $0                    /* GS */
    pushl $0                    /* FS */
    pushl $0x0100               /* DS */
    pushl $0x0200               /* ES */
    pushl $0x0800               /* SS */
    pushl $0x0ffe               /* ESP */
    pushl %eax                  /* EFLAGS, with VM */
    pushl $0x0700               /* CS */
    pushl $0                    /* EIP */
    iret

/* Common part of the monitor's handlers: record the frame (ESP points at
 * EIP; the error code, if any, was popped into v86_error). */
v86_record:
    movl %ds, %eax
    movl %eax, %ss:v86_ds_in_handler
    movl $SEL_KDATA, %eax
    movl %eax, %ds
    movl %eax, %es
    xorl %ecx, %ecx
1:  movl 4(%esp,%ecx,4), %eax
    movl %eax, v86_frame(,%ecx,4)
    incl %ecx
    cmpl $9, %ecx
    jne 1b
    leal 4(%esp), %eax
    movl %eax, v86_frame_esp
    ret

/* #GP(0) from the program: count it, note the opcode and step over it. */
    .globl v86_gp
v86_gp:
    popl %ss:v86_error
    call v86_record
    movzwl 4(%esp), %eax        /* CS */
    shll $4, %eax
    addl (%esp), %eax           /* + EIP */
    movzbl (%eax), %ecx
    movl v86_gp_count, %edx
    movb %cl, v86_gp_ops(%edx)
    incl v86_gp_count
    /* length of the instruction: 2 for INT n and OUT imm, else 1 */
    movl $1, %eax
    cmpb $0xcd, %cl
    je 2f
    cmpb $0xe6, %cl
    jne 3f
2:  movl $2, %eax
3:  addl %eax, (%esp)
    iret

/* INT 21h (IOPL 3, a DPL-3 gate) and INT3: count and return. */
    .globl v86_int21
v86_int21:
    call v86_record
    incl v86_int21_count
    iret
    .globl v86_bp
v86_bp:
    call v86_record
    incl v86_bp_count
    iret

/* #UD: the program's end; back to run_v86's caller. */
    .globl v86_ud
v86_ud:
    call v86_record
    movl $SEL_KDATA, %eax
    movl %eax, %fs
    movl %eax, %gs
    movl v86_kernel_esp, %esp
    popal
    ret

    .bss
    .globl v86_kernel_esp, v86_error, v86_ds_in_handler, v86_frame, v86_frame_esp
    .globl v86_gp_count, v86_gp_ops, v86_int21_count, v86_bp_count
v86_kernel_esp: .long 0
v86_error: .long 0
v86_ds_in_handler: .long 0
v86_frame: .skip 36
v86_frame_esp: .long 0
v86_gp_count: .long 0
v86_gp_ops: .skip 16
v86_int21_count: .long 0
v86_bp_count: .long 0
