/*
 * The reference side of the differential tests: KVM ioctls (KVM_CREATE_VM,
 * KVM_SET_USER_MEMORY_REGION, KVM_SET_SREGS/REGS, KVM_RUN) over a caller's
 * RAM buffer.  See Documentation/virt/kvm/api.rst for the interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/cpu/kvm-ref.h"

struct KvmRef {
    int sys, vm, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint32_t exit_reason;
    uint64_t exit_rip;
};

KvmRef *kvm_ref_new(uint8_t *ram, size_t ram_size, const char **why)
{
    KvmRef *k = calloc(1, sizeof(*k));
    k->sys = k->vm = k->vcpu = -1;
    k->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->sys < 0) {
        *why = "cannot open /dev/kvm";
        goto fail;
    }
    k->vm = ioctl(k->sys, KVM_CREATE_VM, 0);
    if (k->vm < 0) {
        *why = "KVM_CREATE_VM failed";
        goto fail;
    }
    struct kvm_userspace_memory_region r = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
        .userspace_addr = (uintptr_t)ram,
    };
    if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        *why = "KVM_SET_USER_MEMORY_REGION failed";
        goto fail;
    }
    k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
    if (k->vcpu < 0) {
        *why = "KVM_CREATE_VCPU failed";
        goto fail;
    }
    int sz = ioctl(k->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0) {
        *why = "KVM_GET_VCPU_MMAP_SIZE failed";
        goto fail;
    }
    k->run_size = (size_t)sz;
    k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
    if (k->run == MAP_FAILED) {
        k->run = NULL;
        *why = "mmap of kvm_run failed";
        goto fail;
    }
    /* give the guest the host's CPUID so user code sees its features */
    struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[100]; } cpuid;
    memset(&cpuid, 0, sizeof(cpuid));
    cpuid.c.nent = 100;
    if (ioctl(k->sys, KVM_GET_SUPPORTED_CPUID, &cpuid) == 0) {
        ioctl(k->vcpu, KVM_SET_CPUID2, &cpuid);
    }
    return k;
fail:
    kvm_ref_free(k);
    return NULL;
}

void kvm_ref_free(KvmRef *k)
{
    if (!k) {
        return;
    }
    if (k->run) {
        munmap(k->run, k->run_size);
    }
    if (k->vcpu >= 0) {
        close(k->vcpu);
    }
    if (k->vm >= 0) {
        close(k->vm);
    }
    if (k->sys >= 0) {
        close(k->sys);
    }
    free(k);
}

static void seg_to_kvm(const SegmentCache *sc, struct kvm_segment *ks)
{
    memset(ks, 0, sizeof(*ks));
    ks->base = sc->base;
    ks->limit = sc->limit;
    ks->selector = sc->selector;
    ks->type = (sc->flags >> X86_DESC_TYPE_SHIFT) & 15;
    ks->s = !!(sc->flags & X86_DESC_S);
    ks->dpl = (sc->flags >> X86_DESC_DPL_SHIFT) & 3;
    ks->present = !!(sc->flags & X86_DESC_P);
    ks->avl = !!(sc->flags & X86_DESC_AVL);
    ks->l = !!(sc->flags & X86_DESC_L);
    ks->db = !!(sc->flags & X86_DESC_B);
    ks->g = !!(sc->flags & X86_DESC_G);
    ks->unusable = !ks->present;
}

bool kvm_ref_run(KvmRef *k, X86State *s, uint16_t *port)
{
    struct kvm_sregs sr;
    if (ioctl(k->vcpu, KVM_GET_SREGS, &sr) < 0) {
        return false;
    }
    seg_to_kvm(&s->segs[R_CS], &sr.cs);
    seg_to_kvm(&s->segs[R_DS], &sr.ds);
    seg_to_kvm(&s->segs[R_ES], &sr.es);
    seg_to_kvm(&s->segs[R_FS], &sr.fs);
    seg_to_kvm(&s->segs[R_GS], &sr.gs);
    seg_to_kvm(&s->segs[R_SS], &sr.ss);
    seg_to_kvm(&s->tr, &sr.tr);
    seg_to_kvm(&s->ldt, &sr.ldt);
    sr.gdt.base = s->gdt.base;
    sr.gdt.limit = s->gdt.limit;
    sr.idt.base = s->idt.base;
    sr.idt.limit = s->idt.limit;
    sr.cr0 = s->cr0;
    sr.cr3 = s->cr3;
    sr.cr4 = s->cr4;
    sr.efer = s->efer;
    if (ioctl(k->vcpu, KVM_SET_SREGS, &sr) < 0) {
        return false;
    }
    struct kvm_regs r = {
        .rax = s->regs[R_EAX], .rbx = s->regs[R_EBX], .rcx = s->regs[R_ECX],
        .rdx = s->regs[R_EDX], .rsi = s->regs[R_ESI], .rdi = s->regs[R_EDI],
        .rsp = s->regs[R_ESP], .rbp = s->regs[R_EBP],
        .r8 = s->regs[8], .r9 = s->regs[9], .r10 = s->regs[10], .r11 = s->regs[11],
        .r12 = s->regs[12], .r13 = s->regs[13], .r14 = s->regs[14], .r15 = s->regs[15],
        .rip = s->rip, .rflags = s->rflags,
    };
    if (ioctl(k->vcpu, KVM_SET_REGS, &r) < 0) {
        return false;
    }
    for (;;) {
        if (ioctl(k->vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        break;
    }
    k->exit_reason = k->run->exit_reason;
    if (ioctl(k->vcpu, KVM_GET_REGS, &r) < 0) {
        return false;
    }
    k->exit_rip = r.rip;
    if (k->run->exit_reason != KVM_EXIT_IO) {
        return false;
    }
    *port = k->run->io.port;
    uint64_t out[16] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                         r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15 };
    memcpy(s->regs, out, sizeof(out));
    s->rip = r.rip;
    s->rflags = r.rflags;
    return true;
}

void kvm_ref_describe_exit(const KvmRef *k, char *buf, size_t len)
{
    snprintf(buf, len, "KVM exit reason %u at rip %#llx", k->exit_reason,
             (unsigned long long)k->exit_rip);
}
