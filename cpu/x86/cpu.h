/*
 * x86 architectural state shared by every accelerator.
 *
 * X86State is the software CPU's live state and the exchange format of the
 * CPU interface: KVM fills it from KVM_GET_{REGS,SREGS,MSRS,FPU,...} and
 * writes it back from it.  Field meanings follow the Intel SDM vol. 3
 * (system state) and vol. 1 (FXSAVE area layout for x87/SSE).
 */
#ifndef KESTREL_CPU_X86_CPU_H
#define KESTREL_CPU_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

/* RFLAGS bits */
#define X86_FLAG_CF (1u << 0)
#define X86_FLAG_FIXED1 (1u << 1)
#define X86_FLAG_PF (1u << 2)
#define X86_FLAG_AF (1u << 4)
#define X86_FLAG_ZF (1u << 6)
#define X86_FLAG_SF (1u << 7)
#define X86_FLAG_TF (1u << 8)
#define X86_FLAG_IF (1u << 9)
#define X86_FLAG_DF (1u << 10)
#define X86_FLAG_OF (1u << 11)
#define X86_FLAG_IOPL (3u << 12)
#define X86_FLAG_NT (1u << 14)
#define X86_FLAG_RF (1u << 16)
#define X86_FLAG_VM (1u << 17)
#define X86_FLAG_AC (1u << 18)
#define X86_FLAG_VIF (1u << 19)
#define X86_FLAG_VIP (1u << 20)
#define X86_FLAG_ID (1u << 21)

/* CR0 / CR4 / EFER bits */
#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_EM (1u << 2)
#define X86_CR0_TS (1u << 3)
#define X86_CR0_ET (1u << 4)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_AM (1u << 18)
#define X86_CR0_NW (1u << 29)
#define X86_CR0_CD (1u << 30)
#define X86_CR0_PG (1u << 31)
#define X86_CR4_VME (1u << 0)
#define X86_CR4_PVI (1u << 1)
#define X86_CR4_TSD (1u << 2)
#define X86_CR4_DE (1u << 3)
#define X86_CR4_PSE (1u << 4)
#define X86_CR4_PAE (1u << 5)
#define X86_CR4_MCE (1u << 6)
#define X86_CR4_PGE (1u << 7)
#define X86_CR4_PCE (1u << 8)
#define X86_CR4_OSFXSR (1u << 9)
#define X86_CR4_OSXMMEXCPT (1u << 10)
#define X86_CR4_UMIP (1u << 11)
#define X86_CR4_FSGSBASE (1u << 16)
#define X86_CR4_PCIDE (1u << 17)
#define X86_CR4_OSXSAVE (1u << 18)
#define X86_CR4_SMEP (1u << 20)
#define X86_CR4_SMAP (1u << 21)
#define X86_EFER_SCE (1u << 0)
#define X86_EFER_LME (1u << 8)
#define X86_EFER_LMA (1u << 10)
#define X86_EFER_NXE (1u << 11)

/* Segment descriptor attribute bits as stored in SegmentCache.flags: the
 * descriptor's second dword, bits 8..23 (type, S, DPL, P, AVL, L, D/B, G). */
#define X86_DESC_TYPE_SHIFT 8
#define X86_DESC_S (1u << 12)
#define X86_DESC_DPL_SHIFT 13
#define X86_DESC_P (1u << 15)
#define X86_DESC_AVL (1u << 20)
#define X86_DESC_L (1u << 21)
#define X86_DESC_B (1u << 22)
#define X86_DESC_G (1u << 23)

typedef struct SegmentCache {
    uint16_t selector;
    uint64_t base;
    uint32_t limit; /* byte granular (already expanded for G=1) */
    uint32_t flags; /* X86_DESC_* */
} SegmentCache;

typedef struct DescriptorTable {
    uint64_t base;
    uint16_t limit;
} DescriptorTable;

/* One x87 register: 64-bit significand and sign+15-bit exponent. */
typedef struct X87Reg {
    uint64_t mant;
    uint16_t sign_exp;
} X87Reg;

typedef union XmmReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float f[4];
    double dbl[2];
} XmmReg;

typedef struct X86FpuState {
    uint16_t fcw;
    uint16_t fsw;      /* with TOP in bits 11..13 */
    uint8_t ftw;       /* abridged tag word: bit i set = ST-register i valid */
    uint16_t fop;
    uint64_t fip;
    uint64_t fdp;
    uint16_t fcs, fds;
    uint32_t mxcsr;
    X87Reg st[8];      /* physical registers R0..R7 */
    XmmReg xmm[16];
} X86FpuState;

#define X86_MAX_MTRR_VAR 8

typedef struct X86State {
    uint64_t regs[16];
    uint64_t rip;
    uint64_t rflags;

    SegmentCache segs[6];
    SegmentCache ldt;
    SegmentCache tr;
    DescriptorTable gdt;
    DescriptorTable idt;

    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t xcr0;
    uint64_t dr[8];

    /* MSRs */
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t tsc; /* value of the time-stamp counter at the time of a get */
    uint64_t tsc_aux;
    uint64_t apic_base;
    uint64_t tsc_deadline;
    uint64_t pat;
    uint64_t misc_enable;
    uint64_t mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var_base[X86_MAX_MTRR_VAR];
    uint64_t mtrr_var_mask[X86_MAX_MTRR_VAR];

    X86FpuState fpu;

    /* Event state */
    bool halted;
    bool wait_for_sipi;    /* an AP after INIT: only a SIPI wakes it */
    bool interrupt_shadow; /* after MOV SS / STI */
    bool nmi_masked;
} X86State;

/* The state of a vCPU after RESET (SDM vol. 3, 10.1.1): real mode at
 * F000:FFF0.  apic_id selects BSP (0) or AP behaviour of APIC_BASE. */
void x86_state_reset(X86State *s, bool is_bsp);

/* Flat 32-bit protected mode, paging off, interrupts off: the entry state of
 * the Linux 32-bit boot protocol, Multiboot and PVH.  Code selector 0x10 and
 * data selector 0x18 (a GDT with those entries must exist in guest memory if
 * the guest reloads segments; loaders provide one). */
void x86_state_flat32(X86State *s);

#endif
