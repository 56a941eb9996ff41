/*
 * The template JIT for x86-64 hosts (see jit.h).  Generated block layout:
 *
 *   prologue   push rbx, r12..r15; rbx = cpu, r12 = cpu->env (the guest
 *              registers are env->regs[0..15], at offset 0); r13 = 0, the
 *              instructions done by the blocks run before this one
 *   per insn   either inline host code for the hottest shapes that
 *              x86_insn_shape() describes (register moves and ALU
 *              operations with their lazy flags, loads/stores/LEA through an
 *              inline TLB lookup, Jcc on the host flags of the ALU operation
 *              just before it or on x86_cond() of the lazy flags), or a
 *              call of the handler:
 *                cpu->cur = insn; env->rip = insn->next_ip;
 *                insn->exec(cpu, insn); if (cpu->stop_tb) leave
 *   exits      a handler that stopped the block returns to the execution
 *              loop (eax = instructions done, plus r13); the end of the
 *              block and a taken inline Jcc go to the dispatcher (below)
 *              with rsi = this block
 *   stubs      (after the epilogue) a TLB miss calls the instruction's own
 *              handler, which does the slow path, then jumps back; a taken
 *              Jcc stores RIP and leaves.
 *
 * The dispatcher, emitted once at the start of the buffer, chains blocks
 * without going back to C: it makes the execution loop's checks (queued
 * invalidations and TLB flushes, pending interrupt pins, interrupt shadow,
 * HLT, wait-for-SIPI) and its chained lookup (tb_lookup_chained(): the
 * successors the loop linked to this block, trusted for one TLB generation,
 * checked for validity, CS base and mode), records the new current block
 * (for self-modifying-code invalidation and for the loop's next link) and
 * jumps past the next block's prologue; otherwise it returns to the loop.
 *
 * Inline code never faults, so cpu->cur and env->rip only need to be right
 * when a handler runs (they are stored before each call) and when the block
 * is left (RIP is stored at each exit).  A fault longjmps from a handler to
 * the execution loop, which restores RIP from cpu->cur; the callee-saved
 * registers come back from its setjmp.  The stack stays 16-byte aligned at
 * every call (five pushes after the return address).  Memory shapes are
 * inlined only in 64-bit code, where a TLB hit within one page proves the
 * access valid (see mem.h); elsewhere they call their handlers.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "accel/tcg/jit-emit.h"
#include "accel/tcg/jit.h"
#include "accel/tcg/tcg.h"

_Static_assert(sizeof(X86TlbEntry) == 64, "TLB entry size is used as a shift");
_Static_assert(offsetof(X86State, regs) == 0, "guest registers at env + 0");

#define MAX_INSNS 64

typedef struct Jit {
    JitEmit e;
    int mmu_idx;
    const void *self;               /* the TB being translated */
    const uint8_t *dispatch;
    uint8_t *exits[4 * MAX_INSNS];   /* rel32s to the epilogue (eax set) */
    unsigned nexits;
    struct {
        uint8_t *patch;             /* jne to the stub */
        uint8_t *patch2;            /* another one, or NULL */
        uint8_t *back;              /* where the inline code goes on */
        const X86DecodedInsn *d;
        unsigned done;
        int remat_alu;              /* -1, or the ALU op whose host flags a
                                     * following Jcc reads */
        unsigned size;
    } slow[MAX_INSNS];
    unsigned nslow;
    struct {
        uint8_t *patch;
        uint64_t target;
        unsigned done;
    } taken[MAX_INSNS];
    unsigned ntaken;
} Jit;

static void emit_prologue(JitEmit *e)
{
    je_push(e, H_RBX);
    je_push(e, H_R12);
    je_push(e, H_R13);
    je_push(e, H_R14);
    je_push(e, H_R15);
    je_mov_rr(e, H_RBX, H_RDI);
    je_op_mem(e, 1, 0x8b, H_R12, H_RBX, -1, 0, (int32_t)offsetof(X86Cpu, env));
    je_op_rr(e, 0, 0x31, H_R13, H_R13); /* xor r13d, r13d */
}

static void emit_return(JitEmit *e)
{
    je_pop(e, H_R15);
    je_pop(e, H_R14);
    je_pop(e, H_R13);
    je_pop(e, H_R12);
    je_pop(e, H_RBX);
    je_ret(e);
}

/* Offsets from the X86Cpu (rbx) into its TcgVCpu. */
#define TCG_OFF(field) ((int32_t)offsetof(TcgVCpu, field) - (int32_t)offsetof(TcgVCpu, cpu))

static size_t emit_dispatcher(uint8_t *at)
{
    JitEmit ee = { .p = at }, *e = &ee;
    uint8_t *out[16];
    unsigned nout = 0;
    je_op_rr(e, 0, 0x01, H_RAX, H_R13); /* add r13d, eax */
    /* the execution loop's reasons to look at things first */
    je_op_mem(e, 0, 0x83, 7, H_RBX, -1, 0, (int32_t)offsetof(X86Cpu, tlb_flush_pending));
    je_u8(e, 0);
    out[nout++] = je_jne_fwd(e);
    je_op_mem(e, 0, 0x83, 7, H_RBX, -1, 0, TCG_OFF(inval_pending));
    je_u8(e, 0);
    out[nout++] = je_jne_fwd(e);
    je_op_mem(e, 1, 0x8b, H_RCX, H_RBX, -1, 0, (int32_t)offsetof(X86Cpu, intr));
    je_op_mem(e, 0, 0x83, 7, H_RCX, -1, 0, (int32_t)offsetof(CpuIntr, pending));
    je_u8(e, 0);
    out[nout++] = je_jne_fwd(e);
    je_cmp_mem8_imm(e, H_R12, (int32_t)offsetof(X86State, interrupt_shadow), 0);
    out[nout++] = je_jne_fwd(e);
    je_cmp_mem8_imm(e, H_R12, (int32_t)offsetof(X86State, halted), 0);
    out[nout++] = je_jne_fwd(e);
    je_cmp_mem8_imm(e, H_R12, (int32_t)offsetof(X86State, wait_for_sipi), 0);
    out[nout++] = je_jne_fwd(e);
    /* tb_lookup_chained(rsi) */
    je_op_mem(e, 0, 0x8b, H_RDX, H_RBX, -1, 0, (int32_t)offsetof(X86Cpu, tlb_gen));
    je_op_mem(e, 0, 0x3b, H_RDX, H_RSI, -1, 0, (int32_t)offsetof(TB, link_gen));
    out[nout++] = je_jne_fwd(e);
    je_op_mem(e, 1, 0x8b, H_RAX, H_R12, -1, 0, (int32_t)offsetof(X86State, rip));
    je_op_mem(e, 1, 0x3b, H_RAX, H_RSI, -1, 0, (int32_t)offsetof(TB, next_pc[0]));
    uint8_t *try1 = je_jne_fwd(e);
    je_op_mem(e, 1, 0x8b, H_RDX, H_RSI, -1, 0, (int32_t)offsetof(TB, next[0]));
    uint8_t *found = je_jmp_fwd(e);
    je_patch(try1, e->p);
    je_op_mem(e, 1, 0x3b, H_RAX, H_RSI, -1, 0, (int32_t)offsetof(TB, next_pc[1]));
    out[nout++] = je_jne_fwd(e);
    je_op_mem(e, 1, 0x8b, H_RDX, H_RSI, -1, 0, (int32_t)offsetof(TB, next[1]));
    je_patch(found, e->p);
    je_op_rr(e, 1, 0x85, H_RDX, H_RDX); /* test rdx, rdx */
    out[nout++] = je_jcc_fwd(e, 4);     /* je */
    je_cmp_mem8_imm(e, H_RDX, (int32_t)offsetof(TB, valid), 0);
    out[nout++] = je_jcc_fwd(e, 4);
    je_op_mem(e, 1, 0x8b, H_RAX, H_R12, -1, 0,
              (int32_t)(offsetof(X86State, segs) + R_CS * sizeof(SegmentCache) +
                        offsetof(SegmentCache, base)));
    je_op_mem(e, 1, 0x3b, H_RAX, H_RDX, -1, 0, (int32_t)offsetof(TB, cs_base));
    out[nout++] = je_jne_fwd(e);
    je_op_mem(e, 0, 0x0fb6, H_RAX, H_RBX, -1, 0, (int32_t)offsetof(X86Cpu, mmu_idx));
    je_op_rr(e, 0, 0xc1, 4, H_RAX); je_u8(e, 4);            /* shl eax, 4 */
    je_op_mem(e, 0, 0x0fb6, H_RCX, H_RBX, -1, 0, (int32_t)offsetof(X86Cpu, code_size));
    je_op_rr(e, 0, 0x09, H_RCX, H_RAX);                     /* or eax, ecx */
    je_op_mem(e, 0, 0x3b, H_RAX, H_RDX, -1, 0, (int32_t)offsetof(TB, flags));
    out[nout++] = je_jne_fwd(e);
    je_op_mem(e, 1, 0x8b, H_RAX, H_RDX, -1, 0, (int32_t)offsetof(TB, code));
    je_op_rr(e, 1, 0x85, H_RAX, H_RAX);
    out[nout++] = je_jcc_fwd(e, 4);
    /* it is the current block now */
    je_store64(e, H_RBX, TCG_OFF(cur_tb), H_RDX);
    je_store64(e, H_RBX, TCG_OFF(tbs.chain_prev), H_RDX);
    je_op_mem(e, 1, 0x83, 0, H_RBX, -1, 0, TCG_OFF(blocks)); je_u8(e, 1); /* blocks++ */
    uint8_t scratch[64];
    JitEmit probe = { .p = scratch };
    emit_prologue(&probe);
    je_op_rr(e, 1, 0x81, 0, H_RAX);                           /* add rax, entry */
    je_u32(e, (uint32_t)(probe.p - scratch));
    je_u8(e, 0xff); je_u8(e, 0xe0);                           /* jmp rax */
    for (unsigned i = 0; i < nout; i++) {
        je_patch(out[i], e->p);
    }
    je_op_rr(e, 0, 0x89, H_R13, H_RAX); /* mov eax, r13d */
    emit_return(e);
    size_t len = (size_t)(e->p - at);
    return (len + 63) & ~(size_t)63;
}

bool jit_init(JitBuffer *j, size_t size)
{
    j->base = NULL;
    j->size = 0;
    j->used = 0;
    if (!JIT_SUPPORTED) {
        return false;
    }
    /* near the program's text if the kernel agrees, so calls are rel32 */
    uintptr_t hint = ((uintptr_t)&jit_init & ~(uintptr_t)0xfffff) + (256u << 20);
    void *p = mmap((void *)hint, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return false;
    }
    j->base = p;
    j->size = size;
    j->dispatch_len = emit_dispatcher(j->base);
    j->used = j->dispatch_len;
    return true;
}

void jit_destroy(JitBuffer *j)
{
    if (j->base) {
        munmap(j->base, j->size);
    }
    j->base = NULL;
    j->size = 0;
    j->used = 0;
    j->dispatch_len = 0;
}

void jit_reset(JitBuffer *j)
{
    j->used = j->dispatch_len;
}

#define REG_OFF(r) ((int32_t)((r) * 8))
#define CPU_OFF(field) ((int32_t)offsetof(X86Cpu, field))

/* mov qword [base + off], value: an imm32 store when it sign-extends */
static void store_imm64(JitEmit *e, int base, int32_t off, uint64_t v)
{
    if (v == (uint64_t)(int64_t)(int32_t)v) {
        je_store64_imm32(e, base, off, (int32_t)v);
    } else {
        je_mov_imm64(e, H_RAX, v);
        je_store64(e, base, off, H_RAX);
    }
}

/* The interpreter's contract, for one instruction: cur, RIP, call, and
 * leave the block with `done` instructions when the handler stopped it. */
static void emit_call(Jit *j, const X86DecodedInsn *d, unsigned done)
{
    JitEmit *e = &j->e;
    je_mov_imm64(e, H_RSI, (uint64_t)(uintptr_t)d);
    je_store64(e, H_RBX, CPU_OFF(cur), H_RSI);
    store_imm64(e, H_R12, (int32_t)offsetof(X86State, rip), d->next_ip);
    je_mov_rr(e, H_RDI, H_RBX);
    je_call(e, (const void *)d->exec);
    je_cmp_mem8_imm(e, H_RBX, CPU_OFF(stop_tb), 0);
    je_mov_imm32(e, H_RAX, done);
    j->exits[j->nexits++] = je_jne_fwd(e);
}

/* RAX = the effective address (RCX clobbered); false for 16-bit addressing. */
static bool emit_ea(JitEmit *e, const X86DecodedInsn *d)
{
    if (d->addrsize == 2) {
        return false;
    }
    int64_t disp = (int64_t)d->ea_disp;
    bool small = disp == (int32_t)disp;
    if (d->ea_has_base) {
        je_op_mem(e, 1, 0x8b, H_RAX, H_R12, -1, 0, REG_OFF(d->ea_base));
    } else {
        je_op_rr(e, 0, 0x31, H_RAX, H_RAX); /* xor eax, eax */
    }
    if (d->ea_has_index) {
        je_op_mem(e, 1, 0x8b, H_RCX, H_R12, -1, 0, REG_OFF(d->ea_index));
        je_op_mem(e, 1, 0x8d, H_RAX, H_RAX, H_RCX, d->scale, small ? (int32_t)disp : 0);
    } else if (small) {
        je_op_mem(e, 1, 0x8d, H_RAX, H_RAX, -1, 0, (int32_t)disp);
    }
    if (!small) {
        je_mov_imm64(e, H_RCX, (uint64_t)disp);
        je_op_rr(e, 1, 0x01, H_RCX, H_RAX); /* add rax, rcx */
    }
    if (d->addrsize == 4) {
        je_op_rr(e, 0, 0x89, H_RAX, H_RAX); /* mov eax, eax */
    }
    return true;
}

static void emit_tlb_check(Jit *j, const X86DecodedInsn *d, unsigned size, int32_t tag,
                           unsigned done);

/* RAX = host address of a `size`-byte access at the operand's linear
 * address, on a TLB hit for `tag` (offset of tag_read or tag_write);
 * otherwise jump to a stub that runs the handler. */
static bool emit_tlb(Jit *j, const X86DecodedInsn *d, unsigned size, int32_t tag,
                     unsigned done)
{
    JitEmit *e = &j->e;
    if (!d->code64 || !emit_ea(e, d)) {
        return false;
    }
    if (d->seg >= R_FS) {
        int32_t off = (int32_t)(offsetof(X86State, segs) + d->seg * sizeof(SegmentCache) +
                                offsetof(SegmentCache, base));
        je_op_mem(e, 1, 0x03, H_RAX, H_R12, -1, 0, off); /* add rax, seg base */
    }
    emit_tlb_check(j, d, size, tag, done);
    return true;
}

/* RAX: a linear address (64-bit mode) -> its host address on a TLB hit
 * (RCX, RDX clobbered), else a jump to the handler's stub. */
static void emit_tlb_check(Jit *j, const X86DecodedInsn *d, unsigned size, int32_t tag,
                           unsigned done)
{
    JitEmit *e = &j->e;
    int32_t tlb = CPU_OFF(tlb) + (int32_t)(j->mmu_idx * sizeof(((X86Cpu *)0)->tlb[0]));
    je_mov_rr(e, H_RDX, H_RAX);
    je_op_rr(e, 1, 0xc1, 5, H_RDX); je_u8(e, 12);          /* shr rdx, 12 */
    je_op_rr(e, 0, 0x81, 4, H_RDX); je_u32(e, X86_TLB_SIZE - 1); /* and edx */
    je_op_rr(e, 0, 0xc1, 4, H_RDX); je_u8(e, 6);           /* shl edx, 6 */
    je_op_mem(e, 1, 0x8d, H_RCX, H_RAX, -1, 0, (int32_t)size - 1);
    je_op_rr(e, 1, 0x81, 4, H_RCX); je_u32(e, 0xfffff000u); /* and rcx, ~0xfff */
    je_op_mem(e, 1, 0x3b, H_RCX, H_RBX, H_RDX, 0, tlb + tag); /* cmp rcx, tag */
    j->slow[j->nslow].patch = je_jne_fwd(e);
    j->slow[j->nslow].d = d;
    j->slow[j->nslow].done = done;
    j->slow[j->nslow].remat_alu = -1;
    j->slow[j->nslow].patch2 = NULL;
    j->slow[j->nslow].size = size;
    je_op_mem(e, 1, 0x03, H_RAX, H_RBX, H_RDX, 0,
              tlb + (int32_t)offsetof(X86TlbEntry, addend)); /* add rax, addend */
}

static void end_tlb(Jit *j)
{
    j->slow[j->nslow++].back = j->e.p;
}

static const uint32_t cc_kind[8] = {
    CC_ADD, CC_LOGIC, 0, 0, CC_LOGIC, CC_SUB, CC_LOGIC, CC_SUB,
};

/* The lazy-flag stores of an inline ALU operation: result in RAX, second
 * operand in RCX. */
static void emit_flags(JitEmit *e, unsigned alu, unsigned size)
{
    unsigned kind = cc_kind[alu];
    je_op_mem(e, 0, 0xc7, 0, H_RBX, -1, 0, CPU_OFF(cc_op));
    je_u32(e, CC_OP(kind, size == 8 ? 3 : size == 4 ? 2 : 0));
    je_store64(e, H_RBX, CPU_OFF(cc_dst), H_RAX);
    if (kind != CC_LOGIC) {
        je_store64(e, H_RBX, CPU_OFF(cc_src), H_RCX);
    }
}

/* After a handler ran an ALU operation's slow path: set the host flags
 * from the lazy ones it left (cc_dst = result, cc_src = second operand), as
 * the inline operation would have, for the Jcc that may follow. */
static void emit_remat_flags(JitEmit *e, unsigned alu, unsigned size)
{
    int w = size == 8;
    unsigned b = size == 1 ? 1 : 0; /* byte forms: opcode - 1 */
    je_op_mem(e, 1, 0x8b, H_RAX, H_RBX, -1, 0, CPU_OFF(cc_dst));
    switch (cc_kind[alu]) {
    case CC_LOGIC:
        je_op_rr(e, w, 0x85 - b, H_RAX, H_RAX);             /* test rax, rax */
        break;
    case CC_SUB:                                             /* a = r + b; cmp a, b */
        je_op_mem(e, 1, 0x8b, H_RCX, H_RBX, -1, 0, CPU_OFF(cc_src));
        je_op_rr(e, w, 0x01 - b, H_RCX, H_RAX);             /* add rax, rcx */
        je_op_rr(e, w, 0x39 - b, H_RCX, H_RAX);             /* cmp rax, rcx */
        break;
    default:                                                 /* a = r - b; add a, b */
        je_op_mem(e, 1, 0x8b, H_RCX, H_RBX, -1, 0, CPU_OFF(cc_src));
        je_op_rr(e, w, 0x29 - b, H_RCX, H_RAX);             /* sub rax, rcx */
        je_op_rr(e, w, 0x01 - b, H_RCX, H_RAX);             /* add rax, rcx */
        break;
    }
}

/* Inline code for one instruction; false when it has none.  *flags_live
 * tells whether the host flags now equal the guest's (for a following
 * Jcc). */
static bool emit_inline(Jit *j, const X86DecodedInsn *d, unsigned done, bool *flags_live)
{
    JitEmit *e = &j->e;
    X86Shape sh = x86_insn_shape(d);
    int w = sh.size == 8;
    bool live = *flags_live;
    *flags_live = false;
    switch (sh.kind) {
    case X86_SHAPE_MOV_RR:
        je_op_mem(e, w, 0x8b, H_RAX, H_R12, -1, 0, REG_OFF(sh.src));
        je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        return true;
    case X86_SHAPE_MOV_RI:
        store_imm64(e, H_R12, REG_OFF(sh.dst), d->imm);
        return true;
    case X86_SHAPE_ALU_RR:
    case X86_SHAPE_ALU_RI:
    case X86_SHAPE_TEST_RR: {
        unsigned alu = sh.kind == X86_SHAPE_TEST_RR ? 4 : sh.alu;
        if (alu == 2 || alu == 3) {
            return false; /* ADC/SBB read the lazy carry */
        }
        if (sh.kind == X86_SHAPE_ALU_RI && w && d->imm != (uint64_t)(int64_t)(int32_t)d->imm) {
            return false;
        }
        unsigned hop = alu == 7 ? 5 : alu; /* CMP computes as SUB */
        je_op_mem(e, w, 0x8b, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        if (sh.kind == X86_SHAPE_ALU_RI) {
            if (w) {
                je_op_rr(e, 1, 0xc7, 0, H_RCX); /* mov rcx, simm32 */
            } else {
                je_op_rr(e, 0, 0xc7, 0, H_RCX); /* mov ecx, imm32 */
            }
            je_u32(e, (uint32_t)d->imm);
        } else {
            je_op_mem(e, w, 0x8b, H_RCX, H_R12, -1, 0, REG_OFF(sh.src));
        }
        je_op_rr(e, w, hop * 8 + 1, H_RCX, H_RAX); /* op rax, rcx */
        if (alu != 7 && sh.kind != X86_SHAPE_TEST_RR) {
            je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        }
        emit_flags(e, alu, sh.size);
        *flags_live = true;
        return true;
    }
    case X86_SHAPE_LOAD:
    case X86_SHAPE_LOAD_ZX: {
        unsigned size = sh.size;
        if (!emit_tlb(j, d, size, (int32_t)offsetof(X86TlbEntry, tag_read), done)) {
            return false;
        }
        unsigned op = size == 1 ? 0x0fb6 : size == 2 ? 0x0fb7 : 0x8b;
        je_op_mem(e, size == 8, op, H_RAX, H_RAX, -1, 0, 0);
        je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        end_tlb(j);
        return true;
    }
    case X86_SHAPE_STORE:
        if (!emit_tlb(j, d, sh.size, (int32_t)offsetof(X86TlbEntry, tag_write), done)) {
            return false;
        }
        je_op_mem(e, 1, 0x8b, H_RCX, H_R12, -1, 0, REG_OFF(sh.src));
        if (sh.size == 2) {
            je_u8(e, 0x66);
        }
        je_op_mem(e, w, sh.size == 1 ? 0x88 : 0x89, H_RCX, H_RAX, -1, 0, 0);
        end_tlb(j);
        return true;
    case X86_SHAPE_ALU_RM:
    case X86_SHAPE_CMP_MR:
    case X86_SHAPE_CMP_MI: {
        unsigned alu = sh.alu;
        if (alu == 2 || alu == 3) {
            return false;
        }
        if (sh.kind == X86_SHAPE_CMP_MI && w && d->imm != (uint64_t)(int64_t)(int32_t)d->imm) {
            return false;
        }
        if (!emit_tlb(j, d, sh.size, (int32_t)offsetof(X86TlbEntry, tag_read), done)) {
            return false;
        }
        /* byte operands are zero-extended into 32-bit registers */
        unsigned ld = sh.size == 1 ? 0x0fb6 : 0x8b;
        if (sh.kind == X86_SHAPE_ALU_RM) {
            je_op_mem(e, w, ld, H_RCX, H_RAX, -1, 0, 0);               /* b = [m] */
            je_op_mem(e, w, ld, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst)); /* a */
        } else {
            je_op_mem(e, w, ld, H_RAX, H_RAX, -1, 0, 0);               /* a = [m] */
            if (sh.kind == X86_SHAPE_CMP_MI) {
                je_op_rr(e, w, 0xc7, 0, H_RCX);
                je_u32(e, sh.size == 1 ? (uint8_t)d->imm : (uint32_t)d->imm);
            } else {
                je_op_mem(e, w, ld, H_RCX, H_R12, -1, 0, REG_OFF(sh.src));
            }
        }
        unsigned hop = alu == 7 ? 5 : alu;
        je_op_rr(e, w, hop * 8 + (sh.size == 1 ? 0 : 1), H_RCX, H_RAX);
        if (alu != 7) {
            je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        }
        emit_flags(e, alu, sh.size);
        j->slow[j->nslow].remat_alu = (int)alu;
        end_tlb(j);
        *flags_live = true;
        return true;
    }
    case X86_SHAPE_NOT_R:
        je_op_mem(e, w, 0x8b, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        je_op_rr(e, w, 0xf7, 2, H_RAX); /* not eax or rax */
        je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        return true;
    case X86_SHAPE_ROT_RI:
        je_op_mem(e, w, 0x8b, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        je_op_rr(e, w, 0xc1, sh.alu, H_RAX); /* rol/ror eax or rax, imm8 */
        je_u8(e, (uint8_t)d->imm);
        je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        return true;
    case X86_SHAPE_LEA:
        if (!emit_ea(e, d)) {
            return false;
        }
        if (!w) {
            je_op_rr(e, 0, 0x89, H_RAX, H_RAX); /* mov eax, eax */
        }
        je_op_mem(e, 1, 0x89, H_RAX, H_R12, -1, 0, REG_OFF(sh.dst));
        return true;
    case X86_SHAPE_PUSH:
    case X86_SHAPE_CALL:
        /* rsi = RSP - 8, the slot; [slot] = value; RSP = rsi */
        je_op_mem(e, 1, 0x8b, H_RSI, H_R12, -1, 0, REG_OFF(R_ESP));
        je_op_rr(e, 1, 0x83, 5, H_RSI); je_u8(e, 8);          /* sub rsi, 8 */
        je_mov_rr(e, H_RAX, H_RSI);
        emit_tlb_check(j, d, 8, (int32_t)offsetof(X86TlbEntry, tag_write), done);
        if (sh.kind == X86_SHAPE_PUSH) {
            je_op_mem(e, 1, 0x8b, H_RCX, H_R12, -1, 0, REG_OFF(sh.src));
        } else if (d->next_ip == (uint64_t)(int64_t)(int32_t)d->next_ip) {
            je_op_rr(e, 1, 0xc7, 0, H_RCX); je_u32(e, (uint32_t)d->next_ip);
        } else {
            je_mov_imm64(e, H_RCX, d->next_ip);
        }
        je_op_mem(e, 1, 0x89, H_RCX, H_RAX, -1, 0, 0);
        je_op_mem(e, 1, 0x89, H_RSI, H_R12, -1, 0, REG_OFF(R_ESP));
        end_tlb(j);
        return true;
    case X86_SHAPE_POP:
    case X86_SHAPE_RET:
        je_op_mem(e, 1, 0x8b, H_RSI, H_R12, -1, 0, REG_OFF(R_ESP));
        je_mov_rr(e, H_RAX, H_RSI);
        emit_tlb_check(j, d, 8, (int32_t)offsetof(X86TlbEntry, tag_read), done);
        je_op_mem(e, 1, 0x8b, H_RCX, H_RAX, -1, 0, 0);          /* value */
        if (sh.kind == X86_SHAPE_RET) {
            /* a non-canonical target faults: let the handler do it */
            je_mov_rr(e, H_RDX, H_RCX);
            je_op_rr(e, 1, 0xc1, 4, H_RDX); je_u8(e, 16);     /* shl rdx, 16 */
            je_op_rr(e, 1, 0xc1, 7, H_RDX); je_u8(e, 16);     /* sar rdx, 16 */
            je_op_rr(e, 1, 0x39, H_RCX, H_RDX);               /* cmp rdx, rcx */
            j->slow[j->nslow].patch2 = je_jne_fwd(e);         /* same stub */
        }
        je_op_rr(e, 1, 0x83, 0, H_RSI); je_u8(e, 8);          /* add rsi, 8 */
        je_op_mem(e, 1, 0x89, H_RSI, H_R12, -1, 0, REG_OFF(R_ESP));
        if (sh.kind == X86_SHAPE_POP) {
            je_op_mem(e, 1, 0x89, H_RCX, H_R12, -1, 0, REG_OFF(sh.dst));
        } else {
            je_op_mem(e, 1, 0x89, H_RCX, H_R12, -1, 0, (int32_t)offsetof(X86State, rip));
        }
        end_tlb(j);
        return true;
    case X86_SHAPE_JMP:
        return true;
    case X86_SHAPE_JCC:
        if (!live) {
            /* the lazy flags decide: al = x86_cond(cpu, cc) */
            je_mov_rr(e, H_RDI, H_RBX);
            je_mov_imm32(e, H_RSI, sh.cc);
            je_call(e, (const void *)x86_cond);
            je_op_rr(e, 0, 0x84, H_RAX, H_RAX);               /* test al, al */
            j->taken[j->ntaken].patch = je_jcc_fwd(e, 5);     /* jnz */
            j->taken[j->ntaken].target = d->imm;
            j->taken[j->ntaken].done = done;
            j->ntaken++;
            return true;
        }
        j->taken[j->ntaken].patch = je_jcc_fwd(e, sh.cc);
        j->taken[j->ntaken].target = d->imm;
        j->taken[j->ntaken].done = done;
        j->ntaken++;
        return true;
    default:
        return false;
    }
}

/* Leave towards the dispatcher with eax = done, rsi = this block. */
static void emit_to_dispatcher(Jit *j, unsigned done)
{
    JitEmit *e = &j->e;
    je_mov_imm32(e, H_RAX, done);
    je_mov_imm64(e, H_RSI, (uint64_t)(uintptr_t)j->self);
    je_jmp_to(e, j->dispatch);
}

JitBlockFn jit_translate(JitBuffer *jb, const X86DecodedInsn *insn, unsigned n, int mmu_idx,
                         const void *self)
{
    uint8_t *start = jb->base + jb->used;
    Jit j = { .e = { .p = start }, .mmu_idx = mmu_idx, .self = self, .dispatch = jb->base };
    JitEmit *e = &j.e;

    emit_prologue(e);

    /* RIP is stale after inline code: stale_rip is what it should be */
    bool flags_live = false, rip_stale = false;
    uint64_t stale_rip = 0;
    if (n > MAX_INSNS) {
        n = MAX_INSNS;
    }
    for (unsigned i = 0; i < n; i++) {
        const X86DecodedInsn *d = &insn[i];
        if (emit_inline(&j, d, i + 1, &flags_live)) {
            X86ShapeKind k = x86_insn_shape(d).kind;
            rip_stale = k != X86_SHAPE_RET;
            stale_rip = k == X86_SHAPE_CALL || k == X86_SHAPE_JMP ? d->imm : d->next_ip;
        } else {
            emit_call(&j, d, i + 1);
            rip_stale = false;
        }
    }
    if (rip_stale) {
        store_imm64(e, H_R12, (int32_t)offsetof(X86State, rip), stale_rip);
    }
    emit_to_dispatcher(&j, n);
    /* a handler stopped the block: back to the execution loop */
    uint8_t *epilogue = e->p;
    for (unsigned i = 0; i < j.nexits; i++) {
        je_patch(j.exits[i], epilogue);
    }
    je_op_rr(e, 0, 0x01, H_R13, H_RAX); /* add eax, r13d */
    emit_return(e);

    /* out-of-line stubs */
    for (unsigned i = 0; i < j.ntaken; i++) {
        je_patch(j.taken[i].patch, e->p);
        store_imm64(e, H_R12, (int32_t)offsetof(X86State, rip), j.taken[i].target);
        emit_to_dispatcher(&j, j.taken[i].done);
    }
    for (unsigned i = 0; i < j.nslow; i++) {
        je_patch(j.slow[i].patch, e->p);
        if (j.slow[i].patch2) {
            je_patch(j.slow[i].patch2, e->p);
        }
        unsigned before = j.nexits;
        emit_call(&j, j.slow[i].d, j.slow[i].done);
        for (unsigned k = before; k < j.nexits; k++) {
            je_patch(j.exits[k], epilogue);
        }
        if (j.slow[i].remat_alu >= 0) {
            emit_remat_flags(e, (unsigned)j.slow[i].remat_alu, j.slow[i].size);
        }
        je_jmp_to(e, j.slow[i].back);
    }

    jb->used = (size_t)(e->p - jb->base);
    jb->used = (jb->used + 15) & ~(size_t)15;
    return (JitBlockFn)(void *)start;
}
