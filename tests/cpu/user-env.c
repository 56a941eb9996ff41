/*
 * The software CPU's copy of a Linux process's user environment (user-env.h).
 * Descriptor formats: SDM vol. 3, 3.4.5 (segment descriptors), 7.2.3 (the
 * 64-bit TSS), 6.14.1 (64-bit IDT gates); 4-level paging: 4.5.
 */
#include <string.h>

#include "tests/cpu/difftest.h"
#include "tests/cpu/user-env.h"

/* Layout below HOST_LO (the page tables are difftest.h's PT_BASE..+0x3000) */
#define PTE_TABLE 0x4000   /* the page table of the first 2 MiB */
#define GDT_ADDR 0x5000
#define LDT_ADDR 0x5100
#define TSS_ADDR 0x5200
#define IDT_ADDR 0x6000
#define STUBS 0x7000       /* 16 bytes per vector */
#define KSTACK_TOP 0x9000

#define SEL_KERNEL_CS 0x10
#define SEL_KERNEL_DS 0x18
#define SEL_TSS 0x40
#define SEL_LDT 0x50

#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_NX (1ull << 63)

static void put64(uint8_t *ram, uint32_t addr, uint64_t v)
{
    memcpy(ram + addr, &v, 8);
}

static uint64_t get64(const uint8_t *ram, uint32_t addr)
{
    uint64_t v;
    memcpy(&v, ram + addr, 8);
    return v;
}

/* A segment descriptor from base, limit (in units of G) and the attribute
 * bits as X86_DESC_* (the second dword's bits 8..23). */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t flags)
{
    uint64_t d = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16);
    d |= (uint64_t)(flags & 0xf0ff00) << 32;
    d |= (uint64_t)((limit >> 16) & 0xf) << 48;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

static const uint32_t user_flags = X86_DESC_P | X86_DESC_S | (3u << X86_DESC_DPL_SHIFT);
#define CODE_TYPE (11u << X86_DESC_TYPE_SHIFT)
#define DATA_TYPE (3u << X86_DESC_TYPE_SHIFT)

static uint64_t pte_for(uint32_t a)
{
    if (a < HOST_LO) {
        return a | PTE_P | PTE_RW; /* the system's pages: supervisor only */
    }
    if (a < CODE_BASE + 0x10000) {
        return a | PTE_P | PTE_RW | PTE_US;
    }
    if (a == PAGE_ABSENT || a >= HOST_HI) {
        return 0;
    }
    if (a == PAGE_READONLY) {
        return a | PTE_P | PTE_US | PTE_NX;
    }
    return a | PTE_P | PTE_RW | PTE_US | PTE_NX;
}

void user_env_build(uint8_t *ram)
{
    /* paging: PML4 -> PDPT -> PD -> one page table for the first 2 MiB */
    memset(ram + PT_BASE, 0, 0x3000);
    put64(ram, PT_BASE, (PT_BASE + 0x1000) | PTE_P | PTE_RW | PTE_US);
    put64(ram, PT_BASE + 0x1000, (PT_BASE + 0x2000) | PTE_P | PTE_RW | PTE_US);
    put64(ram, PT_BASE + 0x2000, PTE_TABLE | PTE_P | PTE_RW | PTE_US);
    for (uint32_t i = 0; i < 512; i++) {
        put64(ram, PTE_TABLE + 8 * i, pte_for(i << 12));
    }

    memset(ram + GDT_ADDR, 0, IDT_ADDR + 0x1000 - GDT_ADDR);
    const uint32_t kflags = X86_DESC_P | X86_DESC_S | X86_DESC_G;
    put64(ram, GDT_ADDR + SEL_KERNEL_CS, descriptor(0, 0xfffff, kflags | CODE_TYPE | X86_DESC_L));
    put64(ram, GDT_ADDR + SEL_KERNEL_DS, descriptor(0, 0xfffff, kflags | DATA_TYPE | X86_DESC_B));
    put64(ram, GDT_ADDR + (SEL_USER32_CS & ~7),
          descriptor(0, 0xfffff, user_flags | X86_DESC_G | X86_DESC_B | CODE_TYPE));
    put64(ram, GDT_ADDR + (SEL_USER_DS & ~7),
          descriptor(0, 0xfffff, user_flags | X86_DESC_G | X86_DESC_B | DATA_TYPE));
    put64(ram, GDT_ADDR + (SEL_USER_CS & ~7),
          descriptor(0, 0xfffff, user_flags | X86_DESC_G | X86_DESC_L | CODE_TYPE));
    /* system descriptors are 16 bytes in long mode: base bits 32..63 above */
    put64(ram, GDT_ADDR + SEL_TSS, descriptor(TSS_ADDR, 0x67, X86_DESC_P | (9u << X86_DESC_TYPE_SHIFT)));
    put64(ram, GDT_ADDR + SEL_LDT, descriptor(LDT_ADDR, 0xf, X86_DESC_P | (2u << X86_DESC_TYPE_SHIFT)));
    put64(ram, LDT_ADDR, descriptor(CODE_BASE, 0xffff, user_flags | CODE_TYPE));
    put64(ram, LDT_ADDR + 8, descriptor(DATA_BASE, 0xffff, user_flags | DATA_TYPE));

    /* 64-bit TSS: RSP0, and an I/O map base past the limit (no bitmap) */
    put64(ram, TSS_ADDR + 4, KSTACK_TOP);
    ram[TSS_ADDR + 102] = 0x68;

    for (uint32_t v = 0; v < 256; v++) {
        uint64_t stub = STUBS + 16 * v;
        uint32_t dpl = v == 3 || v == 4 ? 3 : 0;
        uint64_t lo = (stub & 0xffff) | ((uint64_t)SEL_KERNEL_CS << 16) |
                      ((uint64_t)(0x8e | (dpl << 5)) << 40) | ((stub >> 16) << 48);
        put64(ram, IDT_ADDR + 16 * v, lo);
        put64(ram, IDT_ADDR + 16 * v + 8, stub >> 32);
        /* fxsave64 [FX_OUT]; out 0xe9, al; hlt */
        static const uint8_t code[] = { 0x48, 0x0f, 0xae, 0x04, 0x25,
                                        FX_OUT & 0xff, (FX_OUT >> 8) & 0xff, FX_OUT >> 16, 0,
                                        0xe6, DONE_PORT, 0xf4 };
        memcpy(ram + stub, code, sizeof(code));
    }
}

void user_env_state(X86State *s, HostMode mode)
{
    const uint32_t data = user_flags | X86_DESC_G | X86_DESC_B | DATA_TYPE;
    SegmentCache cs = { SEL_USER_CS, 0, 0xffffffff,
                        user_flags | X86_DESC_G | X86_DESC_L | CODE_TYPE };
    SegmentCache ds = { SEL_USER_DS, 0, 0xffffffff, data };
    if (mode == HOST_CODE32) {
        cs = (SegmentCache){ SEL_USER32_CS, 0, 0xffffffff,
                             user_flags | X86_DESC_G | X86_DESC_B | CODE_TYPE };
    } else if (mode == HOST_CODE16) {
        cs = (SegmentCache){ SEL_LDT_CODE16, CODE_BASE, 0xffff, user_flags | CODE_TYPE };
        ds = (SegmentCache){ SEL_LDT_DATA16, DATA_BASE, 0xffff, user_flags | DATA_TYPE };
    }
    for (int i = 0; i < 6; i++) {
        s->segs[i] = ds;
    }
    s->segs[R_CS] = cs;
    s->segs[R_FS] = (SegmentCache){ 0, 0, 0, 0 };
    s->segs[R_GS] = (SegmentCache){ 0, 0, 0, 0 };
    s->tr = (SegmentCache){ SEL_TSS, TSS_ADDR, 0x67, X86_DESC_P | (11u << X86_DESC_TYPE_SHIFT) };
    s->ldt = (SegmentCache){ SEL_LDT, LDT_ADDR, 0xf, X86_DESC_P | (2u << X86_DESC_TYPE_SHIFT) };
    s->gdt = (DescriptorTable){ GDT_ADDR, 0x5f };
    s->idt = (DescriptorTable){ IDT_ADDR, 0xfff };
    s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_MP |
             X86_CR0_AM;
    s->cr3 = PT_BASE;
    s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE | X86_EFER_NXE;
    s->rflags = (s->rflags & (ALL | X86_FLAG_DF | X86_FLAG_AC)) | X86_FLAG_FIXED1 | X86_FLAG_IF;
}

bool vector_has_error_code(int vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
           vector == 29 || vector == 30;
}

bool user_env_fault(X86State *s, const uint8_t *ram, HostFault *f)
{
    /* the stub's OUT has run: RIP is just past it */
    if (s->rip < STUBS + 11 || s->rip >= STUBS + 16 * 256 || (s->rip - STUBS) % 16 != 11 ||
        s->segs[R_CS].selector != SEL_KERNEL_CS) {
        return false;
    }
    f->vector = (int)((s->rip - STUBS) / 16);
    f->cr2 = s->cr2;
    f->error_code = vector_has_error_code(f->vector) ? (uint32_t)get64(ram, KSTACK_TOP - 48) : 0;
    s->rip = get64(ram, KSTACK_TOP - 40);
    s->rflags = get64(ram, KSTACK_TOP - 24);
    s->regs[R_ESP] = get64(ram, KSTACK_TOP - 16);
    return true;
}
