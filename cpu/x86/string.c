/*
 * String instructions MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS with REP/REPE/REPNE
 * (SDM vol. 2 "REP/REPE/REPZ/REPNE/REPNZ").  A repeated instruction runs a
 * bounded number of iterations per execution and then restarts itself, so
 * interrupts are taken between iterations as on hardware; registers are
 * updated per iteration, so a fault leaves them consistent.
 */
#include <string.h>

#include "cpu/x86/insn.h"

#define REP_CHUNK 4096u

static inline uint64_t amask(const X86DecodedInsn *d)
{
    return x86_size_mask(d->addrsize);
}

static inline int64_t step(X86Cpu *cpu, unsigned size)
{
    return (cpu->env->rflags & X86_FLAG_DF) ? -(int64_t)size : (int64_t)size;
}

static inline void adv(X86Cpu *cpu, const X86DecodedInsn *d, int reg, int64_t delta)
{
    uint64_t m = amask(d);
    uint64_t *r = &cpu->env->regs[reg];
    uint64_t v = (*r + (uint64_t)delta) & m;
    if (d->addrsize == 4) {
        *r = v;
    } else {
        *r = (*r & ~m) | v;
    }
}

static inline bool rep(const X86DecodedInsn *d)
{
    return d->prefixes & (X86_PFX_REPZ | X86_PFX_REPNZ);
}

static inline uint64_t count(X86Cpu *cpu, const X86DecodedInsn *d)
{
    return cpu->env->regs[R_ECX] & amask(d);
}

static inline void set_count(X86Cpu *cpu, const X86DecodedInsn *d, uint64_t c)
{
    uint64_t m = amask(d);
    uint64_t *r = &cpu->env->regs[R_ECX];
    *r = d->addrsize == 4 ? (c & m) : ((*r & ~m) | (c & m));
}

/* Re-execute this instruction later (more iterations to do). */
static inline void again(X86Cpu *cpu, const X86DecodedInsn *d)
{
    cpu->env->rip = d->ip;
    cpu->stop_tb = true;
}

/* Fast path of REP MOVSB/STOSB-like forward copies: how many whole elements
 * can be done at once within the current source/destination pages. */
static uint64_t page_room(uint64_t lin, uint64_t n, unsigned size)
{
    uint64_t room = (0x1000 - (lin & 0xfff)) / size;
    return room < n ? room : n;
}

/* STOS's fast path: k elements of size bytes, each the low bytes of v.
 * A value whose bytes are all equal (zeroing, the common case) is one
 * memset; other patterns are typed loops the compiler can vectorise. */
static void fill(uint8_t *p, uint64_t v, uint64_t k, unsigned size)
{
    uint64_t bytes = v & x86_size_mask(size);
    if (bytes == (v & 0xff) * (x86_size_mask(size) / 0xff)) {
        memset(p, (int)(v & 0xff), k * size);
        return;
    }
    if (size == 2) {
        uint16_t x = (uint16_t)v;
        for (uint64_t i = 0; i < k; i++) {
            memcpy(p + i * 2, &x, 2);
        }
    } else if (size == 4) {
        uint32_t x = (uint32_t)v;
        for (uint64_t i = 0; i < k; i++) {
            memcpy(p + i * 4, &x, 4);
        }
    } else {
        for (uint64_t i = 0; i < k; i++) {
            memcpy(p + i * 8, &v, 8);
        }
    }
}

void x86_h_movs(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    if (!rep(d)) {
        uint64_t v = x86_ld(cpu, d->seg, r[R_ESI] & amask(d), size);
        x86_st(cpu, R_ES, r[R_EDI] & amask(d), v, size);
        adv(cpu, d, R_ESI, step(cpu, size));
        adv(cpu, d, R_EDI, step(cpu, size));
        return;
    }
    uint64_t n = count(cpu, d);
    uint64_t done = 0;
    while (n && done < REP_CHUNK * 16) {
        uint64_t si = r[R_ESI] & amask(d), di = r[R_EDI] & amask(d);
        if (!(cpu->env->rflags & X86_FLAG_DF) && cpu->code_size == 8 &&
            ((si | di) & (size - 1)) == 0) {
            uint64_t ls = x86_seg_linear(cpu, d->seg, si, size, false);
            uint64_t ld = x86_seg_linear(cpu, R_ES, di, size, true);
            uint64_t k = page_room(ls, n, size);
            k = page_room(ld, k, size);
            uint8_t *ps = x86_host_ptr(cpu, ls, (unsigned)(k * size), ACC_READ, cpu->mmu_idx);
            uint8_t *pd = ps ? x86_host_ptr(cpu, ld, (unsigned)(k * size), ACC_WRITE, cpu->mmu_idx) : NULL;
            if (ps && pd && (pd <= ps || pd >= ps + k * size)) {
                memmove(pd, ps, k * size);
                adv(cpu, d, R_ESI, (int64_t)(k * size));
                adv(cpu, d, R_EDI, (int64_t)(k * size));
                n -= k;
                set_count(cpu, d, n);
                done += k;
                continue;
            }
        }
        uint64_t v = x86_ld(cpu, d->seg, si, size);
        x86_st(cpu, R_ES, di, v, size);
        adv(cpu, d, R_ESI, step(cpu, size));
        adv(cpu, d, R_EDI, step(cpu, size));
        set_count(cpu, d, --n);
        done++;
    }
    if (n) {
        again(cpu, d);
    }
}

void x86_h_stos(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    uint64_t v = x86_get_reg(cpu, R_EAX, size, false);
    if (!rep(d)) {
        x86_st(cpu, R_ES, r[R_EDI] & amask(d), v, size);
        adv(cpu, d, R_EDI, step(cpu, size));
        return;
    }
    uint64_t n = count(cpu, d);
    uint64_t done = 0;
    while (n && done < REP_CHUNK * 16) {
        uint64_t di = r[R_EDI] & amask(d);
        if (!(cpu->env->rflags & X86_FLAG_DF) && (di & (size - 1)) == 0 &&
            (cpu->code_size == 8 || d->addrsize == 4)) {
            uint64_t ld = x86_seg_linear(cpu, R_ES, di, size, true);
            uint64_t k = page_room(ld, n, size);
            if (cpu->code_size != 8 && di + k * size - 1 > 0xffffffffu) {
                k = 1;
            }
            uint8_t *pd = x86_host_ptr(cpu, ld, (unsigned)(k * size), ACC_WRITE, cpu->mmu_idx);
            if (pd && (cpu->code_size == 8 || di + k * size - 1 <= cpu->segchk[R_ES].hi)) {
                fill(pd, v, k, size);
                adv(cpu, d, R_EDI, (int64_t)(k * size));
                n -= k;
                set_count(cpu, d, n);
                done += k;
                continue;
            }
        }
        x86_st(cpu, R_ES, di, v, size);
        adv(cpu, d, R_EDI, step(cpu, size));
        set_count(cpu, d, --n);
        done++;
    }
    if (n) {
        again(cpu, d);
    }
}

void x86_h_lods(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    if (!rep(d)) {
        x86_set_reg(cpu, R_EAX, size, false, x86_ld(cpu, d->seg, r[R_ESI] & amask(d), size));
        adv(cpu, d, R_ESI, step(cpu, size));
        return;
    }
    uint64_t n = count(cpu, d);
    for (unsigned i = 0; n && i < REP_CHUNK; i++) {
        x86_set_reg(cpu, R_EAX, size, false, x86_ld(cpu, d->seg, r[R_ESI] & amask(d), size));
        adv(cpu, d, R_ESI, step(cpu, size));
        set_count(cpu, d, --n);
    }
    if (n) {
        again(cpu, d);
    }
}

static void cmp_flags(X86Cpu *cpu, uint64_t a, uint64_t b, unsigned size)
{
    uint64_t m = x86_size_mask(size);
    unsigned sl = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    x86_set_cc(cpu, CC_OP(CC_SUB, sl), (a - b) & m, b & m, 0);
}

static bool rep_stop(X86Cpu *cpu, const X86DecodedInsn *d)
{
    bool zf = x86_cond(cpu, 4);
    return (d->prefixes & X86_PFX_REPZ) ? !zf : zf;
}

void x86_h_cmps(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    if (!rep(d)) {
        uint64_t a = x86_ld(cpu, d->seg, r[R_ESI] & amask(d), size);
        uint64_t b = x86_ld(cpu, R_ES, r[R_EDI] & amask(d), size);
        cmp_flags(cpu, a, b, size);
        adv(cpu, d, R_ESI, step(cpu, size));
        adv(cpu, d, R_EDI, step(cpu, size));
        return;
    }
    uint64_t n = count(cpu, d);
    for (unsigned i = 0; n && i < REP_CHUNK; i++) {
        uint64_t a = x86_ld(cpu, d->seg, r[R_ESI] & amask(d), size);
        uint64_t b = x86_ld(cpu, R_ES, r[R_EDI] & amask(d), size);
        cmp_flags(cpu, a, b, size);
        adv(cpu, d, R_ESI, step(cpu, size));
        adv(cpu, d, R_EDI, step(cpu, size));
        set_count(cpu, d, --n);
        if (rep_stop(cpu, d)) {
            return;
        }
    }
    if (n) {
        again(cpu, d);
    }
}

void x86_h_scas(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    uint64_t a = x86_get_reg(cpu, R_EAX, size, false);
    if (!rep(d)) {
        uint64_t b = x86_ld(cpu, R_ES, r[R_EDI] & amask(d), size);
        cmp_flags(cpu, a, b, size);
        adv(cpu, d, R_EDI, step(cpu, size));
        return;
    }
    uint64_t n = count(cpu, d);
    for (unsigned i = 0; n && i < REP_CHUNK; i++) {
        uint64_t b = x86_ld(cpu, R_ES, r[R_EDI] & amask(d), size);
        cmp_flags(cpu, a, b, size);
        adv(cpu, d, R_EDI, step(cpu, size));
        set_count(cpu, d, --n);
        if (rep_stop(cpu, d)) {
            return;
        }
    }
    if (n) {
        again(cpu, d);
    }
}

void x86_h_ins(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    uint16_t port = (uint16_t)r[R_EDX];
    x86_check_io(cpu, port, size);
    uint64_t n = rep(d) ? count(cpu, d) : 1;
    for (unsigned i = 0; n && i < REP_CHUNK; i++) {
        uint64_t lin = x86_seg_linear(cpu, R_ES, r[R_EDI] & amask(d), size, true);
        x86_probe_write(cpu, lin, size);
        uint64_t v = x86_io_read(cpu, port, size);
        x86_st_lin(cpu, lin, v, size);
        adv(cpu, d, R_EDI, step(cpu, size));
        n--;
        if (rep(d)) {
            set_count(cpu, d, n);
        }
    }
    if (n) {
        again(cpu, d);
    }
}

void x86_h_outs(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op2;
    uint64_t *r = cpu->env->regs;
    uint16_t port = (uint16_t)r[R_EDX];
    x86_check_io(cpu, port, size);
    uint64_t n = rep(d) ? count(cpu, d) : 1;
    for (unsigned i = 0; n && i < REP_CHUNK; i++) {
        uint64_t v = x86_ld(cpu, d->seg, r[R_ESI] & amask(d), size);
        x86_io_write(cpu, port, v, size);
        adv(cpu, d, R_ESI, step(cpu, size));
        n--;
        if (rep(d)) {
            set_count(cpu, d, n);
        }
    }
    if (n) {
        again(cpu, d);
    }
}
