/*
 * The software CPU's per-vCPU execution context (X86Cpu): architectural state
 * (X86State, shared with KVM), lazy condition codes, the softmmu TLB, cached
 * mode bits and the links to the machine (address spaces, lock, interrupt
 * pins).  Instruction handlers in cpu/x86 and the execution loop in accel/tcg
 * both work on it.
 */
#ifndef KESTREL_CPU_X86_X86CPU_H
#define KESTREL_CPU_X86_X86CPU_H

#include <glib.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cpu-intr.h"
#include "core/memory.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/decode.h"

/* Exception vectors (SDM vol. 3, 6.3.1) */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18,
    EXC_XM = 19,
};

/* #PF error code bits */
enum { PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16 };

/* Access kinds for the MMU */
typedef enum X86Access { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 } X86Access;

#define X86_TLB_BITS 8
#define X86_TLB_SIZE (1u << X86_TLB_BITS)
#define X86_PAGE_MASK (~(uint64_t)0xfff)
/* Low bits of a TLB tag: set when the page must take the slow path for that
 * access kind (MMIO, ROM write, a page holding translated code). */
#define X86_TLB_SLOW 1ull
#define X86_TLB_INVALID (~0ull)

typedef struct X86TlbEntry {
    uint64_t tag_read;   /* virtual page | X86_TLB_SLOW, or X86_TLB_INVALID */
    uint64_t tag_write;
    uint64_t tag_code;
    uintptr_t addend;    /* host = vaddr + addend (RAM pages) */
    uint64_t paddr;      /* physical page */
    uint32_t flags;      /* X86_TLBF_* */
    uint32_t pad[5];
} X86TlbEntry;

enum {
    X86_TLBF_RAM = 1,      /* addend is valid for reads */
    X86_TLBF_RAM_WR = 2,   /* addend is valid for writes (RAM, not ROM) */
    X86_TLBF_LARGE = 4,    /* part of a large page */
};

/* MMU index: which TLB set; supervisor and user accesses see different
 * permissions for the same page. */
enum { MMU_SUP = 0, MMU_USER = 1, MMU_COUNT = 2 };

/* Lazy condition codes: an operation kind and operand size; flags are
 * computed from cc_dst/cc_src/cc_src2 when read (flags.c). */
enum {
    CC_EFLAGS = 0, /* cc_src holds the six arithmetic flags */
    CC_ADD, CC_ADC, CC_SUB, CC_SBB, CC_LOGIC, CC_INC, CC_DEC,
    CC_SHL, CC_SHR, CC_SAR, CC_MUL,
    CC_KINDS
};
#define CC_OP(kind, size_log2) (((kind) << 2) | (size_log2))
#define X86_ARITH_FLAGS (X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | \
                         X86_FLAG_ZF | X86_FLAG_SF | X86_FLAG_OF)

/* Machine-wide services the accelerator provides to the CPU. */
typedef struct X86CpuHost {
    /* A write hit a physical page holding translated code: drop its blocks
     * (in every vCPU).  Called on the vCPU thread. */
    void (*code_written)(void *opaque, uint64_t paddr);
    void *opaque;
    /* One bit per 4 KiB physical page below code_pages_limit: set while the
     * page holds translated code.  Shared by all vCPUs. */
    uint8_t *code_bitmap;
    uint64_t code_pages_limit;
} X86CpuHost;

struct X86Cpu {
    X86State *env;

    /* lazy flags */
    uint64_t cc_dst, cc_src, cc_src2;
    uint32_t cc_op;

    /* cached mode (refreshed by x86_update_mode) */
    uint8_t cpl;
    uint8_t code_size;  /* 2, 4 or 8 */
    uint8_t stack_size; /* 2, 4 or 8 */
    uint8_t mmu_idx;
    bool long_mode;     /* EFER.LMA */
    bool pe;            /* CR0.PE */
    bool vm86;

    /* per segment: valid offset range and access rights, precomputed from
     * the descriptor cache (seg.c x86_seg_cache_update) */
    struct {
        uint64_t lo, hi;  /* offsets lo..hi are inside the limit */
        bool rd, wr;      /* readable / writable data access allowed */
    } segchk[6];

    /* the instruction being executed; NULL outside instruction context */
    const X86DecodedInsn *cur;
    bool stop_tb;        /* end the current block after this instruction */
    bool tb_flush_req;   /* mode change: TB lookup caches are stale */

    /* exception in flight */
    jmp_buf *jmp;
    int exc_vector;
    uint32_t exc_error;
    bool exc_has_error;
    uint64_t exc_cr2;
    int exc_delivering;  /* class of the exception being delivered, 0 none */
    bool triple_fault;
    bool fetch_fault;    /* the decoder's fetch faulted (see decode.h) */

    /* machine links */
    AddressSpace *mem;
    AddressSpace *io;
    GMutex *lock;
    CpuIntr *intr;
    X86CpuHost host;
    const struct X86CpuModel *model;
    uint32_t apic_id;
    uint64_t tsc_offset; /* guest TSC = host ns-based counter + offset */
    uint32_t tlb_gen;    /* bumped by every TLB flush (jump caches follow) */
    bool tlb_has_large;  /* a large page is in the TLB: INVLPG flushes all */
    uint32_t tlb_flush_pending; /* set by other threads: flush at next block */

    /* debugging (debug.c) */
    bool debug_active;   /* the execution loop runs one instruction at a time */
    bool dbg_tf;         /* TF was set when the instruction started */
    bool dbg_ss_shadow;  /* the instruction was MOV SS or POP SS */
    bool dbg_data_on;    /* data breakpoints enabled: TLB entries are slow */
    bool align_check;    /* CR0.AM, RFLAGS.AC and CPL 3: user TLB entries are
                          * slow, the slow paths raise #AC (mmu.c) */
    bool dbg_io_on;      /* I/O breakpoints enabled (CR4.DE) */
    uint32_t dbg_trap;   /* DR6 bits of #DB traps due after the instruction */
    uint32_t dbg_delayed; /* the same, held past the instruction after MOV SS */

    X86TlbEntry tlb[MMU_COUNT][X86_TLB_SIZE];
};

/* --- lifecycle (cpu.c) --- */
void x86_cpu_init(X86Cpu *cpu, X86State *env);
/* Recompute the cached mode from env (after set_state, mode switches). */
void x86_update_mode(X86Cpu *cpu);

/* --- exceptions (except.c) --- */
G_NORETURN void x86_raise(X86Cpu *cpu, int vector);
G_NORETURN void x86_raise_err(X86Cpu *cpu, int vector, uint32_t error);
G_NORETURN void x86_raise_pf(X86Cpu *cpu, uint64_t addr, uint32_t error);
/* Raise the exception already recorded in cpu->exc_* (a fetch fault). */
G_NORETURN void x86_raise_recorded(X86Cpu *cpu);
/* Deliver the exception recorded in cpu->exc_* (RIP already points at the
 * faulting instruction, or after it for traps).  Must run under a jmp. */
void x86_deliver_exception(X86Cpu *cpu);
/* Deliver an interrupt: vector, is it a software INT n (privilege check and
 * RIP past the instruction), error code. */
void x86_do_interrupt(X86Cpu *cpu, int vector, bool software, bool has_error,
                      uint32_t error);

/* --- flags (flags.c) --- */
uint32_t x86_arith_flags(const X86Cpu *cpu);
uint64_t x86_get_rflags(const X86Cpu *cpu);
void x86_set_rflags(X86Cpu *cpu, uint64_t value, uint64_t mask);
bool x86_cond(const X86Cpu *cpu, unsigned cc);
static inline void x86_set_cc(X86Cpu *cpu, uint32_t op, uint64_t dst,
                              uint64_t src, uint64_t src2)
{
    cpu->cc_op = op;
    cpu->cc_dst = dst;
    cpu->cc_src = src;
    cpu->cc_src2 = src2;
}
bool x86_get_cf(const X86Cpu *cpu);
static inline bool x86_cf(const X86Cpu *cpu)
{
    return x86_get_cf(cpu);
}

/* --- memory (mmu.c, inline fast paths in mem.h) --- */
void x86_tlb_flush(X86Cpu *cpu);
/* Recompute align_check after CR0, RFLAGS.AC or CPL changed. */
void x86_align_check_update(X86Cpu *cpu);
void x86_tlb_flush_page(X86Cpu *cpu, uint64_t vaddr);
/* A physical page now holds translated code: make this vCPU's TLB send
 * writes to it through the slow path. */
void x86_tlb_protect_code(X86Cpu *cpu, uint64_t paddr);
static inline bool x86_code_page_test(const X86CpuHost *h, uint64_t paddr)
{
    uint64_t pn = paddr >> 12;
    return pn < h->code_pages_limit &&
           (__atomic_load_n(&h->code_bitmap[pn >> 3], __ATOMIC_RELAXED) >> (pn & 7)) & 1;
}
/* Translate a linear address; raises #PF on failure. */
uint64_t x86_translate(X86Cpu *cpu, uint64_t vaddr, X86Access acc, int mmu_idx);
/* Same, but returns false (and records nothing) on failure. */
bool x86_translate_nofault(X86Cpu *cpu, uint64_t vaddr, X86Access acc,
                           int mmu_idx, uint64_t *paddr, uint32_t *pf_error);
uint64_t x86_ld_slow(X86Cpu *cpu, uint64_t vaddr, unsigned size, int mmu_idx);
void x86_st_slow(X86Cpu *cpu, uint64_t vaddr, uint64_t val, unsigned size,
                 int mmu_idx);
/* Host pointer to RAM for a linear range within one page, translated for
 * writing (or reading); NULL when it is not plain RAM.  Raises faults. */
uint8_t *x86_host_ptr(X86Cpu *cpu, uint64_t vaddr, unsigned size,
                      X86Access acc, int mmu_idx);
/* Code fetch at translation time: physical address of a code byte. */
bool x86_code_paddr(X86Cpu *cpu, uint64_t linear, uint64_t *paddr);
uint8_t *x86_code_host(X86Cpu *cpu, uint64_t paddr);

/* Physical memory, with the machine lock for MMIO. */
uint64_t x86_phys_read(X86Cpu *cpu, uint64_t paddr, unsigned size);
void x86_phys_write(X86Cpu *cpu, uint64_t paddr, uint64_t val, unsigned size);

/* --- port I/O (sys.c) --- */
uint64_t x86_io_read(X86Cpu *cpu, uint16_t port, unsigned size);
void x86_io_write(X86Cpu *cpu, uint16_t port, uint64_t val, unsigned size);

/* --- segmentation (seg.c) --- */
/* MOV/POP to a data or stack segment register, with protected-mode checks. */
void x86_load_seg(X86Cpu *cpu, int seg, uint16_t selector);
/* Load a segment register without checks (real/VM86 mode semantics). */
void x86_load_seg_real(X86Cpu *cpu, int seg, uint16_t selector);
/* Read the 8-byte descriptor of a selector (GDT or LDT); false when it lies
 * outside the table limit. */
bool x86_read_desc(X86Cpu *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi);
void x86_desc_to_cache(SegmentCache *sc, uint16_t sel, uint32_t lo, uint32_t hi);
/* Load CS for a far transfer (JMP/CALL far, RET far, IRET) after checks. */
void x86_seg_cache_update(X86Cpu *cpu, int seg);
void x86_set_cs(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi, int cpl);

/* --- MSRs, CPUID (msr.c, cpuid.c) --- */
bool x86_msr_read(X86Cpu *cpu, uint32_t msr, uint64_t *val);
bool x86_msr_write(X86Cpu *cpu, uint32_t msr, uint64_t val);
void x86_cpuid(X86Cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4]);
uint64_t x86_rdtsc(X86Cpu *cpu);
bool x86_cpu_set_model(X86Cpu *cpu, const char *name);

/* --- control registers (sys.c) --- */
void x86_write_cr0(X86Cpu *cpu, uint64_t val);
void x86_write_cr3(X86Cpu *cpu, uint64_t val);
void x86_write_cr4(X86Cpu *cpu, uint64_t val);
void x86_write_efer(X86Cpu *cpu, uint64_t val);

/* --- debug registers and exceptions (debug.c) --- */
/* Recompute debug_active and the breakpoint kinds after DR7, TF/RF or CR4
 * changed (flushes the TLB when data breakpoints come or go). */
void x86_debug_update(X86Cpu *cpu);
/* Around one instruction while debug_active: pending traps and instruction
 * breakpoints before (raise #DB), single-step and data traps after. */
void x86_debug_before(X86Cpu *cpu);
void x86_debug_after(X86Cpu *cpu);
/* A data access or port access to compare with the breakpoints. */
void x86_debug_data(X86Cpu *cpu, uint64_t addr, unsigned size, bool write);
void x86_debug_io(X86Cpu *cpu, uint16_t port, unsigned size);
/* MOV from/to DRr (r already mapped from DR4/DR5), with DR7.GD. */
uint64_t x86_debug_read_dr(X86Cpu *cpu, unsigned r);
void x86_debug_write_dr(X86Cpu *cpu, unsigned r, uint64_t v);

/* --- misc --- */
/* #UD handler used for anything not implemented. */
void x86_exec_ud(X86Cpu *cpu, const X86DecodedInsn *insn);

#endif
