/*
 * The CPUID table of each vCPU: what the host's KVM supports
 * (KVM_GET_SUPPORTED_CPUID, i.e. "-cpu host"), with the vCPU's APIC ID and
 * the topology of the machine (one thread per core, all cores in one
 * package), the hypervisor bit and KVM's signature leaf, and without the
 * features Kestrel does not offer a guest (nested virtualisation).  Leaf
 * layouts: Intel SDM vol. 2, CPUID; AMD APM vol. 3, CPUID; the KVM CPUID
 * documentation for 0x40000000.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_80000001_ECX_SVM (1u << 2)
#define CPUID_80000001_ECX_CMP_LEGACY (1u << 1)
#define CPUID_TOPO_LEVEL_SMT 1
#define CPUID_TOPO_LEVEL_CORE 2
#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES 0x40000001u

bool kvm_cpuid_init(KvmState *s, GError **errp)
{
    const char *model = s->accel->cfg.cpu_model;
    if (model && strcmp(model, "host") != 0 && strcmp(model, "max") != 0) {
        error_setg(errp, "-cpu %s: KVM offers the host CPU only (-cpu host or "
                   "-cpu max)", model);
        return false;
    }
    for (unsigned n = 128; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(s->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            s->supported_cpuid = c;
            return true;
        }
        int err = errno;
        g_free(c);
        if (err != E2BIG) {
            error_setg(errp, "KVM_GET_SUPPORTED_CPUID: %s", g_strerror(err));
            return false;
        }
    }
    error_setg(errp, "KVM_GET_SUPPORTED_CPUID: too many entries");
    return false;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn,
                                     uint32_t index)
{
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == fn &&
            (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)) {
            return e;
        }
    }
    return NULL;
}

/* Add (or find) an entry; the table was allocated with room to spare. */
static struct kvm_cpuid_entry2 *add(struct kvm_cpuid2 *c, unsigned cap,
                                    uint32_t fn, uint32_t index, bool indexed)
{
    struct kvm_cpuid_entry2 *e = find(c, fn, index);
    if (e || c->nent >= cap) {
        return e;
    }
    e = &c->entries[c->nent++];
    memset(e, 0, sizeof(*e));
    e->function = fn;
    e->index = index;
    e->flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    return e;
}

static unsigned bits_for(unsigned count)
{
    unsigned b = 0;
    while ((1u << b) < count) {
        b++;
    }
    return b;
}

/* Leaves 0xb and 0x1f: SMT level (1 thread), core level (nr cores). */
static void set_topology_leaf(struct kvm_cpuid2 *c, unsigned cap, uint32_t fn,
                              uint32_t apic_id, unsigned nr_cpus)
{
    for (uint32_t sub = 0; sub < 3; sub++) {
        struct kvm_cpuid_entry2 *e = add(c, cap, fn, sub, true);
        if (!e) {
            return;
        }
        e->flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        e->edx = apic_id;
        if (sub == 0) {
            e->eax = 0;
            e->ebx = 1;
            e->ecx = sub | (CPUID_TOPO_LEVEL_SMT << 8);
        } else if (sub == 1) {
            e->eax = bits_for(nr_cpus);
            e->ebx = nr_cpus;
            e->ecx = sub | (CPUID_TOPO_LEVEL_CORE << 8);
        } else {
            e->eax = 0;
            e->ebx = 0;
            e->ecx = sub; /* level type 0: no more levels */
        }
    }
}

bool kvm_cpuid_setup_vcpu(KvmState *s, VCpu *cpu, GError **errp)
{
    const struct kvm_cpuid2 *sup = s->supported_cpuid;
    unsigned cap = sup->nent + 8;
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + cap * sizeof(c->entries[0]));
    memcpy(c, sup, sizeof(*c) + sup->nent * sizeof(sup->entries[0]));
    unsigned nr = s->accel->nr_vcpus ? s->accel->nr_vcpus : 1;
    uint32_t apic_id = cpu->apic_id;

    struct kvm_cpuid_entry2 *e = find(c, 0, 0);
    uint32_t max_basic = e ? e->eax : 0;

    e = find(c, 1, 0);
    if (e) {
        e->ebx = (e->ebx & 0x0000ffffu) | ((nr > 255 ? 255 : nr) << 16) |
                 (apic_id << 24);
        e->ecx &= ~CPUID_1_ECX_VMX;
        e->ecx |= CPUID_1_ECX_HYPERVISOR;
        if (nr > 1) {
            e->edx |= CPUID_1_EDX_HTT;
        }
    }
    /* Deterministic cache parameters: cores per package, and which caches
     * the cores share (the last level only). */
    for (uint32_t sub = 0; sub < 8; sub++) {
        e = find(c, 4, sub);
        if (!e || (e->eax & 0x1f) == 0) {
            break;
        }
        unsigned level = (e->eax >> 5) & 7;
        uint32_t sharing = level >= 3 ? nr - 1 : 0;
        uint32_t cores = (nr > 64 ? 64 : nr) - 1;
        e->eax = (e->eax & 0x3fff) | ((sharing & 0xfff) << 14) | (cores << 26);
    }
    if (max_basic >= 0xb) {
        set_topology_leaf(c, cap, 0xb, apic_id, nr);
    }
    if (max_basic >= 0x1f) {
        set_topology_leaf(c, cap, 0x1f, apic_id, nr);
    }
    e = find(c, 0x80000001, 0);
    if (e) {
        e->ecx &= ~(CPUID_80000001_ECX_SVM | CPUID_80000001_ECX_CMP_LEGACY);
    }
    e = find(c, 0x80000008, 0);
    if (e) {
        /* AMD: number of cores - 1 and the APIC ID width. */
        e->ecx = (e->ecx & ~0xf0ffu) | ((nr - 1) & 0xff) |
                 (bits_for(nr) << 12);
    }
    /* KVM's signature leaf, so that guests find the paravirtual features of
     * leaf 0x40000001 (which KVM_GET_SUPPORTED_CPUID already fills). */
    e = add(c, cap, KVM_CPUID_SIGNATURE, 0, false);
    if (e) {
        e->eax = KVM_CPUID_FEATURES;
        memcpy(&e->ebx, "KVMK", 4);
        memcpy(&e->ecx, "VMKV", 4);
        memcpy(&e->edx, "M\0\0\0", 4);
    }

    int r = ioctl(kvm_vcpu(cpu)->fd, KVM_SET_CPUID2, c);
    int err = errno;
    g_free(c);
    if (r < 0) {
        error_setg(errp, "KVM_SET_CPUID2 for vCPU %u: %s", cpu->index,
                   g_strerror(err));
        return false;
    }
    return true;
}
