/*
 * The execution loop: between translation blocks it applies queued
 * invalidations, polls the interrupt pins (SDM vol. 3, 6.9 priorities:
 * INIT/SIPI, NMI, then INTR when IF=1 and no interrupt shadow), and honours
 * HLT; inside a block it calls each pre-decoded instruction's handler.
 * Exceptions longjmp back here and are delivered through the IDT.  While
 * the CPU's debug features are active (TF, RF, DR7 breakpoints: see
 * cpu/x86/debug.c) it runs one instruction at a time with the debug checks
 * around it, never a whole block or JIT code.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accel/tcg/tcg.h"
#include "cpu/x86/mem.h"

static void apply_invalidations(TcgVCpu *t)
{
    if (__atomic_load_n(&t->cpu.tlb_flush_pending, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&t->cpu.tlb_flush_pending, 0, __ATOMIC_RELAXED);
        x86_tlb_flush(&t->cpu);
    }
    if (!__atomic_load_n(&t->inval_pending, __ATOMIC_ACQUIRE)) {
        return;
    }
    g_mutex_lock(&t->inval_lock);
    if (t->inval_overflow) {
        tb_cache_flush(&t->tbs);
    } else {
        for (unsigned i = 0; i < t->nr_inval; i++) {
            tb_invalidate_page(&t->tbs, t->inval[i], NULL);
        }
    }
    t->nr_inval = 0;
    t->inval_overflow = false;
    __atomic_store_n(&t->inval_pending, 0, __ATOMIC_RELAXED);
    g_mutex_unlock(&t->inval_lock);
}

static void do_init(TcgVCpu *t)
{
    X86State *env = t->cpu.env;
    uint64_t apic_base = env->apic_base;
    x86_state_reset(env, false);
    env->apic_base = apic_base;
    env->wait_for_sipi = true;
    t->cpu.cc_op = CC_OP(CC_EFLAGS, 0);
    t->cpu.cc_src = 0;
    x86_update_mode(&t->cpu);
    x86_tlb_flush(&t->cpu);
}

static void do_sipi(TcgVCpu *t, uint8_t vector)
{
    X86State *env = t->cpu.env;
    env->wait_for_sipi = false;
    env->halted = false;
    env->segs[R_CS].selector = (uint16_t)(vector << 8);
    env->segs[R_CS].base = (uint64_t)vector << 12;
    env->rip = 0;
    x86_update_mode(&t->cpu);
}

/* Returns true when the vCPU must leave vcpu_run with *exit. */
static bool check_interrupts(TcgVCpu *t, VCpuExit *exit)
{
    X86Cpu *cpu = &t->cpu;
    X86State *env = cpu->env;
    VCpu *v = t->vcpu;
    uint32_t p = cpu_intr_pending(&v->intr);
    if (p & CPU_INTR_EXIT) {
        cpu_intr_lower(&v->intr, CPU_INTR_EXIT);
        *exit = VCPU_EXIT_KICKED;
        return true;
    }
    if (p & CPU_INTR_INIT) {
        cpu_intr_lower(&v->intr, CPU_INTR_INIT);
        do_init(t);
    }
    if (env->wait_for_sipi) {
        if (p & CPU_INTR_SIPI) {
            cpu_intr_lower(&v->intr, CPU_INTR_SIPI);
            do_sipi(t, v->intr.sipi_vector);
        } else {
            *exit = VCPU_EXIT_HALTED;
            return true;
        }
    } else if (p & CPU_INTR_SIPI) {
        cpu_intr_lower(&v->intr, CPU_INTR_SIPI); /* ignored when not waiting */
    }
    if (env->interrupt_shadow) {
        env->interrupt_shadow = false;
    } else if ((p & CPU_INTR_NMI) && !env->nmi_masked) {
        cpu_intr_lower(&v->intr, CPU_INTR_NMI);
        env->nmi_masked = true;
        x86_do_interrupt(cpu, EXC_NMI, false, false, 0);
    } else if ((p & CPU_INTR_EXT) && (env->rflags & X86_FLAG_IF) && v->intr.ack) {
        g_mutex_lock(cpu->lock);
        int vec = v->intr.ack(v->intr.ack_opaque);
        g_mutex_unlock(cpu->lock);
        if (vec >= 0) {
            x86_do_interrupt(cpu, vec & 0xff, false, false, 0);
        }
    }
    if (env->halted) {
        *exit = VCPU_EXIT_HALTED;
        return true;
    }
    return false;
}

/* Runs a block; returns how many instructions completed (a block leaves
 * early at a taken branch in its middle or when a handler stops it). */
static inline unsigned run_tb(X86Cpu *cpu, const TB *tb)
{
    const X86DecodedInsn *d = tb->insn, *end = d + tb->n;
    X86State *env = cpu->env;
    cpu->stop_tb = false;
    for (; d < end; d++) {
        cpu->cur = d;
        env->rip = d->next_ip;
        d->exec(cpu, d);
        if (unlikely(cpu->stop_tb)) {
            d++;
            break;
        }
    }
    cpu->cur = NULL;
    return (unsigned)(d - tb->insn);
}

/* One instruction with the debug checks around it (cpu/x86/debug.c). */
static void step_debug(TcgVCpu *t)
{
    X86Cpu *cpu = &t->cpu;
    TBCache *c = &t->tbs;
    c->chain_prev = NULL;
    x86_debug_before(cpu);
    TB *tb = tb_lookup_fast(c, cpu);
    if (!tb) {
        tb = tb_find(c, cpu, tcg_mark_code, t);
        c->chain_prev = NULL;
    }
    const X86DecodedInsn *d = tb->insn;
    t->cur_tb = tb;
    cpu->stop_tb = false;
    cpu->cur = d;
    cpu->env->rip = d->next_ip;
    d->exec(cpu, d);
    cpu->cur = NULL;
    t->cur_tb = NULL;
    t->insns++;
    x86_debug_after(cpu);
    x86_debug_update(cpu);
}

/* KESTREL_TCG_STATS=1: counts, wall time and this thread's CPU time (MIPS
 * per CPU second stay meaningful on a loaded host). */
static void print_stats(TcgVCpu *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    double cpu_s = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    fprintf(stderr, "tcg: %" PRIu64 " blocks %" PRIu64 " insns %" PRIu64
            " translated %" PRIu64 " flushes %.1f s cpu %.1f s %.0f MIPS/cpu-s\n",
            t->blocks, t->insns, t->tbs.translated, t->tbs.flushes,
            (g_get_monotonic_time() - t->start_us) / 1e6, cpu_s,
            cpu_s > 0 ? t->insns / cpu_s / 1e6 : 0.0);
}

/* Trace aid: the bytes at CS:RIP (through the page tables, if mapped). */
static void trace_bytes(X86Cpu *cpu)
{
    uint64_t lin = cpu->env->segs[R_CS].base + cpu->env->rip;
    uint64_t pa;
    uint32_t err;
    if (!x86_translate_nofault(cpu, lin, ACC_EXEC, cpu->mmu_idx, &pa, &err)) {
        return;
    }
    fprintf(stderr, "tcg:   bytes");
    for (unsigned i = 0; i < 16 && ((pa + i) & 0xfff) >= (pa & 0xfff); i++) {
        fprintf(stderr, " %02x", (unsigned)x86_phys_read(cpu, pa + i, 1));
    }
    fprintf(stderr, "\n");
}

VCpuExit tcg_exec(TcgVCpu *t)
{
    X86Cpu *cpu = &t->cpu;
    jmp_buf jb;
    VCpuExit exit = VCPU_EXIT_KICKED;
    TBCache *c = &t->tbs;
    c->chain_prev = NULL;
    cpu->jmp = &jb;
    if (setjmp(jb)) {
        c->chain_prev = NULL;
        /* an exception: restore RIP to the faulting instruction and deliver */
        if (cpu->cur) {
            x86_apply_pending_flags(cpu, cpu->cur);
            cpu->env->rip = cpu->cur->ip;
            cpu->cur = NULL;
        }
        t->cur_tb = NULL;
        if (t->trace) {
            fprintf(stderr, "tcg: exception %d error %#x at %04x:%016" PRIx64 "\n",
                    cpu->exc_vector, cpu->exc_error, cpu->env->segs[R_CS].selector,
                    cpu->env->rip);
            trace_bytes(cpu);
        }
        x86_deliver_exception(cpu);
        x86_debug_update(cpu);
        if (cpu->triple_fault) {
            cpu->triple_fault = false;
            cpu->jmp = NULL;
            return VCPU_EXIT_SHUTDOWN;
        }
    }
    for (;;) {
        if (unlikely(__atomic_load_n(&t->inval_pending, __ATOMIC_RELAXED) ||
                     __atomic_load_n(&cpu->tlb_flush_pending, __ATOMIC_RELAXED))) {
            apply_invalidations(t);
        }
        X86State *env = cpu->env;
        if (unlikely(cpu_intr_pending(&t->vcpu->intr) || env->interrupt_shadow ||
                     env->halted || env->wait_for_sipi)) {
            if (check_interrupts(t, &exit)) {
                break;
            }
        }
        if (unlikely(cpu->debug_active)) {
            step_debug(t);
            continue;
        }
        TB *prev = c->chain_prev;
        TB *tb = prev ? tb_lookup_chained(prev, cpu) : NULL;
        if (!tb) {
            tb = tb_lookup_fast(c, cpu);
            if (unlikely(!tb)) {
                tb = tb_find(c, cpu, tcg_mark_code, t);
            }
            /* a flush inside tb_find discarded prev (chain_prev is cleared) */
            if (c->chain_prev) {
                tb_link(c->chain_prev, tb, cpu->tlb_gen);
            }
        }
        if (t->trace) {
            fprintf(stderr, "tcg: tb %04x:%016" PRIx64 " n=%u\n",
                    env->segs[R_CS].selector, env->rip, tb->n);
        }
        t->cur_tb = tb;
        /* blocks chained by the JIT count too (jit.c) */
        if (unlikely(++t->blocks >= t->stats_next) && t->stats) {
            t->stats_next = t->blocks + TCG_STATS_BLOCKS;
            print_stats(t);
        }
        c->chain_prev = tb;
        if (tb->code) {
            cpu->stop_tb = false;
            t->insns += tb->code(cpu);
            cpu->cur = NULL;
        } else {
            t->insns += run_tb(cpu, tb);
        }
        t->cur_tb = NULL;
    }
    cpu->jmp = NULL;
    return exit;
}
