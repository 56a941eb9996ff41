/*
 * simd: the SSE/MMX exception and state rules that the differential test
 * (which keeps every exception masked) cannot reach.  SDM vol. 3, 2.5 and
 * 13.1 (CR0.EM/TS/NE, CR4.OSFXSR/OSXMMEXCPT), vol. 1, 11.5 (unmasked SIMD
 * floating-point exceptions: #XM, or #UD without OSXMMEXCPT, destination
 * unchanged, MXCSR flag set), 16-byte alignment (#GP), and 9.5 (MMX state:
 * TOP 0 and all tags valid after an MMX instruction, EMMS empties the tags,
 * a pending x87 exception raises #MF).  Runs the same under KVM (the
 * hardware reference) and TCG.
 */
#include "lib/idt.h"
#include "lib/kernel.h"

static volatile uint32_t got_vector;
static volatile uint32_t resume_eip;
static int failures;

static void on_fault(struct irq_frame *f)
{
    got_vector = f->vector;
    f->eip = resume_eip;
}

static void check(const char *what, int ok)
{
    kprintf("simd: %s: %s\n", what, ok ? "ok" : "WRONG");
    if (!ok) {
        failures++;
    }
}

static uint32_t cr0_get(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static void cr0_set(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v));
}

static uint32_t cr4_get(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void cr4_set(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v));
}

static uint32_t mxcsr_get(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static void mxcsr_set(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

/* single-precision bit patterns (the kernels build without FP registers) */
#define F1 0x3f800000u
#define F2 0x40000000u
#define F3 0x40400000u
#define F4 0x40800000u
#define FINF 0x7f800000u
static uint32_t a4[4] __attribute__((aligned(16))) = { F1, F2, F3, F4 };
static uint32_t z4[4] __attribute__((aligned(16))) = { 0, F1, F1, F1 };
static uint32_t out4[4] __attribute__((aligned(16)));
static uint8_t buf[48] __attribute__((aligned(16)));

/* xmm0 = a4; divps xmm0, z4 (a fault skips the rest); out4 = xmm0. */
static uint32_t try_divps(void)
{
    got_vector = 0xff;
    __asm__ volatile("movaps %[a], %%xmm0\n\t"
                     "movl $1f, %[r]\n\t"
                     "divps %[z], %%xmm0\n"
                     "1:\n\t"
                     "movaps %%xmm0, %[o]"
                     : [r] "=m"(resume_eip), [o] "=m"(out4)
                     : [a] "m"(a4), [z] "m"(z4)
                     : "memory");
    return got_vector;
}

static int out_is_a(void)
{
    return out4[0] == F1 && out4[1] == F2 && out4[2] == F3 && out4[3] == F4;
}

static uint32_t try_movaps(const void *p)
{
    got_vector = 0xff;
    __asm__ volatile("movl $1f, %[r]\n\t"
                     "movaps (%[p]), %%xmm1\n"
                     "1:"
                     : [r] "=m"(resume_eip) : [p] "r"(p) : "memory");
    return got_vector;
}

static uint32_t try_addps(void)
{
    got_vector = 0xff;
    __asm__ volatile("movl $1f, %[r]\n\t"
                     "addps %%xmm1, %%xmm1\n"
                     "1:"
                     : [r] "=m"(resume_eip) : : "memory");
    return got_vector;
}

/* FNSTENV: the x87 status word and the full tag word. */
static void x87_env(uint16_t *fsw, uint16_t *ftw)
{
    uint32_t env[7];
    __asm__ volatile("fnstenv %0\n\tfldcw %0" : "=m"(env));
    *fsw = (uint16_t)env[1];
    *ftw = (uint16_t)env[2];
}

static void mxcsr_tests(void)
{
    uint32_t v;

    mxcsr_set(0x1f80);
    v = try_divps();
    check("masked divide by zero: no fault, ZE set, infinity",
          v == 0xff && (mxcsr_get() & 0x3f) == 0x04 && out4[0] == FINF);

    mxcsr_set(0x1f80 & ~0x200u);
    cr4_set(cr4_get() & ~(1u << 10));
    v = try_divps();
    check("unmasked ZE without CR4.OSXMMEXCPT: #UD", v == 6);
    check("  ZE recorded, destination unchanged", (mxcsr_get() & 0x3f) == 0x04 && out_is_a());

    mxcsr_set(0x1f80 & ~0x200u);
    cr4_set(cr4_get() | (1u << 10));
    v = try_divps();
    check("unmasked ZE with CR4.OSXMMEXCPT: #XM", v == 19);
    check("  ZE recorded, destination unchanged", (mxcsr_get() & 0x3f) == 0x04 && out_is_a());

    /* 1/3 is inexact: PE unmasked faults even though ZE is masked */
    static uint32_t third[4] __attribute__((aligned(16))) = { F3, F1, F1, F1 };
    mxcsr_set(0x1f80 & ~0x1000u);
    got_vector = 0xff;
    __asm__ volatile("movaps %[a], %%xmm0\n\t"
                     "movl $1f, %[r]\n\t"
                     "divss %[t], %%xmm0\n"
                     "1:\n\t"
                     "movaps %%xmm0, %[o]"
                     : [r] "=m"(resume_eip), [o] "=m"(out4)
                     : [a] "m"(a4), [t] "m"(third) : "memory");
    check("unmasked precision on DIVSS: #XM, PE, destination unchanged",
          got_vector == 19 && (mxcsr_get() & 0x3f) == 0x20 && out_is_a());
    mxcsr_set(0x1f80);
}

static void gate_tests(void)
{
    check("MOVAPS of an aligned operand", try_movaps(buf) == 0xff);
    check("MOVAPS of a misaligned operand: #GP", try_movaps(buf + 8) == 13);

    cr0_set(cr0_get() | (1u << 3));
    check("CR0.TS: #NM", try_addps() == 7);
    __asm__ volatile("clts");
    check("after CLTS: no fault", try_addps() == 0xff);

    cr4_set(cr4_get() & ~(1u << 9));
    check("CR4.OSFXSR clear: #UD", try_addps() == 6);
    cr4_set(cr4_get() | (1u << 9));

    cr0_set(cr0_get() | (1u << 2));
    check("CR0.EM: #UD", try_addps() == 6);
    cr0_set(cr0_get() & ~(1u << 2));
}

static void mmx_tests(void)
{
    uint16_t fsw, ftw;
    uint64_t v = 0x1122334455667788ull, r = 0;
    static uint8_t save[108];

    __asm__ volatile("fninit\n\tfld1\n\tfld1\n\tfld1" ::: "memory"); /* TOP 5 */
    __asm__ volatile("movq %1, %%mm3\n\tpaddb %%mm3, %%mm3\n\tmovq %%mm3, %0"
                     : "=m"(r) : "m"(v) : "memory");
    x87_env(&fsw, &ftw);
    /* FNSTENV rebuilds full tags from the contents: none may be empty (11) */
    int empty = 0;
    for (int i = 0; i < 8; i++) {
        empty |= ((ftw >> (2 * i)) & 3) == 3;
    }
    check("MMX: TOP 0, no register empty", ((fsw >> 11) & 7) == 0 && !empty);
    check("MMX: PADDB result", r == 0x22446688aaccee10ull);
    __asm__ volatile("fnsave %0\n\tfrstor %0" : "=m"(*(uint8_t(*)[108])save) : : "memory");
    uint16_t exp3;
    __builtin_memcpy(&exp3, save + 28 + 3 * 10 + 8, 2);
    check("MMX write: exponent/sign word 0xFFFF", exp3 == 0xffff);
    __asm__ volatile("fld1\n\temms");
    x87_env(&fsw, &ftw);
    check("EMMS: every tag empty, TOP 0", ftw == 0xffff && ((fsw >> 11) & 7) == 0);

    /* a pending unmasked x87 exception makes the next MMX instruction #MF
     * (0/0 with IM and ZM clear) */
    static const uint16_t fcw_unmasked = 0x037a;
    cr0_set(cr0_get() | (1u << 5));
    __asm__ volatile("fninit\n\tfldcw %0\n\tfldz\n\tfldz\n\tfdivp" : : "m"(fcw_unmasked));
    got_vector = 0xff;
    __asm__ volatile("movl $1f, %[r]\n\t"
                     "pxor %%mm0, %%mm0\n"
                     "1:"
                     : [r] "=m"(resume_eip) : : "memory");
    check("pending x87 exception, then MMX: #MF", got_vector == 16);
    __asm__ volatile("fninit");
}

void kmain(const struct mb_info *info)
{
    idt_set_handler(6, on_fault);
    idt_set_handler(7, on_fault);
    idt_set_handler(13, on_fault);
    idt_set_handler(16, on_fault);
    idt_set_handler(19, on_fault);
    cr0_set((cr0_get() & ~(1u << 2 | 1u << 3)) | (1u << 1));
    cr4_set(cr4_get() | (1u << 9));
    mxcsr_tests();
    gate_tests();
    mmx_tests();
    test_finish("simd", failures == 0);
}
