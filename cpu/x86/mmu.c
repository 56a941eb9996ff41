/*
 * Paging and the softmmu TLB (SDM vol. 3, chapter 4): 32-bit paging with
 * PSE (4 MiB pages, PSE-36), PAE paging, 4-level paging with 2 MiB / 1 GiB
 * pages; U/S, R/W with CR0.WP, NX with EFER.NXE; accessed and dirty bits;
 * #PF error codes.  TLB entries map a virtual page to a host pointer for RAM;
 * MMIO, ROM writes and writes to pages holding translated code keep the slow
 * bit and are handled here.
 */
#include <string.h>

#include "cpu/x86/mem.h"

void x86_tlb_flush(X86Cpu *cpu)
{
    memset(cpu->tlb, 0xff, sizeof(cpu->tlb));
    cpu->tlb_has_large = false;
    cpu->tlb_gen++;
}

/* Alignment checking (SDM vol. 3, 6.15 "Interrupt 17"): data accesses at
 * CPL 3 of 2, 4 or 8 bytes not aligned to their size raise #AC(0) while
 * CR0.AM and RFLAGS.AC are set.  User TLB entries then take the slow paths,
 * which check after the translation (a page fault comes first). */
void x86_align_check_update(X86Cpu *cpu)
{
    const X86State *env = cpu->env;
    bool on = (env->cr0 & X86_CR0_AM) && (env->rflags & X86_FLAG_AC) && cpu->cpl == 3;
    if (on != cpu->align_check) {
        cpu->align_check = on;
        x86_tlb_flush(cpu);
    }
}

static inline void check_alignment(X86Cpu *cpu, uint64_t va, unsigned size, int mmu_idx)
{
    if (unlikely(cpu->align_check) && mmu_idx == MMU_USER &&
        (size == 2 || size == 4 || size == 8) && (va & (size - 1))) {
        x86_raise_err(cpu, EXC_AC, 0);
    }
}

void x86_tlb_flush_page(X86Cpu *cpu, uint64_t vaddr)
{
    if (cpu->tlb_has_large) {
        x86_tlb_flush(cpu);
        return;
    }
    unsigned i = (vaddr >> 12) & (X86_TLB_SIZE - 1);
    cpu->tlb_gen++;
    for (int m = 0; m < MMU_COUNT; m++) {
        memset(&cpu->tlb[m][i], 0xff, sizeof(X86TlbEntry));
    }
}

void x86_tlb_protect_code(X86Cpu *cpu, uint64_t paddr)
{
    paddr &= X86_PAGE_MASK;
    for (int m = 0; m < MMU_COUNT; m++) {
        for (unsigned i = 0; i < X86_TLB_SIZE; i++) {
            X86TlbEntry *e = &cpu->tlb[m][i];
            if (e->paddr == paddr && e->tag_write != X86_TLB_INVALID) {
                e->tag_write |= X86_TLB_SLOW;
            }
        }
    }
}

/* Host pointer of a whole RAM page, or NULL; *rom says it is read-only. */
static uint8_t *phys_page_host(X86Cpu *cpu, uint64_t page, bool *writable)
{
    const FlatView *v = address_space_view(cpu->mem);
    const FlatRange *fr = flatview_lookup(v, page);
    if (!fr || page + 0xfff > fr->end || page < fr->start) {
        return NULL;
    }
    MemoryRegion *mr = fr->mr;
    if (mr->kind == MR_RAM) {
        *writable = !mr->readonly_for_guest;
    } else if (mr->kind == MR_ROM) {
        *writable = false;
    } else {
        return NULL;
    }
    return mr->host + (page - fr->start + fr->offset);
}

uint8_t *x86_code_host(X86Cpu *cpu, uint64_t paddr)
{
    bool w;
    return phys_page_host(cpu, paddr & X86_PAGE_MASK, &w);
}

uint64_t x86_phys_read(X86Cpu *cpu, uint64_t paddr, unsigned size)
{
    bool w;
    uint8_t *h = phys_page_host(cpu, paddr & X86_PAGE_MASK, &w);
    if (h && (paddr & 0xfff) + size <= 0x1000) {
        const uint8_t *p = h + (paddr & 0xfff);
        switch (size) {
        case 1: return *p;
        case 2: return ld16(p);
        case 4: return ld32(p);
        default: return ld64(p);
        }
    }
    return address_space_read_val_locked(cpu->mem, cpu->lock, paddr, size);
}

void x86_phys_write(X86Cpu *cpu, uint64_t paddr, uint64_t val, unsigned size)
{
    bool w;
    uint8_t *h = phys_page_host(cpu, paddr & X86_PAGE_MASK, &w);
    if (h && w && (paddr & 0xfff) + size <= 0x1000) {
        if (x86_code_page_test(&cpu->host, paddr)) {
            cpu->host.code_written(cpu->host.opaque, paddr & X86_PAGE_MASK);
        }
        uint8_t *p = h + (paddr & 0xfff);
        switch (size) {
        case 1: *p = (uint8_t)val; return;
        case 2: st16(p, (uint16_t)val); return;
        case 4: st32(p, (uint32_t)val); return;
        default: st64(p, val); return;
        }
    }
    if (h && !w) {
        return; /* ROM: writes are ignored */
    }
    address_space_write_val_locked(cpu->mem, cpu->lock, paddr, val, size);
}

/* Page-table entry access: entries live in RAM; A/D updates are atomic. */
static uint64_t pte_read(X86Cpu *cpu, uint64_t pa, bool pae)
{
    return x86_phys_read(cpu, pa, pae ? 8 : 4);
}

static void pte_set_bits(X86Cpu *cpu, uint64_t pa, uint64_t bits, bool pae)
{
    bool w;
    uint8_t *h = phys_page_host(cpu, pa & X86_PAGE_MASK, &w);
    if (h && w) {
        if (pae) {
            __atomic_fetch_or((uint64_t *)(h + (pa & 0xfff)), bits, __ATOMIC_SEQ_CST);
        } else {
            __atomic_fetch_or((uint32_t *)(h + (pa & 0xfff)), (uint32_t)bits, __ATOMIC_SEQ_CST);
        }
        if (x86_code_page_test(&cpu->host, pa)) {
            cpu->host.code_written(cpu->host.opaque, pa & X86_PAGE_MASK);
        }
        return;
    }
    uint64_t v = pte_read(cpu, pa, pae);
    x86_phys_write(cpu, pa, v | bits, pae ? 8 : 4);
}

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PHYS_MASK 0x000ffffffffff000ull

typedef struct Walk {
    uint64_t paddr;     /* physical address of vaddr */
    uint64_t page_size;
    bool writable, user, exec, dirty;
} Walk;

/* Walk the page tables.  Returns 0 or a #PF error code (with bit 31 set to
 * mark "fault" even when the code would be 0). */
static uint32_t walk(X86Cpu *cpu, uint64_t va, X86Access acc, bool user_access,
                     Walk *w)
{
    X86State *env = cpu->env;
    bool pae = env->cr4 & X86_CR4_PAE;
    bool lma = env->efer & X86_EFER_LMA;
    bool nxe = env->efer & X86_EFER_NXE;
    uint64_t rsvd_nx = nxe ? 0 : PTE_NX;
    uint64_t entry_pa[5];
    int nent = 0;
    uint64_t e = 0;
    bool wr = true, us = true, nx = false;
    uint64_t psize = 0x1000, base = 0;
    uint32_t err_acc = (acc == ACC_WRITE ? PF_W : 0) | (user_access ? PF_U : 0) |
                       (acc == ACC_EXEC && nxe ? PF_I : 0);

    if (!pae) {
        uint64_t pde_pa = (env->cr3 & 0xfffff000u) + ((va >> 22) & 0x3ff) * 4;
        e = pte_read(cpu, pde_pa, false);
        if (!(e & PTE_P)) {
            return err_acc | (1u << 31);
        }
        entry_pa[nent++] = pde_pa;
        wr &= !!(e & PTE_W);
        us &= !!(e & PTE_U);
        if ((e & PTE_PS) && (env->cr4 & X86_CR4_PSE)) {
            psize = 0x400000;
            base = (e & 0xffc00000u) | (((e >> 13) & 0xff) << 32);
        } else {
            uint64_t pte_pa = (e & 0xfffff000u) + ((va >> 12) & 0x3ff) * 4;
            e = pte_read(cpu, pte_pa, false);
            if (!(e & PTE_P)) {
                return err_acc | (1u << 31);
            }
            entry_pa[nent++] = pte_pa;
            wr &= !!(e & PTE_W);
            us &= !!(e & PTE_U);
            base = e & 0xfffff000u;
        }
    } else {
        uint64_t table;
        int level;
        if (lma) {
            table = env->cr3 & PHYS_MASK;
            level = 4;
        } else {
            uint64_t pdpte_pa = (env->cr3 & 0xffffffe0u) + ((va >> 30) & 3) * 8;
            e = pte_read(cpu, pdpte_pa, true);
            if (!(e & PTE_P)) {
                return err_acc | (1u << 31);
            }
            if (e & 0x1e6) {
                return err_acc | PF_P | PF_RSVD;
            }
            table = e & PHYS_MASK;
            level = 2;
        }
        for (;;) {
            unsigned shift = 12 + 9 * (level - 1);
            uint64_t pa = table + ((va >> shift) & 0x1ff) * 8;
            e = pte_read(cpu, pa, true);
            if (!(e & PTE_P)) {
                return err_acc | (1u << 31);
            }
            if (e & rsvd_nx) {
                return err_acc | PF_P | PF_RSVD;
            }
            entry_pa[nent++] = pa;
            wr &= !!(e & PTE_W);
            us &= !!(e & PTE_U);
            nx |= nxe && (e & PTE_NX);
            if (level == 1) {
                base = e & PHYS_MASK;
                break;
            }
            if ((e & PTE_PS) && (level == 2 || (level == 3 && lma))) {
                if (level == 4) {
                    return err_acc | PF_P | PF_RSVD;
                }
                psize = 1ull << shift;
                base = e & PHYS_MASK & ~(psize - 1);
                break;
            }
            if (level == 4 && (e & PTE_PS)) {
                return err_acc | PF_P | PF_RSVD;
            }
            table = e & PHYS_MASK;
            level--;
        }
    }

    /* permission checks */
    if (user_access && !us) {
        return err_acc | PF_P;
    }
    if (acc == ACC_WRITE && !wr && (user_access || (env->cr0 & X86_CR0_WP))) {
        return err_acc | PF_P;
    }
    if (acc == ACC_EXEC && nx) {
        return err_acc | PF_P;
    }

    /* accessed bits on every level, dirty on the leaf for writes */
    for (int i = 0; i < nent; i++) {
        uint64_t v = pte_read(cpu, entry_pa[i], pae);
        uint64_t bits = PTE_A;
        if (i == nent - 1 && acc == ACC_WRITE) {
            bits |= PTE_D;
        }
        if ((v & bits) != bits) {
            pte_set_bits(cpu, entry_pa[i], bits, pae);
        }
    }
    w->paddr = base + (va & (psize - 1));
    w->page_size = psize;
    w->writable = wr || (!user_access && !(env->cr0 & X86_CR0_WP));
    w->user = us;
    w->exec = !nx;
    w->dirty = acc == ACC_WRITE || (e & PTE_D);
    return 0;
}

static void tlb_fill(X86Cpu *cpu, uint64_t va, const Walk *w, int mmu_idx,
                     X86Access acc)
{
    uint64_t page = va & X86_PAGE_MASK;
    uint64_t ppage = w->paddr & X86_PAGE_MASK;
    X86TlbEntry *e = &cpu->tlb[mmu_idx][(va >> 12) & (X86_TLB_SIZE - 1)];
    bool writable;
    uint8_t *h = phys_page_host(cpu, ppage, &writable);
    e->paddr = ppage;
    e->flags = 0;
    if (w->page_size > 0x1000) {
        e->flags |= X86_TLBF_LARGE;
        cpu->tlb_has_large = true;
    }
    if (h) {
        e->addend = (uintptr_t)h - (uintptr_t)page;
        e->flags |= X86_TLBF_RAM | (writable ? X86_TLBF_RAM_WR : 0);
        e->tag_read = page;
        e->tag_code = w->exec ? page : X86_TLB_INVALID;
    } else {
        e->addend = 0;
        e->tag_read = page | X86_TLB_SLOW;
        e->tag_code = w->exec ? page | X86_TLB_SLOW : X86_TLB_INVALID;
    }
    if (w->writable && w->dirty) {
        e->tag_write = page;
        if (!h || !writable || x86_code_page_test(&cpu->host, ppage)) {
            e->tag_write |= X86_TLB_SLOW;
        }
    } else {
        e->tag_write = X86_TLB_INVALID;
    }
    if (cpu->dbg_data_on || (cpu->align_check && mmu_idx == MMU_USER)) {
        /* data breakpoints: every access goes through x86_debug_data();
         * alignment checks: through check_alignment() */
        e->tag_read |= X86_TLB_SLOW;
        e->tag_write |= X86_TLB_SLOW;
    }
    if (!x86_canonical(page)) {
        /* mem.h's 64-bit fast path relies on a tag hit meaning a canonical
         * address: keep such pages (reached by system-table accesses) slow */
        e->tag_read |= X86_TLB_SLOW;
        e->tag_code |= X86_TLB_SLOW;
        e->tag_write |= X86_TLB_SLOW;
    }
}

bool x86_translate_nofault(X86Cpu *cpu, uint64_t va, X86Access acc,
                           int mmu_idx, uint64_t *paddr, uint32_t *pf_error)
{
    if (!(cpu->env->cr0 & X86_CR0_PG)) {
        *paddr = cpu->long_mode ? va : (uint32_t)va;
        Walk w = { .paddr = *paddr & X86_PAGE_MASK, .page_size = 0x1000,
                   .writable = true, .user = true, .exec = true, .dirty = true };
        w.paddr = *paddr;
        tlb_fill(cpu, va, &w, mmu_idx, acc);
        return true;
    }
    Walk w;
    uint32_t err = walk(cpu, va, acc, mmu_idx == MMU_USER, &w);
    if (err) {
        *pf_error = err & ~(1u << 31);
        return false;
    }
    *paddr = w.paddr;
    tlb_fill(cpu, va, &w, mmu_idx, acc);
    return true;
}

uint64_t x86_translate(X86Cpu *cpu, uint64_t va, X86Access acc, int mmu_idx)
{
    uint64_t pa;
    uint32_t err;
    if (!x86_translate_nofault(cpu, va, acc, mmu_idx, &pa, &err)) {
        x86_raise_pf(cpu, va, err);
    }
    return pa;
}

/* Physical address for an access, using the TLB entry when it matches. */
static uint64_t lookup(X86Cpu *cpu, uint64_t va, X86Access acc, int mmu_idx,
                       X86TlbEntry **ep)
{
    X86TlbEntry *e = &cpu->tlb[mmu_idx][(va >> 12) & (X86_TLB_SIZE - 1)];
    uint64_t tag = acc == ACC_WRITE ? e->tag_write : acc == ACC_READ ? e->tag_read : e->tag_code;
    uint64_t page = va & X86_PAGE_MASK;
    if ((tag & ~X86_TLB_SLOW) != page || tag == X86_TLB_INVALID) {
        x86_translate(cpu, va, acc, mmu_idx);
    }
    *ep = e;
    return e->paddr | (va & 0xfff);
}

uint64_t x86_ld_slow(X86Cpu *cpu, uint64_t va, unsigned size, int mmu_idx)
{
    if (unlikely(cpu->dbg_data_on)) {
        x86_debug_data(cpu, va, size, false);
    }
    if (((va & 0xfff) + size) > 0x1000) {
        /* crossing a page: byte by byte, both pages checked first (a
         * fault on the second reports its first byte in CR2) */
        X86TlbEntry *e;
        lookup(cpu, va, ACC_READ, mmu_idx, &e);
        lookup(cpu, (va + size - 1) & X86_PAGE_MASK, ACC_READ, mmu_idx, &e);
        check_alignment(cpu, va, size, mmu_idx);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= x86_ld_slow(cpu, va + i, 1, mmu_idx) << (8 * i);
        }
        return v;
    }
    X86TlbEntry *e;
    uint64_t pa = lookup(cpu, va, ACC_READ, mmu_idx, &e);
    check_alignment(cpu, va, size, mmu_idx);
    if (e->flags & X86_TLBF_RAM) {
        const uint8_t *p = (const uint8_t *)(uintptr_t)(va + e->addend);
        switch (size) {
        case 1: return *p;
        case 2: return ld16(p);
        case 4: return ld32(p);
        default: return ld64(p);
        }
    }
    return address_space_read_val_locked(cpu->mem, cpu->lock, pa, size);
}

void x86_st_slow(X86Cpu *cpu, uint64_t va, uint64_t val, unsigned size,
                 int mmu_idx)
{
    if (unlikely(cpu->dbg_data_on)) {
        x86_debug_data(cpu, va, size, true);
    }
    if (((va & 0xfff) + size) > 0x1000) {
        X86TlbEntry *e;
        lookup(cpu, va, ACC_WRITE, mmu_idx, &e);
        lookup(cpu, (va + size - 1) & X86_PAGE_MASK, ACC_WRITE, mmu_idx, &e);
        check_alignment(cpu, va, size, mmu_idx);
        for (unsigned i = 0; i < size; i++) {
            x86_st_slow(cpu, va + i, (val >> (8 * i)) & 0xff, 1, mmu_idx);
        }
        return;
    }
    X86TlbEntry *e;
    uint64_t pa = lookup(cpu, va, ACC_WRITE, mmu_idx, &e);
    check_alignment(cpu, va, size, mmu_idx);
    if (e->flags & X86_TLBF_RAM_WR) {
        if (x86_code_page_test(&cpu->host, pa)) {
            cpu->host.code_written(cpu->host.opaque, pa & X86_PAGE_MASK);
        }
        uint8_t *p = (uint8_t *)(uintptr_t)(va + e->addend);
        switch (size) {
        case 1: *p = (uint8_t)val; return;
        case 2: st16(p, (uint16_t)val); return;
        case 4: st32(p, (uint32_t)val); return;
        default: st64(p, val); return;
        }
    }
    if (e->flags & X86_TLBF_RAM) {
        return; /* ROM */
    }
    address_space_write_val_locked(cpu->mem, cpu->lock, pa, val, size);
}

uint8_t *x86_host_ptr(X86Cpu *cpu, uint64_t va, unsigned size, X86Access acc,
                      int mmu_idx)
{
    if ((va & 0xfff) + size > 0x1000) {
        return NULL;
    }
    if (unlikely(cpu->align_check) && mmu_idx == MMU_USER) {
        return NULL; /* the callers' element-sized slow paths check */
    }
    if (unlikely(cpu->dbg_data_on)) {
        x86_debug_data(cpu, va, size, acc == ACC_WRITE);
    }
    X86TlbEntry *e;
    uint64_t pa = lookup(cpu, va, acc, mmu_idx, &e);
    if (acc == ACC_WRITE) {
        if (!(e->flags & X86_TLBF_RAM_WR)) {
            return NULL;
        }
        if (x86_code_page_test(&cpu->host, pa)) {
            cpu->host.code_written(cpu->host.opaque, pa & X86_PAGE_MASK);
        }
    } else if (!(e->flags & X86_TLBF_RAM)) {
        return NULL;
    }
    return (uint8_t *)(uintptr_t)(va + e->addend);
}

bool x86_code_paddr(X86Cpu *cpu, uint64_t lin, uint64_t *paddr)
{
    X86TlbEntry *e = &cpu->tlb[cpu->mmu_idx][(lin >> 12) & (X86_TLB_SIZE - 1)];
    if ((e->tag_code & ~X86_TLB_SLOW) == (lin & X86_PAGE_MASK) &&
        e->tag_code != X86_TLB_INVALID) {
        *paddr = e->paddr | (lin & 0xfff);
        return true;
    }
    uint32_t err;
    if (!x86_translate_nofault(cpu, lin, ACC_EXEC, cpu->mmu_idx, paddr, &err)) {
        cpu->exc_vector = EXC_PF;
        cpu->exc_error = err;
        cpu->exc_has_error = true;
        cpu->exc_cr2 = lin;
        return false;
    }
    return true;
}
