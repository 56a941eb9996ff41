/*
 * x87: what the differential test cannot reach because it needs CPL 0 or
 * exception handlers (SDM vol. 1, 8.1.10, 8.7; vol. 3, 2.5):
 *   - #NM from CR0.TS and CR0.EM, and FWAIT's #NM only with MP and TS;
 *   - an unmasked exception is not reported by the instruction that causes
 *     it (the destination stays unchanged, FSW.ES and B are set) but as #MF
 *     (CR0.NE) at the next waiting instruction, which the handler can retry;
 *     no-wait instructions (FNSTSW) do not report it;
 *   - FNSAVE/FRSTOR in the 32-bit and 16-bit protected-mode layouts (full
 *     tag word, registers in stack order, FNSAVE reinitialising the FPU),
 *     FNSTENV masking all exceptions afterwards, FXSAVE's layout;
 *   - CPUID advertises FPU and FXSR.
 * (The nested KVM of the development machine cannot run it: it fails to
 * emulate x87 instructions at CPL 0; QEMU's TCG stores results on unmasked
 * exceptions, unlike the SDM's 8.5.)
 */
#include "lib/idt.h"
#include "lib/kernel.h"

#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)

static volatile unsigned nm_count, mf_count;
static volatile uint32_t mf_eip;
static int failures;

static uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static void write_cr0(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void on_nm(struct irq_frame *f)
{
    nm_count++;
    write_cr0(read_cr0() & ~(CR0_TS | CR0_EM));
}

static void on_mf(struct irq_frame *f)
{
    mf_count++;
    mf_eip = f->eip;
    __asm__ volatile("fnclex");
}

static void check(const char *what, int ok)
{
    if (!ok) {
        kprintf("x87: FAIL: %s\n", what);
        failures++;
    }
}

static uint16_t fnstsw(void)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0" : "=a"(sw));
    return sw;
}

static uint16_t fnstcw(void)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

static void fldcw(uint16_t cw)
{
    __asm__ volatile("fldcw %0" : : "m"(cw));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static int is_pi(const uint8_t *r)
{
    return get64(r) == 0xc90fdaa22168c235ull && get16(r + 8) == 0x4000;
}

static int is_one(const uint8_t *r)
{
    return get64(r) == 0x8000000000000000ull && get16(r + 8) == 0x3fff;
}

static void test_cpuid(void)
{
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    check("CPUID.1:EDX advertises FPU and FXSR", (d & 1) && (d & (1u << 24)));
}

static void test_nm(void)
{
    uint32_t cr0 = read_cr0() & ~(CR0_EM | CR0_TS);
    nm_count = 0;
    write_cr0(cr0 | CR0_TS);
    __asm__ volatile("fninit");
    check("#NM from CR0.TS (then retried)", nm_count == 1 && !(read_cr0() & CR0_TS));
    write_cr0(cr0 | CR0_EM);
    __asm__ volatile("fld1\n\tfstp %%st(0)" : : : "memory");
    check("#NM from CR0.EM", nm_count == 2);
    write_cr0((cr0 & ~CR0_MP) | CR0_TS);
    __asm__ volatile("fwait");
    check("no #NM from FWAIT with TS and without MP", nm_count == 2);
    write_cr0(cr0 | CR0_MP | CR0_TS);
    __asm__ volatile("fwait");
    check("#NM from FWAIT with MP and TS", nm_count == 3);
    write_cr0(cr0);
}

static void test_mf(void)
{
    uint32_t at;
    uint8_t st0[10];
    write_cr0(read_cr0() | CR0_NE | CR0_MP);
    mf_count = 0;
    __asm__ volatile("fninit");
    fldcw(0x37b); /* divide-by-zero unmasked */
    __asm__ volatile("fldz\n\tfld1\n\tfdiv %%st(1), %%st" : : : "memory");
    uint16_t sw = fnstsw();
    check("unmasked ZE: no #MF yet, ZE ES B set", mf_count == 0 &&
          (sw & 0x8084) == 0x8084);
    __asm__ volatile("movl $1f, %0\n1:\tfwait" : "=r"(at));
    check("#MF at the next waiting instruction", mf_count == 1 && mf_eip == at);
    __asm__ volatile("fstpt %0" : "=m"(st0));
    check("the destination keeps its value", is_one(st0));
    check("FNCLEX in the handler cleared ES", !(fnstsw() & 0x80));

    /* an unmasked stack underflow: nothing changes, reported as #MF */
    __asm__ volatile("fninit");
    fldcw(0x37e);
    __asm__ volatile("fadd %%st(1), %%st" : : : "memory");
    sw = fnstsw();
    check("unmasked stack underflow: IE SF ES, TOP unchanged",
          (sw & 0xb8c1) == 0x80c1 && mf_count == 1);
    __asm__ volatile("movl $1f, %0\n1:\tfld1" : "=r"(at));
    check("#MF at the next x87 instruction", mf_count == 2 && mf_eip == at);
    __asm__ volatile("fninit");
}

static void test_fsave(void)
{
    uint8_t img[108], img16[94];
    __asm__ volatile("fninit\n\tfld1\n\tfldpi\n\tfnsave %0" : "=m"(img));
    check("FNSAVE: FCW", get16(img + 0) == 0x37f);
    check("FNSAVE: TOP 6", (get16(img + 4) & 0x3800) == 0x3000);
    check("FNSAVE: full tag word", get16(img + 8) == 0x0fff);
    check("FNSAVE: registers in stack order", is_pi(img + 28) && is_one(img + 38));
    check("FNSAVE reinitialises the FPU", fnstsw() == 0 && fnstcw() == 0x37f);
    __asm__ volatile("frstor %0" : : "m"(img));
    uint8_t st0[10];
    __asm__ volatile("fstpt %0" : "=m"(st0));
    check("FRSTOR brings the stack back", is_pi(st0) && ((fnstsw() >> 11) & 7) == 7);

    __asm__ volatile("fninit\n\tfldz\n\tfld1\n\tdata16 fnsave %0" : "=m"(img16));
    check("16-bit FNSAVE: FCW FSW tags", get16(img16) == 0x37f &&
          (get16(img16 + 2) & 0x3800) == 0x3000 && get16(img16 + 4) == 0x4fff);
    check("16-bit FNSAVE: registers", is_one(img16 + 14) &&
          get64(img16 + 24) == 0 && get16(img16 + 32) == 0);
    __asm__ volatile("data16 frstor %0" : : "m"(img16));
    check("16-bit FRSTOR", ((fnstsw() >> 11) & 7) == 6);

    uint8_t env[28];
    __asm__ volatile("fninit");
    fldcw(0x360);
    __asm__ volatile("fnstenv %0" : "=m"(env));
    check("FNSTENV stores FCW then masks all exceptions",
          get16(env) == 0x360 && fnstcw() == 0x37f);
    __asm__ volatile("fninit");
}

static void test_fxsave(void)
{
    static uint8_t area[512] __attribute__((aligned(16)));
    __asm__ volatile("fninit\n\tfld1\n\tfldz\n\tfxsave %0" : "=m"(area));
    check("FXSAVE: FCW, abridged tags", get16(area) == 0x37f && area[4] == 0xc0);
    check("FXSAVE: registers in stack order", get64(area + 32) == 0 &&
          is_one(area + 48));
    __asm__ volatile("fninit\n\tfxrstor %0" : : "m"(area));
    check("FXRSTOR", ((fnstsw() >> 11) & 7) == 6);
    __asm__ volatile("fninit");
}

void kmain(const struct mb_info *info)
{
    idt_set_handler(7, on_nm);
    idt_set_handler(16, on_mf);
    test_cpuid();
    test_nm();
    test_mf();
    test_fsave();
    test_fxsave();
    test_finish("x87", failures == 0);
}
