/*
 * Differential test of the software CPU against the host CPU under KVM.
 *
 * For each seed, a generator writes a random sequence of integer
 * instructions (ALU, shifts and rotates, multiply/divide, bit operations,
 * moves, exchanges, compare-exchange, flag instructions, push/pop, memory
 * operands) for 64-bit mode, starting from random registers and flags.  The
 * sequence runs at CPL 3 in long mode under KVM (where it executes natively
 * on the real CPU) and under the TCG accelerator; the test compares all
 * GPRs, RIP, RFLAGS (flags the SDM leaves undefined are masked, tracked per
 * instruction) and the data page.  Exit 77 when /dev/kvm is unusable.
 *
 * usage: difftest [first-seed [count [insns-per-seed [64|32]]]]
 * (32: the same in 32-bit compatibility-mode code)
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "tests/cpu/kvm-ref.h"

#define RAM_SIZE (4u << 20)
#define PT_BASE 0x1000    /* PML4 at 0x1000, PDPT 0x2000, PD 0x3000 */
#define CODE_BASE 0x10000
#define DATA_BASE 0x20000 /* rbx points here; one page */
#define STACK_TOP 0x30000
#define DONE_PORT 0xe9

typedef struct Gen {
    uint64_t rng;
    uint8_t *p;
    uint32_t unknown; /* flags currently undefined */
    bool m32;         /* 32-bit code (compatibility mode): no REX, no 64-bit ops */
} Gen;

static uint64_t rnd(Gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static unsigned rn(Gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

enum { CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800,
       ALL = CF | PF | AF | ZF | SF | OF };

static void emit(Gen *g, uint8_t b)
{
    *g->p++ = b;
}

static void emit_n(Gen *g, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        emit(g, (uint8_t)(v >> (8 * i)));
    }
}

/* A general register the generator may clobber: not RSP, not RBX. */
static unsigned pick_reg(Gen *g)
{
    static const uint8_t regs[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    return regs[rn(g, g->m32 ? 6 : sizeof(regs))];
}

/* a REX prefix byte, or nothing in 32-bit code (callers keep to regs 0-7) */
static void emit_rex(Gen *g, uint8_t rex)
{
    if (!g->m32) {
        *g->p++ = rex;
    }
}

typedef struct Op {
    unsigned size;  /* 1 2 4 8 */
    bool rex_forced; /* byte ops: emit a REX even without bits */
    unsigned reg;   /* ModRM.reg (register number or /digit) */
    bool mem;       /* r/m is [rbx+disp8] */
    unsigned rm;    /* r/m register when !mem */
    uint8_t disp;
} Op;

/* Choose operand registers consistent with the byte-register rules. */
static void pick_operands(Gen *g, Op *o, unsigned size, bool reg_is_digit)
{
    memset(o, 0, sizeof(*o));
    o->size = size;
    o->mem = rn(g, 3) == 0;
    o->disp = (uint8_t)(rn(g, 0x70) & ~(size - 1));
    if (size == 1 && (g->m32 || rn(g, 2))) {
        /* no REX: AL CL DL AH CH DH (never BH/BL: RBX is the base) */
        static const uint8_t r8[] = { 0, 1, 2, 4, 5, 6 };
        o->rex_forced = false;
        if (!reg_is_digit) {
            o->reg = r8[rn(g, 6)];
        }
        o->rm = r8[rn(g, 6)];
    } else {
        o->rex_forced = size == 1;
        if (!reg_is_digit) {
            o->reg = pick_reg(g);
        }
        o->rm = pick_reg(g);
    }
}

/* Emit prefixes + opcode bytes + ModRM (+disp) for an r/m instruction. */
static void emit_rm(Gen *g, const Op *o, const uint8_t *opc, unsigned nopc, unsigned digit_or_reg)
{
    unsigned reg = digit_or_reg;
    if (o->size == 2) {
        emit(g, 0x66);
    }
    uint8_t rex = 0x40;
    if (o->size == 8) {
        rex |= 8;
    }
    if (reg >= 8) {
        rex |= 4;
    }
    if (!o->mem && o->rm >= 8) {
        rex |= 1;
    }
    /* mandatory-prefix opcodes (F3 0F xx) put F3 before REX */
    unsigned i = 0;
    if (nopc > 1 && opc[0] == 0xf3) {
        emit(g, 0xf3);
        i = 1;
    }
    if ((rex != 0x40 || o->rex_forced) && !g->m32) {
        emit(g, rex);
    }
    for (; i < nopc; i++) {
        emit(g, opc[i]);
    }
    if (o->mem) {
        emit(g, (uint8_t)(0x40 | ((reg & 7) << 3) | 3)); /* [rbx+disp8] */
        emit(g, o->disp);
    } else {
        emit(g, (uint8_t)(0xc0 | ((reg & 7) << 3) | (o->rm & 7)));
    }
}

static unsigned size_pick(Gen *g)
{
    static const uint8_t s[] = { 1, 2, 4, 8 };
    return s[rn(g, g->m32 ? 3 : 4)];
}

static unsigned size_pick_w(Gen *g)
{
    static const uint8_t s[] = { 2, 4, 8 };
    return s[rn(g, g->m32 ? 2 : 3)];
}

static uint32_t cond_reads(unsigned cc)
{
    static const uint32_t r[8] = { OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF };
    return r[(cc >> 1) & 7];
}

static void imm_for(Gen *g, unsigned size)
{
    emit_n(g, rnd(g), size == 8 ? 4 : size);
}

/* One instruction (or a short idiom); false if it would read unknown flags. */
static bool gen_one(Gen *g)
{
    Op o;
    uint8_t opc[3];
    unsigned size, kind = rn(g, 26);
    uint32_t reads = 0, defs = 0, undef = 0;
    uint8_t *start = g->p;

    switch (kind) {
    case 0: case 1: case 2: { /* ALU r/m,r and r,r/m */
        unsigned op = rn(g, 8);
        size = size_pick(g);
        pick_operands(g, &o, size, false);
        opc[0] = (uint8_t)((op << 3) | (rn(g, 2) ? 2 : 0) | (size == 1 ? 0 : 1));
        emit_rm(g, &o, opc, 1, o.reg);
        reads = (op == 2 || op == 3) ? CF : 0;
        defs = ALL;
        undef = (op == 1 || op == 4 || op == 6) ? AF : 0;
        break;
    }
    case 3: { /* ALU r/m, imm */
        unsigned op = rn(g, 8), form = rn(g, 3);
        size = form == 0 ? 1 : size_pick_w(g);
        pick_operands(g, &o, size, true);
        opc[0] = form == 0 ? 0x80 : form == 1 ? 0x81 : 0x83;
        emit_rm(g, &o, opc, 1, op);
        if (form == 1) {
            imm_for(g, size);
        } else {
            emit(g, (uint8_t)rnd(g));
        }
        reads = (op == 2 || op == 3) ? CF : 0;
        defs = ALL;
        undef = (op == 1 || op == 4 || op == 6) ? AF : 0;
        break;
    }
    case 4: { /* INC DEC NOT NEG */
        unsigned op = rn(g, 4);
        size = size_pick(g);
        pick_operands(g, &o, size, true);
        opc[0] = op < 2 ? (size == 1 ? 0xfe : 0xff) : (size == 1 ? 0xf6 : 0xf7);
        emit_rm(g, &o, opc, 1, op < 2 ? op : op);
        defs = op < 2 ? (ALL & ~CF) : op == 3 ? ALL : 0;
        break;
    }
    case 5: { /* MUL IMUL one operand */
        size = size_pick(g);
        pick_operands(g, &o, size, true);
        opc[0] = size == 1 ? 0xf6 : 0xf7;
        emit_rm(g, &o, opc, 1, 4 + rn(g, 2));
        defs = CF | OF;
        undef = SF | ZF | AF | PF;
        break;
    }
    case 6: { /* IMUL r, r/m [, imm] */
        size = size_pick_w(g);
        pick_operands(g, &o, size, false);
        unsigned f = rn(g, 3);
        if (f == 0) {
            opc[0] = 0x0f;
            opc[1] = 0xaf;
            emit_rm(g, &o, opc, 2, o.reg);
        } else {
            opc[0] = f == 1 ? 0x69 : 0x6b;
            emit_rm(g, &o, opc, 1, o.reg);
            if (f == 1) {
                imm_for(g, size);
            } else {
                emit(g, (uint8_t)rnd(g));
            }
        }
        defs = CF | OF;
        undef = SF | ZF | AF | PF;
        break;
    }
    case 7: { /* DIV / IDIV with a divisor that cannot fault */
        size = size_pick(g);
        bool sgn = rn(g, 2);
        unsigned r = pick_reg(g);
        while (r == 0 || r == 2 || (size == 1 && r >= 4 && r < 8)) {
            r = pick_reg(g);
        }
        if (size == 1) {
            emit(g, 0x0f); emit(g, 0xb6); emit(g, 0xc0);           /* movzx eax, al */
            if (sgn) {
                emit(g, 0x24); emit(g, 0x3f);                        /* and al, 0x3f */
            }
        } else if (sgn) {
            if (size == 2) emit(g, 0x66);
            if (size == 8) emit_rex(g, 0x48);
            emit(g, 0x99);                                           /* cwd/cdq/cqo */
        } else {
            emit(g, 0x31); emit(g, 0xd2);                            /* xor edx, edx */
        }
        /* or r, 1 ; and r, 0x7f (positive, non-zero) */
        Op d = { .size = size, .rm = r, .rex_forced = size == 1 };
        opc[0] = 0x83;
        if (size == 1) {
            opc[0] = 0x80;
        }
        emit_rm(g, &d, opc, 1, 1);
        emit(g, 1);
        emit_rm(g, &d, opc, 1, 4);
        emit(g, 0x7f);
        opc[0] = size == 1 ? 0xf6 : 0xf7;
        emit_rm(g, &d, opc, 1, sgn ? 7 : 6);
        undef = ALL;
        break;
    }
    case 8: case 9: { /* shifts and rotates by imm / 1 / CL */
        unsigned op = rn(g, 8), form = rn(g, 3);
        size = size_pick(g);
        pick_operands(g, &o, size, true);
        if (!o.mem && o.rm == 1) {
            o.rm = 0;
        }
        unsigned cnt;
        if (form == 0) {
            cnt = 1;
        } else {
            cnt = rn(g, 2) ? rn(g, size * 8 + 1) : (unsigned)(rnd(g) & 0xff);
        }
        if (form == 2) {
            emit(g, 0xb1); emit(g, (uint8_t)cnt);                    /* mov cl, cnt */
        }
        opc[0] = form == 0 ? (size == 1 ? 0xd0 : 0xd1) : form == 1 ? (size == 1 ? 0xc0 : 0xc1)
                                                          : (size == 1 ? 0xd2 : 0xd3);
        emit_rm(g, &o, opc, 1, op);
        if (form == 1) {
            emit(g, (uint8_t)cnt);
        }
        unsigned mc = cnt & (size == 8 ? 63 : 31);
        if (mc == 0) {
            break;
        }
        if (op == 2 || op == 3) {
            reads = CF;
        }
        if (op < 4) {
            defs = CF | OF;
            undef = mc != 1 ? OF : 0;
            if (op >= 2 && (size == 1 || size == 2) && mc % (size * 8 + 1) == 0) {
                defs = 0; /* no rotation: CF kept, OF undefined below */
                undef = mc != 1 ? OF : 0;
            }
        } else {
            defs = ALL;
            undef = AF | (mc != 1 ? OF : 0) | (mc > size * 8 ? CF | OF : 0);
        }
        break;
    }
    case 10: { /* SHLD / SHRD */
        size = size_pick_w(g);
        pick_operands(g, &o, size, false);
        if (o.reg == 1 || (!o.mem && o.rm == 1)) {
            o.reg = 0;
            if (!o.mem && o.rm == 1) {
                o.rm = 2;
            }
        }
        bool cl = rn(g, 2);
        unsigned cnt = rn(g, size == 2 ? 17 : size * 8);
        if (cl) {
            emit(g, 0xb1); emit(g, (uint8_t)cnt);
        }
        opc[0] = 0x0f;
        opc[1] = (uint8_t)((rn(g, 2) ? 0xa4 : 0xac) + (cl ? 1 : 0));
        emit_rm(g, &o, opc, 2, o.reg);
        if (!cl) {
            emit(g, (uint8_t)cnt);
        }
        if (cnt == 0) {
            break;
        }
        defs = ALL;
        undef = AF | (cnt != 1 ? OF : 0);
        break;
    }
    case 11: { /* BT BTS BTR BTC */
        size = size_pick_w(g);
        pick_operands(g, &o, size, false);
        unsigned op = rn(g, 4);
        if (rn(g, 2)) {
            opc[0] = 0x0f;
            opc[1] = 0xba;
            emit_rm(g, &o, opc, 2, 4 + op);
            emit(g, (uint8_t)rnd(g));
        } else {
            if (o.mem) {
                o.mem = false; /* register offsets may leave the data page */
            }
            static const uint8_t bt[4] = { 0xa3, 0xab, 0xb3, 0xbb };
            opc[0] = 0x0f;
            opc[1] = bt[op];
            emit_rm(g, &o, opc, 2, o.reg);
        }
        defs = CF;
        undef = OF | SF | AF | PF;
        break;
    }
    case 12: { /* BSF BSR TZCNT LZCNT POPCNT */
        size = size_pick_w(g);
        pick_operands(g, &o, size, false);
        unsigned op = rn(g, 5);
        uint8_t ops[5][3] = { { 0x0f, 0xbc }, { 0x0f, 0xbd }, { 0xf3, 0x0f, 0xbc },
                              { 0xf3, 0x0f, 0xbd }, { 0xf3, 0x0f, 0xb8 } };
        emit_rm(g, &o, ops[op], op < 2 ? 2 : 3, o.reg);
        if (op < 2) {
            defs = ZF;
            undef = CF | OF | SF | AF | PF;
        } else if (op < 4) {
            defs = CF | ZF;
            undef = OF | SF | AF | PF;
        } else {
            defs = ALL;
        }
        break;
    }
    case 13: { /* MOVZX MOVSX MOVSXD */
        size = size_pick_w(g);
        pick_operands(g, &o, size, false);
        unsigned f = rn(g, g->m32 ? 4 : 5); /* 63 is ARPL in 32-bit code */
        if (f == 4) {
            o.size = 8;
            opc[0] = 0x63;
            emit_rm(g, &o, opc, 1, o.reg);
        } else {
            opc[0] = 0x0f;
            opc[1] = (uint8_t)(0xb6 + (f & 1) + ((f & 2) ? 8 : 0));
            if (!(f & 1) && o.mem == false) {
                /* byte source register: keep away from BH/BL */
                o.rex_forced = true;
                if (g->m32 && (o.rm == 3 || o.rm == 7)) {
                    o.rm = 1;
                }
            }
            emit_rm(g, &o, opc, 2, o.reg);
        }
        break;
    }
    case 14: { /* CMOVcc / SETcc */
        unsigned cc = rn(g, 16);
        if (rn(g, 2)) {
            size = size_pick_w(g);
            pick_operands(g, &o, size, false);
            opc[0] = 0x0f;
            opc[1] = (uint8_t)(0x40 + cc);
            emit_rm(g, &o, opc, 2, o.reg);
        } else {
            pick_operands(g, &o, 1, true);
            opc[0] = 0x0f;
            opc[1] = (uint8_t)(0x90 + cc);
            emit_rm(g, &o, opc, 2, 0);
        }
        reads = cond_reads(cc);
        break;
    }
    case 15: { /* XCHG XADD CMPXCHG */
        size = size_pick(g);
        pick_operands(g, &o, size, false);
        unsigned f = rn(g, 3);
        if (f == 0) {
            opc[0] = size == 1 ? 0x86 : 0x87;
            emit_rm(g, &o, opc, 1, o.reg);
        } else {
            if (rn(g, 4) == 0 && o.mem) {
                emit(g, 0xf0); /* LOCK */
            }
            opc[0] = 0x0f;
            opc[1] = (uint8_t)((f == 1 ? 0xc0 : 0xb0) + (size == 1 ? 0 : 1));
            emit_rm(g, &o, opc, 2, o.reg);
            defs = ALL;
        }
        break;
    }
    case 16: { /* MOV forms */
        size = size_pick(g);
        pick_operands(g, &o, size, false);
        unsigned f = rn(g, 3);
        if (f < 2) {
            opc[0] = (uint8_t)(0x88 + (f ? 2 : 0) + (size == 1 ? 0 : 1));
            emit_rm(g, &o, opc, 1, o.reg);
        } else {
            opc[0] = size == 1 ? 0xc6 : 0xc7;
            emit_rm(g, &o, opc, 1, 0);
            imm_for(g, size);
        }
        break;
    }
    case 17: { /* MOV r, imm (B8+r incl. imm64) */
        unsigned r = pick_reg(g);
        if (rn(g, 2) && !g->m32) {
            emit(g, (uint8_t)(0x48 | (r >= 8 ? 1 : 0)));
            emit(g, (uint8_t)(0xb8 + (r & 7)));
            emit_n(g, rnd(g), 8);
        } else {
            if (r >= 8) {
                emit(g, 0x41);
            }
            emit(g, (uint8_t)(0xb8 + (r & 7)));
            emit_n(g, rnd(g), 4);
        }
        break;
    }
    case 18: { /* LEA with SIB */
        size = size_pick_w(g);
        unsigned dst = pick_reg(g), base = pick_reg(g), index = pick_reg(g);
        if (size == 2) emit(g, 0x66);
        emit_rex(g, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (dst >= 8 ? 4 : 0) |
                              (index >= 8 ? 2 : 0) | (base >= 8 ? 1 : 0)));
        emit(g, 0x8d);
        emit(g, (uint8_t)(0x80 | ((dst & 7) << 3) | 4));
        if ((index & 7) == 4) {
            index = 0; /* no index encoding collision with "none" */
        }
        emit(g, (uint8_t)((rn(g, 4) << 6) | ((index & 7) << 3) | (base & 7)));
        emit_n(g, rnd(g), 4);
        break;
    }
    case 19: { /* CBW/CWDE/CDQE, CWD/CDQ/CQO, BSWAP */
        size = size_pick_w(g);
        unsigned f = rn(g, 3);
        if (f == 2) {
            unsigned r = pick_reg(g);
            emit_rex(g, (uint8_t)(0x48 | (r >= 8 ? 1 : 0)));
            if (rn(g, 2) && !g->m32) {
                g->p[-1] &= (uint8_t)~8;
            }
            emit(g, 0x0f);
            emit(g, (uint8_t)(0xc8 + (r & 7)));
        } else {
            if (size == 2) emit(g, 0x66);
            if (size == 8) emit_rex(g, 0x48);
            emit(g, f ? 0x99 : 0x98);
        }
        break;
    }
    case 20: { /* flag instructions */
        unsigned f = rn(g, 5);
        static const uint8_t b[5] = { 0xf5, 0xf8, 0xf9, 0x9e, 0x9f };
        emit(g, b[f]);
        if (f == 0) {
            reads = CF;
            defs = CF;
        } else if (f < 3) {
            defs = CF;
        } else if (f == 3) {
            defs = CF | PF | AF | ZF | SF; /* SAHF */
        } else {
            reads = CF | PF | AF | ZF | SF; /* LAHF */
        }
        break;
    }
    case 21: { /* PUSH/POP */
        unsigned r = pick_reg(g), r2 = pick_reg(g);
        if (r >= 8) emit(g, 0x41);
        emit(g, (uint8_t)(0x50 + (r & 7)));
        if (rn(g, 3) == 0) {
            emit(g, 0x9c);                  /* pushfq */
            if (r2 >= 8) emit(g, 0x41);
            emit(g, (uint8_t)(0x58 + (r2 & 7)));
            /* the popped flags may hold undefined bits: mask them off */
            if (r2 >= 8) emit(g, 0x49); else emit_rex(g, 0x48);
            emit(g, 0x81);
            emit(g, (uint8_t)(0xe0 | (r2 & 7)));
            emit_n(g, ~g->unknown & 0xdd7, 4); /* not IF/IOPL: harness state */
            if (r2 >= 8) emit(g, 0x41);
            emit(g, (uint8_t)(0x50 + (r2 & 7))); /* the stack copy masked too */
            if (r2 >= 8) emit(g, 0x41);
            emit(g, (uint8_t)(0x58 + (r2 & 7)));
        }
        if (r2 >= 8) emit(g, 0x41);
        emit(g, (uint8_t)(0x58 + (r2 & 7)));
        break;
    }
    case 22: { /* ADC/SBB chains over registers */
        size = size_pick(g);
        pick_operands(g, &o, size, false);
        opc[0] = (uint8_t)(rn(g, 2) ? 0x11 : 0x19);
        if (size == 1) {
            opc[0] &= (uint8_t)~1;
        }
        emit_rm(g, &o, opc, 1, o.reg);
        reads = CF;
        defs = ALL;
        break;
    }
    case 23: { /* TEST */
        size = size_pick(g);
        pick_operands(g, &o, size, false);
        opc[0] = size == 1 ? 0x84 : 0x85;
        emit_rm(g, &o, opc, 1, o.reg);
        defs = ALL;
        undef = AF;
        break;
    }
    case 24: { /* CMP / SUB followed by Jcc over one instruction */
        size = size_pick(g);
        pick_operands(g, &o, size, false);
        opc[0] = size == 1 ? 0x38 : 0x39;
        emit_rm(g, &o, opc, 1, o.reg);
        unsigned cc = rn(g, 16);
        emit(g, (uint8_t)(0x70 + cc));
        emit(g, 3);
        emit_rex(g, 0x48); emit(g, 0xff); emit(g, 0xc0); /* inc rax (skipped if taken) */
        defs = ALL;
        break;
    }
    default: { /* LOOP-free string op: MOVS/STOS/LODS within the data page */
        static const uint8_t sop[3] = { 0xa4, 0xaa, 0xac };
        size = size_pick(g);
        unsigned f = rn(g, 3);
        /* lea rsi,[rbx+0x80]; lea rdi,[rbx+0x100]; mov ecx, n */
        emit_rex(g, 0x48); emit(g, 0x8d); emit(g, 0xb3); emit_n(g, 0x80, 4);
        emit_rex(g, 0x48); emit(g, 0x8d); emit(g, 0xbb); emit_n(g, 0x100 + rn(g, 8), 4);
        emit(g, 0xb9); emit_n(g, rn(g, 24), 4);
        if (rn(g, 2)) {
            emit(g, 0xf3);
        }
        if (size == 2) emit(g, 0x66);
        if (size == 8) emit_rex(g, 0x48);
        emit(g, (uint8_t)(sop[f] + (size == 1 ? 0 : 1)));
        break;
    }
    }
    if (reads & g->unknown) {
        g->p = start;
        return false;
    }
    g->unknown = (g->unknown & ~defs) | undef;
    g->unknown &= ~(defs & ~undef);
    g->unknown |= undef;
    return true;
}

static void build_page_tables(uint8_t *ram)
{
    uint64_t *pml4 = (uint64_t *)(ram + PT_BASE);
    uint64_t *pdpt = (uint64_t *)(ram + PT_BASE + 0x1000);
    uint64_t *pd = (uint64_t *)(ram + PT_BASE + 0x2000);
    memset(ram + PT_BASE, 0, 0x3000);
    pml4[0] = (PT_BASE + 0x1000) | 7;
    pdpt[0] = (PT_BASE + 0x2000) | 7;
    for (int i = 0; i < 2; i++) {
        pd[i] = ((uint64_t)i << 21) | 0x87; /* 2 MiB, user, writable */
    }
}

static void initial_state(X86State *s, Gen *g)
{
    const uint32_t code32 = X86_DESC_P | X86_DESC_S | X86_DESC_B | X86_DESC_G |
                            (3u << X86_DESC_DPL_SHIFT) | (11u << X86_DESC_TYPE_SHIFT);
    memset(s, 0, sizeof(*s));
    const uint32_t code = X86_DESC_P | X86_DESC_S | X86_DESC_L | X86_DESC_G |
                          (3u << X86_DESC_DPL_SHIFT) | (11u << X86_DESC_TYPE_SHIFT);
    const uint32_t data = X86_DESC_P | X86_DESC_S | X86_DESC_B | X86_DESC_G |
                          (3u << X86_DESC_DPL_SHIFT) | (3u << X86_DESC_TYPE_SHIFT);
    s->segs[R_CS] = (SegmentCache){ 0x33, 0, 0xffffffff, code };
    for (int i = 0; i < 6; i++) {
        if (i != R_CS) {
            s->segs[i] = (SegmentCache){ 0x2b, 0, 0xffffffff, data };
        }
    }
    if (g->m32) {
        s->segs[R_CS] = (SegmentCache){ 0x23, 0, 0xffffffff, code32 };
    }
    s->tr = (SegmentCache){ 0x40, 0, 0x67, X86_DESC_P | (11u << X86_DESC_TYPE_SHIFT) };
    s->ldt = (SegmentCache){ 0, 0, 0, 0 };
    s->gdt.limit = 0x7f;
    s->idt.limit = 0xfff;
    s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_MP;
    s->cr3 = PT_BASE;
    s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR;
    s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE;
    for (int i = 0; i < 16; i++) {
        uint64_t v = rnd(g);
        switch (rn(g, 4)) {
        case 0: v &= 0xff; break;
        case 1: v = (uint64_t)(int64_t)(int32_t)v; break;
        default: break;
        }
        s->regs[i] = v;
    }
    s->regs[R_EBX] = DATA_BASE;
    s->regs[R_ESP] = STACK_TOP;
    s->rip = CODE_BASE;
    s->rflags = X86_FLAG_FIXED1 | X86_FLAG_IOPL | (rnd(g) & ALL);
}

/* ---- the TCG side ---- */

typedef struct Tcg {
    AddressSpace mem, io;
    MemoryRegion ram, port;
    GMutex lock;
    Accel a;
    VCpu v;
} Tcg;

static void port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Tcg *t = opaque;
    if (addr == DONE_PORT) {
        __atomic_or_fetch(&t->v.intr.pending, CPU_INTR_EXIT, __ATOMIC_SEQ_CST);
    }
}

static uint64_t port_read(void *opaque, uint64_t addr, unsigned size)
{
    return ~0ull;
}

static const MemoryRegionOps port_ops = { .read = port_read, .write = port_write };

static bool tcg_setup(Tcg *t, uint8_t *ram)
{
    GError *err = NULL;
    address_space_init(&t->mem, "memory", ~0ull);
    address_space_init(&t->io, "io", 0xffff);
    memory_region_init_ram(&t->ram, "ram", ram, 0, RAM_SIZE);
    address_space_map(&t->mem, &t->ram, 0, 0);
    memory_region_init_io(&t->port, "ports", &port_ops, t, 0x10000);
    address_space_map(&t->io, &t->port, 0, 0);
    g_mutex_init(&t->lock);
    t->a.ops = &accel_tcg_ops;
    t->a.mem = &t->mem;
    t->a.io = &t->io;
    t->a.lock = &t->lock;
    t->a.nr_vcpus = 1;
    if (!accel_tcg_ops.init(&t->a, &err) || !accel_tcg_ops.vcpu_init(&t->a, &t->v, &err)) {
        fprintf(stderr, "tcg init: %s\n", err ? err->message : "?");
        return false;
    }
    t->v.accel = &t->a;
    return true;
}

static bool tcg_run(Tcg *t, X86State *s)
{
    t->v.env = *s;
    accel_tcg_ops.set_state(&t->v, NULL);
    for (int i = 0; i < 1000; i++) {
        VCpuExit e = accel_tcg_ops.vcpu_run(&t->v);
        if (e == VCPU_EXIT_KICKED) {
            accel_tcg_ops.get_state(&t->v, NULL);
            *s = t->v.env;
            return true;
        }
        if (e != VCPU_EXIT_HALTED) {
            return false;
        }
    }
    return false;
}

static const char *const regnames[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

int main(int argc, char **argv)
{
    bool m32 = argc > 4 && strcmp(argv[4], "32") == 0;
    uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 0) : 300;
    unsigned ninsn = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 24;
    uint8_t *kram = aligned_alloc(1 << 21, RAM_SIZE);
    uint8_t *tram = aligned_alloc(1 << 21, RAM_SIZE);
    const char *why = NULL;
    KvmRef *k = kvm_ref_new(kram, RAM_SIZE, &why);
    if (!k) {
        printf("SKIP: %s: no reference CPU for the differential test\n", why);
        return 77;
    }
    Tcg *t = g_new0(Tcg, 1);
    if (!tcg_setup(t, tram)) {
        return 1;
    }
    unsigned failed = 0, passed = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        Gen g = { .rng = seed * 0x9e3779b97f4a7c15ull + 1, .m32 = m32 };
        memset(kram, 0, RAM_SIZE);
        build_page_tables(kram);
        for (unsigned i = 0; i < 0x1000; i++) {
            kram[DATA_BASE + i] = (uint8_t)rnd(&g);
        }
        X86State s0;
        initial_state(&s0, &g);
        g.p = kram + CODE_BASE;
        g.unknown = 0;
        for (unsigned i = 0; i < ninsn;) {
            if (gen_one(&g)) {
                i++;
            }
        }
        emit(&g, 0xe6);
        emit(&g, DONE_PORT); /* out 0xe9, al */
        memcpy(tram, kram, RAM_SIZE);

        X86State ks = s0, ts = s0;
        uint16_t port = 0;
        if (!kvm_ref_run(k, &ks, &port) || port != DONE_PORT) {
            printf("seed %" PRIu64 ": reference run did not finish (skipped)\n", seed);
            continue;
        }
        if (!tcg_run(t, &ts)) {
            printf("FAIL seed %" PRIu64 ": tcg run did not finish (rip %#" PRIx64 ")\n",
                   seed, t->v.env.rip);
            failed++;
            continue;
        }
        bool bad = false;
        for (int i = 0; i < 16; i++) {
            /* compatibility mode: only the low halves are architectural */
            uint64_t rm = m32 ? 0xffffffffull : ~0ull;
            if (i >= 8 && m32) {
                continue;
            }
            if ((ks.regs[i] & rm) != (ts.regs[i] & rm)) {
                printf("FAIL seed %" PRIu64 ": %s kvm %#" PRIx64 " tcg %#" PRIx64 "\n",
                       seed, regnames[i], ks.regs[i], ts.regs[i]);
                bad = true;
            }
        }
        /* IOPL is the harness's own setting (KVM does not report it back) */
        uint64_t fmask = ~(uint64_t)g.unknown & 0x3f4fd7;
        if ((ks.rflags & fmask) != (ts.rflags & fmask) || ks.rip != ts.rip) {
            printf("FAIL seed %" PRIu64 ": rflags kvm %#" PRIx64 " tcg %#" PRIx64
                   " (mask %#" PRIx64 ") rip kvm %#" PRIx64 " tcg %#" PRIx64 "\n",
                   seed, ks.rflags, ts.rflags, fmask, ks.rip, ts.rip);
            bad = true;
        }
        if (memcmp(kram + DATA_BASE, tram + DATA_BASE, 0x1000) != 0 ||
            memcmp(kram + STACK_TOP - 0x1000, tram + STACK_TOP - 0x1000, 0x1000) != 0) {
            for (unsigned i = 0; i < 0x1000; i++) {
                if (kram[DATA_BASE + i] != tram[DATA_BASE + i]) {
                    printf("FAIL seed %" PRIu64 ": data+%#x kvm %02x tcg %02x\n", seed, i,
                           kram[DATA_BASE + i], tram[DATA_BASE + i]);
                    break;
                }
                if (kram[STACK_TOP - 0x1000 + i] != tram[STACK_TOP - 0x1000 + i]) {
                    printf("FAIL seed %" PRIu64 ": stack-%#x kvm %02x tcg %02x\n", seed,
                           0x1000 - i, kram[STACK_TOP - 0x1000 + i], tram[STACK_TOP - 0x1000 + i]);
                    break;
                }
            }
            bad = true;
        }
        if (bad) {
            if (getenv("DIFFTEST_VERBOSE")) {
                printf("  code:");
                for (uint8_t *c = kram + CODE_BASE; c < g.p; c++) {
                    printf(" %02x", *c);
                }
                printf("\n");
            }
            failed++;
        } else {
            passed++;
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    kvm_ref_free(k);
    return failed ? 1 : 0;
}
