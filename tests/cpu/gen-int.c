/*
 * The integer group of the differential test (difftest.h): ALU, shifts and
 * rotates, multiply/divide, bit operations, moves, exchanges,
 * compare-exchange, flag instructions, push/pop, conditional branches and
 * string operations on [rbx+disp8] and the stack, in 64-bit or 32-bit code.
 * Flags the SDM leaves undefined (vol. 2, each instruction's "Flags
 * Affected") are tracked in g->unknown so they are masked and never read.
 */
#include "tests/cpu/difftest.h"

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
    emit_osize(g, o->size);
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
        emit_mem_rbx(g, reg, o->disp);
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
static bool int_one(Gen *g)
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
            emit_osize(g, size);
            if (size == 8) emit_rex(g, 0x48);
            emit(g, 0x99);                                           /* cwd/cdq/cqo */
        } else {
            if (g->m16 && size == 4) emit(g, 0x66);
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
            unsigned n = g->m16 && rn(g, 2) ? 2 : 4;
            emit_osize(g, n);
            if (r >= 8) {
                emit(g, 0x41);
            }
            emit(g, (uint8_t)(0xb8 + (r & 7)));
            emit_n(g, rnd(g), n);
        }
        break;
    }
    case 18: { /* LEA with SIB */
        size = size_pick_w(g);
        unsigned dst = pick_reg(g), base = pick_reg(g), index = pick_reg(g);
        if (g->m16) emit(g, 0x67); /* a SIB needs 32-bit addressing */
        emit_osize(g, size);
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
            if (g->m16) emit(g, 0x66); /* BSWAP of a 16-bit register is undefined */
            emit_rex(g, (uint8_t)(0x48 | (r >= 8 ? 1 : 0)));
            if (rn(g, 2) && !g->m32) {
                g->p[-1] &= (uint8_t)~8;
            }
            emit(g, 0x0f);
            emit(g, (uint8_t)(0xc8 + (r & 7)));
        } else {
            emit_osize(g, size);
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
            emit_n(g, ~g->unknown & 0xdd7, g->m16 ? 2 : 4); /* not IF/IOPL: harness state */
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
        emit(g, g->m32 ? 2 : 3);
        emit_rex(g, 0x48); emit(g, 0xff); emit(g, 0xc0); /* inc rax (skipped if taken) */
        defs = ALL;
        break;
    }
    default: { /* LOOP-free string op: MOVS/STOS/LODS within the data page */
        static const uint8_t sop[3] = { 0xa4, 0xaa, 0xac };
        size = size_pick(g);
        unsigned f = rn(g, 3);
        /* lea rsi,[rbx+0x80]; lea rdi,[rbx+0x100]; mov ecx, n (in 16-bit
         * code: lea esi,[bx+0x80]; lea edi,[bx+0x100]; mov ecx, n and the
         * string operation with 16- or 32-bit addressing) */
        if (g->m16) {
            emit(g, 0x66); emit(g, 0x8d); emit(g, 0xb7); emit_n(g, 0x80, 2);
            emit(g, 0x66); emit(g, 0x8d); emit(g, 0xbf); emit_n(g, 0x100 + rn(g, 8), 2);
            emit(g, 0x66);
        } else {
            emit_rex(g, 0x48); emit(g, 0x8d); emit(g, 0xb3); emit_n(g, 0x80, 4);
            emit_rex(g, 0x48); emit(g, 0x8d); emit(g, 0xbb); emit_n(g, 0x100 + rn(g, 8), 4);
        }
        emit(g, 0xb9); emit_n(g, rn(g, 24), 4);
        if (g->m16 && rn(g, 2)) {
            emit(g, 0x67);
        }
        if (rn(g, 2)) {
            emit(g, 0xf3);
        }
        emit_osize(g, size);
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

const DiffGen gen_int = { .name = "int", .one = int_one };
