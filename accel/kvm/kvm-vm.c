/*
 * The KVM accelerator, VM level: opening /dev/kvm, creating the VM with its
 * real-mode helper pages, the in-kernel irqchip (8259 pair, IOAPIC, LAPICs;
 * its GSI routing is in kvm-irqfd.c) and the in-kernel 8254, interrupt
 * injection, and the AccelOps table.  Linux KVM API documentation, section
 * 4.x (ioctls).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

#define KVM_DEVICE "/dev/kvm"
#define KVM_EXPECTED_API_VERSION 12

/* Open /dev/kvm and check its API version, with a message that tells the
 * user what to do. */
static int kvm_open(GError **errp)
{
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ENODEV || err == ENXIO) {
            error_setg(errp, KVM_DEVICE " not found: KVM is not available on "
                       "this host (try -accel tcg)");
        } else if (err == EACCES || err == EPERM) {
            struct stat st;
            const struct group *g = NULL;
            if (stat(KVM_DEVICE, &st) == 0) {
                g = getgrgid(st.st_gid);
            }
            error_setg(errp, "no permission to open " KVM_DEVICE ": add your "
                       "user to the '%s' group, or try -accel tcg",
                       g ? g->gr_name : "kvm");
        } else {
            error_setg(errp, "cannot open " KVM_DEVICE ": %s (try -accel tcg)",
                       g_strerror(err));
        }
        return -1;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_EXPECTED_API_VERSION) {
        error_setg(errp, KVM_DEVICE " speaks KVM API version %d, Kestrel "
                   "needs version %d", version, KVM_EXPECTED_API_VERSION);
        close(fd);
        return -1;
    }
    return fd;
}

static bool kvm_probe(GError **errp)
{
    int fd = kvm_open(errp);
    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

int kvm_check_extension(KvmState *s, long cap)
{
    int r = ioctl(s->vm_fd >= 0 ? s->vm_fd : s->kvm_fd, KVM_CHECK_EXTENSION,
                  cap);
    return r < 0 ? 0 : r;
}

static void kick_signal_handler(int sig)
{
    /* Nothing: the signal only makes KVM_RUN return with EINTR. */
}

static bool kvm_irqchip_init(KvmState *s, Accel *a, GError **errp)
{
    if (!kvm_check_extension(s, KVM_CAP_IRQCHIP) ||
        !kvm_check_extension(s, KVM_CAP_IRQ_ROUTING)) {
        error_setg(errp, "this KVM has no in-kernel irqchip; use -accel "
                   "kvm,kernel-irqchip=off");
        return false;
    }
    if (ioctl(s->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        error_setg(errp, "KVM_CREATE_IRQCHIP: %s", g_strerror(errno));
        return false;
    }
    if (!kvm_irq_routing_init(s, errp)) {
        return false;
    }
    a->irqchip_in_kernel = true;
    if (kvm_check_extension(s, KVM_CAP_PIT2)) {
        struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
        if (ioctl(s->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
            error_setg(errp, "KVM_CREATE_PIT2: %s", g_strerror(errno));
            return false;
        }
        a->pit_in_kernel = true;
    }
    return kvm_irqchip_save_power_on(s, errp);
}

static void kvm_destroy(Accel *a)
{
    KvmState *s = kvm_state(a);
    if (!s) {
        return;
    }
    kvm_memory_destroy(s);
    kvm_irq_routing_destroy(s);
    if (s->vm_fd >= 0) {
        close(s->vm_fd);
    }
    if (s->kvm_fd >= 0) {
        close(s->kvm_fd);
    }
    g_free(s->supported_cpuid);
    g_mutex_clear(&s->bp_lock);
    g_free(s);
    a->priv = NULL;
}

static bool kvm_init(Accel *a, GError **errp)
{
    KvmState *s = g_new0(KvmState, 1);
    s->kvm_fd = -1;
    s->vm_fd = -1;
    s->accel = a;
    g_mutex_init(&s->bp_lock);
    a->priv = s;

    s->kvm_fd = kvm_open(errp);
    if (s->kvm_fd < 0) {
        goto fail;
    }
    if (!kvm_check_extension(s, KVM_CAP_IMMEDIATE_EXIT) ||
        !kvm_check_extension(s, KVM_CAP_USER_MEMORY)) {
        error_setg(errp, "this host's KVM is too old (Kestrel needs "
                   "KVM_CAP_USER_MEMORY and KVM_CAP_IMMEDIATE_EXIT)");
        goto fail;
    }
    do {
        s->vm_fd = ioctl(s->kvm_fd, KVM_CREATE_VM, 0);
    } while (s->vm_fd < 0 && errno == EINTR);
    if (s->vm_fd < 0) {
        error_setg(errp, "cannot create a KVM virtual machine: %s",
                   g_strerror(errno));
        goto fail;
    }
    s->run_size = ioctl(s->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (s->run_size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "KVM_GET_VCPU_MMAP_SIZE: %s", g_strerror(errno));
        goto fail;
    }
    /* Intel hosts need these pages for real mode; elsewhere they are
     * accepted and unused, or the capability is missing. */
    if (kvm_check_extension(s, KVM_CAP_SET_TSS_ADDR) &&
        ioctl(s->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        error_setg(errp, "KVM_SET_TSS_ADDR: %s", g_strerror(errno));
        goto fail;
    }
    if (kvm_check_extension(s, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
        uint64_t addr = KVM_IDENTITY_MAP_ADDR;
        if (ioctl(s->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
            error_setg(errp, "KVM_SET_IDENTITY_MAP_ADDR: %s",
                       g_strerror(errno));
            goto fail;
        }
    }
    s->has_xcrs = kvm_check_extension(s, KVM_CAP_XCRS);
    s->has_debugregs = kvm_check_extension(s, KVM_CAP_DEBUGREGS);
    s->has_vcpu_events = kvm_check_extension(s, KVM_CAP_VCPU_EVENTS);
    if (a->cfg.kernel_irqchip && !kvm_irqchip_init(s, a, errp)) {
        goto fail;
    }
    if (!kvm_cpuid_init(s, errp) ||
        !kvm_memory_init(s, errp)) {
        goto fail;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(KVM_KICK_SIGNAL, &sa, NULL);
    return true;

fail:
    kvm_destroy(a);
    return false;
}

static void kvm_set_gsi(Accel *a, unsigned gsi, int level)
{
    KvmState *s = kvm_state(a);
    struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

    if (gsi < KVM_NR_GSI) {
        ioctl(s->vm_fd, KVM_IRQ_LINE, &irq);
    }
}

static void kvm_send_msi(Accel *a, uint64_t addr, uint32_t data)
{
    KvmState *s = kvm_state(a);
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = (uint32_t)(addr >> 32),
        .data = data,
    };
    ioctl(s->vm_fd, KVM_SIGNAL_MSI, &msi);
}

/* KVM_PIT_FLAGS_HPET_LEGACY: the in-kernel 8254 stops injecting IRQ0. */
static void kvm_pit_set_hpet_legacy(Accel *a, bool on)
{
    KvmState *s = kvm_state(a);
    struct kvm_pit_state2 pit;
    if (!a->pit_in_kernel || ioctl(s->vm_fd, KVM_GET_PIT2, &pit) < 0) {
        return;
    }
    if (!!(pit.flags & KVM_PIT_FLAGS_HPET_LEGACY) == on) {
        return;
    }
    pit.flags ^= KVM_PIT_FLAGS_HPET_LEGACY;
    ioctl(s->vm_fd, KVM_SET_PIT2, &pit);
}

const AccelOps accel_kvm_ops = {
    .name = "kvm",
    .probe = kvm_probe,
    .init = kvm_init,
    .destroy = kvm_destroy,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_destroy = kvm_vcpu_destroy,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_kick = kvm_vcpu_kick,
    .get_state = kvm_get_state,
    .set_state = kvm_set_state,
    .set_gsi = kvm_set_gsi,
    .send_msi = kvm_send_msi,
    .set_debug = kvm_set_debug,
    .reset = kvm_reset,
    .vcpu_reset = kvm_vcpu_reset,
    .pit_set_hpet_legacy = kvm_pit_set_hpet_legacy,
    .events = &kvm_event_ops,
};
