/*
 * The architectural state of a vCPU between KVM and X86State: general
 * registers (KVM_GET/SET_REGS), segments and control registers (SREGS), the
 * MSRs of X86State (KVM_GET/SET_MSRS), x87/SSE (KVM_GET/SET_FPU, FXSAVE
 * layout), XCR0, debug registers, the interrupt shadow and NMI masking
 * (vcpu events) and halted / wait-for-SIPI (MP state).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

typedef struct MsrField {
    uint32_t index;
    uint16_t offset; /* of a uint64_t in X86State */
} MsrField;

#define F(idx, field) { idx, offsetof(X86State, field) }
static const MsrField msr_fields[] = {
    F(0x10, tsc),
    F(0x174, sysenter_cs), F(0x175, sysenter_esp), F(0x176, sysenter_eip),
    F(0x1a0, misc_enable),
    F(0x277, pat),
    F(0x6e0, tsc_deadline),
    F(0xc0000081, star), F(0xc0000082, lstar), F(0xc0000083, cstar),
    F(0xc0000084, fmask), F(0xc0000102, kernel_gs_base),
    F(0xc0000103, tsc_aux),
    F(0x2ff, mtrr_def_type),
    F(0x250, mtrr_fixed[0]), F(0x258, mtrr_fixed[1]), F(0x259, mtrr_fixed[2]),
    F(0x268, mtrr_fixed[3]), F(0x269, mtrr_fixed[4]), F(0x26a, mtrr_fixed[5]),
    F(0x26b, mtrr_fixed[6]), F(0x26c, mtrr_fixed[7]), F(0x26d, mtrr_fixed[8]),
    F(0x26e, mtrr_fixed[9]), F(0x26f, mtrr_fixed[10]),
    F(0x200, mtrr_var_base[0]), F(0x201, mtrr_var_mask[0]),
    F(0x202, mtrr_var_base[1]), F(0x203, mtrr_var_mask[1]),
    F(0x204, mtrr_var_base[2]), F(0x205, mtrr_var_mask[2]),
    F(0x206, mtrr_var_base[3]), F(0x207, mtrr_var_mask[3]),
    F(0x208, mtrr_var_base[4]), F(0x209, mtrr_var_mask[4]),
    F(0x20a, mtrr_var_base[5]), F(0x20b, mtrr_var_mask[5]),
    F(0x20c, mtrr_var_base[6]), F(0x20d, mtrr_var_mask[6]),
    F(0x20e, mtrr_var_base[7]), F(0x20f, mtrr_var_mask[7]),
};
#undef F
#define NR_MSR_FIELDS (sizeof(msr_fields) / sizeof(msr_fields[0]))
#define MSR_TSC 0x10

G_STATIC_ASSERT(NR_MSR_FIELDS <= 64);

typedef struct MsrBuf {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[NR_MSR_FIELDS];
} MsrBuf;

static uint64_t *msr_ptr(X86State *env, unsigned i)
{
    return (uint64_t *)((char *)env + msr_fields[i].offset);
}

void kvm_msrs_probe(KvmState *s, int vcpu_fd)
{
    if (s->msrs_probed) {
        return;
    }
    s->msrs_probed = true;
    for (unsigned i = 0; i < NR_MSR_FIELDS; i++) {
        MsrBuf b = { .hdr.nmsrs = 1 };
        b.e[0].index = msr_fields[i].index;
        if (ioctl(vcpu_fd, KVM_GET_MSRS, &b) == 1) {
            s->msr_ok[s->nr_msr_ok++] = (uint8_t)i;
        }
    }
}

/* ---- segments ---- */

static void seg_from_kvm(SegmentCache *sc, const struct kvm_segment *k)
{
    sc->selector = k->selector;
    sc->base = k->base;
    sc->limit = k->limit;
    sc->flags = ((uint32_t)(k->type & 0xf) << X86_DESC_TYPE_SHIFT) |
                (k->s ? X86_DESC_S : 0) |
                ((uint32_t)(k->dpl & 3) << X86_DESC_DPL_SHIFT) |
                (k->present && !k->unusable ? X86_DESC_P : 0) |
                (k->avl ? X86_DESC_AVL : 0) | (k->l ? X86_DESC_L : 0) |
                (k->db ? X86_DESC_B : 0) | (k->g ? X86_DESC_G : 0);
}

static void seg_to_kvm(struct kvm_segment *k, const SegmentCache *sc)
{
    memset(k, 0, sizeof(*k));
    k->selector = sc->selector;
    k->base = sc->base;
    k->limit = sc->limit;
    k->type = (sc->flags >> X86_DESC_TYPE_SHIFT) & 0xf;
    k->s = !!(sc->flags & X86_DESC_S);
    k->dpl = (sc->flags >> X86_DESC_DPL_SHIFT) & 3;
    k->present = !!(sc->flags & X86_DESC_P);
    k->avl = !!(sc->flags & X86_DESC_AVL);
    k->l = !!(sc->flags & X86_DESC_L);
    k->db = !!(sc->flags & X86_DESC_B);
    k->g = !!(sc->flags & X86_DESC_G);
    k->unusable = !k->present;
}

/* ---- general registers ---- */

static void regs_from_kvm(X86State *env, const struct kvm_regs *r)
{
    env->regs[R_EAX] = r->rax;
    env->regs[R_ECX] = r->rcx;
    env->regs[R_EDX] = r->rdx;
    env->regs[R_EBX] = r->rbx;
    env->regs[R_ESP] = r->rsp;
    env->regs[R_EBP] = r->rbp;
    env->regs[R_ESI] = r->rsi;
    env->regs[R_EDI] = r->rdi;
    env->regs[R_R8] = r->r8;
    env->regs[R_R9] = r->r9;
    env->regs[R_R10] = r->r10;
    env->regs[R_R11] = r->r11;
    env->regs[R_R12] = r->r12;
    env->regs[R_R13] = r->r13;
    env->regs[R_R14] = r->r14;
    env->regs[R_R15] = r->r15;
    env->rip = r->rip;
    env->rflags = r->rflags;
}

static void regs_to_kvm(struct kvm_regs *r, const X86State *env)
{
    r->rax = env->regs[R_EAX];
    r->rcx = env->regs[R_ECX];
    r->rdx = env->regs[R_EDX];
    r->rbx = env->regs[R_EBX];
    r->rsp = env->regs[R_ESP];
    r->rbp = env->regs[R_EBP];
    r->rsi = env->regs[R_ESI];
    r->rdi = env->regs[R_EDI];
    r->r8 = env->regs[R_R8];
    r->r9 = env->regs[R_R9];
    r->r10 = env->regs[R_R10];
    r->r11 = env->regs[R_R11];
    r->r12 = env->regs[R_R12];
    r->r13 = env->regs[R_R13];
    r->r14 = env->regs[R_R14];
    r->r15 = env->regs[R_R15];
    r->rip = env->rip;
    r->rflags = env->rflags | X86_FLAG_FIXED1;
}

/* ---- x87 / SSE: kvm_fpu holds ST(i) in stack order, X86FpuState the
 * physical registers R0..R7; R[(TOP + i) & 7] is ST(i). ---- */

static void fpu_from_kvm(X86FpuState *f, const struct kvm_fpu *k)
{
    f->fcw = k->fcw;
    f->fsw = k->fsw;
    f->ftw = k->ftwx;
    f->fop = k->last_opcode;
    f->fip = k->last_ip;
    f->fdp = k->last_dp;
    f->fcs = 0;
    f->fds = 0;
    f->mxcsr = k->mxcsr;
    unsigned top = (k->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        X87Reg *r = &f->st[(top + i) & 7];
        memcpy(&r->mant, k->fpr[i], 8);
        memcpy(&r->sign_exp, k->fpr[i] + 8, 2);
    }
    memcpy(f->xmm, k->xmm, sizeof(k->xmm));
}

static void fpu_to_kvm(struct kvm_fpu *k, const X86FpuState *f)
{
    memset(k, 0, sizeof(*k));
    k->fcw = f->fcw;
    k->fsw = f->fsw;
    k->ftwx = f->ftw;
    k->last_opcode = f->fop;
    k->last_ip = f->fip;
    k->last_dp = f->fdp;
    k->mxcsr = f->mxcsr;
    unsigned top = (f->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        const X87Reg *r = &f->st[(top + i) & 7];
        memcpy(k->fpr[i], &r->mant, 8);
        memcpy(k->fpr[i] + 8, &r->sign_exp, 2);
    }
    memcpy(k->xmm, f->xmm, sizeof(k->xmm));
}

static bool fail(GError **errp, VCpu *cpu, const char *what)
{
    error_setg(errp, "vCPU %u: %s: %s", cpu->index, what, g_strerror(errno));
    return false;
}

bool kvm_get_state(VCpu *cpu, GError **errp)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    KvmState *s = kvm_state(cpu->accel);
    X86State *env = &cpu->env;

    struct kvm_regs regs;
    if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0) {
        return fail(errp, cpu, "KVM_GET_REGS");
    }
    regs_from_kvm(env, &regs);

    struct kvm_sregs sregs;
    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
        return fail(errp, cpu, "KVM_GET_SREGS");
    }
    seg_from_kvm(&env->segs[R_ES], &sregs.es);
    seg_from_kvm(&env->segs[R_CS], &sregs.cs);
    seg_from_kvm(&env->segs[R_SS], &sregs.ss);
    seg_from_kvm(&env->segs[R_DS], &sregs.ds);
    seg_from_kvm(&env->segs[R_FS], &sregs.fs);
    seg_from_kvm(&env->segs[R_GS], &sregs.gs);
    seg_from_kvm(&env->ldt, &sregs.ldt);
    seg_from_kvm(&env->tr, &sregs.tr);
    env->gdt.base = sregs.gdt.base;
    env->gdt.limit = sregs.gdt.limit;
    env->idt.base = sregs.idt.base;
    env->idt.limit = sregs.idt.limit;
    env->cr0 = sregs.cr0;
    env->cr2 = sregs.cr2;
    env->cr3 = sregs.cr3;
    env->cr4 = sregs.cr4;
    env->cr8 = sregs.cr8;
    env->efer = sregs.efer;
    env->apic_base = sregs.apic_base;

    MsrBuf b = { .hdr.nmsrs = s->nr_msr_ok };
    for (unsigned i = 0; i < s->nr_msr_ok; i++) {
        b.e[i].index = msr_fields[s->msr_ok[i]].index;
    }
    int n = ioctl(v->fd, KVM_GET_MSRS, &b);
    if (n < 0) {
        return fail(errp, cpu, "KVM_GET_MSRS");
    }
    for (int i = 0; i < n; i++) {
        *msr_ptr(env, s->msr_ok[i]) = b.e[i].data;
        if (b.e[i].index == MSR_TSC) {
            v->last_tsc = b.e[i].data;
            v->tsc_valid = true;
        }
    }

    struct kvm_fpu fpu;
    if (ioctl(v->fd, KVM_GET_FPU, &fpu) < 0) {
        return fail(errp, cpu, "KVM_GET_FPU");
    }
    fpu_from_kvm(&env->fpu, &fpu);

    if (s->has_xcrs) {
        struct kvm_xcrs xcrs;
        if (ioctl(v->fd, KVM_GET_XCRS, &xcrs) == 0) {
            for (unsigned i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
                if (xcrs.xcrs[i].xcr == 0) {
                    env->xcr0 = xcrs.xcrs[i].value;
                }
            }
        }
    }
    if (s->has_debugregs) {
        struct kvm_debugregs dr;
        if (ioctl(v->fd, KVM_GET_DEBUGREGS, &dr) < 0) {
            return fail(errp, cpu, "KVM_GET_DEBUGREGS");
        }
        for (unsigned i = 0; i < 4; i++) {
            env->dr[i] = dr.db[i];
        }
        env->dr[6] = dr.dr6;
        env->dr[7] = dr.dr7;
    }
    if (s->has_vcpu_events) {
        struct kvm_vcpu_events ev;
        if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
            return fail(errp, cpu, "KVM_GET_VCPU_EVENTS");
        }
        env->interrupt_shadow = ev.interrupt.shadow != 0;
        env->nmi_masked = ev.nmi.masked != 0;
    }
    if (cpu->accel->irqchip_in_kernel) {
        struct kvm_mp_state mp;
        if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0) {
            return fail(errp, cpu, "KVM_GET_MP_STATE");
        }
        env->halted = mp.mp_state == KVM_MP_STATE_HALTED;
        env->wait_for_sipi = mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
                             mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
    }
    return true;
}

bool kvm_set_state(VCpu *cpu, GError **errp)
{
    KvmVcpu *v = kvm_vcpu(cpu);
    KvmState *s = kvm_state(cpu->accel);
    const X86State *env = &cpu->env;

    struct kvm_regs regs;
    regs_to_kvm(&regs, env);
    if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
        return fail(errp, cpu, "KVM_SET_REGS");
    }

    /* Start from KVM's copy so that what X86State does not hold (the
     * pending-interrupt bitmap) is kept. */
    struct kvm_sregs sregs;
    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
        return fail(errp, cpu, "KVM_GET_SREGS");
    }
    seg_to_kvm(&sregs.es, &env->segs[R_ES]);
    seg_to_kvm(&sregs.cs, &env->segs[R_CS]);
    seg_to_kvm(&sregs.ss, &env->segs[R_SS]);
    seg_to_kvm(&sregs.ds, &env->segs[R_DS]);
    seg_to_kvm(&sregs.fs, &env->segs[R_FS]);
    seg_to_kvm(&sregs.gs, &env->segs[R_GS]);
    seg_to_kvm(&sregs.ldt, &env->ldt);
    seg_to_kvm(&sregs.tr, &env->tr);
    sregs.gdt.base = env->gdt.base;
    sregs.gdt.limit = env->gdt.limit;
    sregs.idt.base = env->idt.base;
    sregs.idt.limit = env->idt.limit;
    sregs.cr0 = env->cr0;
    sregs.cr2 = env->cr2;
    sregs.cr3 = env->cr3;
    sregs.cr4 = env->cr4;
    sregs.cr8 = env->cr8;
    sregs.efer = env->efer;
    sregs.apic_base = env->apic_base;
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) {
        return fail(errp, cpu, "KVM_SET_SREGS");
    }

    MsrBuf b = { .hdr.nmsrs = 0 };
    for (unsigned i = 0; i < s->nr_msr_ok; i++) {
        const MsrField *f = &msr_fields[s->msr_ok[i]];
        uint64_t val = *msr_ptr((X86State *)env, s->msr_ok[i]);
        /* Writing the TSC back would make it jump; only write a new value. */
        if (f->index == MSR_TSC && v->tsc_valid && val == v->last_tsc) {
            continue;
        }
        b.e[b.hdr.nmsrs].index = f->index;
        b.e[b.hdr.nmsrs].data = val;
        b.hdr.nmsrs++;
    }
    int n = ioctl(v->fd, KVM_SET_MSRS, &b);
    if (n < 0) {
        return fail(errp, cpu, "KVM_SET_MSRS");
    }
    if ((unsigned)n < b.hdr.nmsrs) {
        error_setg(errp, "vCPU %u: KVM refused the value 0x%llx of MSR 0x%x",
                   cpu->index, (unsigned long long)b.e[n].data, b.e[n].index);
        return false;
    }
    v->tsc_valid = false;

    struct kvm_fpu fpu;
    fpu_to_kvm(&fpu, &env->fpu);
    if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0) {
        return fail(errp, cpu, "KVM_SET_FPU");
    }
    if (s->has_xcrs) {
        struct kvm_xcrs xcrs;
        memset(&xcrs, 0, sizeof(xcrs));
        xcrs.nr_xcrs = 1;
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = env->xcr0 ? env->xcr0 : 1;
        if (ioctl(v->fd, KVM_SET_XCRS, &xcrs) < 0) {
            return fail(errp, cpu, "KVM_SET_XCRS");
        }
    }
    if (s->has_debugregs) {
        struct kvm_debugregs dr;
        memset(&dr, 0, sizeof(dr));
        for (unsigned i = 0; i < 4; i++) {
            dr.db[i] = env->dr[i];
        }
        dr.dr6 = env->dr[6];
        dr.dr7 = env->dr[7];
        if (ioctl(v->fd, KVM_SET_DEBUGREGS, &dr) < 0) {
            return fail(errp, cpu, "KVM_SET_DEBUGREGS");
        }
    }
    if (s->has_vcpu_events) {
        struct kvm_vcpu_events ev;
        if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
            return fail(errp, cpu, "KVM_GET_VCPU_EVENTS");
        }
        ev.interrupt.shadow = env->interrupt_shadow ? KVM_X86_SHADOW_INT_STI : 0;
        ev.nmi.masked = env->nmi_masked;
        ev.flags &= KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING |
                    KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SMM;
        ev.flags |= KVM_VCPUEVENT_VALID_SHADOW;
        if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
            return fail(errp, cpu, "KVM_SET_VCPU_EVENTS");
        }
    }
    if (cpu->accel->irqchip_in_kernel) {
        /* An AP after reset waits for a STARTUP IPI (SDM vol. 3, 9.4.1):
         * KVM's INIT_RECEIVED state, which a SIPI starts. */
        struct kvm_mp_state mp = {
            .mp_state = env->wait_for_sipi ? KVM_MP_STATE_INIT_RECEIVED
                        : env->halted      ? KVM_MP_STATE_HALTED
                                           : KVM_MP_STATE_RUNNABLE,
        };
        if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
            return fail(errp, cpu, "KVM_SET_MP_STATE");
        }
    }
    return true;
}
