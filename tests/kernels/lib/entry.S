/*
 * Entry point of every test kernel: the Multiboot v1 header (Multiboot
 * specification 0.6.96, 3.1.1), the GDT the kernel runs on, and the switch
 * from the loader's state (32-bit protected mode, paging off, EAX =
 * 0x2BADB002, EBX = Multiboot information) to C: kernel_entry(magic, info).
 */
#include "lib/layout.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, give memory information */

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .code32
    .globl _start
_start:
    cli
    cld
    movl $(boot_stack + BOOT_STACK_SIZE), %esp
    pushl %ebx
    pushl %eax
    lgdt gdt_desc
    ljmp $SEL_CODE32, $1f
1:  movw $SEL_DATA32, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    call kernel_entry
2:  cli
    hlt
    jmp 2b

    .data
    .balign 16
    .globl gdt
gdt:
    .quad 0                     /* null */
    .quad 0x00cf9a000000ffff    /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: flat data */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
gdt_end:
    .globl gdt_desc
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .bss
    .balign 16
boot_stack:
    .skip BOOT_STACK_SIZE
