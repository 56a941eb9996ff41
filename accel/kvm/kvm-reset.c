/*
 * Machine reset of what KVM models itself.  KVM offers no "reset" ioctl:
 * the in-kernel 8259 pair, IOAPIC, 8254 and each vCPU's LAPIC are read just
 * after KVM creates them (their power-on state, by KVM's own definition)
 * and written back on a reset (KVM_GET/SET_IRQCHIP, KVM_GET/SET_PIT2,
 * KVM_GET/SET_LAPIC).  Per vCPU, a reset also drops pending events (an
 * injected exception, interrupt or NMI, the queued-interrupt bitmap),
 * puts IA32_APIC_BASE back to 0xfee00000 | enabled (| BSP) as after RESET
 * (Intel SDM vol. 3, 11.4.4 and table 10-1), turns off KVM's paravirtual
 * MSRs (kvmclock, async page faults, steal time, PV EOI: a guest page
 * written by the host must not outlive the guest that chose it; KVM's
 * Documentation/virt/kvm/x86/msr.rst) and clears the XSAVE components
 * X86State does not hold.  The architectural registers come after this,
 * from the system's set_state of the reset X86State.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_DEFAULT 0xfee00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)

/* MSRs outside X86State and their values after a reset.  Each is written on
 * its own; one this KVM does not know is skipped. */
static const struct {
    uint32_t index;
    uint64_t value;
} reset_msrs[] = {
    { 0x3b, 0 },          /* IA32_TSC_ADJUST */
    { 0x48, 0 },          /* IA32_SPEC_CTRL */
    { 0x17a, 0 },         /* IA32_MCG_STATUS */
    { 0x1d9, 0 },         /* IA32_DEBUGCTL */
    { 0xda0, 0 },         /* IA32_XSS */
    { 0x11, 0 },          /* MSR_KVM_WALL_CLOCK */
    { 0x12, 0 },          /* MSR_KVM_SYSTEM_TIME */
    { 0x4b564d00, 0 },    /* MSR_KVM_WALL_CLOCK_NEW */
    { 0x4b564d01, 0 },    /* MSR_KVM_SYSTEM_TIME_NEW */
    { 0x4b564d02, 0 },    /* MSR_KVM_ASYNC_PF_EN */
    { 0x4b564d03, 0 },    /* MSR_KVM_STEAL_TIME */
    { 0x4b564d04, 0 },    /* MSR_KVM_PV_EOI_EN */
    { 0x4b564d05, 1 },    /* MSR_KVM_POLL_CONTROL: host polling on */
    { 0x4b564d06, 0 },    /* MSR_KVM_ASYNC_PF_INT */
};

static const unsigned chip_ids[3] = {
    KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
};

static bool fail(GError **errp, const char *what)
{
    error_setg(errp, "%s: %s", what, g_strerror(errno));
    return false;
}

bool kvm_irqchip_save_power_on(KvmState *s, GError **errp)
{
    for (unsigned i = 0; i < 3; i++) {
        memset(&s->power_on_chip[i], 0, sizeof(s->power_on_chip[i]));
        s->power_on_chip[i].chip_id = chip_ids[i];
        if (ioctl(s->vm_fd, KVM_GET_IRQCHIP, &s->power_on_chip[i]) < 0) {
            return fail(errp, "KVM_GET_IRQCHIP");
        }
    }
    if (s->accel->pit_in_kernel &&
        ioctl(s->vm_fd, KVM_GET_PIT2, &s->power_on_pit) < 0) {
        return fail(errp, "KVM_GET_PIT2");
    }
    return true;
}

bool kvm_vcpu_save_power_on(VCpu *cpu, GError **errp)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    if (ioctl(v->fd, KVM_GET_LAPIC, &v->power_on_lapic) < 0) {
        return fail(errp, "KVM_GET_LAPIC");
    }
    return true;
}

bool kvm_reset(Accel *a, GError **errp)
{
    KvmState *s = kvm_state(a);
    if (a->irqchip_in_kernel) {
        for (unsigned i = 0; i < 3; i++) {
            struct kvm_irqchip chip = s->power_on_chip[i];
            if (ioctl(s->vm_fd, KVM_SET_IRQCHIP, &chip) < 0) {
                return fail(errp, "KVM_SET_IRQCHIP");
            }
        }
    }
    if (a->pit_in_kernel) {
        struct kvm_pit_state2 pit = s->power_on_pit;
        if (ioctl(s->vm_fd, KVM_SET_PIT2, &pit) < 0) {
            return fail(errp, "KVM_SET_PIT2");
        }
    }
    return true;
}

static bool set_msr(KvmVcpu *v, uint32_t index, uint64_t value)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } b;
    memset(&b, 0, sizeof(b));
    b.hdr.nmsrs = 1;
    b.e.index = index;
    b.e.data = value;
    return ioctl(v->fd, KVM_SET_MSRS, &b) == 1;
}

/* No interrupt queued by KVM_INTERRUPT or re-queued by KVM_SET_SREGS. */
static bool clear_pending_interrupts(VCpu *cpu, KvmVcpu *v, GError **errp)
{
    struct kvm_sregs sregs;
    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
        return fail(errp, "KVM_GET_SREGS");
    }
    memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) {
        return fail(errp, "KVM_SET_SREGS");
    }
    if (!kvm_state(cpu->accel)->has_vcpu_events) {
        return true;
    }
    struct kvm_vcpu_events ev;
    memset(&ev, 0, sizeof(ev));
    ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
               KVM_VCPUEVENT_VALID_SHADOW;
    if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
        return fail(errp, "KVM_SET_VCPU_EVENTS");
    }
    return true;
}

/* x87 and SSE in their initial state, every other component (AVX, ...) in
 * its init state (XSTATE_BV bits clear; SDM vol. 1, 13.4.2). */
static bool reset_xsave(KvmVcpu *v, GError **errp)
{
    struct kvm_xsave *x = g_malloc0(sizeof(*x));
    uint8_t *area = (uint8_t *)x->region;
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    uint64_t xstate_bv = 3;
    memcpy(area + 0, &fcw, sizeof(fcw));
    memcpy(area + 24, &mxcsr, sizeof(mxcsr));
    memcpy(area + 512, &xstate_bv, sizeof(xstate_bv));
    int r = ioctl(v->fd, KVM_SET_XSAVE, x);
    g_free(x);
    return r == 0 || fail(errp, "KVM_SET_XSAVE");
}

static bool vcpu_reset(VCpu *cpu, KvmVcpu *v, GError **errp)
{
    KvmState *s = kvm_state(cpu->accel);
    if (!clear_pending_interrupts(cpu, v, errp)) {
        return false;
    }
    /* The APIC mode first: KVM reads the LAPIC's ID register in the format
     * of the current mode (xAPIC after reset, even if the guest had chosen
     * x2APIC).  Host writes may skip the disabled state in between. */
    uint64_t base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE |
                    (cpu->index == 0 ? APIC_BASE_BSP : 0);
    if (!set_msr(v, MSR_IA32_APIC_BASE, base)) {
        error_setg(errp, "KVM refused IA32_APIC_BASE 0x%llx",
                   (unsigned long long)base);
        return false;
    }
    if (cpu->accel->irqchip_in_kernel) {
        struct kvm_lapic_state lapic = v->power_on_lapic;
        if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0) {
            return fail(errp, "KVM_SET_LAPIC");
        }
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(reset_msrs); i++) {
        set_msr(v, reset_msrs[i].index, reset_msrs[i].value);
    }
    return !kvm_check_extension(s, KVM_CAP_XSAVE) || reset_xsave(v, errp);
}

bool kvm_vcpu_reset(VCpu *cpu, GError **errp)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    if (!vcpu_reset(cpu, v, errp)) {
        g_prefix_error(errp, "reset of vCPU %u: ", cpu->index);
        return false;
    }
    v->tsc_valid = false;
    return true;
}
