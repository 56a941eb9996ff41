/*
 * A KVM vCPU: creation (KVM_CREATE_VCPU, the shared kvm_run page, CPUID),
 * the run loop that serves port I/O and MMIO exits through the machine's
 * address spaces and returns on everything the system must see, and kicks.
 *
 * Kicking: the kicker sets kvm_run->immediate_exit and sends
 * KVM_KICK_SIGNAL (whose handler does nothing) to the vCPU thread.  A vCPU
 * inside KVM_RUN leaves it with EINTR; one that is about to enter sees
 * immediate_exit and returns at once (KVM_CAP_IMMEDIATE_EXIT), so no kick is
 * lost and the signal never needs to be blocked.
 *
 * Without the in-kernel irqchip, external interrupts come from the
 * userspace PIC/LAPIC through CpuIntr: they are injected with KVM_INTERRUPT
 * when the guest can take them, or an interrupt window is requested; INIT
 * and STARTUP are applied here.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

bool kvm_vcpu_init(Accel *a, VCpu *cpu, GError **errp)
{
    KvmState *s = kvm_state(a);
    KvmVcpu *v = g_new0(KvmVcpu, 1);
    v->cpu = cpu;
    v->fd = -1;
    cpu->priv = v;

    v->fd = ioctl(s->vm_fd, KVM_CREATE_VCPU, (unsigned long)cpu->apic_id);
    if (v->fd < 0) {
        error_setg(errp, "cannot create KVM vCPU %u: %s", cpu->index,
                   g_strerror(errno));
        goto fail;
    }
    void *run = mmap(NULL, (size_t)s->run_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED, v->fd, 0);
    if (run == MAP_FAILED) {
        error_setg(errp, "cannot map the kvm_run area of vCPU %u: %s",
                   cpu->index, g_strerror(errno));
        goto fail;
    }
    v->run = run;
    if (!kvm_cpuid_setup_vcpu(s, cpu, errp)) {
        goto fail;
    }
    kvm_msrs_probe(s, v->fd);
    if (a->irqchip_in_kernel && !kvm_vcpu_save_power_on(cpu, errp)) {
        goto fail;
    }
    return true;

fail:
    kvm_vcpu_destroy(cpu);
    return false;
}

void kvm_vcpu_destroy(VCpu *cpu)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    if (!v) {
        return;
    }
    if (v->run) {
        munmap(v->run, (size_t)kvm_state(cpu->accel)->run_size);
    }
    if (v->fd >= 0) {
        close(v->fd);
    }
    g_free(v);
    cpu->priv = NULL;
}

void kvm_vcpu_kick(VCpu *cpu)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    if (!v || !v->run) {
        return;
    }
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v->thread_known, __ATOMIC_SEQ_CST)) {
        pthread_kill(v->thread, KVM_KICK_SIGNAL);
    }
}

unsigned kvm_read_guest_linear(VCpu *cpu, uint64_t addr, uint8_t *buf,
                               unsigned len)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    unsigned done = 0;

    while (done < len) {
        struct kvm_translation t = { .linear_address = addr + done };
        if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid) {
            break;
        }
        uint8_t *p = address_space_ram_ptr(cpu->accel->mem,
                                           t.physical_address, 1);
        if (!p) {
            break;
        }
        buf[done++] = *p;
    }
    return done;
}

/* ---- exits ---- */

static void handle_io(VCpu *cpu, struct kvm_run *run)
{
    Accel *a = cpu->accel;
    unsigned size = run->io.size;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    if (size != 1 && size != 2 && size != 4) {
        return;
    }
    for (uint32_t i = 0; i < run->io.count; i++, data += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            uint32_t val = 0;
            memcpy(&val, data, size);
            accel_io_write(a, run->io.port, val, size);
        } else {
            uint32_t val = (uint32_t)accel_io_read(a, run->io.port, size);
            memcpy(data, &val, size);
        }
    }
}

static void handle_mmio(VCpu *cpu, struct kvm_run *run)
{
    Accel *a = cpu->accel;
    uint64_t addr = run->mmio.phys_addr;
    unsigned len = run->mmio.len;

    if (len > 8) {
        return;
    }
    if (len == 1 || len == 2 || len == 4 || len == 8) {
        if (run->mmio.is_write) {
            uint64_t val = 0;
            memcpy(&val, run->mmio.data, len);
            accel_mmio_write(a, addr, val, len);
        } else {
            uint64_t val = accel_mmio_read(a, addr, len);
            memcpy(run->mmio.data, &val, len);
        }
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        if (run->mmio.is_write) {
            accel_mmio_write(a, addr + i, run->mmio.data[i], 1);
        } else {
            run->mmio.data[i] = (uint8_t)accel_mmio_read(a, addr + i, 1);
        }
    }
}

/* "KVM internal error. Suberror: N" with what KVM says about it, the RIP and
 * the code bytes there. */
static char *internal_error_text(VCpu *cpu, struct kvm_run *run)
{
    GString *s = g_string_new(NULL);
    if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
        g_string_append_printf(s, "KVM failed to enter the guest: hardware "
                               "entry failure reason 0x%llx",
                               (unsigned long long)
                               run->fail_entry.hardware_entry_failure_reason);
    } else {
        uint32_t sub = run->internal.suberror;
        g_string_append_printf(s, "KVM internal error. Suberror: %u", sub);
        switch (sub) {
        case KVM_INTERNAL_ERROR_EMULATION:
            g_string_append(s, " (emulation failure)");
            break;
        case KVM_INTERNAL_ERROR_SIMUL_EX:
            g_string_append(s, " (exception while delivering an exception)");
            break;
        case KVM_INTERNAL_ERROR_DELIVERY_EV:
            g_string_append(s, " (exit while delivering an event)");
            break;
        case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
            g_string_append(s, " (unexpected exit reason)");
            break;
        default:
            break;
        }
    }
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    KvmVcpu *v = kvm_vcpu(cpu);
    if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0 &&
        ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0) {
        g_string_append_printf(s, " at RIP 0x%llx (CS 0x%x, CR0 0x%llx)",
                               (unsigned long long)regs.rip, sregs.cs.selector,
                               (unsigned long long)sregs.cr0);
        uint8_t code[16];
        unsigned n = kvm_read_guest_linear(cpu, sregs.cs.base + regs.rip,
                                           code, sizeof(code));
        if (n) {
            g_string_append(s, ", code:");
            for (unsigned i = 0; i < n; i++) {
                g_string_append_printf(s, " %02x", code[i]);
            }
        }
    }
    return g_string_free(s, FALSE);
}

static VCpuExit vcpu_error(VCpu *cpu, char *msg)
{
    g_free(cpu->error);
    cpu->error = msg;
    return VCPU_EXIT_ERROR;
}

/* ---- userspace irqchip ---- */

/* Apply INIT / STARTUP from the userspace LAPIC; true if the vCPU must keep
 * waiting for a STARTUP IPI. */
static bool userspace_init_sipi(VCpu *cpu)
{
    uint32_t p = cpu_intr_pending(&cpu->intr);
    bool changed = false;

    if (p & CPU_INTR_INIT) {
        cpu_intr_lower(&cpu->intr, CPU_INTR_INIT);
        uint64_t apic_base = cpu->env.apic_base;
        x86_state_reset(&cpu->env, false);
        cpu->env.apic_base = apic_base;
        cpu->env.wait_for_sipi = true;
        changed = true;
    }
    if (cpu->env.wait_for_sipi && (p & CPU_INTR_SIPI)) {
        cpu_intr_lower(&cpu->intr, CPU_INTR_SIPI);
        uint8_t vec = cpu->intr.sipi_vector;
        cpu->env.segs[R_CS].selector = (uint16_t)(vec << 8);
        cpu->env.segs[R_CS].base = (uint64_t)vec << 12;
        cpu->env.rip = 0;
        cpu->env.wait_for_sipi = false;
        changed = true;
    }
    if (changed && !kvm_set_state(cpu, NULL)) {
        return true;
    }
    return cpu->env.wait_for_sipi;
}

static void userspace_inject(VCpu *cpu, KvmVcpu *v)
{
    struct kvm_run *run = v->run;
    uint32_t p = cpu_intr_pending(&cpu->intr);

    if (p & CPU_INTR_NMI) {
        cpu_intr_lower(&cpu->intr, CPU_INTR_NMI);
        ioctl(v->fd, KVM_NMI);
    }
    run->request_interrupt_window = 0;
    if (!(p & CPU_INTR_EXT) || !cpu->intr.ack) {
        return;
    }
    if (run->ready_for_interrupt_injection && run->if_flag) {
        g_mutex_lock(cpu->accel->lock);
        int vector = cpu->intr.ack(cpu->intr.ack_opaque);
        g_mutex_unlock(cpu->accel->lock);
        if (vector >= 0) {
            struct kvm_interrupt irq = { .irq = (uint32_t)vector };
            ioctl(v->fd, KVM_INTERRUPT, &irq);
        }
    } else {
        run->request_interrupt_window = 1;
    }
}

/* ---- the run loop ---- */

VCpuExit kvm_vcpu_run(VCpu *cpu)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    KvmState *s = kvm_state(cpu->accel);
    struct kvm_run *run = v->run;
    bool userspace_irqchip = !cpu->accel->irqchip_in_kernel;

    if (!__atomic_load_n(&v->thread_known, __ATOMIC_SEQ_CST)) {
        v->thread = pthread_self();
        __atomic_store_n(&v->thread_known, true, __ATOMIC_SEQ_CST);
    }
    for (;;) {
        if (__atomic_load_n(&cpu->stop_request, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
            return VCPU_EXIT_KICKED;
        }
        if (userspace_irqchip) {
            if (userspace_init_sipi(cpu)) {
                return VCPU_EXIT_HALTED;
            }
            userspace_inject(cpu, v);
        }
        int r = ioctl(v->fd, KVM_RUN, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                return VCPU_EXIT_KICKED;
            }
            return vcpu_error(cpu, g_strdup_printf("KVM_RUN: %s",
                                                   g_strerror(errno)));
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            handle_io(cpu, run);
            break;
        case KVM_EXIT_MMIO:
            handle_mmio(cpu, run);
            break;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
            break;
        case KVM_EXIT_INTR:
            __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
            return VCPU_EXIT_KICKED;
        case KVM_EXIT_HLT:
            return VCPU_EXIT_HALTED;
        case KVM_EXIT_SHUTDOWN:
            return VCPU_EXIT_SHUTDOWN;
        case KVM_EXIT_SYSTEM_EVENT:
            switch (run->system_event.type) {
            case KVM_SYSTEM_EVENT_SHUTDOWN:
                return VCPU_EXIT_POWEROFF;
            case KVM_SYSTEM_EVENT_RESET:
                return VCPU_EXIT_RESET;
            default:
                return vcpu_error(cpu, g_strdup_printf(
                    "KVM system event %u", run->system_event.type));
            }
        case KVM_EXIT_DEBUG:
            if (run->debug.arch.exception == 3 &&
                !kvm_is_our_breakpoint(s, run->debug.arch.pc)) {
                /* The guest's own int3: give it back its #BP. */
                struct kvm_vcpu_events ev;
                if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
                    ev.exception.injected = 1;
                    ev.exception.nr = 3;
                    ev.exception.has_error_code = 0;
                    ev.flags = 0;
                    ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev);
                }
                break;
            }
            return VCPU_EXIT_DEBUG;
        case KVM_EXIT_INTERNAL_ERROR:
        case KVM_EXIT_FAIL_ENTRY:
            return vcpu_error(cpu, internal_error_text(cpu, run));
        default:
            return vcpu_error(cpu, g_strdup_printf(
                "unexpected KVM exit reason %u", run->exit_reason));
        }
    }
}
