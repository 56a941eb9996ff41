/* Starting the application processors. */
#ifndef KTEST_SMP_H
#define KTEST_SMP_H

/* Copy the trampoline below 1 MiB and send INIT, STARTUP, STARTUP to each
 * APIC ID 1..ncpus-1.  Every AP that starts calls fn() on its own stack with
 * the IDT loaded and then halts with interrupts off.  The LAPIC of the
 * calling CPU must be enabled. */
void smp_start_aps(unsigned ncpus, void (*fn)(void));

#endif
