/*
 * Lazy condition codes (SDM vol. 1, 3.4.3 and the "Flags Affected" sections
 * of vol. 2): arithmetic instructions record an operation kind, an operand
 * size and their operands/result; CF, PF, AF, ZF, SF and OF are computed only
 * when something reads them.
 */
#include "cpu/x86/mem.h"

static const uint8_t parity_table[256] = {
#define P2(n) n, n ^ 1, n ^ 1, n
#define P4(n) P2(n), P2(n ^ 1), P2(n ^ 1), P2(n)
#define P6(n) P4(n), P4(n ^ 1), P4(n ^ 1), P4(n)
    P6(1), P6(0), P6(0), P6(1)
#undef P2
#undef P4
#undef P6
};

uint32_t x86_arith_flags(const X86Cpu *cpu)
{
    unsigned kind = cpu->cc_op >> 2;
    if (kind == CC_EFLAGS) {
        return (uint32_t)cpu->cc_src;
    }
    unsigned bits = 8u << (cpu->cc_op & 3);
    uint64_t mask = x86_size_mask(bits / 8);
    uint64_t sign = 1ull << (bits - 1);
    uint64_t dst = cpu->cc_dst & mask, src = cpu->cc_src & mask;
    uint64_t s1;
    uint32_t f = 0;
    bool cf = false, of = false, af = false;

    switch (kind) {
    case CC_ADD:
        s1 = (dst - src) & mask;
        cf = dst < s1;
        of = ((s1 ^ dst) & (src ^ dst)) & sign;
        af = (s1 ^ src ^ dst) & 0x10;
        break;
    case CC_ADC:
        s1 = (dst - src - cpu->cc_src2) & mask;
        cf = cpu->cc_src2 ? dst <= s1 : dst < s1;
        of = ((s1 ^ dst) & (src ^ dst)) & sign;
        af = (s1 ^ src ^ dst) & 0x10;
        break;
    case CC_SUB:
        s1 = (dst + src) & mask;
        cf = s1 < src;
        of = ((s1 ^ src) & (s1 ^ dst)) & sign;
        af = (s1 ^ src ^ dst) & 0x10;
        break;
    case CC_SBB:
        s1 = (dst + src + cpu->cc_src2) & mask;
        cf = cpu->cc_src2 ? s1 <= src : s1 < src;
        of = ((s1 ^ src) & (s1 ^ dst)) & sign;
        af = (s1 ^ src ^ dst) & 0x10;
        break;
    case CC_LOGIC:
        break;
    case CC_INC:
        cf = cpu->cc_src2;
        of = dst == sign;
        af = (dst & 0xf) == 0;
        break;
    case CC_DEC:
        cf = cpu->cc_src2;
        of = dst == sign - 1;
        af = (dst & 0xf) == 0xf;
        break;
    case CC_SHL:
        /* src: the operand shifted left by count-1 */
        cf = src & sign;
        of = ((dst ^ src) & sign) != 0;
        break;
    case CC_SHR:
        /* src: the operand shifted right by count-1; src2: original */
        cf = src & 1;
        of = (cpu->cc_src2 & sign) != 0;
        break;
    case CC_SAR:
        cf = src & 1;
        of = false;
        break;
    case CC_MUL:
        cf = of = cpu->cc_src != 0;
        break;
    }
    if (cf) {
        f |= X86_FLAG_CF;
    }
    if (of) {
        f |= X86_FLAG_OF;
    }
    if (af) {
        f |= X86_FLAG_AF;
    }
    if (dst == 0) {
        f |= X86_FLAG_ZF;
    }
    if (dst & sign) {
        f |= X86_FLAG_SF;
    }
    if (parity_table[dst & 0xff]) {
        f |= X86_FLAG_PF;
    }
    return f;
}

bool x86_get_cf(const X86Cpu *cpu)
{
    unsigned kind = cpu->cc_op >> 2;
    uint64_t mask = x86_size_mask(1u << (cpu->cc_op & 3));
    uint64_t dst = cpu->cc_dst & mask, src = cpu->cc_src & mask;
    switch (kind) {
    case CC_EFLAGS: return cpu->cc_src & X86_FLAG_CF;
    case CC_ADD: return dst < src;
    case CC_ADC: return cpu->cc_src2 ? dst <= src : dst < src;
    case CC_SUB: return ((dst + src) & mask) < src;
    case CC_SBB: {
        uint64_t s1 = (dst + src + cpu->cc_src2) & mask;
        return cpu->cc_src2 ? s1 <= src : s1 < src;
    }
    case CC_INC: case CC_DEC: return cpu->cc_src2;
    case CC_LOGIC: return false;
    default: return x86_arith_flags(cpu) & X86_FLAG_CF;
    }
}

uint64_t x86_get_rflags(const X86Cpu *cpu)
{
    return (cpu->env->rflags & ~(uint64_t)X86_ARITH_FLAGS) | x86_arith_flags(cpu) |
           X86_FLAG_FIXED1;
}

void x86_set_rflags(X86Cpu *cpu, uint64_t value, uint64_t mask)
{
    uint64_t cur = x86_get_rflags(cpu);
    uint64_t v = (cur & ~mask) | (value & mask);
    v = (v | X86_FLAG_FIXED1) & 0x3f7fd5;
    cpu->cc_op = CC_OP(CC_EFLAGS, 0);
    cpu->cc_src = v & X86_ARITH_FLAGS;
    cpu->env->rflags = v & ~(uint64_t)X86_ARITH_FLAGS;
    if (unlikely((v ^ cur) & X86_FLAG_AC)) {
        x86_align_check_update(cpu);
    }
    if (unlikely(v & (X86_FLAG_TF | X86_FLAG_RF))) {
        /* single-step or RF: leave the block for the debug loop (debug.c) */
        cpu->debug_active = true;
        cpu->stop_tb = true;
    }
}

/* Jcc/SETcc/CMOVcc condition (SDM vol. 1, appendix B). */
bool x86_cond(const X86Cpu *cpu, unsigned cc)
{
    unsigned kind = cpu->cc_op >> 2;
    bool r;
    /* Fast paths for the common compare-and-branch shapes. */
    if (kind == CC_SUB && (cc >> 1) != 0 && (cc >> 1) != 4 && (cc >> 1) != 5) {
        unsigned bits = 8u << (cpu->cc_op & 3);
        uint64_t mask = x86_size_mask(bits / 8);
        uint64_t dst = cpu->cc_dst & mask, src = cpu->cc_src & mask;
        uint64_t s1 = (dst + src) & mask;
        int64_t ss1 = (int64_t)(s1 << (64 - bits)), ssrc = (int64_t)(src << (64 - bits));
        switch (cc >> 1) {
        case 1: r = s1 < src; break;           /* B */
        case 2: r = dst == 0; break;           /* E */
        case 3: r = s1 <= src; break;          /* BE */
        case 6: r = ss1 < ssrc; break;         /* L */
        default: r = ss1 <= ssrc; break;       /* LE */
        }
        return r ^ (cc & 1);
    }
    if (kind != CC_EFLAGS && ((cc >> 1) == 2 || (cc >> 1) == 4)) {
        unsigned bits = 8u << (cpu->cc_op & 3);
        uint64_t dst = cpu->cc_dst & x86_size_mask(bits / 8);
        r = (cc >> 1) == 2 ? dst == 0 : (dst >> (bits - 1)) & 1;
        return r ^ (cc & 1);
    }
    uint32_t f = x86_arith_flags(cpu);
    switch (cc >> 1) {
    case 0: r = f & X86_FLAG_OF; break;
    case 1: r = f & X86_FLAG_CF; break;
    case 2: r = f & X86_FLAG_ZF; break;
    case 3: r = f & (X86_FLAG_CF | X86_FLAG_ZF); break;
    case 4: r = f & X86_FLAG_SF; break;
    case 5: r = f & X86_FLAG_PF; break;
    case 6: r = !(f & X86_FLAG_SF) != !(f & X86_FLAG_OF); break;
    default: r = (f & X86_FLAG_ZF) || (!(f & X86_FLAG_SF) != !(f & X86_FLAG_OF)); break;
    }
    return r ^ (cc & 1);
}
