/*
 * The exception group of the differential test (difftest.h): integer
 * instructions (gen-int.c) with, now and then, one that faults or traps.
 * The first exception ends the run; the harness compares its vector, error
 * code and CR2 and the registers, flags and memory at that point (nothing of
 * a faulting instruction may be committed).  Needs the host-process
 * reference (host-ref.h), whose pages include an absent and a read-only one.
 *   #PF: loads, stores, read-modify-writes, REP string operations, pushes
 *        and CALL into the absent or read-only page (also accesses that
 *        cross into it), instruction fetch from non-executable and absent
 *        pages;
 *   #GP/#SS: non-canonical addresses (64-bit), privileged instructions at
 *        CPL 3, INT n through a DPL 0 gate, segment limits (16-bit);
 *   #UD, #DE (division by zero, quotient overflow), INT3, INTO, #BR
 *        (BOUND);
 *   #PF right after a rotate whose flags the block overwrites later (the
 *        fault must still see the rotate's CF and OF);
 *   #AC: EFLAGS.AC set by POPF (CR0.AM is set), then misaligned accesses.
 * SDM vol. 3, chapter 6 (table 6-1) for the classes and error codes.
 */
#include "tests/cpu/difftest.h"
#include "tests/cpu/host-ref.h"

/* mov esi, imm32 (zero-extended to RSI in 64-bit code) */
static void mov_esi(Gen *g, uint32_t v)
{
    emit(g, 0xbe);
    emit_n(g, v, 4);
}

/* An address whose access of `size` bytes faults: inside the absent page,
 * crossing into it from the writable page below, or (stores) in the
 * read-only page or crossing from it into the writable page above. */
static uint32_t fault_addr(Gen *g, bool store, unsigned size)
{
    unsigned k = size > 1 ? 1 + rn(g, size - 1) : 0;
    switch (rn(g, store ? 4 : 2)) {
    case 0: return PAGE_ABSENT + rn(g, 0x1000 - size + 1);
    case 1: return PAGE_ABSENT - k;
    case 2: return PAGE_READONLY + rn(g, 0x1000 - size + 1);
    default: return PAGE_SPARE - (k ? k : 1);
    }
}

static unsigned exc_size(Gen *g)
{
    static const uint8_t s[] = { 1, 2, 4, 8 };
    return s[rn(g, g->m32 ? 3 : 4)];
}

/* prefixes and opcode of an r/m instruction of `size` (opc for bytes,
 * opc + 1 for the others) */
static void sized_op(Gen *g, unsigned size, uint8_t opc)
{
    emit_osize(g, size);
    if (size == 8) {
        emit(g, 0x48);
    }
    emit(g, (uint8_t)(size == 1 ? opc : opc + 1));
}

static void page_fault_data(Gen *g)
{
    unsigned size = exc_size(g), f = rn(g, 4);
    bool store = f != 0;
    mov_esi(g, fault_addr(g, store, size));
    switch (f) {
    case 0: sized_op(g, size, 0x8a); break;                  /* mov r, [rsi] */
    case 1: sized_op(g, size, 0x88); break;                  /* mov [rsi], r */
    case 2: sized_op(g, size, (uint8_t)(rn(g, 8) << 3)); break; /* ALU [rsi], r */
    default: sized_op(g, size, 0x86); break;                 /* xchg [rsi], r */
    }
    emit(g, (uint8_t)((rn(g, 3) << 3) | 6)); /* reg eax/ecx/edx, [rsi] */
}

/* REP MOVS/STOS/LODS/CMPS running into the absent page: the iterations
 * before the fault are committed (RSI, RDI, RCX and memory). */
static void page_fault_string(Gen *g)
{
    static const uint8_t ops[4] = { 0xa4, 0xaa, 0xac, 0xa6 };
    unsigned size = exc_size(g), f = rn(g, 4), n = 1 + rn(g, 40);
    uint32_t near_end = PAGE_ABSENT - size * rn(g, n);
    emit(g, 0xbf); emit_n(g, f == 2 ? DATA_BASE : near_end, 4);   /* mov edi */
    mov_esi(g, f == 2 ? near_end : DATA_BASE + 0x40);
    emit(g, 0xb9); emit_n(g, n, 4);                                /* mov ecx */
    emit(g, f == 3 ? 0xf3 : (rn(g, 4) ? 0xf3 : 0xf2));
    sized_op(g, size, ops[f]);
}

/* PUSH or CALL with RSP above the absent or read-only page. */
static void page_fault_stack(Gen *g)
{
    uint32_t sp = rn(g, 2) ? PAGE_ABSENT + 8 * (1 + rn(g, 8)) : PAGE_SPARE;
    emit(g, 0xbc); emit_n(g, sp, 4);                             /* mov esp */
    switch (rn(g, 4)) {
    case 0: emit(g, 0x50); break;                                /* push rax */
    case 1: emit(g, 0x6a); emit(g, (uint8_t)rnd(g)); break;      /* push imm8 */
    case 2: emit(g, 0x9c); break;                                /* pushf */
    default: emit(g, 0xe8); emit_n(g, 0, 4); break;              /* call +0 */
    }
}

/* JMP or CALL to a non-executable or absent page: the fault is taken at
 * the target (after CALL has pushed its return address). */
static void page_fault_fetch(Gen *g)
{
    uint32_t to;
    switch (rn(g, 3)) {
    case 0: to = DATA_BASE + rn(g, 0x1000); break;
    case 1: to = PAGE_ABSENT + rn(g, 0x1000); break;
    default: to = PAGE_READONLY + rn(g, 0x1000); break;
    }
    mov_esi(g, to);
    emit(g, 0xff);
    emit(g, rn(g, 2) ? 0xe6 : 0xd6); /* jmp/call rsi */
}

/* 64-bit code: non-canonical addresses give #GP(0) (#SS(0) for the stack). */
static void non_canonical(Gen *g)
{
    uint64_t a;
    switch (rn(g, 3)) {
    case 0: a = 0x0000800000000000ull + rn(g, 0x10000); break;
    case 1: a = 0x8000000000000000ull | (rnd(g) & 0x7fff7fffffffffffull); break;
    default: a = 0x00007ffffffffff8ull + rn(g, 8); break; /* crosses the boundary */
    }
    emit(g, 0x48); emit(g, 0xbe); emit_n(g, a, 8);             /* mov rsi, imm64 */
    switch (rn(g, 5)) {
    case 0: emit(g, 0x48); emit(g, 0x8b); emit(g, 0x06); break; /* mov rax, [rsi] */
    case 1: emit(g, 0x89); emit(g, 0x0e); break;               /* mov [rsi], ecx */
    case 2: emit(g, 0xff); emit(g, 0xe6); break;               /* jmp rsi */
    case 3: emit(g, 0x48); emit(g, 0x89); emit(g, 0xf4);       /* mov rsp, rsi */
            emit(g, 0x50); break;                              /* push rax */
    default: emit(g, 0xff); emit(g, 0x06); break;              /* inc dword [rsi] */
    }
}

static void invalid_opcode(Gen *g)
{
    static const uint8_t any[][3] = {
        { 2, 0x0f, 0x0b },       /* UD2 */
        { 3, 0x0f, 0xb9, },      /* UD1 (ModRM below) */
        { 2, 0x8d, 0xc0 },       /* LEA with a register operand */
        { 2, 0x8e, 0xc8 },       /* MOV CS, r16 */
        { 2, 0xf0, 0x90 },       /* LOCK NOP */
    };
    static const uint8_t only64[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27,
                                      0x2f, 0x37, 0x3f, 0x60, 0x61, 0xce, 0xd6 };
    unsigned f = rn(g, g->m32 ? 6 : 7);
    if (f == 5) {
        emit(g, 0xf0); /* LOCK with a register destination */
        emit(g, (uint8_t)(rn(g, 8) << 3 | 1));
        emit(g, 0xc0);
    } else if (f == 6) {
        emit(g, only64[rn(g, sizeof(only64))]);
    } else {
        for (unsigned i = 1; i <= any[f][0]; i++) {
            emit(g, i <= 2 ? any[f][i] : 0);
        }
        if (f == 1) {
            g->p[-1] = 0xc0;
        }
    }
}

/* Division by zero, signed overflow (most negative / -1), or a quotient
 * too large for the destination. */
static void divide_error(Gen *g)
{
    unsigned size = exc_size(g), f = rn(g, 3);
    if (f == 0) {
        emit_osize(g, 4); emit(g, 0x31); emit(g, 0xc9);          /* xor ecx, ecx */
        sized_op(g, size, 0xf6); emit(g, rn(g, 2) ? 0xf1 : 0xf9); /* (i)div rcx */
    } else if (f == 1) {
        if (size == 1) {
            emit_osize(g, 2); emit(g, 0xb8); emit_n(g, 0x8000, 2); /* mov ax, 0x8000 */
        } else {
            sized_op(g, size, 0xb7); /* mov eax, imm (B8 with the size's prefixes) */
            emit_n(g, 1ull << (8 * size - 1), size);
            emit_osize(g, size);
            if (size == 8) emit(g, 0x48);
            emit(g, 0x99);                                     /* cwd/cdq/cqo */
        }
        if (size == 8) {
            emit(g, 0x48); emit(g, 0xc7); emit(g, 0xc1); emit_n(g, 0xffffffff, 4);
        } else {
            sized_op(g, size, 0xb0); /* mov cl/cx/ecx, -1 (B0/B8 + 1) */
            g->p[-1] = size == 1 ? 0xb1 : 0xb9;
            emit_n(g, ~0ull, size);
        }
        sized_op(g, size, 0xf6); emit(g, 0xf9);                  /* idiv rcx */
    } else {
        /* rdx (ah) at least 16, rcx at most 15 */
        if (size == 1) {
            emit(g, 0xb4); emit(g, (uint8_t)(0x10 | rnd(g)));    /* mov ah */
            emit(g, 0xb1); emit(g, (uint8_t)(1 + rn(g, 15)));    /* mov cl */
        } else {
            sized_op(g, size == 8 ? 4 : size, 0xb9);             /* mov edx (BA) */
            g->p[-1] = 0xba;
            emit_n(g, 0x10 | rnd(g), size == 8 ? 4 : size);
            sized_op(g, size == 8 ? 4 : size, 0xb9);
            g->p[-1] = 0xb9;                                     /* mov ecx */
            emit_n(g, 1 + rn(g, 15), size == 8 ? 4 : size);
        }
        sized_op(g, size, 0xf6); emit(g, 0xf1);                  /* div rcx */
    }
    g->unknown |= ALL; /* (only if it did not fault) */
}

/* INT3, INT 3, INTO (#OF when OF is set; #UD in 64-bit code), INT n
 * through a DPL 0 gate (#GP(n * 8 + 2)).  Not INT1 (ICEBP): the nested
 * hypervisor under this host reports its #DB with RIP at the instruction,
 * not after it as the SDM's trap semantics (and the software CPU) have. */
static bool software_interrupt(Gen *g)
{
    unsigned n;
    switch (rn(g, 4)) {
    case 0: emit(g, 0xcc); break;
    case 1: emit(g, 0xcd); emit(g, 3); break;
    case 2:
        if (g->unknown & OF) {
            return false;
        }
        emit(g, 0xce);
        break;
    default:
        do {
            n = rn(g, 256);
        } while (n == 3 || n == 4 || n == 0x80); /* DPL 3 gates in Linux */
        emit(g, 0xcd);
        emit(g, (uint8_t)n);
        break;
    }
    return true;
}

/* BOUND r, m (32- and 16-bit code): #BR when the index is out of the
 * bounds read from the data page. */
static void bound_range(Gen *g)
{
    unsigned size = rn(g, 2) ? 2 : 4;
    emit_osize(g, size);
    emit(g, 0x62);
    emit_mem_rbx(g, (unsigned)rn(g, 3), (uint8_t)(rn(g, 0x70) & ~(2 * size - 1)));
}

/* Privileged instructions at CPL 3: #GP(0). */
static void privileged(Gen *g)
{
    static const uint8_t ops[][4] = {
        { 1, 0xf4 }, { 1, 0xfa }, { 1, 0xfb }, { 1, 0xec }, { 1, 0xee },
        { 2, 0xe4, 0x40 }, { 3, 0x0f, 0x20, 0xc0 }, { 3, 0x0f, 0x22, 0xc0 },
        { 3, 0x0f, 0x21, 0xf8 }, { 2, 0x0f, 0x30 }, { 2, 0x0f, 0x32 }, { 2, 0x0f, 0x06 },
        { 2, 0x0f, 0x09 }, { 3, 0x0f, 0x00, 0xd8 }, { 3, 0x0f, 0x00, 0xd0 },
    };
    unsigned f = rn(g, sizeof(ops) / sizeof(ops[0]) + 1);
    if (f == sizeof(ops) / sizeof(ops[0])) {
        emit(g, 0x0f); emit(g, 0x01);                            /* LGDT/LIDT m */
        emit_mem_rbx(g, 2 + rn(g, 2), (uint8_t)rn(g, 0x70));
        return;
    }
    for (unsigned i = 1; i <= ops[f][0]; i++) {
        emit(g, ops[f][i]);
    }
}

/* 16-bit code: a word or dword at DS offset 0xffff (#GP(0)); a PUSH with
 * SP 1 wrapping to 0xffff (#SS(0)); an access through BP (SS). */
static void segment_limit(Gen *g)
{
    switch (rn(g, 3)) {
    case 0:
        emit_osize(g, rn(g, 2) ? 2 : 4);
        emit(g, rn(g, 2) ? 0x8b : 0x89);
        emit(g, 0x87); emit_n(g, 0xffff - rn(g, 2), 2);        /* [bx+disp16] */
        break;
    case 1:
        emit(g, 0xbc); emit_n(g, 1, 2);                          /* mov sp, 1 */
        emit(g, 0x50);                                           /* push ax */
        break;
    default:
        emit(g, 0x8b); emit(g, 0x86); emit_n(g, 0xffff, 2);      /* mov ax, [bp-1] */
        break;
    }
}

/* A rotate by an immediate, a register move, then a faulting load (or ALU
 * with a faulting memory operand) and a register ADD: the software CPU's
 * dead-flags pass runs the rotate without flags because the ADD overwrites
 * them, and must still show the rotate's CF and OF in the fault's frame. */
static void rotate_then_fault(Gen *g)
{
    unsigned size = g->m32 || rn(g, 2) ? 4 : 8;
    unsigned rot = rn(g, 3), other = (rot + 1 + rn(g, 2)) % 3;
    unsigned count = 1 + rn(g, size * 8 - 1);
    if (size == 8) {
        emit(g, 0x48);
    }
    emit(g, 0xc1);                                            /* rol/ror r, imm8 */
    emit(g, (uint8_t)(0xc0 | (rn(g, 2) << 3) | rot));
    emit(g, (uint8_t)count);
    g->unknown &= ~(uint32_t)CF;
    if (count == 1) {
        g->unknown &= ~(uint32_t)OF;
    } else {
        g->unknown |= OF;
    }
    if (rn(g, 2)) {
        emit(g, 0x89);                                        /* mov other, rot */
        emit(g, (uint8_t)(0xc0 | (rot << 3) | other));
    }
    mov_esi(g, fault_addr(g, false, 4));
    emit(g, rn(g, 2) ? 0x8b : 0x03);                          /* mov/add other, [rsi] */
    emit(g, (uint8_t)((other << 3) | 6));
    emit(g, 0x01);                                            /* add rot, other */
    emit(g, (uint8_t)(0xc0 | (other << 3) | rot));
    g->unknown &= ~(uint32_t)ALL;
}

/* PUSHF, OR in EFLAGS.AC, POPF (CR0.AM is set on both sides), then a
 * misaligned load or store: #AC(0), and every later misaligned access too. */
static void alignment_check(Gen *g)
{
    unsigned size = exc_size(g);
    if (size == 1) {
        size = 2;
    }
    if (!g->m32) {
        emit(g, 0x48);
    }
    emit(g, 0x83); emit(g, 0xc0); emit(g, 0x00);              /* add rax, 0: no */
    g->unknown &= ~(uint32_t)ALL;                             /* undefined flag pushed */
    emit(g, 0x9c);                                            /* pushf */
    emit(g, 0x81); emit(g, 0x0c); emit(g, 0x24);              /* or dword [rsp], AC */
    emit_n(g, 0x40000, 4);
    emit(g, 0x9d);                                            /* popf */
    sized_op(g, size, rn(g, 2) ? 0x8a : 0x88);                /* mov r, m / mov m, r */
    emit_mem_rbx(g, rn(g, 3), (uint8_t)((rn(g, 0x70) & ~(size - 1)) + 1 + rn(g, size - 1)));
}

static bool exc_one(Gen *g)
{
    if (rn(g, 6)) {
        return gen_int.one(g);
    }
    uint8_t *start = g->p;
    bool ok = true;
    switch (rn(g, 14)) {
    case 0: if (g->m16) ok = false; else page_fault_data(g); break;
    case 1: if (g->m16) ok = false; else page_fault_string(g); break;
    case 2: if (g->m16) ok = false; else page_fault_stack(g); break;
    case 3: if (g->m16) ok = false; else page_fault_fetch(g); break;
    case 4: if (g->m32) ok = false; else non_canonical(g); break;
    case 5: invalid_opcode(g); break;
    case 6: divide_error(g); break;
    case 7: ok = software_interrupt(g); break;
    case 8: if (!g->m32) ok = false; else bound_range(g); break;
    case 9: case 10: privileged(g); break;
    case 12: if (g->m16) ok = false; else rotate_then_fault(g); break;
    case 13: if (g->m16) ok = false; else alignment_check(g); break;
    default: if (!g->m16) ok = false; else segment_limit(g); break;
    }
    if (!ok) {
        g->p = start;
    }
    return ok;
}

const DiffGen gen_exc = { .name = "exc", .one = exc_one, .faults = true };
