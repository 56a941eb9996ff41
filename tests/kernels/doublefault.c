/*
 * doublefault: the exception classes of Intel SDM vol. 3, 6.15 (tables 6-4
 * and 6-5), in 32-bit protected mode (the page-fault cases with PAE
 * paging; where the CPU refuses paging, the kernel exits with EXIT_SKIP
 * after the others):
 *   - a benign exception whose delivery faults is followed by that fault
 *     alone: #UD and INT3 through not-present IDT gates give #NP (error
 *     code: the IDT entry, EXT set for #UD, clear for INT3);
 *   - contributory while delivering contributory is a double fault: #GP
 *     through a gate with a bad code selector (#GP), and through a
 *     not-present gate (#NP), give #DF with error code 0;
 *   - #GP while delivering #PF is a double fault; #PF while delivering #GP
 *     or #UD (the stack is not mapped) is delivered serially, to a
 *     page-fault task; #PF while delivering #PF is a double fault (to a
 *     double-fault task: the stack is unusable);
 *   - a fault while delivering #DF is a triple fault: the machine resets
 *     and the kernel, started again, finds its mark in CMOS NVRAM.
 */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#include <stdbool.h>

#define SEL_TSS_MAIN 0x20
#define SEL_TSS_DF 0x28
#define SEL_TSS_PF 0x30
#define SEL_BEYOND_GDT 0x1000
#define CR0_PG 0x80000000u
#define PTE_P 1u
#define PTE_RW 2u
#define PDE_PS 0x80u
#define CR4_PAE 0x20u
#define PF_WRITE 2u

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_MARK 0x4c         /* NVRAM byte that survives the reset */
#define MARK_TRIPLE 0xdf

void task_df_entry(void);
void task_pf_entry(void);
void task_df_body(void);
void task_pf_body(void);
extern volatile uint32_t df_error, pf_error;

/* PAE paging (this project's nested KVM hosts refuse 32-bit paging): the
 * first 2 MiB in 4 KiB pages, the next 2 MiB as one large page. */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pgdir[512] __attribute__((aligned(4096)));
static uint64_t pgtab[512] __attribute__((aligned(4096)));
/* pages left not present: a stack and a data page */
static uint8_t holes[2][4096] __attribute__((aligned(4096)));
static struct tss32 tss_main, tss_df, tss_pf;
static uint8_t stack_df[4096], stack_pf[4096];
static int failures;

static volatile uint32_t df_runs, pf_runs, task_cr2;
volatile uint32_t saved_esp;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        kprintf("doublefault: FAIL: %s: got %x, want %x\n", what, got, want);
        failures++;
    }
}

static void expect(const char *what, unsigned vector, uint32_t error)
{
    if (caught.count != 1 || caught.vector != vector || caught.error != error) {
        kprintf("doublefault: FAIL: %s: %d exceptions, vector %u error %x; "
                "want vector %u error %x\n", what, caught.count, caught.vector,
                caught.error, vector, error);
        failures++;
    }
    catch_reset();
}

static uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static uint8_t cmos_read(uint8_t idx)
{
    outb(CMOS_INDEX, idx);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
    outb(CMOS_INDEX, idx);
    outb(CMOS_DATA, v);
}

/* The task bodies send the interrupted main task to catch_resume with the
 * stack it had before the test. */
void task_df_body(void)
{
    df_runs++;
    task_cr2 = read_cr2();
    tss_main.eip = catch_resume;
    tss_main.esp = saved_esp;
}

void task_pf_body(void)
{
    pf_runs++;
    task_cr2 = read_cr2();
    tss_main.eip = catch_resume;
    tss_main.esp = saved_esp;
}

static void setup_task(struct tss32 *t, void (*entry)(void), uint8_t *stack, uint32_t size)
{
    t->eip = (uint32_t)(uintptr_t)entry;
    t->eflags = 0x2;
    t->esp = (uint32_t)(uintptr_t)(stack + size);
    t->cs = SEL_CODE32;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA32;
    t->cr3 = (uint32_t)(uintptr_t)pdpt;
    t->iomap = sizeof(*t);
}

/* Returns false when the CPU refuses to turn paging on in protected mode
 * (#GP on MOV CR0: this project's nested kvm_pvm hosts). */
static bool paging_on(void)
{
    for (unsigned i = 0; i < 512; i++) {
        pgtab[i] = (i << 12) | PTE_P | PTE_RW;
    }
    for (unsigned h = 0; h < 2; h++) {
        pgtab[(uint32_t)(uintptr_t)holes[h] >> 12] = 0;
    }
    pgdir[0] = (uint32_t)(uintptr_t)pgtab | PTE_P | PTE_RW;
    pgdir[1] = 0x200000 | PDE_PS | PTE_P | PTE_RW;
    pdpt[0] = (uint32_t)(uintptr_t)pgdir | PTE_P;
    __asm__ volatile("movl $1f, catch_resume\n\t"
                     "mov %%cr4, %%eax\n\t"
                     "or %1, %%eax\n\t"
                     "mov %%eax, %%cr4\n\t"
                     "mov %0, %%cr3\n\t"
                     "mov %%cr0, %%eax\n\t"
                     "or %2, %%eax\n\t"
                     "mov %%eax, %%cr0\n\t"
                     "jmp 1f\n1:"
                     : : "r"(pdpt), "i"(CR4_PAE), "i"(CR0_PG) : "eax", "memory");
    bool ok = caught.count == 0;
    catch_reset();
    return ok;
}

#define TRY(insn)                                                       \
    __asm__ volatile("movl $1f, catch_resume\n\t" insn "\n1:"           \
                     : : : "eax", "ecx", "edx", "memory")

/* A load from the unmapped data page. */
#define TRY_LOAD_HOLE()                                                 \
    __asm__ volatile("movl $1f, catch_resume\n\tmovl (%0), %%eax\n1:"    \
                     : : "r"(holes[1]) : "eax", "ecx", "edx", "memory")

/* The instruction runs with ESP at the top of the unmapped stack page:
 * the exception's frame cannot be pushed.  %1 is the unmapped data page. */
#define TRY_NO_STACK(insn)                                              \
    __asm__ volatile("movl $1f, catch_resume\n\t"                       \
                     "movl %%esp, saved_esp\n\t"                        \
                     "movl %0, %%esp\n\t" insn "\n"                     \
                     "1:\n\tmovl saved_esp, %%esp"                      \
                     : : "r"(holes[0] + 4096), "r"(holes[1])             \
                     : "eax", "ecx", "edx", "memory")

static uint64_t gate_bad_selector(unsigned vector)
{
    return gate_desc(SEL_BEYOND_GDT, idt_stub(vector), ACC_P | ACC_INTR32, 0);
}

static uint64_t gate_not_present(unsigned vector)
{
    return gate_desc(SEL_CODE32, idt_stub(vector), ACC_INTR32, 0);
}

static uint64_t gate_ok(unsigned vector)
{
    return gate_desc(SEL_CODE32, idt_stub(vector), ACC_P | ACC_INTR32, 0);
}

static void check_in_hole(const char *what, uint32_t addr, unsigned hole)
{
    uint32_t base = (uint32_t)(uintptr_t)holes[hole];
    if (addr - base >= 4096) {
        kprintf("doublefault: FAIL: %s: CR2 %x is not in the page at %x\n",
                what, addr, base);
        failures++;
    }
}

static void benign_first(void)
{
    idt_set_raw(6, gate_not_present(6));
    TRY("ud2");
    expect("#UD through a not-present gate", 11, 6 * 8 + 2 + 1);
    idt_set_raw(6, gate_ok(6));

    idt_set_raw(3, gate_not_present(3));
    TRY("int3");
    expect("INT3 through a not-present gate", 11, 3 * 8 + 2);
    idt_set_raw(3, gate_ok(3));
}

static void contributory_first(void)
{
    idt_set_raw(13, gate_bad_selector(13));
    TRY("movw $0x1230, %%ax\n\tmovw %%ax, %%fs");
    expect("#GP through a gate with a bad selector", 8, 0);

    idt_set_raw(13, gate_not_present(13));
    TRY("movw $0x1230, %%ax\n\tmovw %%ax, %%fs");
    expect("#GP through a not-present gate", 8, 0);
    idt_set_raw(13, gate_ok(13));

    idt_set_raw(0, gate_not_present(0));
    TRY("xorl %%edx, %%edx\n\txorl %%ecx, %%ecx\n\tmovl $1, %%eax\n\tdivl %%ecx");
    expect("#DE through a not-present gate", 8, 0);
    idt_set_raw(0, gate_ok(0));
}

static void page_fault_classes(void)
{
    idt_set_raw(14, gate_bad_selector(14));
    TRY_LOAD_HOLE();
    expect("#PF through a gate with a bad selector", 8, 0);
    check_in_hole("#GP while delivering #PF", read_cr2(), 1);
    idt_set_raw(14, gate_ok(14));

    /* #PF while delivering #GP or #UD: to the page-fault task */
    idt_set_raw(8, gate_desc(SEL_TSS_DF, 0, ACC_P | ACC_TASK, 0));
    idt_set_raw(14, gate_desc(SEL_TSS_PF, 0, ACC_P | ACC_TASK, 0));
    TRY_NO_STACK("movw $0x1230, %%ax\n\tmovw %%ax, %%fs");
    check("#PF while delivering #GP: page-fault task", pf_runs, 1);
    check("#PF while delivering #GP: error code", pf_error, PF_WRITE);
    check_in_hole("#PF while delivering #GP", task_cr2, 0);
    check("#PF while delivering #GP: no double fault", df_runs, 0);
    TRY_NO_STACK("ud2");
    check("#PF while delivering #UD: page-fault task", pf_runs, 2);
    check("#PF while delivering #UD: error code", pf_error, PF_WRITE);
    check("#PF while delivering #UD: no double fault", df_runs, 0);
    idt_set_raw(14, gate_ok(14));
    check("nothing reached the IDT's handlers", caught.count, 0);

    /* #PF while delivering #PF: to the double-fault task */
    TRY_NO_STACK("movl (%1), %%eax");
    check("#PF while delivering #PF: double-fault task", df_runs, 1);
    check("#PF while delivering #PF: error code", df_error, 0);
    check_in_hole("#PF while delivering #PF", task_cr2, 0);
    check("#PF while delivering #PF: page-fault task", pf_runs, 2);
    check("nothing reached the IDT's handlers", caught.count, 0);
}

void kmain(const struct mb_info *info)
{
    static const unsigned vectors[] = { 8, 10, 11, 12, 13, 14 };

    if (cmos_read(CMOS_MARK) == MARK_TRIPLE) {
        cmos_write(CMOS_MARK, 0);
        kprintf("doublefault: started again after the triple fault\n");
        test_finish("doublefault", 1);
    }

    gdt_setup();
    tss_main.iomap = sizeof(tss_main);
    tss_main.cr3 = (uint32_t)(uintptr_t)pdpt;
    setup_task(&tss_df, task_df_entry, stack_df, sizeof(stack_df));
    setup_task(&tss_pf, task_pf_entry, stack_pf, sizeof(stack_pf));
    gdt_set(SEL_TSS_MAIN >> 3, seg_desc((uint32_t)(uintptr_t)&tss_main, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_TSS_DF >> 3, seg_desc((uint32_t)(uintptr_t)&tss_df, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_TSS_PF >> 3, seg_desc((uint32_t)(uintptr_t)&tss_pf, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS_MAIN));
    catch_vectors(vectors, sizeof(vectors) / sizeof(vectors[0]));
    catch_reset();

    benign_first();
    contributory_first();
    if (!paging_on()) {
        kprintf("doublefault: SKIP: this CPU refuses paging in protected mode "
                "(%d failures before)\n", failures);
        debug_exit(failures ? EXIT_FAIL : EXIT_SKIP);
    }
    page_fault_classes();

    if (failures) {
        test_finish("doublefault", 0);
    }
    /* #GP through a not-present gate (#NP: #DF), #DF through a
     * not-present gate: shutdown, then the reset */
    kprintf("doublefault: classes checked, now a triple fault\n");
    cmos_write(CMOS_MARK, MARK_TRIPLE);
    idt_set_raw(13, gate_not_present(13));
    idt_set_raw(8, gate_not_present(8));
    TRY("movw $0x1230, %%ax\n\tmovw %%ax, %%fs");
    cmos_write(CMOS_MARK, 0);
    kprintf("doublefault: FAIL: no triple fault (vector %u error %x)\n",
            caught.vector, caught.error);
    test_finish("doublefault", 0);
}
