/*
 * The second reference CPU of the differential tests: the host CPU itself,
 * running the generated code in this process at CPL 3 in 64-bit mode, in
 * compatibility mode (Linux's 32-bit user code segment) or in a 16-bit code
 * segment of the process's LDT (modify_ldt).  This host's nested KVM runs
 * only 64-bit code natively: it emulates compatibility mode, real mode and
 * vm86 instruction by instruction with its own instruction emulator, which
 * is no reference (no LZCNT/POPCNT, no x87/SSE).
 *
 * The guest's pages [HOST_LO, HOST_HI) are mapped at the same addresses in
 * this process; the run starts with rt_sigreturn from a built signal frame
 * (all GPRs, RIP, RFLAGS, CS and SS at once) and ends with the first
 * exception, which Linux reports as a signal: the handler takes the vector
 * (trapno), the error code, CR2 and the registers and FXSAVE area at the
 * fault from the signal frame (arch/x86/include/uapi/asm/sigcontext.h).
 */
#ifndef KESTREL_TESTS_CPU_HOST_REF_H
#define KESTREL_TESTS_CPU_HOST_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86/cpu.h"

/* Linux's user selectors (arch/x86/include/asm/segment.h) and ours in the LDT */
#define SEL_USER32_CS 0x23
#define SEL_USER_DS 0x2b
#define SEL_USER_CS 0x33
#define SEL_LDT_CODE16 0x07 /* LDT entry 0: 16-bit code, base CODE_BASE */
#define SEL_LDT_DATA16 0x0f /* LDT entry 1: 16-bit data (DS, ES, SS), base DATA_BASE */

/* The mapped range and its special pages (difftest.h's layout above it) */
#define HOST_LO 0x10000
#define HOST_HI 0x34000
#define PAGE_ABSENT 0x31000   /* not mapped: #PF with P=0 */
#define PAGE_READONLY 0x32000 /* user read-only: a write faults with P=1 */
#define PAGE_SPARE 0x33000    /* user read/write, not executable */
/* pages below CODE_BASE + 64K are executable, the others are not */

typedef enum HostMode { HOST_CODE64, HOST_CODE32, HOST_CODE16 } HostMode;

/* How a run ended: the exception vector (-1: the run did not end within its
 * time), the error code (vectors with one) and CR2 (page faults). */
typedef struct HostFault {
    int vector;
    uint32_t error_code;
    uint64_t cr2;
} HostFault;

typedef struct HostRef HostRef;

/* NULL (with a reason in *why) when the low pages or the LDT are unavailable. */
HostRef *host_ref_new(const char **why);
void host_ref_free(HostRef *h);
/* Copy ram[HOST_LO, HOST_HI) in, run from s (GPRs, RIP, RFLAGS' arithmetic
 * flags, DF and AC) in the given mode until an exception, copy the pages back
 * and write the state at the fault to *s (GPRs, RIP, RFLAGS) and the FXSAVE
 * image at the fault to fx_out[0, 464). */
bool host_ref_run(HostRef *h, HostMode mode, uint8_t *ram, X86State *s, uint8_t *fx_out,
                  HostFault *f);

#endif
