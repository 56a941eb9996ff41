/*
 * The x87 group of the differential test (difftest.h): random x87
 * instructions (SDM vol. 1, ch. 8; vol. 2) on a random initial stack --
 * loads and stores of every format with special values (zeros, infinities,
 * NaNs, denormals, unsupported encodings), arithmetic in all forms,
 * compares with FNSTSW/FCOMI, FCMOVcc, rounding and precision control
 * changes, FXCH/FFREE/FINCSTP/FDECSTP, FNSTENV/FLDENV and FNSAVE/FRSTOR
 * round trips, occasional stack overflow and underflow (exceptions stay
 * masked: the reference run has no exception handlers).
 *
 * The group models TOP and the tags, so it knows which registers are
 * valid, and which hold an approximate value (a transcendental's result,
 * whose last bits may differ from the hardware's): those are never used by
 * an exact operation nor stored to compared memory, and are compared with
 * a tolerance at the end.  It also tracks the condition-code bits the SDM
 * leaves undefined, and masks them wherever the status word becomes
 * visible (FNSTSW, FNSTENV, the final FXSAVE).
 */
#include "tests/cpu/difftest.h"

enum { C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, CC = C0 | C1 | C2 | C3 };

static unsigned phys(const Gen *g, unsigned i)
{
    return (g->x87_top + i) & 7;
}

static bool valid(const Gen *g, unsigned i)
{
    return g->x87_valid & (1u << phys(g, i));
}

/* Usable by an exact operation: empty (a masked stack fault, exact) or
 * holding an exact value. */
static bool usable(const Gen *g, unsigned i)
{
    return !valid(g, i) || !(g->x87_approx & (1u << phys(g, i)));
}

/* Prefer valid operands / free push slots; allow a stack fault rarely. */
static bool wants_valid(Gen *g, unsigned i)
{
    return valid(g, i) || rn(g, 12) == 0;
}

static bool has_room(Gen *g, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        if (valid(g, 7 - k) && rn(g, 12) != 0) {
            return false;
        }
    }
    return true;
}

static void set_reg(Gen *g, unsigned i, bool approx)
{
    unsigned p = phys(g, i);
    g->x87_valid |= (uint8_t)(1u << p);
    g->x87_approx = (uint8_t)((g->x87_approx & ~(1u << p)) | (approx ? 1u << p : 0));
}

static void push(Gen *g, bool approx)
{
    g->x87_top = (g->x87_top - 1) & 7;
    set_reg(g, 0, approx);
}

static void pop(Gen *g)
{
    g->x87_valid &= (uint8_t)~(1u << phys(g, 0));
    g->x87_top = (g->x87_top + 1) & 7;
}

static void cc(Gen *g, uint16_t defined, uint16_t undefined)
{
    g->fsw_unknown = (uint16_t)((g->fsw_unknown & ~defined) | undefined);
}

static void copy_approx(Gen *g, unsigned dst, unsigned src)
{
    set_reg(g, dst, g->x87_approx & (1u << phys(g, src)));
}

/* ---- operand values ---- */

static uint8_t disp_for(Gen *g, unsigned size)
{
    return (uint8_t)rn(g, 0x70 - size);
}

static void store16(Gen *g, uint8_t disp, uint16_t v)
{
    emit_osize(g, 2);
    emit(g, 0xc7);
    emit_mem_rbx(g, 0, disp);
    emit_n(g, v, 2);
}

static void store32(Gen *g, uint8_t disp, uint32_t v)
{
    emit_osize(g, 4);
    emit(g, 0xc7);
    emit_mem_rbx(g, 0, disp);
    emit_n(g, v, 4);
}

static void store64(Gen *g, uint8_t disp, uint64_t v)
{
    store32(g, disp, (uint32_t)v);
    store32(g, (uint8_t)(disp + 4), (uint32_t)(v >> 32));
}

static uint64_t rand_mant(Gen *g, unsigned bits)
{
    uint64_t m = rnd(g);
    switch (rn(g, 4)) {
    case 0: m &= ~0ull << rn(g, bits); break;   /* few significant bits */
    case 1: m |= ~0ull >> rn(g, 64); break;     /* runs of ones */
    default: break;
    }
    return bits == 64 ? m : m & ((1ull << bits) - 1);
}

/* A binary floating-point value of the given format (exponent bits,
 * fraction bits), biased toward the interesting classes. */
static uint64_t rand_ieee(Gen *g, unsigned ebits, unsigned fbits)
{
    uint64_t emax = (1ull << ebits) - 1, bias = emax >> 1;
    uint64_t sign = (uint64_t)rn(g, 2) << (ebits + fbits);
    uint64_t frac = rand_mant(g, fbits), e;
    switch (rn(g, 14)) {
    case 0: return rnd(g) & ((sign << 1) - 1);             /* any bits */
    case 1: return sign;                                   /* zero */
    case 2: return sign | (emax << fbits);                 /* infinity */
    case 3: return sign | (emax << fbits) | (1ull << (fbits - 1)) | frac; /* QNaN */
    case 4: return sign | (emax << fbits) | ((frac >> 1) | 1); /* SNaN */
    case 5: return sign | (frac ? frac : 1);               /* denormal */
    case 6: e = rn(g, 2) ? 1 + rn(g, 3) : emax - 1 - rn(g, 3); break; /* extremes */
    case 7: case 8: /* small integers and halves */
        e = bias + rn(g, 12);
        frac &= ~0ull << (fbits > 12 ? fbits - 12 : 0);
        break;
    default: e = bias - 30 + rn(g, 60); break;
    }
    return sign | (e << fbits) | frac;
}

/* A double-extended value: IEEE classes plus the x87's own encodings
 * (pseudo-denormals, unnormals, pseudo-NaN/infinity). */
static void rand_f80(Gen *g, uint64_t *mant, uint16_t *se)
{
    uint16_t sign = (uint16_t)(rn(g, 2) << 15);
    uint64_t m = rand_mant(g, 64);
    unsigned e;
    switch (rn(g, 18)) {
    case 0: *mant = 0; *se = sign; return;
    case 1: *mant = 1ull << 63; *se = sign | 0x7fff; return;
    case 2: *mant = (3ull << 62) | m; *se = sign | 0x7fff; return;      /* QNaN */
    case 3: *mant = (1ull << 63) | ((m >> 2) | 1); *se = sign | 0x7fff; return; /* SNaN */
    case 4: *mant = (m >> 1) | 1; *se = sign; return;                  /* denormal */
    case 5: *mant = m | (1ull << 63); *se = sign; return;              /* pseudo-denormal */
    case 6: *mant = m >> 1; *se = sign | (uint16_t)(1 + rn(g, 0x7ffe)); return; /* unnormal */
    case 7: e = rn(g, 2) ? 1 + rn(g, 70) : 0x7ffe - rn(g, 70); break;
    case 8: case 9: e = 0x3fff + rn(g, 16); m &= ~0ull << (48 + rn(g, 16)); break;
    default: e = 0x3fff - 40 + rn(g, 80); break;
    }
    *mant = m | (1ull << 63);
    *se = (uint16_t)(sign | e);
}

static int64_t rand_int(Gen *g, unsigned bits)
{
    int64_t v;
    switch (rn(g, 4)) {
    case 0: v = (int64_t)rn(g, 200) - 100; break;
    case 1: v = (int64_t)(rnd(g) >> rn(g, 64)); break;
    default: v = (int64_t)rnd(g); break;
    }
    return bits == 64 ? v : (int64_t)((uint64_t)v << (64 - bits)) >> (64 - bits);
}

/* A memory operand of `kind` (0 m32fp, 1 m64fp, 2 m80fp, 3 m16int,
 * 4 m32int, 5 m64int) written at a fresh displacement. */
static uint8_t mem_value(Gen *g, unsigned kind)
{
    static const uint8_t sizes[6] = { 4, 8, 10, 2, 4, 8 };
    uint8_t d = disp_for(g, sizes[kind]);
    if (rn(g, 5) == 0) {
        return d; /* whatever the data page holds */
    }
    switch (kind) {
    case 0: store32(g, d, (uint32_t)rand_ieee(g, 8, 23)); break;
    case 1: store64(g, d, rand_ieee(g, 11, 52)); break;
    case 2: {
        uint64_t m;
        uint16_t se;
        rand_f80(g, &m, &se);
        store64(g, d, m);
        store16(g, (uint8_t)(d + 8), se);
        break;
    }
    case 3: store16(g, d, (uint16_t)rand_int(g, 16)); break;
    case 4: store32(g, d, (uint32_t)rand_int(g, 32)); break;
    default: store64(g, d, (uint64_t)rand_int(g, 64)); break;
    }
    return d;
}

static void x87_mem(Gen *g, uint8_t opc, unsigned digit, uint8_t disp)
{
    emit(g, opc);
    emit_mem_rbx(g, digit, disp);
}

static void x87_reg(Gen *g, uint8_t opc, uint8_t modrm)
{
    emit(g, opc);
    emit(g, modrm);
}

/* FNSTSW AX, then clear the bits the SDM leaves undefined. */
static void status_to_ax(Gen *g)
{
    x87_reg(g, 0xdf, 0xe0);
    if (g->fsw_unknown) {
        emit_osize(g, 2);
        emit(g, 0x25);
        emit_n(g, (uint16_t)~g->fsw_unknown, 2);
        g->unknown = AF; /* AND defines the other five */
    }
}

/* ---- instruction kinds ---- */

static bool gen_load(Gen *g)
{
    if (!has_room(g, 1)) {
        return false;
    }
    switch (rn(g, 4)) {
    case 0: { /* FLD ST(i) */
        unsigned i = rn(g, 8);
        if (!wants_valid(g, i)) {
            return false;
        }
        bool approx = valid(g, i) && !usable(g, i);
        x87_reg(g, 0xd9, (uint8_t)(0xc0 + i));
        push(g, approx);
        break;
    }
    case 1: { /* constants */
        x87_reg(g, 0xd9, (uint8_t)(0xe8 + rn(g, 7)));
        push(g, false);
        break;
    }
    default: {
        static const uint8_t opc[6] = { 0xd9, 0xdd, 0xdb, 0xdf, 0xdb, 0xdf };
        static const uint8_t digit[6] = { 0, 0, 5, 0, 0, 5 };
        unsigned kind = rn(g, 6);
        uint8_t d = mem_value(g, kind);
        x87_mem(g, opc[kind], digit[kind], d);
        push(g, false);
        break;
    }
    }
    cc(g, C1, C0 | C2 | C3);
    return true;
}

static bool gen_fbld(Gen *g)
{
    if (!has_room(g, 1)) {
        return false;
    }
    uint8_t d = disp_for(g, 10);
    uint64_t lo = 0;
    for (unsigned k = 0; k < 16; k++) {
        lo |= (uint64_t)rn(g, 10) << (4 * k);
    }
    store64(g, d, lo);
    store16(g, (uint8_t)(d + 8), (uint16_t)(rn(g, 10) | (rn(g, 10) << 4) | (rn(g, 2) << 15)));
    x87_mem(g, 0xdf, 4, d);
    push(g, false);
    cc(g, C1, C0 | C2 | C3);
    return true;
}

static bool gen_store(Gen *g)
{
    if (!usable(g, 0) || !wants_valid(g, 0)) {
        return false;
    }
    switch (rn(g, 6)) {
    case 0: { /* FST/FSTP ST(i) */
        unsigned i = rn(g, 8);
        bool p = rn(g, 2);
        x87_reg(g, 0xdd, (uint8_t)((p ? 0xd8 : 0xd0) + i));
        copy_approx(g, i, 0);
        if (p) {
            pop(g);
        }
        break;
    }
    case 1: case 2: { /* FST/FSTP m32/m64, FSTP m80 */
        unsigned f = rn(g, 5);
        uint8_t d = disp_for(g, 10);
        if (f == 4) {
            x87_mem(g, 0xdb, 7, d);
            pop(g);
        } else {
            x87_mem(g, (f & 2) ? 0xdd : 0xd9, 2 + (f & 1), d);
            if (f & 1) {
                pop(g);
            }
        }
        break;
    }
    case 3: case 4: { /* FIST/FISTP/FISTTP m16/m32/m64 */
        static const uint8_t opc[8] = { 0xdf, 0xdf, 0xdf, 0xdb, 0xdb, 0xdb, 0xdf, 0xdd };
        static const uint8_t digit[8] = { 2, 3, 1, 2, 3, 1, 7, 1 };
        unsigned f = rn(g, 8);
        x87_mem(g, opc[f], digit[f], disp_for(g, 8));
        if (digit[f] != 2) {
            pop(g);
        }
        break;
    }
    default: /* FBSTP */
        x87_mem(g, 0xdf, 6, disp_for(g, 10));
        pop(g);
        break;
    }
    cc(g, C1, C0 | C2 | C3);
    return true;
}

static bool gen_arith(Gen *g)
{
    unsigned op = rn(g, 8);
    if (op == 2 || op == 3) {
        op += 2; /* compares have their own kind */
    }
    switch (rn(g, 3)) {
    case 0: { /* ST(0) op= memory (m32fp, m64fp, m32int, m16int) */
        static const uint8_t opc[4] = { 0xd8, 0xdc, 0xda, 0xde };
        static const uint8_t kind[4] = { 0, 1, 4, 3 };
        unsigned f = rn(g, 4);
        if (!usable(g, 0) || !wants_valid(g, 0)) {
            return false;
        }
        uint8_t d = mem_value(g, kind[f]);
        x87_mem(g, opc[f], op, d);
        set_reg(g, 0, false);
        break;
    }
    default: { /* register forms, popping or not */
        unsigned i = rn(g, 8), f = rn(g, 3);
        if (!usable(g, 0) || !usable(g, i) || !wants_valid(g, 0) || !wants_valid(g, i)) {
            return false;
        }
        if (f == 0) {
            x87_reg(g, 0xd8, (uint8_t)(0xc0 + op * 8 + i));
            set_reg(g, 0, false);
        } else {
            x87_reg(g, f == 1 ? 0xdc : 0xde, (uint8_t)(0xc0 + op * 8 + i));
            set_reg(g, i, false);
            if (f == 2) {
                pop(g);
            }
        }
        break;
    }
    }
    cc(g, C1, C0 | C2 | C3);
    return true;
}

static bool gen_compare(Gen *g)
{
    unsigned i = rn(g, 8);
    if (!usable(g, 0) || !usable(g, i) || !wants_valid(g, 0) || !wants_valid(g, i)) {
        return false;
    }
    bool to_ax = true;
    switch (rn(g, 10)) {
    case 0: x87_reg(g, 0xd8, (uint8_t)(0xd0 + i)); break;          /* FCOM */
    case 1: x87_reg(g, 0xd8, (uint8_t)(0xd8 + i)); pop(g); break;  /* FCOMP */
    case 2: x87_reg(g, 0xdd, (uint8_t)(0xe0 + i)); break;          /* FUCOM */
    case 3: x87_reg(g, 0xdd, (uint8_t)(0xe8 + i)); pop(g); break;  /* FUCOMP */
    case 4: /* FCOMPP / FUCOMPP */
        if (!usable(g, 1)) {
            return false;
        }
        if (rn(g, 2)) {
            x87_reg(g, 0xde, 0xd9);
        } else {
            x87_reg(g, 0xda, 0xe9);
        }
        pop(g);
        pop(g);
        break;
    case 5: { /* FICOM/FICOMP m16/m32, FCOM/FCOMP m32/m64 */
        static const uint8_t opc[4] = { 0xd8, 0xdc, 0xda, 0xde };
        static const uint8_t kind[4] = { 0, 1, 4, 3 };
        unsigned f = rn(g, 4);
        bool p = rn(g, 2);
        uint8_t d = mem_value(g, kind[f]);
        x87_mem(g, opc[f], p ? 3 : 2, d);
        if (p) {
            pop(g);
        }
        break;
    }
    case 6: x87_reg(g, 0xd9, 0xe4); break;                         /* FTST */
    case 7: x87_reg(g, 0xd9, 0xe5); break;                         /* FXAM */
    default: { /* FCOMI FUCOMI FCOMIP FUCOMIP */
        static const uint8_t opc[4] = { 0xdb, 0xdb, 0xdf, 0xdf };
        static const uint8_t base[4] = { 0xf0, 0xe8, 0xf0, 0xe8 };
        unsigned f = rn(g, 4);
        x87_reg(g, opc[f], (uint8_t)(base[f] + i));
        if (f >= 2) {
            pop(g);
        }
        g->unknown = 0;
        /* the SDM clears C1; the AMD reference leaves it unchanged */
        cc(g, 0, C1);
        to_ax = false;
        break;
    }
    }
    if (to_ax) {
        cc(g, CC, 0);
        if (rn(g, 4)) {
            status_to_ax(g);
        }
    }
    return true;
}

static uint32_t cond_reads(unsigned c)
{
    static const uint32_t r[4] = { CF, ZF, CF | ZF, PF };
    return r[c & 3];
}

static bool gen_misc(Gen *g)
{
    unsigned i = rn(g, 8);
    switch (rn(g, 12)) {
    case 0: /* FXCH */
        if (!wants_valid(g, 0) || !wants_valid(g, i)) {
            return false;
        }
        {
            bool a0 = valid(g, 0) && !usable(g, 0), ai = valid(g, i) && !usable(g, i);
            x87_reg(g, 0xd9, (uint8_t)(0xc8 + i));
            set_reg(g, 0, ai);
            set_reg(g, i, a0);
        }
        cc(g, C1, C0 | C2 | C3);
        return true;
    case 1: /* FCHS FABS */
        if (!wants_valid(g, 0)) {
            return false;
        }
        x87_reg(g, 0xd9, (uint8_t)(0xe0 + rn(g, 2)));
        set_reg(g, 0, valid(g, 0) && !usable(g, 0));
        cc(g, C1, C0 | C2 | C3);
        return true;
    case 2: /* FSQRT FRNDINT */
        if (!usable(g, 0) || !wants_valid(g, 0)) {
            return false;
        }
        x87_reg(g, 0xd9, rn(g, 2) ? 0xfa : 0xfc);
        set_reg(g, 0, false);
        cc(g, C1, C0 | C2 | C3);
        return true;
    case 3: /* FSCALE FPREM FPREM1 */
        if (!usable(g, 0) || !usable(g, 1) || !wants_valid(g, 0) || !wants_valid(g, 1)) {
            return false;
        }
        {
            static const uint8_t m[3] = { 0xfd, 0xf8, 0xf5 };
            unsigned f = rn(g, 3);
            x87_reg(g, 0xd9, m[f]);
            set_reg(g, 0, false);
            if (f == 0) {
                cc(g, C1, C0 | C2 | C3);
            } else {
                cc(g, CC, 0);
            }
        }
        return true;
    case 4: /* FXTRACT */
        if (!usable(g, 0) || !wants_valid(g, 0) || !has_room(g, 1)) {
            return false;
        }
        x87_reg(g, 0xd9, 0xf4);
        set_reg(g, 0, false);
        push(g, false);
        cc(g, C1, C0 | C2 | C3);
        return true;
    case 5: { /* FCMOVcc */
        unsigned c = rn(g, 8);
        if (cond_reads(c) & g->unknown) {
            return false;
        }
        if (!wants_valid(g, 0) || !wants_valid(g, i)) {
            return false;
        }
        bool a0 = valid(g, 0) && !usable(g, 0), ai = valid(g, i) && !usable(g, i);
        if (a0 != ai) {
            return false; /* the result's accuracy would depend on the condition */
        }
        x87_reg(g, c < 4 ? 0xda : 0xdb, (uint8_t)(0xc0 + (c & 3) * 8 + i));
        set_reg(g, 0, a0);
        cc(g, 0, C0 | C2 | C3); /* C1 only changes on a stack fault */
        return true;
    }
    case 6: /* FFREE, FFREEP */
        if (rn(g, 2)) {
            x87_reg(g, 0xdd, (uint8_t)(0xc0 + i));
            g->x87_valid &= (uint8_t)~(1u << phys(g, i));
        } else {
            x87_reg(g, 0xdf, (uint8_t)(0xc0 + i));
            g->x87_valid &= (uint8_t)~(1u << phys(g, i));
            pop(g);
        }
        cc(g, 0, CC);
        return true;
    case 7: /* FINCSTP FDECSTP */
        if (rn(g, 2)) {
            x87_reg(g, 0xd9, 0xf7);
            g->x87_top = (g->x87_top + 1) & 7;
        } else {
            x87_reg(g, 0xd9, 0xf6);
            g->x87_top = (g->x87_top - 1) & 7;
        }
        cc(g, C1, C0 | C2 | C3);
        return true;
    case 8: /* FLDCW: exceptions stay masked; random RC, PC, reserved bits */
    {
        uint8_t d = disp_for(g, 2);
        uint16_t cw = (uint16_t)(0x3f | (rnd(g) & 0xffc0));
        if (rn(g, 2)) {
            cw = (uint16_t)((cw & 0x0f3f) | 0x40);
        }
        store16(g, d, cw);
        x87_mem(g, 0xd9, 5, d);
        cc(g, 0, CC);
        if (rn(g, 2)) {
            x87_mem(g, 0xd9, 7, (uint8_t)(d ^ 0x40)); /* FNSTCW */
        }
        return true;
    }
    case 9: /* FNCLEX, FNOP, FWAIT */
        switch (rn(g, 3)) {
        case 0: x87_reg(g, 0xdb, 0xe2); cc(g, 0, CC); break;
        case 1: x87_reg(g, 0xd9, 0xd0); break;
        default: emit(g, 0x9b); break;
        }
        return true;
    case 10: /* FNSTSW m16 */
    {
        uint8_t d = disp_for(g, 2);
        x87_mem(g, 0xdd, 7, d);
        if (g->fsw_unknown) {
            emit_osize(g, 2);
            emit(g, 0x81);
            emit_mem_rbx(g, 4, d);
            emit_n(g, (uint16_t)~g->fsw_unknown, 2);
            g->unknown = AF;
        }
        return true;
    }
    default: /* FNINIT, rarely */
        if (rn(g, 6)) {
            return false;
        }
        x87_reg(g, 0xdb, 0xe3);
        g->x87_valid = 0;
        g->x87_top = 0;
        cc(g, CC, 0);
        return true;
    }
}

/* FNSTENV then FLDENV of the same image, with some tags changed in
 * between; or FNSAVE then FRSTOR.  The pointer fields (FIP, FCS, FOP,
 * FDP, FDS) are implementation-dependent: zeroed before they are compared
 * or reloaded. */
static bool gen_env(Gen *g)
{
    bool save = rn(g, 2);
    bool o16 = rn(g, 3) == 0;
    unsigned envsz = o16 ? 14 : 28, size = envsz + (save ? 80 : 0);
    if (save && g->x87_approx) {
        return false; /* the register image would hold approximate values */
    }
    uint8_t d = (uint8_t)rn(g, 0x80 - size);
    unsigned fsw_off = o16 ? 2 : 4, tag_off = o16 ? 4 : 8;
    emit_osize(g, o16 ? 2 : 4);
    x87_mem(g, save ? 0xdd : 0xd9, save ? 6 : 6, d);
    for (unsigned off = o16 ? 6 : 12; off < envsz; off += 2) {
        store16(g, (uint8_t)(d + off), 0);
    }
    if (g->fsw_unknown) {
        emit_osize(g, 2);
        emit(g, 0x81);
        emit_mem_rbx(g, 4, (uint8_t)(d + fsw_off));
        emit_n(g, (uint16_t)~g->fsw_unknown, 2);
        g->unknown = AF;
    }
    if (save) {
        /* FNSAVE reinitialises the FPU; FRSTOR brings the image back */
        if (rn(g, 2)) {
            x87_reg(g, 0xd9, 0xe8); /* FLD1 on the fresh stack */
        }
        emit_osize(g, o16 ? 2 : 4);
        x87_mem(g, 0xdd, 4, d);
    } else {
        /* empty some registers (tag 11), validate others (tag 00) */
        uint16_t set = 0, clear = 0;
        for (unsigned p = 0; p < 8; p++) {
            unsigned r = rn(g, 8);
            if (r == 0) {
                set |= (uint16_t)(3u << (2 * p));
                g->x87_valid &= (uint8_t)~(1u << p);
            } else if (r == 1 && !(g->x87_approx & (1u << p))) {
                clear |= (uint16_t)(3u << (2 * p));
                g->x87_valid |= (uint8_t)(1u << p);
            }
        }
        emit_osize(g, 2);
        emit(g, 0x81);
        emit_mem_rbx(g, 1, (uint8_t)(d + tag_off)); /* or */
        emit_n(g, set, 2);
        emit_osize(g, 2);
        emit(g, 0x81);
        emit_mem_rbx(g, 4, (uint8_t)(d + tag_off)); /* and */
        emit_n(g, (uint16_t)~clear, 2);
        g->unknown = AF;
        emit_osize(g, o16 ? 2 : 4);
        x87_mem(g, 0xd9, 4, d);
    }
    g->fsw_unknown = 0; /* the reloaded image had them cleared */
    return true;
}

/* A transcendental on operands inside the ranges where the SDM defines
 * the result and the emulation's accuracy is good; the result is
 * approximate. */
static bool gen_transcendental(Gen *g)
{
    static const uint8_t modrm[8] = { 0xfe, 0xff, 0xfb, 0xf2, 0xf0, 0xf1, 0xf9, 0xf3 };
    unsigned f = rn(g, 8);
    bool two = f >= 5, pushes = f == 2 || f == 3;
    if (!has_room(g, (two ? 2 : 1) + (pushes ? 1 : 0)) ||
        valid(g, 7) || (two && valid(g, 6)) || (pushes && valid(g, two ? 5 : 6))) {
        return false;
    }
    double x, y = 0;
    double u = (double)(rnd(g) >> 11) * 0x1p-53, v = (double)(rnd(g) >> 11) * 0x1p-53;
    switch (f) {
    case 0: x = -3 + 6 * u; break;                          /* FSIN */
    case 1: case 2: case 3: x = -1.4 + 2.8 * u; break;      /* FCOS FSINCOS FPTAN */
    case 4: x = -1 + 2 * u; break;                          /* F2XM1 */
    case 5: x = rn(g, 2) ? 1.5 + 998 * u : 0.01 + 0.69 * u; /* FYL2X */
            y = -10 + 20 * v; break;
    case 6: x = -0.29 + 0.58 * u; y = -10 + 20 * v; break;  /* FYL2XP1 */
    default: x = -100 + 200 * u; y = -100 + 200 * v; break; /* FPATAN */
    }
    uint8_t d = disp_for(g, 16);
    uint64_t bx, by;
    memcpy(&bx, &x, 8);
    memcpy(&by, &y, 8);
    if (two) {
        store64(g, (uint8_t)(d + 8), by);
        x87_mem(g, 0xdd, 0, (uint8_t)(d + 8));
        push(g, false);
    }
    store64(g, d, bx);
    x87_mem(g, 0xdd, 0, d);
    push(g, false);
    x87_reg(g, 0xd9, modrm[f]);
    if (two) {
        pop(g);
        set_reg(g, 0, true);
    } else {
        set_reg(g, 0, true);
        if (pushes) {
            push(g, f == 2); /* FSINCOS: cos; FPTAN: exactly 1.0 */
        }
    }
    cc(g, C2, C0 | C1 | C3);
    return true;
}

static bool x87_one(Gen *g)
{
    uint8_t *start = g->p;
    Gen saved = *g;
    bool ok;
    switch (rn(g, 16)) {
    case 0: case 1: case 2: ok = gen_load(g); break;
    case 3: ok = gen_fbld(g); break;
    case 4: case 5: ok = gen_store(g); break;
    case 6: case 7: case 8: ok = gen_arith(g); break;
    case 9: case 10: ok = gen_compare(g); break;
    case 11: case 12: ok = gen_misc(g); break;
    case 13: ok = gen_env(g); break;
    default: ok = gen_transcendental(g); break;
    }
    if (!ok) {
        uint64_t rng = g->rng;
        *g = saved;
        g->rng = rng;
        g->p = start;
    }
    return ok;
}

/* Read TOP and the tags of the initial image and put special values in
 * some registers. */
static void x87_start(Gen *g)
{
    uint16_t fsw;
    memcpy(&fsw, g->fx_in + FX_FSW, 2);
    g->x87_top = (fsw >> 11) & 7;
    g->x87_valid = g->fx_in[FX_FTW];
    g->x87_approx = 0;
    g->fsw_unknown = 0;
    for (unsigned i = 0; i < 8; i++) {
        if (rn(g, 3) == 0) {
            uint64_t m;
            uint16_t se;
            rand_f80(g, &m, &se);
            memcpy(g->fx_in + FX_ST + 16 * i, &m, 8);
            memcpy(g->fx_in + FX_ST + 16 * i + 8, &se, 2);
        }
    }
}

static void x87_finish(Gen *g)
{
    uint16_t keep = (uint16_t)~g->fsw_unknown;
    g->fx_mask[FX_FSW] &= (uint8_t)keep;
    g->fx_mask[FX_FSW + 1] &= (uint8_t)(keep >> 8);
    for (unsigned i = 0; i < 8; i++) {
        if (g->x87_approx & (1u << phys(g, i))) {
            g->st_approx |= (uint8_t)(1u << i);
        }
    }
}

const DiffGen gen_x87 = { .name = "x87", .start = x87_start, .one = x87_one,
                          .finish = x87_finish };
