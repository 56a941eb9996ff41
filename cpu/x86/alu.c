/*
 * Integer arithmetic and logic: ADD..CMP, TEST, INC/DEC, NOT/NEG, MUL/IMUL,
 * DIV/IDIV, shifts and rotates, SHLD/SHRD (SDM vol. 2 instruction pages;
 * flags per their "Flags Affected" sections).
 */
#include "cpu/x86/rmw.h"

static uint64_t alu_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                       uint64_t b, unsigned size)
{
    unsigned sl = x86_size_log2(size);
    uint64_t m = x86_size_mask(size);
    uint64_t r, c;
    b &= m;
    switch (d->op) {
    case 0: r = (a + b) & m; x86_set_cc(cpu, CC_OP(CC_ADD, sl), r, b, 0); return r;
    case 1: r = (a | b) & m; x86_set_cc(cpu, CC_OP(CC_LOGIC, sl), r, 0, 0); return r;
    case 2:
        c = x86_cf(cpu);
        r = (a + b + c) & m; x86_set_cc(cpu, CC_OP(CC_ADC, sl), r, b, c); return r;
    case 3:
        c = x86_cf(cpu);
        r = (a - b - c) & m; x86_set_cc(cpu, CC_OP(CC_SBB, sl), r, b, c); return r;
    case 4: r = a & b & m; x86_set_cc(cpu, CC_OP(CC_LOGIC, sl), r, 0, 0); return r;
    case 5: case 7:
        r = (a - b) & m; x86_set_cc(cpu, CC_OP(CC_SUB, sl), r, b, 0); return r;
    default: r = (a ^ b) & m; x86_set_cc(cpu, CC_OP(CC_LOGIC, sl), r, 0, 0); return r;
    }
}

void x86_h_alu_rm_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t src = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    if (d->mod == 3 && d->op != 7) {
        /* register fast path */
        uint64_t a = x86_get_reg(cpu, d->rm, size, x86_rex(d));
        x86_set_reg(cpu, d->rm, size, x86_rex(d), alu_fn(cpu, d, a, src, size));
        return;
    }
    x86_rmw(cpu, d, size, alu_fn, src, d->op != 7);
}

void x86_h_alu_r_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t src = x86_read_rm(cpu, d, size);
    uint64_t a = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    uint64_t r = alu_fn(cpu, d, a, src, size);
    if (d->op != 7) {
        x86_set_reg(cpu, d->reg, size, x86_rex(d), r);
    }
}

void x86_h_alu_rm_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_rmw(cpu, d, d->op2, alu_fn, d->imm, d->op != 7);
}

void x86_h_test_rm_r(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t r = x86_read_rm(cpu, d, size) & x86_get_reg(cpu, d->reg, size, x86_rex(d));
    x86_set_cc(cpu, CC_OP(CC_LOGIC, x86_size_log2(size)), r, 0, 0);
}

void x86_h_test_rm_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t r = x86_read_rm(cpu, d, size) & d->imm & x86_size_mask(size);
    x86_set_cc(cpu, CC_OP(CC_LOGIC, x86_size_log2(size)), r, 0, 0);
}

static uint64_t incdec_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                          uint64_t cf, unsigned size)
{
    uint64_t r = (d->op ? a - 1 : a + 1) & x86_size_mask(size);
    x86_set_cc(cpu, CC_OP(d->op ? CC_DEC : CC_INC, x86_size_log2(size)), r, 1, cf);
    return r;
}

void x86_h_incdec_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_rmw(cpu, d, d->op2, incdec_fn, x86_cf(cpu), true);
}

static uint64_t not_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                       uint64_t unused, unsigned size)
{
    return ~a & x86_size_mask(size);
}

void x86_h_not_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_rmw(cpu, d, d->op2, not_fn, 0, true);
}

static uint64_t neg_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                       uint64_t unused, unsigned size)
{
    uint64_t r = (0 - a) & x86_size_mask(size);
    x86_set_cc(cpu, CC_OP(CC_SUB, x86_size_log2(size)), r, a, 0);
    return r;
}

void x86_h_neg_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    x86_rmw(cpu, d, d->op2, neg_fn, 0, true);
}

/* MUL/IMUL one-operand forms: rDX:rAX = rAX * r/m */
void x86_h_mul_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t b = x86_read_rm(cpu, d, size);
    uint64_t *r = cpu->env->regs;
    uint64_t lo, hi;
    switch (size) {
    case 1: {
        uint64_t p = (r[R_EAX] & 0xff) * b;
        x86_set_reg(cpu, R_EAX, 2, false, p);
        lo = p & 0xff; hi = (p >> 8) & 0xff;
        break;
    }
    case 2: {
        uint64_t p = (r[R_EAX] & 0xffff) * b;
        x86_set_reg(cpu, R_EAX, 2, false, p);
        x86_set_reg(cpu, R_EDX, 2, false, p >> 16);
        lo = p & 0xffff; hi = (p >> 16) & 0xffff;
        break;
    }
    case 4: {
        uint64_t p = (r[R_EAX] & 0xffffffffu) * b;
        r[R_EAX] = (uint32_t)p;
        r[R_EDX] = p >> 32;
        lo = (uint32_t)p; hi = p >> 32;
        break;
    }
    default: {
        unsigned __int128 p = (unsigned __int128)r[R_EAX] * b;
        lo = (uint64_t)p; hi = (uint64_t)(p >> 64);
        r[R_EAX] = lo; r[R_EDX] = hi;
        break;
    }
    }
    x86_set_cc(cpu, CC_OP(CC_MUL, x86_size_log2(size)), lo, hi != 0, 0);
}

void x86_h_imul1_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    int64_t b = (int64_t)x86_sext(x86_read_rm(cpu, d, size), size);
    uint64_t *r = cpu->env->regs;
    uint64_t lo;
    bool ovf;
    switch (size) {
    case 1: {
        int64_t p = (int8_t)r[R_EAX] * b;
        x86_set_reg(cpu, R_EAX, 2, false, (uint64_t)p);
        lo = (uint64_t)p & 0xff; ovf = p != (int8_t)p;
        break;
    }
    case 2: {
        int64_t p = (int16_t)r[R_EAX] * b;
        x86_set_reg(cpu, R_EAX, 2, false, (uint64_t)p);
        x86_set_reg(cpu, R_EDX, 2, false, (uint64_t)p >> 16);
        lo = (uint64_t)p & 0xffff; ovf = p != (int16_t)p;
        break;
    }
    case 4: {
        int64_t p = (int32_t)r[R_EAX] * b;
        r[R_EAX] = (uint32_t)p;
        r[R_EDX] = (uint32_t)((uint64_t)p >> 32);
        lo = (uint32_t)p; ovf = p != (int32_t)p;
        break;
    }
    default: {
        __int128 p = (__int128)(int64_t)r[R_EAX] * b;
        lo = (uint64_t)p;
        r[R_EAX] = lo; r[R_EDX] = (uint64_t)((unsigned __int128)p >> 64);
        ovf = p != (int64_t)lo;
        break;
    }
    }
    x86_set_cc(cpu, CC_OP(CC_MUL, x86_size_log2(size)), lo, ovf, 0);
}

static uint64_t imul2(X86Cpu *cpu, uint64_t a, uint64_t b, unsigned size)
{
    int64_t sa = (int64_t)x86_sext(a, size), sb = (int64_t)x86_sext(b, size);
    uint64_t lo;
    bool ovf;
    if (size == 8) {
        __int128 p = (__int128)sa * sb;
        lo = (uint64_t)p;
        ovf = p != (int64_t)lo;
    } else {
        int64_t p = sa * sb;
        lo = (uint64_t)p & x86_size_mask(size);
        ovf = p != (int64_t)x86_sext(lo, size);
    }
    x86_set_cc(cpu, CC_OP(CC_MUL, x86_size_log2(size)), lo, ovf, 0);
    return lo;
}

void x86_h_imul_r_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t b = x86_read_rm(cpu, d, size);
    uint64_t a = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    x86_set_reg(cpu, d->reg, size, x86_rex(d), imul2(cpu, a, b, size));
}

void x86_h_imul_r_rm_imm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t a = x86_read_rm(cpu, d, size);
    x86_set_reg(cpu, d->reg, size, x86_rex(d), imul2(cpu, a, d->imm, size));
}

void x86_h_div_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t b = x86_read_rm(cpu, d, size);
    uint64_t *r = cpu->env->regs;
    if (b == 0) {
        x86_raise(cpu, EXC_DE);
    }
    switch (size) {
    case 1: {
        uint64_t n = r[R_EAX] & 0xffff, q = n / b;
        if (q > 0xff) {
            x86_raise(cpu, EXC_DE);
        }
        x86_set_reg(cpu, R_EAX, 2, false, q | ((n % b) << 8));
        break;
    }
    case 2: {
        uint64_t n = ((r[R_EDX] & 0xffff) << 16) | (r[R_EAX] & 0xffff), q = n / b;
        if (q > 0xffff) {
            x86_raise(cpu, EXC_DE);
        }
        x86_set_reg(cpu, R_EAX, 2, false, q);
        x86_set_reg(cpu, R_EDX, 2, false, n % b);
        break;
    }
    case 4: {
        uint64_t n = ((r[R_EDX] & 0xffffffffu) << 32) | (r[R_EAX] & 0xffffffffu), q = n / b;
        if (q > 0xffffffffu) {
            x86_raise(cpu, EXC_DE);
        }
        r[R_EAX] = q;
        r[R_EDX] = n % b;
        break;
    }
    default: {
        unsigned __int128 n = ((unsigned __int128)r[R_EDX] << 64) | r[R_EAX];
        unsigned __int128 q = n / b;
        if (q >> 64) {
            x86_raise(cpu, EXC_DE);
        }
        r[R_EAX] = (uint64_t)q;
        r[R_EDX] = (uint64_t)(n % b);
        break;
    }
    }
}

void x86_h_idiv_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    int64_t b = (int64_t)x86_sext(x86_read_rm(cpu, d, size), size);
    uint64_t *r = cpu->env->regs;
    if (b == 0) {
        x86_raise(cpu, EXC_DE);
    }
    if (size < 8) {
        unsigned bits = size * 8;
        int64_t n;
        if (size == 1) {
            n = (int16_t)r[R_EAX];
        } else {
            uint64_t hi = r[R_EDX] & x86_size_mask(size), lo = r[R_EAX] & x86_size_mask(size);
            n = (int64_t)((hi << bits) | lo);
            if (size == 2) {
                n = (int32_t)n;
            }
        }
        if (b == -1 && n == INT64_MIN) {
            x86_raise(cpu, EXC_DE);
        }
        int64_t q = n / b, rem = n % b;
        if (q != (int64_t)x86_sext((uint64_t)q, size)) {
            x86_raise(cpu, EXC_DE);
        }
        if (size == 1) {
            x86_set_reg(cpu, R_EAX, 2, false, ((uint64_t)q & 0xff) | (((uint64_t)rem & 0xff) << 8));
        } else {
            x86_set_reg(cpu, R_EAX, size, false, (uint64_t)q);
            x86_set_reg(cpu, R_EDX, size, false, (uint64_t)rem);
        }
        return;
    }
    __int128 n = (__int128)(((unsigned __int128)r[R_EDX] << 64) | r[R_EAX]);
    if (b == -1 && (unsigned __int128)n == (unsigned __int128)1 << 127) {
        x86_raise(cpu, EXC_DE);
    }
    __int128 q = n / b, rem = n % b;
    if (q != (int64_t)q) {
        x86_raise(cpu, EXC_DE);
    }
    r[R_EAX] = (uint64_t)q;
    r[R_EDX] = (uint64_t)rem;
}

/* Shifts and rotates (group 2). */
static uint64_t shift_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                         uint64_t cnt, unsigned size)
{
    unsigned bits = size * 8, sl = x86_size_log2(size);
    uint64_t m = x86_size_mask(size);
    uint64_t r;
    cnt &= size == 8 ? 63 : 31;
    if (cnt == 0) {
        return a;
    }
    switch (d->op) {
    case 0: case 1: { /* ROL ROR: CF and OF only */
        unsigned c = cnt % bits;
        uint32_t f = x86_arith_flags(cpu) & ~(X86_FLAG_CF | X86_FLAG_OF);
        if (d->op == 0) {
            r = c ? ((a << c) | (a >> (bits - c))) & m : a;
            if (r & 1) f |= X86_FLAG_CF;
            if (((r >> (bits - 1)) ^ r) & 1) f |= X86_FLAG_OF;
        } else {
            r = c ? ((a >> c) | (a << (bits - c))) & m : a;
            if ((r >> (bits - 1)) & 1) f |= X86_FLAG_CF;
            if (((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1) f |= X86_FLAG_OF;
        }
        x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
        return r;
    }
    case 2: case 3: { /* RCL RCR through CF */
        unsigned c = cnt % (bits + 1);
        uint32_t f = x86_arith_flags(cpu);
        uint64_t cf = (f & X86_FLAG_CF) != 0;
        r = a;
        for (unsigned i = 0; i < c; i++) {
            if (d->op == 2) {
                uint64_t out = (r >> (bits - 1)) & 1;
                r = ((r << 1) | cf) & m;
                cf = out;
            } else {
                uint64_t out = r & 1;
                r = (r >> 1) | (cf << (bits - 1));
                cf = out;
            }
        }
        f &= ~(X86_FLAG_CF | X86_FLAG_OF);
        if (cf) f |= X86_FLAG_CF;
        if (d->op == 2) {
            if (((r >> (bits - 1)) & 1) ^ cf) f |= X86_FLAG_OF;
        } else {
            if (((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1) f |= X86_FLAG_OF;
        }
        x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
        return r;
    }
    case 4: case 6: /* SHL/SAL */
        r = (a << cnt) & m;
        x86_set_cc(cpu, CC_OP(CC_SHL, sl), r, cnt > bits ? 0 : (a << (cnt - 1)) & m, 0);
        return r;
    case 5: /* SHR */
        r = cnt >= bits ? 0 : a >> cnt;
        x86_set_cc(cpu, CC_OP(CC_SHR, sl), r, cnt > bits ? 0 : a >> (cnt - 1), a);
        return r;
    default: { /* SAR */
        int64_t sa = (int64_t)x86_sext(a, size);
        unsigned c = cnt >= bits ? bits - 1 : cnt;
        r = (uint64_t)(sa >> c) & m;
        x86_set_cc(cpu, CC_OP(CC_SAR, sl), r, (uint64_t)(sa >> (cnt - 1 >= bits ? bits - 1 : cnt - 1)), 0);
        return r;
    }
    }
}

void x86_h_shift_rm(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t cnt = d->aux == 0 ? 1 : d->aux == 1 ? cpu->env->regs[R_ECX] & 0xff : d->imm;
    x86_rmw(cpu, d, d->op2, shift_fn, cnt, true);
}

static uint64_t shd_fn(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t a,
                       uint64_t cnt, unsigned size)
{
    unsigned bits = size * 8, sl = x86_size_log2(size);
    uint64_t m = x86_size_mask(size);
    uint64_t b = x86_get_reg(cpu, d->reg, size, x86_rex(d));
    cnt &= size == 8 ? 63 : 31;
    if (cnt == 0) {
        return a;
    }
    uint64_t r, cf, of;
    if (d->op == 0) {
        unsigned __int128 v = ((unsigned __int128)a << bits) | b;
        if (size == 2) {
            v = ((unsigned __int128)a << 32) | ((unsigned __int128)b << 16) | a;
            r = (uint64_t)(v >> (32 - cnt)) & m;
            cf = (uint64_t)(v >> (48 - cnt)) & 1;
        } else {
            r = (uint64_t)((v << cnt) >> bits) & m;
            cf = (uint64_t)((v << (cnt - 1)) >> (2 * bits - 1)) & 1;
        }
        of = ((r ^ a) >> (bits - 1)) & 1;
    } else {
        unsigned __int128 v = ((unsigned __int128)b << bits) | a;
        if (size == 2) {
            v = ((unsigned __int128)a << 32) | ((unsigned __int128)b << 16) | a;
            r = (uint64_t)(v >> cnt) & m;
            cf = (uint64_t)(v >> (cnt - 1)) & 1;
        } else {
            r = (uint64_t)(v >> cnt) & m;
            cf = (uint64_t)(v >> (cnt - 1)) & 1;
        }
        of = ((r ^ a) >> (bits - 1)) & 1;
    }
    /* Use the shift lazy op for SF/ZF/PF and patch CF/OF. */
    x86_set_cc(cpu, CC_OP(CC_LOGIC, sl), r, 0, 0);
    uint32_t f = x86_arith_flags(cpu) & ~(X86_FLAG_CF | X86_FLAG_OF);
    f |= cf ? X86_FLAG_CF : 0;
    f |= of ? X86_FLAG_OF : 0;
    x86_set_cc(cpu, CC_OP(CC_EFLAGS, 0), 0, f, 0);
    return r;
}

void x86_h_shd(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint64_t cnt = d->aux == 1 ? cpu->env->regs[R_ECX] & 0xff : d->imm;
    x86_rmw(cpu, d, d->op2, shd_fn, cnt, true);
}
