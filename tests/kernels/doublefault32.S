/*
 * Entry points of the double-fault and page-fault tasks of the doublefault
 * kernel (see doublefault.c): each takes its error code from its stack,
 * runs its C body, which points the interrupted task at its resume address
 * and a usable stack, and returns to it with IRET (EFLAGS.NT, SDM vol. 3,
 * 7.4).  The next delivery resumes after the IRET.
 */
    .text
    .code32

    .globl task_df_entry
task_df_entry:
    popl %eax
    movl %eax, df_error
    call task_df_body
    iret
    jmp task_df_entry

    .globl task_pf_entry
task_pf_entry:
    popl %eax
    movl %eax, pf_error
    call task_pf_body
    iret
    jmp task_pf_entry

    .bss
    .globl df_error, pf_error
df_error: .long 0
pf_error: .long 0
