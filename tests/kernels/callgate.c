/*
 * callgate: far CALL and JMP through call gates in 32-bit protected mode
 * (Intel SDM vol. 3, 5.8.3-5.8.6; vol. 2 "CALL", "JMP", "RET"):
 *   - a same-level call through a gate pushes CS:EIP and lands at the
 *     gate's offset;
 *   - a call from ring 3 to ring 0 switches to TSS.SS0:ESP0 and builds the
 *     frame EIP, CS, the gate's two parameters, ESP, SS; the far RET with
 *     an immediate returns to ring 3, pops the parameters on both stacks
 *     and nulls ES, which held a ring-0 segment;
 *   - a call from ring 3 to ring 1 uses TSS.SS1, and the checks of that SS
 *     (#TS with its selector for a wrong RPL/DPL, #SS when not present);
 *   - the descriptor checks and their error codes: gate DPL < RPL (#GP
 *     gate), gate not present (#NP gate), null code selector (#GP 0), a
 *     gate to a data segment (#GP code selector), code segment not present
 *     (#NP code selector), JMP through a gate to an inner level (#GP code
 *     selector).
 */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#define SEL_UCODE 0x23
#define SEL_UDATA 0x2b
#define SEL_TSS 0x30

void same_target(void);
void inner_target(void);
void ring1_target(void);
void exit_target(void);
void ring3_main(void);
void ring3_to_ring1(void);
void run_ring3(void (*entry)(void));
extern volatile uint32_t same_esp, same_cs, inner_esp, inner_frame[6], inner_ss;
extern volatile uint32_t r3_esp_before, r3_esp_after, r3_es, r3_jmp_error;
extern volatile uint32_t ring1_cs, ring1_ss;

static struct tss32 tss __attribute__((aligned(128)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
static uint8_t ring1_stack[4096] __attribute__((aligned(16)));
static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        kprintf("callgate: FAIL: %s: got %x, want %x\n", what, got, want);
        failures++;
    }
}

#define TRY_LCALL(sel)                                                  \
    __asm__ volatile("movl $1f, catch_resume\n\t"                       \
                     "lcall $" #sel ", $0\n"                            \
                     "1:" : : : "eax", "ecx", "edx", "memory")

static void expect(const char *what, unsigned vector, uint32_t error)
{
    if (caught.count != 1 || caught.vector != vector || caught.error != error) {
        kprintf("callgate: FAIL: %s: %d exceptions, vector %u error %x; want "
                "vector %u error %x\n", what, caught.count, caught.vector,
                caught.error, vector, error);
        failures++;
    }
    catch_reset();
}

void kmain(const struct mb_info *info)
{
    static const unsigned vectors[] = { 10, 11, 12, 13 };
    uint32_t code0 = SEL_CODE32;

    gdt_setup();
    gdt_set(4, seg_desc(0, 0xffffffff, ACC_P | ACC_DPL(3) | ACC_CODE));
    gdt_set(5, seg_desc(0, 0xffffffff, ACC_P | ACC_DPL(3) | ACC_DATA));
    gdt_set(6, seg_desc((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, ACC_P | ACC_TSS32));
    gdt_set(7, gate_desc(code0, (uint32_t)(uintptr_t)inner_target, ACC_P | ACC_DPL(3) | ACC_CALL32, 2));
    gdt_set(8, gate_desc(code0, (uint32_t)(uintptr_t)exit_target, ACC_P | ACC_DPL(3) | ACC_CALL32, 0));
    gdt_set(9, gate_desc(code0, (uint32_t)(uintptr_t)same_target, ACC_P | ACC_CALL32, 0));
    gdt_set(10, gate_desc(code0, (uint32_t)(uintptr_t)same_target, ACC_DPL(3) | ACC_CALL32, 0));
    gdt_set(11, gate_desc(0, (uint32_t)(uintptr_t)same_target, ACC_P | ACC_CALL32, 0));
    gdt_set(12, gate_desc(SEL_DATA32, (uint32_t)(uintptr_t)same_target, ACC_P | ACC_CALL32, 0));
    gdt_set(13, seg_desc(0, 0xffffffff, ACC_CODE));
    gdt_set(14, gate_desc(0x68, (uint32_t)(uintptr_t)same_target, ACC_P | ACC_CALL32, 0));
    gdt_set(15, seg_desc(0, 0xffffffff, ACC_P | ACC_DPL(1) | ACC_CODE));
    gdt_set(16, gate_desc(0x78, (uint32_t)(uintptr_t)ring1_target, ACC_P | ACC_DPL(3) | ACC_CALL32, 0));
    gdt_set(17, seg_desc(0, 0xffffffff, ACC_DPL(1) | ACC_DATA));
    gdt_set(18, seg_desc(0, 0xffffffff, ACC_P | ACC_DPL(1) | ACC_DATA));
    tss.ss0 = SEL_DATA32;
    tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.esp1 = (uint32_t)(uintptr_t)(ring1_stack + sizeof(ring1_stack));
    tss.iomap = sizeof(tss);
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
    catch_vectors(vectors, 4);
    catch_reset();

    /* same level */
    __asm__ volatile("lcall $0x48, $0" : : : "eax", "memory");
    check("same-level gate: caller CS", same_cs, SEL_CODE32);

    /* descriptor checks at ring 0 */
    TRY_LCALL(0x4b);
    expect("gate DPL 0 < RPL 3", 13, 0x48);
    TRY_LCALL(0x50);
    expect("gate not present", 11, 0x50);
    TRY_LCALL(0x58);
    expect("null code selector", 13, 0);
    TRY_LCALL(0x60);
    expect("gate to a data segment", 13, SEL_DATA32);
    TRY_LCALL(0x70);
    expect("code segment not present", 11, 0x68);

    /* ring 3 -> ring 0 with two parameters, and back */
    run_ring3(ring3_main);
    check("inner call: ring-0 SS", inner_ss, SEL_DATA32);
    check("inner call: ring-0 ESP", inner_esp, tss.esp0 - 24);
    check("inner call: pushed CS", inner_frame[1], SEL_UCODE);
    check("inner call: parameter 0", inner_frame[2], 0x2222);
    check("inner call: parameter 1", inner_frame[3], 0x1111);
    check("inner call: pushed ESP", inner_frame[4], r3_esp_before);
    check("inner call: pushed SS", inner_frame[5], SEL_UDATA);
    check("return: ESP past the parameters", r3_esp_after, r3_esp_before + 8);
    check("return: ES nulled", r3_es, 0);
    check("JMP through a gate to ring 0", r3_jmp_error, SEL_CODE32);
    check("no stray exceptions at ring 3", caught.count, 1);
    catch_reset();

    /* ring 3 -> ring 1: SS1 checks */
    tss.ss1 = SEL_DATA32;
    run_ring3(ring3_to_ring1);
    expect("SS1 with RPL 0", 10, SEL_DATA32);
    tss.ss1 = 0x89;
    run_ring3(ring3_to_ring1);
    expect("SS1 not present", 12, 0x88);
    tss.ss1 = 0x91;
    run_ring3(ring3_to_ring1);
    check("ring-1 call: exceptions", caught.count, 0);
    check("ring-1 call: CS", ring1_cs, 0x79);
    check("ring-1 call: SS", ring1_ss, 0x91);

    test_finish("callgate", failures == 0);
}
