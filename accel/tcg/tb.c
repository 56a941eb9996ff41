/*
 * The translation-block cache: a bump-allocated arena per vCPU (flushed whole
 * when full), a hash on (physical PC, RIP, CS base, mode), a page hash for
 * self-modifying-code invalidation and a jump cache on RIP that is cleared
 * whenever the TLB is flushed.
 */
#include <glib.h>
#include <string.h>

#include "accel/tcg/tb.h"

bool tb_cache_init(TBCache *c, size_t arena_size, bool jit, size_t jit_size)
{
    memset(c, 0, sizeof(*c));
    c->arena = g_try_malloc(arena_size);
    if (!c->arena) {
        return false;
    }
    c->arena_size = arena_size;
    c->jit_on = jit && jit_init(&c->jit, jit_size);
    return true;
}

void tb_cache_destroy(TBCache *c)
{
    g_free(c->arena);
    c->arena = NULL;
    jit_destroy(&c->jit);
    c->jit_on = false;
}

void tb_cache_flush(TBCache *c)
{
    c->arena_used = 0;
    jit_reset(&c->jit);
    memset(c->hash, 0, sizeof(c->hash));
    memset(c->pages, 0, sizeof(c->pages));
    memset(c->jc, 0, sizeof(c->jc));
    c->chain_prev = NULL;
    c->flushes++;
}

static inline unsigned hash_pc(uint64_t phys, uint64_t pc, uint32_t flags)
{
    uint64_t h = phys * 0x9e3779b97f4a7c15ull ^ (pc << 7) ^ flags;
    return (unsigned)(h >> (64 - TB_HASH_BITS));
}

static inline unsigned hash_page(uint64_t page)
{
    return (unsigned)(((page >> 12) * 0x9e3779b97f4a7c15ull) >> (64 - TB_PAGE_HASH_BITS));
}


static void unlink_hash(TBCache *c, TB *tb)
{
    TB **pp = &c->hash[hash_pc(tb->phys, tb->pc, tb->flags)];
    while (*pp) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            return;
        }
        pp = &(*pp)->hash_next;
    }
}

bool tb_invalidate_page(TBCache *c, uint64_t page, const TB *cur)
{
    bool hit_cur = false;
    unsigned b = hash_page(page);
    TB **pp = &c->pages[b];
    /* A TB is chained through page_next[0] in the bucket of its first page
     * and through page_next[1] in the bucket of its second page (only when
     * that bucket differs). */
    while (*pp) {
        TB *tb = *pp;
        int slot = hash_page(tb->phys & ~0xfffull) == b ? 0 : 1;
        bool on_page = (tb->phys & ~0xfffull) == page || tb->phys2 == page;
        if (on_page || !tb->valid) {
            if (tb->valid) {
                tb->valid = false;
                unlink_hash(c, tb);
                if (tb == cur) {
                    hit_cur = true;
                }
            }
            *pp = tb->page_next[slot];
            continue;
        }
        pp = &tb->page_next[slot];
    }
    return hit_cur;
}

static TB *tb_translate(TBCache *c, X86Cpu *cpu, uint64_t pc, uint64_t cs_base,
                        uint32_t flags, uint64_t phys,
                        void (*mark_code)(void *opaque, uint64_t page), void *opaque)
{
    size_t need = sizeof(TB) + TB_MAX_INSNS * sizeof(X86DecodedInsn);
    if (c->arena_used + need > c->arena_size || (c->jit_on && !jit_has_room(&c->jit))) {
        tb_cache_flush(c);
    }
    TB *tb = (TB *)(c->arena + c->arena_used);
    tb->pc = pc;
    tb->cs_base = cs_base;
    tb->phys = phys;
    tb->phys2 = ~0ull;
    tb->flags = flags;
    tb->n = 0;
    tb->valid = true;
    tb->link_gen = cpu->tlb_gen;
    tb->next[0] = tb->next[1] = NULL;
    tb->next_pc[0] = tb->next_pc[1] = ~0ull;
    uint64_t wrap = cpu->code_size == 8 ? ~0ull : 0xffffffffull;
    uint64_t first_page = (cs_base + pc) & wrap & ~0xfffull;
    uint64_t ip = pc;
    for (unsigned i = 0; i < TB_MAX_INSNS; i++) {
        uint64_t lin = (cs_base + ip) & wrap;
        if (i > 0 && (lin & ~0xfffull) != first_page) {
            break;
        }
        X86DecodedInsn *d = &tb->insn[i];
        cpu->fetch_fault = false;
        if (!x86_decode(cpu, ip, d)) {
            if (i == 0) {
                x86_raise_recorded(cpu);
            }
            break;
        }
        tb->n++;
        uint64_t last = (lin + d->len - 1) & wrap;
        if ((last & ~0xfffull) != first_page) {
            uint64_t p2;
            if (x86_code_paddr(cpu, last, &p2)) {
                tb->phys2 = p2 & ~0xfffull;
            }
            break;
        }
        ip = d->next_ip;
        if (d->ends_block && !x86_block_continues(d, &ip)) {
            break;
        }
    }
    x86_block_drop_dead_flags(tb->insn, tb->n);
    tb->code = c->jit_on ? jit_translate(&c->jit, tb->insn, tb->n, (int)(flags >> 4), tb) : NULL;
    c->arena_used += sizeof(TB) + tb->n * sizeof(X86DecodedInsn);
    c->arena_used = (c->arena_used + 63) & ~(size_t)63;
    c->translated++;

    unsigned h = hash_pc(phys, pc, flags);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    unsigned hp = hash_page(phys & ~0xfffull);
    tb->page_next[0] = c->pages[hp];
    c->pages[hp] = tb;
    mark_code(opaque, phys & ~0xfffull);
    tb->page_next[1] = NULL;
    if (tb->phys2 != ~0ull && hash_page(tb->phys2) != hp) {
        unsigned hp2 = hash_page(tb->phys2);
        tb->page_next[1] = c->pages[hp2];
        c->pages[hp2] = tb;
    }
    if (tb->phys2 != ~0ull) {
        mark_code(opaque, tb->phys2);
    }
    return tb;
}

void tb_link(TB *prev, TB *next, uint32_t tlb_gen)
{
    if (prev->link_gen != tlb_gen) {
        prev->link_gen = tlb_gen;
        prev->next[0] = prev->next[1] = NULL;
        prev->next_pc[0] = prev->next_pc[1] = ~0ull;
    }
    /* slot 0 keeps the first successor; slot 1 takes the latest other one */
    int slot = prev->next[0] == NULL || prev->next_pc[0] == next->pc ? 0 : 1;
    prev->next[slot] = next;
    prev->next_pc[slot] = next->pc;
}

TB *tb_find(TBCache *c, X86Cpu *cpu, void (*mark_code)(void *opaque, uint64_t page),
            void *opaque)
{
    X86State *env = cpu->env;
    uint64_t pc = env->rip;
    uint64_t cs_base = env->segs[R_CS].base;
    uint32_t flags = cpu->code_size | ((uint32_t)cpu->mmu_idx << 4);
    if (c->jc_tlb_gen != cpu->tlb_gen) {
        memset(c->jc, 0, sizeof(c->jc));
        c->jc_tlb_gen = cpu->tlb_gen;
    }
    unsigned j = tb_hash_jc(pc);
    TB *tb = c->jc[j];
    if (tb && tb->valid && tb->pc == pc && tb->cs_base == cs_base && tb->flags == flags) {
        return tb;
    }
    uint64_t wrap = cpu->code_size == 8 ? ~0ull : 0xffffffffull;
    uint64_t phys;
    if (!x86_code_paddr(cpu, (cs_base + pc) & wrap, &phys)) {
        x86_raise_recorded(cpu);
    }
    for (tb = c->hash[hash_pc(phys, pc, flags)]; tb; tb = tb->hash_next) {
        if (tb->phys == phys && tb->pc == pc && tb->cs_base == cs_base && tb->flags == flags) {
            uint64_t p2;
            if (tb->phys2 == ~0ull ||
                (x86_code_paddr(cpu, ((cs_base + pc) & wrap & ~0xfffull) + 0x1000, &p2) &&
                 (p2 & ~0xfffull) == tb->phys2)) {
                break;
            }
        }
    }
    if (!tb) {
        tb = tb_translate(c, cpu, pc, cs_base, flags, phys, mark_code, opaque);
    }
    c->jc[j] = tb;
    return tb;
}
