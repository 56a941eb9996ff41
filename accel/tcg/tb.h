/*
 * Translation blocks: runs of pre-decoded guest instructions, cached per vCPU
 * by physical address of the first byte, CS base, RIP and mode, and found
 * again through a direct-mapped jump cache indexed by RIP.
 */
#ifndef KESTREL_ACCEL_TCG_TB_H
#define KESTREL_ACCEL_TCG_TB_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/tcg/jit.h"
#include "cpu/x86/x86cpu.h"

#define TB_MAX_INSNS 64
#define TB_HASH_BITS 15
#define TB_PAGE_HASH_BITS 13
#define TB_JC_BITS 12

typedef struct TB TB;
struct TB {
    uint64_t pc;       /* RIP of the first instruction */
    uint64_t cs_base;
    uint64_t phys;     /* physical address of the first byte */
    uint64_t phys2;    /* second physical page when the block crosses one, or ~0 */
    uint32_t flags;    /* mode key: code size, MMU index */
    uint16_t n;        /* number of instructions */
    bool valid;
    /* Block chaining: the blocks that followed this one last time, keyed by
     * their RIP; trusted only while the TLB generation is link_gen (the
     * virtual-to-physical mapping they were found under); a flush of the
     * arena drops them all. */
    uint32_t link_gen;
    uint64_t next_pc[2];
    TB *next[2];
    TB *hash_next;
    TB *page_next[2];  /* chains of the page hash, for phys and phys2 */
    JitBlockFn code;   /* generated host code, or NULL (interpreted) */
    X86DecodedInsn insn[];
};

typedef struct TBCache {
    uint8_t *arena;
    size_t arena_size;
    size_t arena_used;
    TB *hash[1u << TB_HASH_BITS];
    TB *pages[1u << TB_PAGE_HASH_BITS];
    TB *jc[1u << TB_JC_BITS];
    uint32_t jc_tlb_gen;
    TB *chain_prev;    /* the block that ran last (NULL after a flush) */
    uint64_t flushes;
    uint64_t translated;
    bool jit_on;       /* blocks get host code (jit.h) */
    JitBuffer jit;     /* flushed together with the arena */
} TBCache;

static inline unsigned tb_hash_jc(uint64_t pc)
{
    return (unsigned)((pc ^ (pc >> TB_JC_BITS)) & ((1u << TB_JC_BITS) - 1));
}

/* The jump-cache hit path of tb_find(), inline for the execution loop. */
static inline TB *tb_lookup_fast(TBCache *c, const X86Cpu *cpu)
{
    const X86State *env = cpu->env;
    TB *tb = c->jc[tb_hash_jc(env->rip)];
    if (tb && c->jc_tlb_gen == cpu->tlb_gen && tb->valid && tb->pc == env->rip &&
        tb->cs_base == env->segs[R_CS].base &&
        tb->flags == (cpu->code_size | ((uint32_t)cpu->mmu_idx << 4))) {
        return tb;
    }
    return NULL;
}

/* The block to run after `prev` when the CPU is at its current CS:RIP, if
 * `prev` has been linked to it; NULL otherwise. */
static inline TB *tb_lookup_chained(const TB *prev, const X86Cpu *cpu)
{
    const X86State *env = cpu->env;
    if (prev->link_gen != cpu->tlb_gen) {
        return NULL;
    }
    TB *tb = prev->next_pc[0] == env->rip ? prev->next[0]
           : prev->next_pc[1] == env->rip ? prev->next[1] : NULL;
    if (tb && tb->valid && tb->cs_base == env->segs[R_CS].base &&
        tb->flags == (cpu->code_size | ((uint32_t)cpu->mmu_idx << 4))) {
        return tb;
    }
    return NULL;
}

/* Remember that `next` followed `prev` (both from the current arena). */
void tb_link(TB *prev, TB *next, uint32_t tlb_gen);

/* With `jit`, blocks also get host code when the host allows it (see
 * c->jit_on afterwards). */
bool tb_cache_init(TBCache *c, size_t arena_size, bool jit, size_t jit_size);
void tb_cache_destroy(TBCache *c);
void tb_cache_flush(TBCache *c);
/* Drop the blocks that have bytes on a physical page; true if `cur` was
 * among them. */
bool tb_invalidate_page(TBCache *c, uint64_t page, const TB *cur);
/* Find or translate the block at the CPU's current CS:RIP.  Raises the
 * fetch fault (longjmp) when the first instruction cannot be fetched.
 * *new_page is set when a physical page started holding code. */
TB *tb_find(TBCache *c, X86Cpu *cpu, void (*mark_code)(void *opaque, uint64_t page),
            void *opaque);

#endif
