/*
 * Architectural reset and boot-protocol entry states (Intel SDM vol. 3,
 * 10.1.1 "Processor State After Reset"; Linux boot protocol 32-bit entry).
 */
#include <string.h>

#include "cpu/x86/cpu.h"

static void set_seg(SegmentCache *s, uint16_t sel, uint64_t base,
                    uint32_t limit, uint32_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
}

void x86_state_reset(X86State *s, bool is_bsp)
{
    memset(s, 0, sizeof(*s));
    const uint32_t data16 = X86_DESC_P | X86_DESC_S | (3u << X86_DESC_TYPE_SHIFT);
    const uint32_t code16 = X86_DESC_P | X86_DESC_S | (11u << X86_DESC_TYPE_SHIFT);
    s->rip = 0xfff0;
    s->rflags = X86_FLAG_FIXED1;
    set_seg(&s->segs[R_CS], 0xf000, 0xffff0000, 0xffff, code16);
    for (int i = 0; i < 6; i++) {
        if (i != R_CS) {
            set_seg(&s->segs[i], 0, 0, 0xffff, data16);
        }
    }
    set_seg(&s->ldt, 0, 0, 0xffff, X86_DESC_P | (2u << X86_DESC_TYPE_SHIFT));
    set_seg(&s->tr, 0, 0, 0xffff, X86_DESC_P | (11u << X86_DESC_TYPE_SHIFT));
    s->gdt.limit = 0xffff;
    s->idt.limit = 0xffff;
    s->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
    s->regs[R_EDX] = 0x600; /* family 6 signature, as after RESET */
    s->dr[6] = 0xffff0ff0;
    s->dr[7] = 0x400;
    s->xcr0 = 1;
    s->pat = 0x0007040600070406ull;
    s->misc_enable = 1; /* fast strings */
    s->apic_base = 0xfee00000ull | (1u << 11) | (is_bsp ? (1u << 8) : 0);
    s->fpu.fcw = 0x37f;
    s->fpu.mxcsr = 0x1f80;
    s->wait_for_sipi = !is_bsp;
}

void x86_state_flat32(X86State *s)
{
    const uint32_t code32 = X86_DESC_P | X86_DESC_S | X86_DESC_G | X86_DESC_B |
                            (11u << X86_DESC_TYPE_SHIFT);
    const uint32_t data32 = X86_DESC_P | X86_DESC_S | X86_DESC_G | X86_DESC_B |
                            (3u << X86_DESC_TYPE_SHIFT);
    set_seg(&s->segs[R_CS], 0x10, 0, 0xffffffff, code32);
    for (int i = 0; i < 6; i++) {
        if (i != R_CS) {
            set_seg(&s->segs[i], 0x18, 0, 0xffffffff, data32);
        }
    }
    set_seg(&s->tr, 0x20, 0, 0x67, X86_DESC_P | (11u << X86_DESC_TYPE_SHIFT));
    s->cr0 = X86_CR0_PE | X86_CR0_ET;
    s->cr4 = 0;
    s->efer = 0;
    s->rflags = X86_FLAG_FIXED1;
    s->halted = false;
    s->wait_for_sipi = false;
}
