/*
 * tasks: hardware task switching in 32-bit protected mode (Intel SDM vol.
 * 3, chapter 7):
 *   - CALL to a TSS and through a task gate: the new task gets its
 *     registers and LDTR from its TSS, EFLAGS.NT and the back link; both
 *     TSS descriptors are busy; TR changes and CR0.TS is set; IRET returns
 *     to the caller, frees the called TSS and saved its EIP (after the
 *     IRET) so that the next call resumes there;
 *   - INT n through a task gate in the IDT, and #DF through a task gate (as
 *     32-bit kernels handle stack overflows): the double-fault task gets
 *     error code 0 on its stack, repairs the IDT and returns; the faulting
 *     instruction then runs again;
 *   - the faults: JMP to a busy TSS (#GP TSS), a TSS limit below 67h (#TS
 *     TSS), a bad data segment in the new task (#TS selector, taken in the
 *     new task), IRET with NT to a TSS that is not busy (#TS back link).
 */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#define SEL_TSS_MAIN 0x20
#define SEL_TSS_A 0x28
#define SEL_TSS_DF 0x30
#define SEL_GATE_A 0x38
#define SEL_TSS_B 0x40
#define SEL_TSS_INT 0x48
#define SEL_LDT 0x50
#define SEL_TSS_SHORT 0x58
#define SEL_TSS_TS 0x60
#define CR0_TS (1u << 3)
#define EFLAGS_NT (1u << 14)

void task_a_entry(void);
void task_a_after_iret(void);
void task_int_entry(void);
void task_df_entry(void);
void task_a_body(void);
void task_int_body(void);
void task_df_body(void);
void task_ts_entry(void);
extern volatile uint32_t task_a_esi, df_error, ts_error;

static struct tss32 tss_main, tss_a, tss_df, tss_b, tss_int, tss_short, tss_ts;
static uint8_t stack_a[4096], stack_df[4096], stack_b[4096], stack_int[4096], stack_ts[4096];
static uint64_t ldt[2];
static int failures;
static uint64_t idt13_saved;

static volatile uint32_t a_runs, a_eflags, a_link, a_tr, a_ldtr, a_cr0;
static volatile uint32_t a_busy_main, a_busy_a;
static volatile uint32_t int_runs, int_link, df_runs, df_link;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        kprintf("tasks: FAIL: %s: got %x, want %x\n", what, got, want);
        failures++;
    }
}

static void expect(const char *what, unsigned vector, uint32_t error)
{
    if (caught.count != 1 || caught.vector != vector || caught.error != error) {
        kprintf("tasks: FAIL: %s: %d exceptions, vector %u error %x; want "
                "vector %u error %x\n", what, caught.count, caught.vector,
                caught.error, vector, error);
        failures++;
    }
    catch_reset();
}

static uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static uint32_t read_eflags(void)
{
    uint32_t v;
    __asm__ volatile("pushfl; popl %0" : "=r"(v));
    return v;
}

static uint16_t str(void)
{
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}

static uint16_t sldt(void)
{
    uint16_t v;
    __asm__ volatile("sldt %0" : "=r"(v));
    return v;
}

void task_a_body(void)
{
    a_runs++;
    a_eflags = read_eflags();
    a_link = tss_a.link;
    a_tr = str();
    a_ldtr = sldt();
    a_cr0 = read_cr0();
    a_busy_main = gdt_access(SEL_TSS_MAIN >> 3);
    a_busy_a = gdt_access(SEL_TSS_A >> 3);
}

void task_int_body(void)
{
    int_runs++;
    int_link = tss_int.link;
}

void task_df_body(void)
{
    df_runs++;
    df_link = tss_df.link;
    idt_set_raw(13, idt13_saved);
}


static void setup_task(struct tss32 *t, void (*entry)(void), uint8_t *stack, uint32_t size)
{
    t->eip = (uint32_t)(uintptr_t)entry;
    t->eflags = 0x2;
    t->esp = (uint32_t)(uintptr_t)(stack + size);
    t->cs = SEL_CODE32;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA32;
    t->iomap = sizeof(*t);
}

#define TRY(insn)                                                       \
    __asm__ volatile("movl $1f, catch_resume\n\t" insn "\n1:"           \
                     : : : "eax", "ecx", "edx", "memory")

void kmain(const struct mb_info *info)
{
    static const unsigned vectors[] = { 10, 11, 13 };

    gdt_setup();
    tss_main.iomap = sizeof(tss_main);
    gdt_set(SEL_TSS_MAIN >> 3, seg_desc((uint32_t)(uintptr_t)&tss_main, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_TSS_A >> 3, seg_desc((uint32_t)(uintptr_t)&tss_a, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_TSS_DF >> 3, seg_desc((uint32_t)(uintptr_t)&tss_df, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_GATE_A >> 3, gate_desc(SEL_TSS_A, 0, ACC_P | ACC_TASK, 0));
    gdt_set(SEL_TSS_B >> 3, seg_desc((uint32_t)(uintptr_t)&tss_b, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_TSS_INT >> 3, seg_desc((uint32_t)(uintptr_t)&tss_int, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    gdt_set(SEL_LDT >> 3, seg_desc((uint32_t)(uintptr_t)ldt, sizeof(ldt) - 1, ACC_P | ACC_LDT));
    gdt_set(SEL_TSS_SHORT >> 3, seg_desc((uint32_t)(uintptr_t)&tss_short, 0x50, ACC_P | ACC_TSS32));
    gdt_set(SEL_TSS_TS >> 3, seg_desc((uint32_t)(uintptr_t)&tss_ts, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32));
    ldt[1] = seg_desc(0, 0xffffffff, ACC_P | ACC_DATA);
    setup_task(&tss_a, task_a_entry, stack_a, sizeof(stack_a));
    tss_a.esi = 0x12345678;
    tss_a.ldt = SEL_LDT;
    setup_task(&tss_int, task_int_entry, stack_int, sizeof(stack_int));
    setup_task(&tss_df, task_df_entry, stack_df, sizeof(stack_df));
    setup_task(&tss_b, task_a_entry, stack_b, sizeof(stack_b));
    tss_b.ds = 0x100; /* beyond the GDT limit */
    setup_task(&tss_ts, task_ts_entry, stack_ts, sizeof(stack_ts));
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS_MAIN));
    catch_vectors(vectors, 3);
    catch_reset();

    /* CALL to a TSS */
    __asm__ volatile("lcall %0, $0" : : "i"(SEL_TSS_A) : "memory");
    check("called task ran", a_runs, 1);
    check("ESI from the TSS", task_a_esi, 0x12345678);
    check("called task: NT", a_eflags & EFLAGS_NT, EFLAGS_NT);
    check("called task: back link", a_link, SEL_TSS_MAIN);
    check("called task: TR", a_tr, SEL_TSS_A);
    check("called task: LDTR", a_ldtr, SEL_LDT);
    check("called task: CR0.TS", a_cr0 & CR0_TS, CR0_TS);
    check("called task: caller's TSS busy", a_busy_main, 0x8b);
    check("called task: its TSS busy", a_busy_a, 0x8b);
    check("after IRET: TR", str(), SEL_TSS_MAIN);
    check("after IRET: LDTR", sldt(), 0);
    check("after IRET: called TSS free", gdt_access(SEL_TSS_A >> 3), 0x89);
    check("after IRET: saved EIP", tss_a.eip, (uint32_t)(uintptr_t)task_a_after_iret);
    check("after IRET: NT clear", read_eflags() & EFLAGS_NT, 0);
    __asm__ volatile("clts");

    /* CALL through a task gate: the task resumes after its IRET */
    __asm__ volatile("lcall %0, $0" : : "i"(SEL_GATE_A) : "memory");
    check("task gate: second run", a_runs, 2);

    /* INT n through a task gate */
    idt_set_raw(0x40, gate_desc(SEL_TSS_INT, 0, ACC_P | ACC_TASK, 0));
    __asm__ volatile("int $0x40" : : : "memory");
    check("INT through a task gate", int_runs, 1);
    check("INT task: back link", int_link, SEL_TSS_MAIN);

    /* #DF through a task gate: #GP's gate is not present, so its delivery
     * faults (#NP) and becomes a double fault */
    {
        struct {
            uint16_t limit;
            uint32_t base;
        } __attribute__((packed)) d;
        __asm__ volatile("sidt %0" : "=m"(d));
        idt13_saved = ((volatile uint64_t *)(uintptr_t)d.base)[13];
        idt_set_raw(8, gate_desc(SEL_TSS_DF, 0, ACC_P | ACC_TASK, 0));
        idt_set_raw(13, idt13_saved & ~(1ull << 47));
    }
    TRY("movw $0x1230, %%ax\n\tmovw %%ax, %%fs");
    check("double-fault task ran", df_runs, 1);
    check("double-fault error code", df_error, 0);
    check("double-fault task: back link", df_link, SEL_TSS_MAIN);
    expect("the faulting instruction again, IDT repaired", 13, 0x1230);

    /* faults */
    TRY("ljmp $0x20, $0");
    expect("JMP to the busy current TSS", 13, SEL_TSS_MAIN);
    TRY("ljmp $0x58, $0");
    expect("TSS limit below 67h", 10, SEL_TSS_SHORT);

    /* a bad DS in the new task: #TS in that task (its segment registers
     * are not usable then, so the handler is a task too) */
    uint64_t idt10 = gate_desc(SEL_CODE32, idt_stub(10), ACC_P | ACC_INTR32, 0);
    idt_set_raw(10, gate_desc(SEL_TSS_TS, 0, ACC_P | ACC_TASK, 0));
    __asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS_B) : "memory");
    idt_set_raw(10, idt10);
    check("#TS for a bad DS in the new task: error", ts_error, 0x100);
    check("#TS taken in the new task", tss_ts.link, SEL_TSS_B);
    check("back in the main task", str(), SEL_TSS_MAIN);

    tss_main.link = SEL_TSS_INT;
    TRY("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl\n\tiret");
    __asm__ volatile("pushfl\n\tandl $~0x4000, (%%esp)\n\tpopfl" : : : "memory");
    expect("IRET to a TSS that is not busy", 10, SEL_TSS_INT);

    test_finish("tasks", failures == 0);
}
