/*
 * vCPU threads.  Each thread loops: park while told to, run the vCPU, act on
 * the exit.  A halted vCPU sleeps on its condition variable until an
 * interrupt is pending for it (the CpuIntr kick wakes it) or it must park.
 *
 * Locking: park/halt state is guarded by the machine lock; interrupt
 * controllers raise CpuIntr bits with that lock held, so a wake-up cannot
 * slip between the check and the wait.
 */
#include <string.h>

#include "core/error.h"
#include "hw/i386/pc.h"
#include "system/vcpus.h"

typedef struct VcpuThread {
    Vcpus *owner;
    VCpu cpu;
    GCond wake;
    bool parked;
} VcpuThread;

struct Vcpus {
    Machine *m;
    Accel *a;
    VcpuThread threads[MACHINE_MAX_CPUS];
    unsigned nr;
    GCond parked_cond;
    bool pause;     /* vCPUs must park */
    bool quit;      /* threads must end */
};

static void kick(void *opaque)
{
    VcpuThread *t = opaque;
    g_cond_broadcast(&t->wake);
    t->owner->a->ops->vcpu_kick(&t->cpu);
}

static bool wakeable(const VcpuThread *t)
{
    uint32_t p = cpu_intr_pending(&t->cpu.intr);
    if (t->cpu.env.wait_for_sipi) {
        return p & (CPU_INTR_SIPI | CPU_INTR_INIT);
    }
    return p != 0;
}

static void handle_exit(VcpuThread *t, VCpuExit e)
{
    Vcpus *v = t->owner;
    Machine *m = v->m;
    switch (e) {
    case VCPU_EXIT_KICKED:
        break;
    case VCPU_EXIT_HALTED:
        g_mutex_lock(&m->lock);
        while (!v->pause && !v->quit && !wakeable(t)) {
            g_cond_wait_until(&t->wake, &m->lock,
                              g_get_monotonic_time() + G_USEC_PER_SEC);
        }
        g_mutex_unlock(&m->lock);
        break;
    case VCPU_EXIT_SHUTDOWN:
    case VCPU_EXIT_RESET:
        machine_request(m, MACHINE_REQ_RESET);
        break;
    case VCPU_EXIT_POWEROFF:
        machine_request(m, MACHINE_REQ_POWEROFF);
        break;
    case VCPU_EXIT_DEBUG:
        machine_request(m, MACHINE_REQ_DEBUG);
        break;
    case VCPU_EXIT_ERROR:
        error_report("vCPU %u: %s", t->cpu.index,
                     t->cpu.error ? t->cpu.error : "accelerator error");
        machine_request(m, MACHINE_REQ_CRASH);
        break;
    }
}

static gpointer vcpu_thread(gpointer opaque)
{
    VcpuThread *t = opaque;
    Vcpus *v = t->owner;
    Machine *m = v->m;
    pc_cpu_thread_start(m, &t->cpu.intr);
    for (;;) {
        g_mutex_lock(&m->lock);
        while ((v->pause || t->cpu.stop_request) && !v->quit) {
            if (!t->parked) {
                t->parked = true;
                g_cond_broadcast(&v->parked_cond);
            }
            g_cond_wait(&t->wake, &m->lock);
        }
        t->parked = false;
        bool quit = v->quit;
        g_mutex_unlock(&m->lock);
        if (quit) {
            break;
        }
        handle_exit(t, v->a->ops->vcpu_run(&t->cpu));
        if (__atomic_load_n(&m->requests, __ATOMIC_ACQUIRE) &
            (MACHINE_REQ_CRASH | MACHINE_REQ_RESET)) {
            /* Stop running until the main loop decides what happens. */
            g_mutex_lock(&m->lock);
            t->cpu.stop_request = true;
            g_mutex_unlock(&m->lock);
        }
    }
    g_mutex_lock(&m->lock);
    t->parked = true;
    g_cond_broadcast(&v->parked_cond);
    g_mutex_unlock(&m->lock);
    return NULL;
}

Vcpus *vcpus_new(Machine *m, Accel *a)
{
    Vcpus *v = g_new0(Vcpus, 1);
    v->m = m;
    v->a = a;
    g_cond_init(&v->parked_cond);
    v->pause = true;
    return v;
}

bool vcpus_create(Vcpus *v, GError **errp)
{
    for (unsigned i = 0; i < v->m->nr_cpus; i++) {
        VcpuThread *t = &v->threads[i];
        t->owner = v;
        g_cond_init(&t->wake);
        t->cpu.index = i;
        t->cpu.apic_id = i;
        t->cpu.accel = v->a;
        t->cpu.intr.kick = kick;
        t->cpu.intr.kick_opaque = t;
        if (!v->a->ops->vcpu_init(v->a, &t->cpu, errp)) {
            return false;
        }
        v->m->cpus[i] = &t->cpu;
        v->nr++;
    }
    for (unsigned i = 0; i < v->nr; i++) {
        VcpuThread *t = &v->threads[i];
        gchar *name = g_strdup_printf("vcpu%u", i);
        t->cpu.thread = g_thread_new(name, vcpu_thread, t);
        g_free(name);
    }
    vcpus_pause(v);
    return true;
}

void vcpus_pause(Vcpus *v)
{
    Machine *m = v->m;
    g_mutex_lock(&m->lock);
    v->pause = true;
    for (unsigned i = 0; i < v->nr; i++) {
        v->threads[i].cpu.stop_request = true;
        kick(&v->threads[i]);
    }
    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < v->nr; i++) {
            all &= v->threads[i].parked;
        }
        if (all) {
            break;
        }
        for (unsigned i = 0; i < v->nr; i++) {
            if (!v->threads[i].parked) {
                kick(&v->threads[i]);
            }
        }
        g_cond_wait_until(&v->parked_cond, &m->lock,
                          g_get_monotonic_time() + 10000);
    }
    g_mutex_unlock(&m->lock);
}

void vcpus_resume(Vcpus *v)
{
    Machine *m = v->m;
    g_mutex_lock(&m->lock);
    v->pause = false;
    for (unsigned i = 0; i < v->nr; i++) {
        v->threads[i].cpu.stop_request = false;
        cpu_intr_lower(&v->threads[i].cpu.intr, CPU_INTR_EXIT);
        g_cond_broadcast(&v->threads[i].wake);
    }
    g_mutex_unlock(&m->lock);
}

bool vcpus_running(const Vcpus *v)
{
    return !v->pause;
}

VCpu *vcpus_get(Vcpus *v, unsigned index)
{
    return index < v->nr ? &v->threads[index].cpu : NULL;
}

void vcpus_destroy(Vcpus *v)
{
    if (!v) {
        return;
    }
    Machine *m = v->m;
    g_mutex_lock(&m->lock);
    v->quit = true;
    for (unsigned i = 0; i < v->nr; i++) {
        kick(&v->threads[i]);
    }
    g_mutex_unlock(&m->lock);
    for (unsigned i = 0; i < v->nr; i++) {
        VcpuThread *t = &v->threads[i];
        if (t->cpu.thread) {
            g_thread_join(t->cpu.thread);
        }
        if (v->a->ops->vcpu_destroy) {
            v->a->ops->vcpu_destroy(&t->cpu);
        }
        g_free(t->cpu.error);
        g_cond_clear(&t->wake);
    }
    g_cond_clear(&v->parked_cond);
    g_free(v);
}
