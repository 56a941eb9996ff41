/*
 * The TCG accelerator's AccelOps (accel/accel.h): machine and vCPU setup,
 * kicks, state exchange (X86State is the live state; lazy flags are
 * materialised into RFLAGS on get and taken back on set), and the
 * code-page tracking that makes self-modifying code work across vCPUs.
 */
#include <string.h>

#include "accel/tcg/tcg.h"
#include "core/error.h"

/* The translation cache of a vCPU (-accel tcg,tb-size=): decoded blocks and,
 * with the JIT, their host code, which take about the same room per block;
 * when either part is full the whole cache is flushed. */
#define TCG_TB_SIZE_DEFAULT (16u << 20)

static bool tcg_probe(GError **errp)
{
    return true;
}

static void tcg_ram_written(void *opaque, uint64_t addr, uint64_t len);

static bool tcg_init(Accel *a, GError **errp)
{
    TcgMachine *m = g_new0(TcgMachine, 1);
    m->code_bitmap = g_malloc0(TCG_CODE_PAGES_LIMIT / 8);
    g_mutex_init(&m->vcpus_lock);
    a->priv = m;
    MemoryListener l = { .ram_written = tcg_ram_written, .opaque = m };
    address_space_add_listener(a->mem, &l);
    a->irqchip_in_kernel = false;
    a->pit_in_kernel = false;
    return true;
}

static void tcg_destroy(Accel *a)
{
    TcgMachine *m = a->priv;
    if (!m) {
        return;
    }
    g_mutex_clear(&m->vcpus_lock);
    g_free(m->code_bitmap);
    g_free(m);
    a->priv = NULL;
}

static bool tcg_vcpu_init(Accel *a, VCpu *v, GError **errp)
{
    TcgMachine *m = a->priv;
    TcgVCpu *t = g_new0(TcgVCpu, 1);
    t->trace = g_strcmp0(g_getenv("KESTREL_TCG_TRACE"), "1") == 0;
    /* tracing prints every block: chained JIT blocks would skip it */
    size_t cache = a->cfg.tb_size ? a->cfg.tb_size : TCG_TB_SIZE_DEFAULT;
    bool jit = a->cfg.jit && !t->trace;
    size_t arena = jit ? cache / 2 : cache;
    if (!tb_cache_init(&t->tbs, arena, jit, cache - arena)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                    "tcg: cannot allocate the translation-block arena");
        g_free(t);
        return false;
    }
    t->vcpu = v;
    t->m = m;
    t->stats = g_strcmp0(g_getenv("KESTREL_TCG_STATS"), "1") == 0;
    t->stats_next = TCG_STATS_BLOCKS;
    t->start_us = g_get_monotonic_time();
    g_mutex_init(&t->inval_lock);
    X86Cpu *cpu = &t->cpu;
    x86_cpu_init(cpu, &v->env);
    if (!x86_cpu_set_model(cpu, a->cfg.cpu_model)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "tcg: unknown CPU model '%s' (known: kestrel, kestrel-dev)",
                    a->cfg.cpu_model);
        tb_cache_destroy(&t->tbs);
        g_free(t);
        return false;
    }
    cpu->mem = a->mem;
    cpu->io = a->io;
    cpu->lock = a->lock;
    cpu->intr = &v->intr;
    cpu->apic_id = v->apic_id;
    cpu->host.code_written = tcg_code_written;
    cpu->host.opaque = t;
    cpu->host.code_bitmap = m->code_bitmap;
    cpu->host.code_pages_limit = TCG_CODE_PAGES_LIMIT;
    g_mutex_lock(&m->vcpus_lock);
    if (m->nr_vcpus >= TCG_MAX_VCPUS) {
        g_mutex_unlock(&m->vcpus_lock);
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL, "tcg: too many vCPUs");
        tb_cache_destroy(&t->tbs);
        g_free(t);
        return false;
    }
    m->vcpus[m->nr_vcpus++] = t;
    g_mutex_unlock(&m->vcpus_lock);
    v->priv = t;
    return true;
}

static void tcg_vcpu_destroy(VCpu *v)
{
    TcgVCpu *t = v->priv;
    if (!t) {
        return;
    }
    TcgMachine *m = t->m;
    g_mutex_lock(&m->vcpus_lock);
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        if (m->vcpus[i] == t) {
            m->vcpus[i] = m->vcpus[--m->nr_vcpus];
            break;
        }
    }
    g_mutex_unlock(&m->vcpus_lock);
    g_mutex_clear(&t->inval_lock);
    tb_cache_destroy(&t->tbs);
    g_free(t);
    v->priv = NULL;
}

static VCpuExit tcg_vcpu_run(VCpu *v)
{
    return tcg_exec(v->priv);
}

static void tcg_vcpu_kick(VCpu *v)
{
    /* not cpu_intr_raise(): the system's kick callback calls us */
    __atomic_or_fetch(&v->intr.pending, CPU_INTR_EXIT, __ATOMIC_SEQ_CST);
}

static bool tcg_get_state(VCpu *v, GError **errp)
{
    TcgVCpu *t = v->priv;
    v->env.rflags = x86_get_rflags(&t->cpu);
    v->env.tsc = x86_rdtsc(&t->cpu);
    return true;
}

static bool tcg_set_state(VCpu *v, GError **errp)
{
    TcgVCpu *t = v->priv;
    X86Cpu *cpu = &t->cpu;
    cpu->cc_op = CC_OP(CC_EFLAGS, 0);
    cpu->cc_src = v->env.rflags & X86_ARITH_FLAGS;
    v->env.rflags = (v->env.rflags & ~(uint64_t)X86_ARITH_FLAGS) | X86_FLAG_FIXED1;
    cpu->tsc_offset = 0;
    cpu->tsc_offset = v->env.tsc - x86_rdtsc(cpu);
    x86_update_mode(cpu);
    x86_tlb_flush(cpu);
    /* memory may have been loaded behind the CPU's back (loaders, reset) */
    tb_cache_flush(&t->tbs);
    return true;
}

/* What X86State does not hold: an exception being delivered, queued
 * invalidations from other vCPUs (the blocks are all dropped by set_state). */
static bool tcg_vcpu_reset(VCpu *v, GError **errp)
{
    TcgVCpu *t = v->priv;
    X86Cpu *cpu = &t->cpu;
    cpu->exc_delivering = 0;
    cpu->triple_fault = false;
    cpu->stop_tb = false;
    g_mutex_lock(&t->inval_lock);
    t->nr_inval = 0;
    t->inval_overflow = false;
    __atomic_store_n(&t->inval_pending, 0, __ATOMIC_RELEASE);
    g_mutex_unlock(&t->inval_lock);
    return true;
}

static bool tcg_set_debug(VCpu *v, const AccelDebug *dbg, GError **errp)
{
    g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "tcg: breakpoints and single-step are not implemented yet");
    return false;
}

/* ---- self-modifying code ---- */

void tcg_mark_code(void *opaque, uint64_t page)
{
    TcgVCpu *t = opaque;
    TcgMachine *m = t->m;
    uint64_t pn = page >> 12;
    if (pn >= TCG_CODE_PAGES_LIMIT) {
        return;
    }
    uint8_t bit = (uint8_t)(1u << (pn & 7));
    uint8_t old = __atomic_fetch_or(&m->code_bitmap[pn >> 3], bit, __ATOMIC_SEQ_CST);
    if (old & bit) {
        return;
    }
    x86_tlb_protect_code(&t->cpu, page);
    /* other vCPUs may hold fast write entries for this page */
    g_mutex_lock(&m->vcpus_lock);
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        if (m->vcpus[i] != t) {
            __atomic_store_n(&m->vcpus[i]->cpu.tlb_flush_pending, 1, __ATOMIC_RELEASE);
        }
    }
    g_mutex_unlock(&m->vcpus_lock);
}

void tcg_code_written(void *opaque, uint64_t page)
{
    TcgVCpu *t = opaque;
    TcgMachine *m = t->m;
    uint64_t pn = page >> 12;
    if (pn >= TCG_CODE_PAGES_LIMIT) {
        return;
    }
    __atomic_fetch_and(&m->code_bitmap[pn >> 3], (uint8_t)~(1u << (pn & 7)), __ATOMIC_SEQ_CST);
    if (tb_invalidate_page(&t->tbs, page, t->cur_tb)) {
        t->cpu.stop_tb = true;
    }
    g_mutex_lock(&m->vcpus_lock);
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        TcgVCpu *o = m->vcpus[i];
        if (o == t) {
            continue;
        }
        g_mutex_lock(&o->inval_lock);
        if (o->nr_inval < TCG_INVAL_QUEUE) {
            o->inval[o->nr_inval++] = page;
        } else {
            o->inval_overflow = true;
        }
        __atomic_store_n(&o->inval_pending, 1, __ATOMIC_RELEASE);
        g_mutex_unlock(&o->inval_lock);
    }
    g_mutex_unlock(&m->vcpus_lock);
}

/* Device DMA wrote guest RAM: every vCPU drops the blocks of the code pages
 * in the range before it runs its next block (any thread). */
static void tcg_ram_written(void *opaque, uint64_t addr, uint64_t len)
{
    TcgMachine *m = opaque;
    uint64_t first = addr >> 12, last = (addr + len - 1) >> 12;
    if (addr + len - 1 < addr) {
        last = UINT64_MAX >> 12;
    }
    for (uint64_t pn = first; pn <= last && pn < TCG_CODE_PAGES_LIMIT; pn++) {
        uint8_t bit = (uint8_t)(1u << (pn & 7));
        if (!(__atomic_load_n(&m->code_bitmap[pn >> 3], __ATOMIC_ACQUIRE) & bit)) {
            continue;
        }
        __atomic_fetch_and(&m->code_bitmap[pn >> 3], (uint8_t)~bit, __ATOMIC_SEQ_CST);
        g_mutex_lock(&m->vcpus_lock);
        for (unsigned i = 0; i < m->nr_vcpus; i++) {
            TcgVCpu *o = m->vcpus[i];
            g_mutex_lock(&o->inval_lock);
            if (o->nr_inval < TCG_INVAL_QUEUE) {
                o->inval[o->nr_inval++] = pn << 12;
            } else {
                o->inval_overflow = true;
            }
            __atomic_store_n(&o->inval_pending, 1, __ATOMIC_RELEASE);
            g_mutex_unlock(&o->inval_lock);
        }
        g_mutex_unlock(&m->vcpus_lock);
    }
}

const AccelOps accel_tcg_ops = {
    .name = "tcg",
    .probe = tcg_probe,
    .init = tcg_init,
    .destroy = tcg_destroy,
    .vcpu_init = tcg_vcpu_init,
    .vcpu_destroy = tcg_vcpu_destroy,
    .vcpu_run = tcg_vcpu_run,
    .vcpu_kick = tcg_vcpu_kick,
    .get_state = tcg_get_state,
    .set_state = tcg_set_state,
    .set_gsi = NULL,
    .send_msi = NULL,
    .set_debug = tcg_set_debug,
    .reset = NULL,
    .vcpu_reset = tcg_vcpu_reset,
};
