/*
 * A tiny self-contained /dev/kvm runner used as the reference CPU by the
 * differential tests: one vCPU in 64-bit mode at CPL 3 over a flat RAM
 * buffer, run until the guest writes to an I/O port.
 */
#ifndef KESTREL_TESTS_CPU_KVM_REF_H
#define KESTREL_TESTS_CPU_KVM_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/x86/cpu.h"

typedef struct KvmRef KvmRef;

/* NULL (with a reason in *why) when /dev/kvm cannot be used. */
KvmRef *kvm_ref_new(uint8_t *ram, size_t ram_size, const char **why);
void kvm_ref_free(KvmRef *k);
/* Load state (GPRs, RIP, RFLAGS, segments, control registers, EFER) and run
 * until an I/O-port exit; false on any other exit.  The final GPRs, RIP and
 * RFLAGS are written back to *s. */
bool kvm_ref_run(KvmRef *k, X86State *s, uint16_t *port);

/* The last run's exit (reason number from linux/kvm.h, RIP), for reports. */
void kvm_ref_describe_exit(const KvmRef *k, char *buf, size_t len);

#endif
