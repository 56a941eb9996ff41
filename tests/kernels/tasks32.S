/*
 * Entry points of the tasks of the tasks kernel (see tasks.c): each runs
 * its C body on the stack its TSS gave it, then returns to the task that
 * called it with IRET (EFLAGS.NT set, SDM vol. 3, 7.4).
 */
    .text
    .code32

/* Called task: ESI was loaded from its TSS. */
    .globl task_a_entry
task_a_entry:
    movl %esi, task_a_esi
    call task_a_body
    iret
    .globl task_a_after_iret
task_a_after_iret:
    jmp task_a_entry

/* Task of the IDT's vector 0x40 (INT n through a task gate). */
    .globl task_int_entry
task_int_entry:
    call task_int_body
    iret
    jmp task_int_entry

/* Double-fault task: the error code is on its stack. */
    .globl task_df_entry
task_df_entry:
    popl %eax
    movl %eax, df_error
    call task_df_body
    iret
    jmp task_df_entry

    .bss
    .globl task_a_esi, df_error
task_a_esi: .long 0
df_error: .long 0

/* #TS task: the error code is on its stack; the faulting task is in its
 * back link.  It goes back to the main task (free: it left by JMP). */
    .text
    .globl task_ts_entry
task_ts_entry:
    popl %eax
    movl %eax, ts_error
    ljmp $0x20, $0
    jmp task_ts_entry

    .bss
    .globl ts_error
ts_error: .long 0
