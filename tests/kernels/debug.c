/*
 * debug: the debug exceptions (Intel SDM vol. 3, chapter 17):
 *   - TF single-step: #DB after each instruction with DR6.BS, not after the
 *     POPF that sets TF but after the one that clears it;
 *   - single-step over a faulting instruction: the fault only, then #DB
 *     after the next instruction (the handler returns with IRET, TF set);
 *   - MOV SS: its single-step trap is delayed past the next instruction;
 *   - ICEBP (F1) raises #DB, INT3 #BP, both after the instruction;
 *   - an instruction breakpoint (DR0, DR7.L0): #DB before the instruction
 *     with DR6.B0, once (the handler resumes with RF);
 *   - data breakpoints: write-only (RW=01) ignores reads, read/write
 *     (RW=11) catches them, lengths 1, 2, 4, 8 cover their aligned ranges;
 *     the trap comes after the access with DR6.Bn;
 *   - general detect (DR7.GD): #DB before a MOV from DR0 with DR6.BD, GD
 *     cleared.
 * Run under the JIT and the interpreter: blocks must not skip the checks.
 */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR7_GD (1u << 13)

void db_stub(void);
void bp_stub(void);
void gp_stub(void);
void seq_step(void), seq_step_fault(void), seq_movss(void), seq_icebp(void), seq_ibp(void);
void store32(void), load32(void), store8(void), seq_gd(void);
extern char step_l1[], step_l2[], step_end[], fault_insn[], fault_resume[], fault_after[];
extern char movss_l1[], movss_l2[], icebp_after[], int3_after[], ibp_target[];
extern char store32_after[], load32_after[], gd_insn[];
extern volatile uint32_t n_ev, ev_vec[32], ev_eip[32], ev_dr6[32], set_rf;

static volatile uint32_t var32 __attribute__((aligned(8)));
static volatile uint8_t var8[16] __attribute__((aligned(8)));
static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        kprintf("debug: FAIL: %s: got %x, want %x\n", what, got, want);
        failures++;
    }
}

/* event i is (vector, EIP) */
static void check_ev(const char *what, unsigned i, uint32_t vec, const void *eip)
{
    if (i >= n_ev || ev_vec[i] != vec || ev_eip[i] != (uint32_t)(uintptr_t)eip) {
        kprintf("debug: FAIL: %s: event %u of %u is vector %u at %x; want %u at %x\n",
                what, i, n_ev, i < n_ev ? ev_vec[i] : 0, i < n_ev ? ev_eip[i] : 0,
                vec, (uint32_t)(uintptr_t)eip);
        failures++;
    }
}

static uint32_t read_dr7(void)
{
    uint32_t v;
    __asm__ volatile("mov %%dr7, %0" : "=r"(v));
    return v;
}

static void set_dr7(uint32_t v)
{
    __asm__ volatile("mov %0, %%dr7" : : "r"(v) : "memory");
}

static void call_with_eax(void (*fn)(void), const volatile void *addr)
{
    __asm__ volatile("call *%1" : "+a"(addr) : "r"(fn) : "ecx", "edx", "memory");
}

/* A data breakpoint in DR1 of kind rw (1 write, 3 read/write) and length
 * code len (0: 1, 1: 2, 3: 4, 2: 8 bytes). */
static void data_bp(const volatile void *addr, unsigned rw, unsigned len)
{
    __asm__ volatile("mov %0, %%dr1" : : "r"(addr));
    set_dr7((1u << 2) | (rw << 20) | (len << 22));
}

static unsigned hits(void (*fn)(void), const volatile void *addr)
{
    n_ev = 0;
    call_with_eax(fn, addr);
    return n_ev;
}

void kmain(const struct mb_info *info)
{
    gdt_setup();
    idt_set_raw(1, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)db_stub, ACC_P | ACC_INTR32, 0));
    idt_set_raw(3, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)bp_stub, ACC_P | ACC_INTR32, 0));
    idt_set_raw(13, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)gp_stub, ACC_P | ACC_INTR32, 0));

    n_ev = 0;
    seq_step();
    check("single-step: events", n_ev, 5);
    check_ev("single-step: after the first NOP", 0, 1, step_l1);
    check_ev("single-step: after the second NOP", 1, 1, step_l2);
    check_ev("single-step: after the POPF clearing TF", 4, 1, step_end);
    check("single-step: DR6.BS", ev_dr6[0] & DR6_BS, DR6_BS);

    n_ev = 0;
    seq_step_fault();
    check("step over a fault: events", n_ev, 5);
    check_ev("step over a fault: the #GP", 0, 13, fault_insn);
    check_ev("step over a fault: #DB after the next one", 1, 1, fault_after);

    n_ev = 0;
    seq_movss();
    check("MOV SS: events", n_ev, 4);
    check_ev("MOV SS: trap after the next instruction", 0, 1, movss_l2);

    n_ev = 0;
    seq_icebp();
    check("ICEBP/INT3: events", n_ev, 2);
    check_ev("ICEBP: #DB after it", 0, 1, icebp_after);
    check("ICEBP: DR6.BS clear", ev_dr6[0] & DR6_BS, 0);
    check_ev("INT3: #BP after it", 1, 3, int3_after);

    n_ev = 0;
    set_rf = 1;
    __asm__ volatile("mov %0, %%dr0" : : "r"(ibp_target));
    set_dr7(1u << 0);
    seq_ibp();
    seq_ibp();
    set_dr7(0);
    set_rf = 0;
    check("instruction breakpoint: events", n_ev, 2);
    check_ev("instruction breakpoint: before the instruction", 0, 1, ibp_target);
    check("instruction breakpoint: DR6.B0", ev_dr6[0] & 0xf, 1);

    n_ev = 0;
    seq_gd();
    check("general detect: events", n_ev, 1);
    check_ev("general detect: before MOV from DR0", 0, 1, gd_insn);
    check("general detect: DR6.BD", ev_dr6[0] & DR6_BD, DR6_BD);
    check("general detect: DR7.GD cleared", read_dr7() & DR7_GD, 0);

    data_bp(&var32, 1, 3);
    check("write breakpoint: store", hits(store32, &var32), 1);
    check_ev("write breakpoint: after the store", 0, 1, store32_after);
    check("write breakpoint: DR6.B1", ev_dr6[0] & 0xf, 2);
    check("write breakpoint: load", hits(load32, &var32), 0);
    data_bp(&var32, 3, 3);
    check("read/write breakpoint: load", hits(load32, &var32), 1);
    check_ev("read/write breakpoint: after the load", 0, 1, load32_after);
    data_bp(&var8[2], 1, 1);
    check("2-byte breakpoint: byte 3", hits(store8, &var8[3]), 1);
    check("2-byte breakpoint: byte 1", hits(store8, &var8[1]), 0);
    data_bp(&var8[8], 1, 2);
    check("8-byte breakpoint: byte 15", hits(store8, &var8[15]), 1);
    check("8-byte breakpoint: byte 7", hits(store8, &var8[7]), 0);
    data_bp(&var8[4], 1, 0);
    check("1-byte breakpoint: byte 4", hits(store8, &var8[4]), 1);
    check("1-byte breakpoint: byte 5", hits(store8, &var8[5]), 0);
    check("no breakpoint: store", (set_dr7(0), hits(store32, &var32)), 0);

    test_finish("debug", failures == 0);
}
