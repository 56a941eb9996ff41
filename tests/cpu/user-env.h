/*
 * The TCG side of a host-process comparison (host-ref.h): guest memory and
 * state that make the software CPU see what the generated code sees in a
 * Linux process.  Long mode with Linux's user selectors in the GDT, the
 * 16-bit segments in an LDT, 4 KiB pages mirroring the process's mappings
 * (executable code, non-executable data, an absent and a read-only page),
 * CR0.AM for alignment checks, IOPL 0, and an IDT whose gates lead to one
 * stub per vector at CPL 0 that saves the FXSAVE image and stops the run
 * with OUT.  Gates 3 (INT3) and 4 (INTO) have DPL 3, as in Linux.
 */
#ifndef KESTREL_TESTS_CPU_USER_ENV_H
#define KESTREL_TESTS_CPU_USER_ENV_H

#include <stdint.h>

#include "tests/cpu/host-ref.h"

/* Write page tables, GDT, LDT, TSS, IDT and the stubs below HOST_LO. */
void user_env_build(uint8_t *ram);
/* Segments, descriptor tables, control registers and EFER for the mode;
 * RFLAGS gets IF and IOPL 0 added to the caller's arithmetic flags. */
void user_env_state(X86State *s, HostMode mode);
/* After a TCG run stopped in a stub: the exception (vector, error code,
 * CR2) and the state at the fault (RSP, RIP and RFLAGS from the exception
 * frame, the other GPRs as they are).  False if the run did not stop in a
 * stub. */
bool user_env_fault(X86State *s, const uint8_t *ram, HostFault *f);
/* Vectors that push an error code (SDM vol. 3, table 6-1). */
bool vector_has_error_code(int vector);

#endif
