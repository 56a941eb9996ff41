/*
 * x87 state save and restore: FNSTENV/FLDENV and FNSAVE/FRSTOR in their
 * four layouts (16- or 32-bit operand size, real or protected mode; SDM
 * vol. 1, 8.1.10 figures 8-9 to 8-12, with the full tag word of 8.1.7),
 * and FXSAVE/FXRSTOR with the x87, MXCSR and XMM state (vol. 1, 10.5.1,
 * table 10-2; the REX.W form stores 64-bit FIP/FDP).  Registers are saved
 * in stack order (ST(0) first).  A save builds the whole image and stores
 * it before changing state; a restore loads the whole image first.
 */
#include "cpu/x86/fpu-internal.h"

/* Full tag of one physical register: 0 valid, 1 zero, 2 special, 3 empty. */
static unsigned full_tag(const X86FpuState *f, unsigned phys)
{
    const X87Reg *r = &f->st[phys];
    unsigned e = r->sign_exp & 0x7fff;
    if (!(f->ftw & (1u << phys))) {
        return 3;
    }
    if (e == 0) {
        return r->mant ? 2 : 1;
    }
    if (e == 0x7fff || !(r->mant >> 63)) {
        return 2;
    }
    return 0;
}

static uint16_t full_tag_word(const X86FpuState *f)
{
    uint16_t w = 0;
    for (unsigned p = 0; p < 8; p++) {
        w |= (uint16_t)(full_tag(f, p) << (2 * p));
    }
    return w;
}

static uint8_t abridged_tags(uint16_t full)
{
    uint8_t t = 0;
    for (unsigned p = 0; p < 8; p++) {
        if (((full >> (2 * p)) & 3) != 3) {
            t |= (uint8_t)(1u << p);
        }
    }
    return t;
}

static void put16(uint8_t *b, uint16_t v)
{
    memcpy(b, &v, 2);
}

static void put32(uint8_t *b, uint32_t v)
{
    memcpy(b, &v, 4);
}

static uint16_t get16(const uint8_t *b)
{
    uint16_t v;
    memcpy(&v, b, 2);
    return v;
}

static uint32_t get32(const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

static bool real_mode(X86Cpu *cpu)
{
    return !(cpu->env->cr0 & X86_CR0_PE) || (cpu->env->rflags & X86_FLAG_VM);
}

/* The environment image; returns its size (14 or 28 bytes). */
static unsigned env_store(X86Cpu *cpu, const X86DecodedInsn *d, uint8_t *b)
{
    X86FpuState *f = &cpu->env->fpu;
    uint16_t tags = full_tag_word(f);
    uint32_t fip = (uint32_t)f->fip, fdp = (uint32_t)f->fdp;
    if (d->opsize == 2) {
        put16(b + 0, f->fcw);
        put16(b + 2, f->fsw);
        put16(b + 4, tags);
        put16(b + 6, (uint16_t)fip);
        put16(b + 10, (uint16_t)fdp);
        if (real_mode(cpu)) {
            put16(b + 8, (uint16_t)(((fip >> 16) & 0xf) << 12 | (f->fop & 0x7ff)));
            put16(b + 12, (uint16_t)(((fdp >> 16) & 0xf) << 12));
        } else {
            put16(b + 8, f->fcs);
            put16(b + 12, f->fds);
        }
        return 14;
    }
    put32(b + 0, 0xffff0000u | f->fcw);
    put32(b + 4, 0xffff0000u | f->fsw);
    put32(b + 8, 0xffff0000u | tags);
    if (real_mode(cpu)) {
        put32(b + 12, 0xffff0000u | (fip & 0xffff));
        put32(b + 16, ((fip >> 16) << 12) | (f->fop & 0x7ffu));
        put32(b + 20, 0xffff0000u | (fdp & 0xffff));
        put32(b + 24, (fdp >> 16) << 12);
    } else {
        put32(b + 12, fip);
        put32(b + 16, f->fcs | ((uint32_t)(f->fop & 0x7ff) << 16));
        put32(b + 20, fdp);
        put32(b + 24, 0xffff0000u | f->fds);
    }
    return 28;
}

static unsigned env_size(const X86DecodedInsn *d)
{
    return d->opsize == 2 ? 14 : 28;
}

static void env_load(X86Cpu *cpu, const X86DecodedInsn *d, const uint8_t *b)
{
    X86FpuState *f = &cpu->env->fpu;
    bool real = real_mode(cpu);
    if (d->opsize == 2) {
        f->fcw = get16(b + 0);
        f->fsw = get16(b + 2);
        f->ftw = abridged_tags(get16(b + 4));
        f->fip = get16(b + 6);
        f->fdp = get16(b + 10);
        if (real) {
            f->fip |= (uint64_t)(get16(b + 8) >> 12) << 16;
            f->fop = get16(b + 8) & 0x7ff;
            f->fdp |= (uint64_t)(get16(b + 12) >> 12) << 16;
        } else {
            f->fcs = get16(b + 8);
            f->fds = get16(b + 12);
        }
    } else {
        f->fcw = get16(b + 0);
        f->fsw = get16(b + 4);
        f->ftw = abridged_tags(get16(b + 8));
        if (real) {
            f->fip = (get32(b + 12) & 0xffff) | ((get32(b + 16) >> 12) & 0xffff) << 16;
            f->fop = get32(b + 16) & 0x7ff;
            f->fdp = (get32(b + 20) & 0xffff) | ((get32(b + 24) >> 12) & 0xffff) << 16;
        } else {
            f->fip = get32(b + 12);
            f->fcs = get16(b + 16);
            f->fop = (get32(b + 16) >> 16) & 0x7ff;
            f->fdp = get32(b + 20);
            f->fds = get16(b + 24);
        }
    }
    fpu_update_es(f);
}

void fpu_exec_fnstenv(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint8_t b[28];
    fpu_enter(cpu, false);
    unsigned n = env_store(cpu, d, b);
    x86_ext_store(cpu, d, 0, b, n);
    cpu->env->fpu.fcw |= FSW_EXC; /* then masks all exceptions */
}

void fpu_exec_fldenv(X86Cpu *cpu, const X86DecodedInsn *d)
{
    uint8_t b[28];
    fpu_enter(cpu, true);
    x86_ext_load(cpu, d, 0, b, env_size(d));
    env_load(cpu, d, b);
}

void fpu_exec_fnsave(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint8_t b[108];
    fpu_enter(cpu, false);
    unsigned n = env_store(cpu, d, b);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(b + n + 10 * i, &f->st[fpu_phys(f, i)], 10);
    }
    x86_ext_store(cpu, d, 0, b, n + 80);
    fpu_init_state(f);
}

void fpu_exec_frstor(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint8_t b[108];
    unsigned n = env_size(d);
    fpu_enter(cpu, true);
    x86_ext_load(cpu, d, 0, b, n + 80);
    env_load(cpu, d, b);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(&f->st[fpu_phys(f, i)], b + n + 10 * i, 10);
    }
}

enum { FX_MXCSR_MASK = 0xffff };

void fpu_exec_fxsave(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    bool rexw = d->rex & X86_REX_W;
    uint8_t b[464];
    x86_ext_check_fpu(cpu);
    x86_ext_check_align(cpu, d, 16);
    memset(b, 0, sizeof(b));
    put16(b + 0, f->fcw);
    put16(b + 2, f->fsw);
    b[4] = f->ftw;
    put16(b + 6, f->fop);
    if (rexw) {
        memcpy(b + 8, &f->fip, 8);
        memcpy(b + 16, &f->fdp, 8);
    } else {
        put32(b + 8, (uint32_t)f->fip);
        put16(b + 12, f->fcs);
        put32(b + 16, (uint32_t)f->fdp);
        put16(b + 20, f->fds);
    }
    put32(b + 24, f->mxcsr);
    put32(b + 28, FX_MXCSR_MASK);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(b + 32 + 16 * i, &f->st[fpu_phys(f, i)], 10);
    }
    unsigned nxmm = d->code64 ? 16 : 8;
    memcpy(b + 160, f->xmm, nxmm * 16);
    /* bytes 464..511 belong to software: not written */
    x86_ext_store(cpu, d, 0, b, 160 + nxmm * 16);
}

void fpu_exec_fxrstor(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    bool rexw = d->rex & X86_REX_W;
    uint8_t b[416];
    x86_ext_check_fpu(cpu);
    x86_ext_check_align(cpu, d, 16);
    unsigned nxmm = d->code64 ? 16 : 8;
    x86_ext_load(cpu, d, 0, b, 160 + nxmm * 16);
    uint32_t mxcsr = get32(b + 24);
    if (mxcsr & ~(uint32_t)FX_MXCSR_MASK) {
        x86_ext_raise(cpu, EXC_GP);
    }
    f->fcw = get16(b + 0);
    f->fsw = get16(b + 2);
    f->ftw = b[4];
    f->fop = get16(b + 6) & 0x7ff;
    if (rexw) {
        memcpy(&f->fip, b + 8, 8);
        memcpy(&f->fdp, b + 16, 8);
    } else {
        f->fip = get32(b + 8);
        f->fcs = get16(b + 12);
        f->fdp = get32(b + 16);
        f->fds = get16(b + 20);
    }
    f->mxcsr = mxcsr;
    for (unsigned i = 0; i < 8; i++) {
        memcpy(&f->st[fpu_phys(f, i)], b + 32 + 16 * i, 10);
    }
    memcpy(f->xmm, b + 160, nxmm * 16);
}
