/*
 * callgate64: far calls through 64-bit call gates in long mode (Intel SDM
 * vol. 3, 5.8.3.1 "IA-32e Mode Call Gates", 5.8.5 "Stack Switching in
 * IA-32e Mode", 5.8.6 "Returning from a Called Procedure"): a call at the
 * same level pushes CS and RIP as quadwords and RETFQ returns; a call from
 * ring 3 to ring 0 takes RSP0 from the 64-bit TSS, loads a null SS, pushes
 * SS, RSP, CS and RIP as quadwords, and RETFQ goes back to ring 3 with its
 * stack.  This half builds the page tables, the GDT (ring-3 segments, the
 * 64-bit TSS, the gates) and the TSS; callgate64_64.S runs the calls.
 */
#include "lib/desc.h"
#include "lib/kernel.h"
#include "lib/layout.h"

#define PTE_PRESENT 0x1u
#define PTE_WRITE 0x2u
#define PTE_USER 0x4u
#define PTE_LARGE 0x80u

#define SEL_CODE64_USER 0x20
#define SEL_DATA_USER 0x28
#define SEL_TSS64 0x30
#define SEL_GATE_USER 0x40
#define SEL_GATE_KERNEL 0x50
#define ACC_CALL64 0x0cu

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

struct tss64 {
    uint32_t r0;
    uint64_t rsp[3];
    uint64_t r1;
    uint64_t ist[7];
    uint64_t r2;
    uint16_t r3, iomap;
} __attribute__((packed));

static struct tss64 tss;
static uint8_t stack0[4096] __attribute__((aligned(16)));

void gate_target(void);
void run_long_mode(uint32_t cr3) __attribute__((noreturn));
uint64_t tss_rsp0;

static void gate64(unsigned index, uint16_t sel, uint32_t off, unsigned dpl)
{
    gdt_set(index, gate_desc(sel, off, ACC_P | ACC_DPL(dpl) | ACC_CALL64, 0));
    gdt_set(index + 1, 0); /* offset bits 63:32 and the zero type */
}

void kmain(const struct mb_info *info)
{
    for (unsigned i = 0; i < 512; i++) {
        pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE;
    }
    pdpt[0] = (uint32_t)(uintptr_t)pd | PTE_PRESENT | PTE_WRITE | PTE_USER;
    pml4[0] = (uint32_t)(uintptr_t)pdpt | PTE_PRESENT | PTE_WRITE | PTE_USER;

    gdt_setup();
    gdt_set(SEL_CODE64_USER >> 3, 0x00affa000000ffffull);
    gdt_set(SEL_DATA_USER >> 3, 0x00cff2000000ffffull);
    uint32_t base = (uint32_t)(uintptr_t)&tss;
    gdt_set(SEL_TSS64 >> 3, (sizeof(tss) - 1) | ((uint64_t)(base & 0xffffff) << 16) |
                            ((uint64_t)(ACC_P | ACC_TSS32) << 40) |
                            ((uint64_t)(base >> 24) << 56));
    gdt_set((SEL_TSS64 >> 3) + 1, 0);
    gate64(SEL_GATE_USER >> 3, SEL_CODE64, (uint32_t)(uintptr_t)gate_target, 3);
    gate64(SEL_GATE_KERNEL >> 3, SEL_CODE64, (uint32_t)(uintptr_t)gate_target, 0);
    tss.rsp[0] = (uint32_t)(uintptr_t)(stack0 + sizeof(stack0));
    tss.iomap = sizeof(tss);
    tss_rsp0 = tss.rsp[0];
    kprintf("callgate64: entering long mode\n");
    run_long_mode((uint32_t)(uintptr_t)pml4);
}
