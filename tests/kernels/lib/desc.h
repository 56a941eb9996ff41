/*
 * Descriptor tables for the system-feature test kernels (Intel SDM vol. 3,
 * 3.4.5 segment descriptors, 5.8.3 call gates, 7.2 the 32-bit TSS): a GDT
 * with room for test descriptors, builders for segment and gate
 * descriptors, and a way to catch an expected exception.
 */
#ifndef KTEST_DESC_H
#define KTEST_DESC_H

#include <stdint.h>

#include "lib/idt.h"

#define GDT_ENTRIES 32

/* Access byte: P, DPL, S and type. */
#define ACC_P 0x80u
#define ACC_DPL(n) ((unsigned)(n) << 5)
#define ACC_CODE 0x1au      /* S, code, readable */
#define ACC_DATA 0x12u      /* S, data, writable */
#define ACC_CODE_CONF 0x1eu /* S, code, conforming, readable */
#define ACC_TSS32 0x09u
#define ACC_CALL32 0x0cu
#define ACC_CALL16 0x04u
#define ACC_TASK 0x05u
#define ACC_INTR32 0x0eu
#define ACC_LDT 0x02u

struct tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap;
} __attribute__((packed));

extern uint64_t kgdt[GDT_ENTRIES];

/* Load kgdt (entries 1-3 as lib/entry.S's GDT) and reload the segments. */
void gdt_setup(void);
/* Flat (limit 4 GiB) or byte-granular segment, 32-bit. */
uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access);
/* A gate (call, task, interrupt) for selector:offset. */
uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned access, unsigned params);
static inline void gdt_set(unsigned index, uint64_t d)
{
    kgdt[index] = d;
}
/* Byte 5 (access) of a GDT entry, e.g. to see the TSS busy bit. */
static inline unsigned gdt_access(unsigned index)
{
    return (unsigned)(kgdt[index] >> 40) & 0xff;
}

/* Catching expected exceptions: catch_arm(vectors) makes the handlers of
 * those vectors record vector and error code and resume at the address
 * given by catch_resume (set by CATCH_RESUME in assembly or C). */
struct caught {
    uint32_t vector, error, eip, cs;
    int count;
};
extern volatile struct caught caught;
extern volatile uint32_t catch_resume;
void catch_vectors(const unsigned *vectors, unsigned n);
void catch_reset(void);

#endif
