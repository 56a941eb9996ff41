/*
 * longmode: builds identity page tables for the first 1 GiB (2 MiB pages),
 * enables PAE, EFER.LME and paging, and jumps to 64-bit code (longmode64.S)
 * that checks EFER.LMA, does 64-bit arithmetic and prints from long mode
 * (Intel SDM vol. 3, 9.8.5 "Initializing IA-32e Mode").
 */
#include "lib/kernel.h"

#define PTE_PRESENT 0x1u
#define PTE_WRITE 0x2u
#define PTE_LARGE 0x80u

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

/* longmode64.S: never returns. */
void enter_long_mode(uint32_t cr3) __attribute__((noreturn));

void kmain(const struct mb_info *info)
{
    for (unsigned i = 0; i < 512; i++) {
        pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
    }
    pdpt[0] = (uint32_t)(uintptr_t)pd | PTE_PRESENT | PTE_WRITE;
    pml4[0] = (uint32_t)(uintptr_t)pdpt | PTE_PRESENT | PTE_WRITE;
    kprintf("longmode: entering long mode\n");
    enter_long_mode((uint32_t)(uintptr_t)pml4);
}
