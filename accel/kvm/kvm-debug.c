/*
 * Guest debugging for the gdb stub (KVM_SET_GUEST_DEBUG): single step,
 * hardware breakpoints in DR0-DR3 with DR7 (Intel SDM vol. 3, 18.2), and
 * software breakpoints as int3 bytes written into guest memory.  Software
 * breakpoints live in guest RAM, so they are per VM: the list of the latest
 * set_debug() call is the one written into memory.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

#define INT3 0xcc

/* Guest-physical host pointer of a guest-virtual byte, or NULL. */
static uint8_t *gva_to_host(VCpu *cpu, uint64_t gva)
{
    struct kvm_translation t = { .linear_address = gva };
    if (ioctl(kvm_vcpu(cpu)->fd, KVM_TRANSLATE, &t) < 0 || !t.valid) {
        return NULL;
    }
    return address_space_ram_ptr(cpu->accel->mem, t.physical_address, 1);
}

static void remove_all_locked(KvmState *s)
{
    for (unsigned i = 0; i < s->nr_sw_bp; i++) {
        if (*s->sw_bp[i].host == INT3) {
            *s->sw_bp[i].host = s->sw_bp[i].saved;
        }
    }
    s->nr_sw_bp = 0;
}

void kvm_remove_all_breakpoints(KvmState *s)
{
    g_mutex_lock(&s->bp_lock);
    remove_all_locked(s);
    g_mutex_unlock(&s->bp_lock);
}

bool kvm_is_our_breakpoint(KvmState *s, uint64_t pc)
{
    bool ours = false;
    g_mutex_lock(&s->bp_lock);
    for (unsigned i = 0; i < s->nr_sw_bp && !ours; i++) {
        ours = s->sw_bp[i].gva == pc;
    }
    g_mutex_unlock(&s->bp_lock);
    return ours;
}

bool kvm_set_debug(VCpu *cpu, const AccelDebug *dbg, GError **errp)
{
    KvmState *s = kvm_state(cpu->accel);
    KvmVcpu *v = kvm_vcpu(cpu);
    unsigned nr_sw = dbg->nr_sw_breakpoints;
    unsigned nr_hw = dbg->nr_hw_breakpoints;

    if (nr_sw > ACCEL_MAX_BREAKPOINTS || nr_hw > 4) {
        error_setg(errp, "too many breakpoints");
        return false;
    }
    g_mutex_lock(&s->bp_lock);
    remove_all_locked(s);
    for (unsigned i = 0; i < nr_sw; i++) {
        uint8_t *host = gva_to_host(cpu, dbg->sw_breakpoints[i]);
        if (!host) {
            remove_all_locked(s);
            g_mutex_unlock(&s->bp_lock);
            error_setg(errp, "cannot set a breakpoint at 0x%llx: not in RAM",
                       (unsigned long long)dbg->sw_breakpoints[i]);
            return false;
        }
        KvmSwBreakpoint *bp = &s->sw_bp[s->nr_sw_bp++];
        bp->gva = dbg->sw_breakpoints[i];
        bp->host = host;
        bp->saved = *host;
        *host = INT3;
    }
    g_mutex_unlock(&s->bp_lock);

    struct kvm_guest_debug gd;
    memset(&gd, 0, sizeof(gd));
    if (dbg->single_step || nr_sw || nr_hw) {
        gd.control = KVM_GUESTDBG_ENABLE;
        if (dbg->single_step) {
            gd.control |= KVM_GUESTDBG_SINGLESTEP;
        }
        if (nr_sw) {
            gd.control |= KVM_GUESTDBG_USE_SW_BP;
        }
        if (nr_hw) {
            gd.control |= KVM_GUESTDBG_USE_HW_BP;
            uint64_t dr7 = 0x400;
            for (unsigned i = 0; i < nr_hw; i++) {
                gd.arch.debugreg[i] = dbg->hw_breakpoints[i];
                dr7 |= 1ull << (2 * i); /* Li: enabled; R/W 00 = execute */
            }
            gd.arch.debugreg[7] = dr7;
        }
    }
    if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &gd) < 0) {
        error_setg(errp, "KVM_SET_GUEST_DEBUG: %s", g_strerror(errno));
        return false;
    }
    v->debug = *dbg;
    return true;
}
