/*
 * Segmentation (SDM vol. 3, chapter 3 and 5.4-5.6): descriptor table reads,
 * segment-register loads with the protected-mode type/privilege/presence
 * checks, real-mode loads, and the per-segment limit/rights ranges used by
 * the memory fast path.
 */
#include "cpu/x86/mem.h"

void x86_seg_cache_update(X86Cpu *cpu, int seg)
{
    const SegmentCache *sc = &cpu->env->segs[seg];
    uint32_t fl = sc->flags;
    unsigned type = (fl >> X86_DESC_TYPE_SHIFT) & 15;
    bool big = fl & X86_DESC_B;
    if (!cpu->pe || cpu->vm86) {
        cpu->segchk[seg].lo = 0;
        cpu->segchk[seg].hi = sc->limit;
        cpu->segchk[seg].rd = cpu->segchk[seg].wr = true;
        return;
    }
    if (!(fl & X86_DESC_P) || !(fl & X86_DESC_S)) {
        cpu->segchk[seg].lo = 1;
        cpu->segchk[seg].hi = 0;
        cpu->segchk[seg].rd = cpu->segchk[seg].wr = false;
        return;
    }
    if (type & 8) { /* code */
        cpu->segchk[seg].rd = type & 2;
        cpu->segchk[seg].wr = false;
        cpu->segchk[seg].lo = 0;
        cpu->segchk[seg].hi = sc->limit;
        return;
    }
    cpu->segchk[seg].rd = true;
    cpu->segchk[seg].wr = type & 2;
    if (type & 4) { /* expand-down */
        cpu->segchk[seg].lo = (uint64_t)sc->limit + 1;
        cpu->segchk[seg].hi = big ? 0xffffffffu : 0xffff;
    } else {
        cpu->segchk[seg].lo = 0;
        cpu->segchk[seg].hi = sc->limit;
    }
}

void x86_desc_to_cache(SegmentCache *sc, uint16_t sel, uint32_t lo, uint32_t hi)
{
    sc->selector = sel;
    sc->base = (lo >> 16) | ((uint64_t)(hi & 0xff) << 16) | (hi & 0xff000000u);
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & X86_DESC_G) {
        limit = (limit << 12) | 0xfff;
    }
    sc->limit = limit;
    sc->flags = hi & 0x00f0ff00u;
}

bool x86_read_desc(X86Cpu *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    X86State *env = cpu->env;
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (!(env->ldt.flags & X86_DESC_P)) {
            return false;
        }
        base = env->ldt.base;
        limit = env->ldt.limit;
    } else {
        base = env->gdt.base;
        limit = env->gdt.limit;
    }
    if ((uint32_t)(sel & ~7u) + 7 > limit) {
        return false;
    }
    uint64_t a = base + (sel & ~7u);
    if (!cpu->long_mode) {
        a = (uint32_t)a;
    }
    uint64_t v = x86_ld_sys(cpu, a, 8);
    *lo = (uint32_t)v;
    *hi = (uint32_t)(v >> 32);
    return true;
}

static void set_accessed(X86Cpu *cpu, uint16_t sel, uint32_t hi)
{
    if (hi & (1u << 8)) {
        return;
    }
    uint64_t base = (sel & 4) ? cpu->env->ldt.base : cpu->env->gdt.base;
    uint64_t a = base + (sel & ~7u) + 5;
    if (!cpu->long_mode) {
        a = (uint32_t)a;
    }
    x86_st_sys(cpu, a, ((hi >> 8) & 0xff) | 1, 1);
}

void x86_load_seg_real(X86Cpu *cpu, int seg, uint16_t sel)
{
    SegmentCache *sc = &cpu->env->segs[seg];
    sc->selector = sel;
    sc->base = (uint64_t)sel << 4;
    if (cpu->vm86) {
        sc->limit = 0xffff;
        sc->flags = X86_DESC_P | X86_DESC_S | (3u << X86_DESC_DPL_SHIFT) |
                    ((seg == R_CS ? 11u : 3u) << X86_DESC_TYPE_SHIFT);
    } else if (!(sc->flags & X86_DESC_P)) {
        sc->flags |= X86_DESC_P | X86_DESC_S | (2u << X86_DESC_TYPE_SHIFT);
    }
    x86_seg_cache_update(cpu, seg);
}

void x86_load_seg(X86Cpu *cpu, int seg, uint16_t sel)
{
    X86State *env = cpu->env;
    if (!cpu->pe || cpu->vm86) {
        x86_load_seg_real(cpu, seg, sel);
        return;
    }
    unsigned cpl = cpu->cpl, rpl = sel & 3;
    if ((sel & ~3u) == 0) {
        if (seg == R_SS && (!cpu->long_mode || cpu->code_size != 8 || cpl == 3 || rpl != cpl)) {
            x86_raise_err(cpu, EXC_GP, 0);
        }
        SegmentCache *sc = &env->segs[seg];
        sc->selector = sel;
        sc->base = 0;
        sc->limit = 0;
        sc->flags = seg == R_SS ? (cpl << X86_DESC_DPL_SHIFT) | X86_DESC_B : 0;
        x86_seg_cache_update(cpu, seg);
        return;
    }
    uint32_t lo, hi;
    if (!x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    unsigned dpl = (hi >> X86_DESC_DPL_SHIFT) & 3;
    unsigned type = (hi >> X86_DESC_TYPE_SHIFT) & 15;
    if (!(hi & X86_DESC_S)) {
        x86_raise_err(cpu, EXC_GP, sel & ~3u);
    }
    if (seg == R_SS) {
        if (rpl != cpl || dpl != cpl || (type & 8) || !(type & 2)) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u);
        }
        if (!(hi & X86_DESC_P)) {
            x86_raise_err(cpu, EXC_SS, sel & ~3u);
        }
    } else {
        if ((type & 8) && !(type & 2)) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u); /* execute-only code */
        }
        bool conforming_code = (type & 12) == 12;
        if (!conforming_code && (dpl < cpl || dpl < rpl)) {
            x86_raise_err(cpu, EXC_GP, sel & ~3u);
        }
        if (!(hi & X86_DESC_P)) {
            x86_raise_err(cpu, EXC_NP, sel & ~3u);
        }
    }
    set_accessed(cpu, sel, hi);
    x86_desc_to_cache(&env->segs[seg], sel, lo, hi | (1u << 8));
    x86_seg_cache_update(cpu, seg);
    if (seg == R_SS) {
        x86_update_mode(cpu);
    }
}

void x86_set_cs(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi, int cpl)
{
    set_accessed(cpu, sel, hi);
    x86_desc_to_cache(&cpu->env->segs[R_CS], (uint16_t)((sel & ~3u) | (unsigned)cpl), lo,
                      hi | (1u << 8));
}
