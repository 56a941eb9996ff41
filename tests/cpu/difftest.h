/*
 * The differential test's generator interface (tests/cpu/difftest.c).
 *
 * A seed's guest program is: FXRSTOR of a random valid x87/SSE image, a
 * random instruction sequence, FXSAVE into a compared area, OUT to the done
 * port.  The sequence is built one instruction at a time by generator
 * groups (gen-int.c, gen-x87.c, gen-sse.c...), each picked at random among
 * the groups named on the command line.  A group writes machine code at
 * g->p and tells the harness what the CPU leaves undefined, so the
 * comparison masks exactly that:
 *   - g->unknown: RFLAGS arithmetic flags currently undefined;
 *   - g->fx_mask: per-byte masks of the compared bits of the final FXSAVE
 *     image (the harness clears the implementation-dependent fields);
 *   - g->st_approx: final ST(i) registers compared with a tolerance
 *     (transcendental results, whose last bits may differ from hardware).
 */
#ifndef KESTREL_TESTS_CPU_DIFFTEST_H
#define KESTREL_TESTS_CPU_DIFFTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Guest-physical (= linear) layout shared by the harness and the groups. */
#define RAM_SIZE (4u << 20)
#define PT_BASE 0x1000    /* PML4 at 0x1000, PDPT 0x2000, PD 0x3000 */
#define CODE_BASE 0x10000
#define DATA_BASE 0x20000 /* rbx points here; one page, compared */
#define FX_IN 0x21000     /* the initial FXRSTOR image (512 bytes) */
#define FX_OUT 0x21200    /* the final FXSAVE image, compared under fx_mask */
#define STACK_TOP 0x30000
#define DONE_PORT 0xe9

/* FXSAVE image offsets (SDM vol. 1, 10.5.1, table 10-2) */
enum { FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8,
       FX_FDP = 16, FX_MXCSR = 24, FX_MXCSR_MASK = 28, FX_ST = 32,
       FX_XMM = 160 };

typedef struct Gen {
    uint64_t rng;
    uint8_t *p;          /* where the next instruction goes */
    uint32_t unknown;    /* RFLAGS bits currently undefined */
    bool m32;            /* 32- or 16-bit code: no REX, no 64-bit ops */
    bool m16;            /* 16-bit code segment (m32 is set too): 66 selects
                          * 32-bit operands, [bx+disp8] addresses the data
                          * page (DS's base is DATA_BASE, BX is 0) */
    uint8_t *fx_in;      /* the initial image (groups may adjust it in start) */
    uint8_t fx_mask[512];
    uint8_t st_approx;   /* ST(i) of the final image compared with a tolerance */
    uint16_t xmm_approx; /* XMM(i) compared per single-precision lane with a
                          * tolerance (RCPPS/RSQRTPS results, gen-sse.c) */
    /* x87 group's model of the stack (gen-x87.c) */
    uint8_t x87_top;     /* TOP */
    uint8_t x87_valid;   /* physical registers tagged valid */
    uint8_t x87_approx;  /* physical registers holding an approximate value */
    uint16_t fsw_unknown; /* FSW bits the SDM leaves undefined at this point */
} Gen;

/* One group of instructions. */
typedef struct DiffGen {
    const char *name;
    /* after the initial image is made, before the first instruction */
    void (*start)(Gen *g);
    /* emit one instruction (or a short idiom); false to retry (e.g. it
     * would read flags that are undefined) with g->p unchanged */
    bool (*one)(Gen *g);
    /* after the last instruction, before the final FXSAVE */
    void (*finish)(Gen *g);
    /* the group provokes exceptions: it needs the host-process reference
     * (host-ref.h), which reports them */
    bool faults;
} DiffGen;

extern const DiffGen gen_int;
extern const DiffGen gen_x87;
extern const DiffGen gen_sse;
extern const DiffGen gen_exc;

enum { CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800,
       ALL = CF | PF | AF | ZF | SF | OF };

static inline uint64_t rnd(Gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static inline unsigned rn(Gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

static inline void emit(Gen *g, uint8_t b)
{
    *g->p++ = b;
}

static inline void emit_n(Gen *g, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        emit(g, (uint8_t)(v >> (8 * i)));
    }
}

/* a REX prefix byte, or nothing in 32-bit code (callers keep to regs 0-7) */
static inline void emit_rex(Gen *g, uint8_t rex)
{
    if (!g->m32) {
        *g->p++ = rex;
    }
}

/* A general register a group may clobber: not RSP, not RBX. */
static inline unsigned pick_reg(Gen *g)
{
    static const uint8_t regs[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    return regs[rn(g, g->m32 ? 6 : sizeof(regs))];
}

/* Memory operand [rbx+disp8] ([bx+disp8] in 16-bit code) for an
 * instruction whose ModRM.reg is `reg`. */
static inline void emit_mem_rbx(Gen *g, unsigned reg, uint8_t disp)
{
    emit(g, (uint8_t)(0x40 | ((reg & 7) << 3) | (g->m16 ? 7 : 3)));
    emit(g, disp);
}

/* The operand-size prefix an instruction of `size` bytes (2 or 4) needs. */
static inline void emit_osize(Gen *g, unsigned size)
{
    if ((size == 2) != g->m16 && size != 1 && size != 8) {
        emit(g, 0x66);
    }
}

#endif
