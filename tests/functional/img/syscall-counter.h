/*
 * syscall-counter.h: counts the write-like system calls of the process
 * (pwrite, pwritev, fdatasync, fsync, ftruncate, fallocate) and sends
 * SIGKILL to itself just before the Nth one.  Test-only.
 */
#ifndef KESTREL_TEST_SYSCALL_COUNTER_H
#define KESTREL_TEST_SYSCALL_COUNTER_H

/* Kill before call number `budget` (counted from now); -1: never. */
void syscall_counter_arm(long budget);
long syscall_counter_value(void);

#endif
