/*
 * Bit instructions: BT/BTS/BTR/BTC (register and immediate offsets; a
 * register offset addresses memory beyond the operand, SDM vol. 2 "BT"),
 * BSF/BSR, TZCNT/LZCNT, POPCNT.
 */
#include "cpu/x86/rmw.h"

static uint64_t bt_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                      uint64_t bit, unsigned size)
{
    uint64_t mask = 1ull << bit;
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_CF;
    if (a & mask) {
        f |= X86_FLAG_CF;
    }
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
    switch (d->op) {
    case 1: return a | mask;
    case 2: return a & ~mask;
    case 3: return a ^ mask;
    default: return a;
    }
}

void x86_h_bt_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    x86_rmw(cpu, d, size, bt_fn, d->imm & (size * 8 - 1), d->op != 0);
}

void x86_h_bt_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t off = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    if (d->mod == 3) {
        x86_rmw(cpu, d, size, bt_fn, off & (size * 8 - 1), d->op != 0);
        return;
    }
    /* memory: the bit offset is signed and may reach outside the operand */
    int64_t soff = (int64_t)x86_sext(off, size);
    int64_t byteoff = (soff >> (size == 8 ? 6 : size == 4 ? 5 : 4)) * (int64_t)size;
    uint64_t ea = (x86_ea(cpu, d) + (uint64_t)byteoff) & x86_size_mask(d->addrsize);
    uint64_t lin = x86_seg_linear(cpu, d->seg, ea, size, d->op != 0);
    uint64_t bit = off & (size * 8 - 1);
    if (d->op != 0) {
        if ((d->prefixes & X86_PFX_LOCK) && (lin & (size - 1)) == 0) {
            uint8_t *p = x86_host_ptr(cpu, lin, size, ACC_WRITE, cpu->mmu_idx);
            if (p) {
                for (;;) {
                    uint64_t old = x86_host_load(p, size);
                    uint64_t v = bt_fn(cpu, d, old, bit, size);
                    if (x86_cas(p, size, old, v)) {
                        return;
                    }
                }
            }
        }
        x86_probe_write(cpu, lin, size);
    }
    uint64_t old = x86_ld_lin(cpu, lin, size);
    uint64_t v = bt_fn(cpu, d, old, bit, size);
    if (d->op != 0) {
        x86_st_lin(cpu, lin, v, size);
    }
}

static void set_zf_only(X86Cpu *cpu, bool zf, bool cf, bool set_cf)
{
    uint32_t f = x86_arith_flags(cpu) & ~X86_FLAG_ZF;
    if (set_cf) {
        f &= ~X86_FLAG_CF;
        f |= cf ? X86_FLAG_CF : 0;
    }
    f |= zf ? X86_FLAG_ZF : 0;
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
}

void x86_h_bsf(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t v = x86_read_rm(cpu, d, size);
    if (v == 0) {
        set_zf_only(cpu, true, false, false);
        return; /* destination unchanged (as on real CPUs) */
    }
    x86_set_reg(cpu, d->reg, size, x86_rex(d), (uint64_t)__builtin_ctzll(v));
    set_zf_only(cpu, false, false, false);
}

void x86_h_bsr(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t v = x86_read_rm(cpu, d, size);
    if (v == 0) {
        set_zf_only(cpu, true, false, false);
        return;
    }
    x86_set_reg(cpu, d->reg, size, x86_rex(d), (uint64_t)(63 - __builtin_clzll(v)));
    set_zf_only(cpu, false, false, false);
}

void x86_h_tzcnt(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t v = x86_read_rm(cpu, d, size);
    uint64_t r = v ? (uint64_t)__builtin_ctzll(v) : size * 8;
    x86_set_reg(cpu, d->reg, size, x86_rex(d), r);
    set_zf_only(cpu, r == 0, v == 0, true);
}

void x86_h_lzcnt(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t v = x86_read_rm(cpu, d, size);
    uint64_t r = v ? (uint64_t)(__builtin_clzll(v) - (64 - size * 8)) : size * 8;
    x86_set_reg(cpu, d->reg, size, x86_rex(d), r);
    set_zf_only(cpu, r == 0, v == 0, true);
}

void x86_h_popcnt(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t v = x86_read_rm(cpu, d, size);
    x86_set_reg(cpu, d->reg, size, x86_rex(d), (uint64_t)__builtin_popcountll(v));
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, v ? 0 : X86_FLAG_ZF, 0);
}
