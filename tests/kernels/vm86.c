/*
 * vm86: virtual-8086 mode (Intel SDM vol. 3, chapter 20) entered by IRET
 * from ring 0 with EFLAGS.VM in the image:
 *   - real-mode addressing (DS = 1234h writes linear 12350h);
 *   - with IOPL 0, CLI, STI, PUSHF, POPF and INT n raise #GP(0) to the
 *     ring-0 monitor, INT3 does not (it goes through a DPL-3 gate);
 *   - the monitor's frame: nine items (EIP, CS, EFLAGS with VM, ESP, SS,
 *     ES, DS, FS, GS) on TSS.SS0:ESP0, and DS..GS nulled in the handler;
 *   - port I/O is checked against the TSS's I/O permission bitmap (port
 *     80h allowed, 84h denied) whatever the IOPL;
 *   - with IOPL 3 the same program runs CLI..POPF without faults and INT
 *     21h reaches its DPL-3 gate;
 *   - CPUID does not advertise VME, and CR4.VME cannot be set.
 */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#define SEL_TSS 0x20
#define EFLAGS_VM (1u << 17)
#define EFLAGS_IOPL3 (3u << 12)
#define PROG_ADDR 0x7000

extern const uint8_t v86_prog[], v86_prog_end[];
void run_v86(uint32_t eflags);
void v86_gp(void);
void v86_int21(void);
void v86_bp(void);
void v86_ud(void);
extern volatile uint32_t v86_error, v86_ds_in_handler, v86_frame[9], v86_frame_esp;
extern volatile uint32_t v86_gp_count, v86_int21_count, v86_bp_count;
extern volatile uint8_t v86_gp_ops[16];

static struct {
    struct tss32 t;
    uint8_t iomap[32]; /* ports 0-255 */
    uint8_t end;
} __attribute__((packed)) tss;
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
static int failures;

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        kprintf("vm86: FAIL: %s: got %x, want %x\n", what, got, want);
        failures++;
    }
}

static void reset_counts(void)
{
    v86_gp_count = v86_int21_count = v86_bp_count = 0;
    for (unsigned i = 0; i < 16; i++) {
        v86_gp_ops[i] = 0;
    }
}

void kmain(const struct mb_info *info)
{
    static const uint8_t want_ops[] = { 0xfa, 0xfb, 0x9c, 0x9d, 0xcd, 0xe6 };
    uint32_t a, b, c, d;

    gdt_setup();
    gdt_set(SEL_TSS >> 3, seg_desc((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, ACC_P | ACC_TSS32));
    tss.t.ss0 = SEL_DATA32;
    tss.t.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.t.iomap = sizeof(tss.t);
    tss.iomap[0x84 / 8] = 1u << (0x84 % 8);
    tss.end = 0xff;
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));
    idt_set_raw(13, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)v86_gp, ACC_P | ACC_INTR32, 0));
    idt_set_raw(6, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)v86_ud, ACC_P | ACC_INTR32, 0));
    idt_set_raw(3, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)v86_bp, ACC_P | ACC_DPL(3) | ACC_INTR32, 0));
    idt_set_raw(0x21, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)v86_int21, ACC_P | ACC_DPL(3) | ACC_INTR32, 0));
    for (const uint8_t *p = v86_prog; p < v86_prog_end; p++) {
        ((volatile uint8_t *)PROG_ADDR)[p - v86_prog] = *p;
    }

    /* IOPL 0: the sensitive instructions trap */
    reset_counts();
    run_v86(EFLAGS_VM | 0x2);
    check("real-mode style store", *(volatile uint16_t *)0x12350, 0x55aa);
    check("#GP count with IOPL 0", v86_gp_count, 6);
    for (unsigned i = 0; i < 6; i++) {
        check("trapping instruction", v86_gp_ops[i], want_ops[i]);
    }
    check("#GP error code", v86_error, 0);
    check("INT3 through its DPL-3 gate", v86_bp_count, 1);
    check("INT 21h did not reach its gate", v86_int21_count, 0);
    check("frame: CS", v86_frame[1], 0x0700);
    check("frame: EFLAGS.VM", v86_frame[2] & EFLAGS_VM, EFLAGS_VM);
    check("frame: SS", v86_frame[4], 0x0800);
    check("frame: ES", v86_frame[5], 0x0200);
    check("frame: DS", v86_frame[6], 0x1234);
    check("frame: FS", v86_frame[7], 0);
    check("frame: on the ring-0 stack", v86_frame_esp, tss.t.esp0 - 36);
    check("DS nulled in the handler", v86_ds_in_handler, 0);

    /* IOPL 3: only the I/O bitmap traps, INT 21h reaches its gate */
    reset_counts();
    *(volatile uint16_t *)0x12350 = 0;
    run_v86(EFLAGS_VM | EFLAGS_IOPL3 | 0x2);
    check("#GP count with IOPL 3", v86_gp_count, 1);
    check("the I/O bitmap trap", v86_gp_ops[0], 0xe6);
    check("INT 21h through its DPL-3 gate", v86_int21_count, 1);
    check("INT3 with IOPL 3", v86_bp_count, 1);
    check("SP at the end", v86_frame[3] & 0xffff, 0x0ffe);

    /* no VME */
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    check("CPUID.1:EDX.VME", d & 2, 0);
    test_finish("vm86", failures == 0);
}
