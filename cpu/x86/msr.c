/*
 * Model-specific registers (SDM vol. 4): EFER, STAR/LSTAR/CSTAR/FMASK,
 * FS/GS/KERNEL_GS base, SYSENTER, TSC and TSC_AUX, PAT, MTRRs, MISC_ENABLE,
 * ARCH_CAPABILITIES;
 * APIC_BASE, x2APIC and TSC_DEADLINE are forwarded to the local APIC model
 * through CpuIntr.  Anything else raises #GP (the caller does).
 */
#include <time.h>

#include "cpu/x86/mem.h"

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The TSC runs at 1 GHz (one tick per host nanosecond). */
uint64_t x86_rdtsc(X86Cpu *cpu)
{
    return host_ns() + cpu->tsc_offset;
}

/* IA32_ARCH_CAPABILITIES (read-only): the software CPU does not execute
 * speculatively, so it is not susceptible to rogue data cache loads
 * (RDCL_NO, bit 0: Linux then needs no page-table isolation, which would
 * flush the TLB on every system call), L1TF (SKIP_L1DFL_VMENTRY, bit 3),
 * speculative store bypass (SSB_NO, bit 4), MDS (MDS_NO, bit 5), machine
 * checks on page-size changes (PSCHANGE_MC_NO, bit 6) or TSX aborts
 * (TAA_NO, bit 8). */
#define X86_ARCH_CAPABILITIES ((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | \
                               (1u << 6) | (1u << 8))

static bool apic_msr(uint32_t msr)
{
    return msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff);
}

bool x86_msr_read(X86Cpu *cpu, uint32_t msr, uint64_t *val)
{
    X86State *env = cpu->env;
    if (apic_msr(msr)) {
        if (cpu->intr && cpu->intr->msr_read) {
            return cpu->intr->msr_read(cpu->intr->apic_opaque, msr, val);
        }
        if (msr == 0x1b) {
            *val = env->apic_base;
            return true;
        }
        if (msr == 0x6e0) {
            *val = env->tsc_deadline;
            return true;
        }
        return false;
    }
    switch (msr) {
    case 0x10: *val = x86_rdtsc(cpu); return true;
    case 0x17: *val = 0; return true;                 /* platform ID */
    case 0x8b: *val = 0; return true;                 /* microcode revision */
    case 0x10a: *val = X86_ARCH_CAPABILITIES; return true;
    case 0xfe: *val = 0x500 | X86_MAX_MTRR_VAR; return true; /* MTRRcap: FIX, WC */
    case 0x174: *val = env->sysenter_cs; return true;
    case 0x175: *val = env->sysenter_esp; return true;
    case 0x176: *val = env->sysenter_eip; return true;
    case 0x1a0: *val = env->misc_enable; return true;
    case 0x277: *val = env->pat; return true;
    case 0x2ff: *val = env->mtrr_def_type; return true;
    case 0x250: *val = env->mtrr_fixed[0]; return true;
    case 0x258: *val = env->mtrr_fixed[1]; return true;
    case 0x259: *val = env->mtrr_fixed[2]; return true;
    case 0x268 ... 0x26f: *val = env->mtrr_fixed[3 + msr - 0x268]; return true;
    case 0x200 ... 0x200 + 2 * X86_MAX_MTRR_VAR - 1: {
        unsigned i = (msr - 0x200) / 2;
        *val = (msr & 1) ? env->mtrr_var_mask[i] : env->mtrr_var_base[i];
        return true;
    }
    case 0xc0000080: *val = env->efer; return true;
    case 0xc0000081: *val = env->star; return true;
    case 0xc0000082: *val = env->lstar; return true;
    case 0xc0000083: *val = env->cstar; return true;
    case 0xc0000084: *val = env->fmask; return true;
    case 0xc0000100: *val = env->segs[R_FS].base; return true;
    case 0xc0000101: *val = env->segs[R_GS].base; return true;
    case 0xc0000102: *val = env->kernel_gs_base; return true;
    case 0xc0000103: *val = env->tsc_aux; return true;
    default: return false;
    }
}

bool x86_msr_write(X86Cpu *cpu, uint32_t msr, uint64_t val)
{
    X86State *env = cpu->env;
    if (apic_msr(msr)) {
        if (cpu->intr && cpu->intr->msr_write) {
            bool ok = cpu->intr->msr_write(cpu->intr->apic_opaque, msr, val);
            if (ok && msr == 0x1b) {
                env->apic_base = val;
            }
            return ok;
        }
        if (msr == 0x1b) {
            env->apic_base = val;
            return true;
        }
        if (msr == 0x6e0) {
            env->tsc_deadline = val;
            return true;
        }
        return false;
    }
    switch (msr) {
    case 0x10: cpu->tsc_offset = val - (x86_rdtsc(cpu) - cpu->tsc_offset); return true;
    case 0x8b: return true;
    case 0x174: env->sysenter_cs = val & 0xffff; return true;
    case 0x175:
    case 0x176:
        if (!x86_canonical(val)) {
            return false;
        }
        if (msr == 0x175) {
            env->sysenter_esp = val;
        } else {
            env->sysenter_eip = val;
        }
        return true;
    case 0x1a0: env->misc_enable = val; return true;
    case 0x277: env->pat = val; return true;
    case 0x2ff: env->mtrr_def_type = val; return true;
    case 0x250: env->mtrr_fixed[0] = val; return true;
    case 0x258: env->mtrr_fixed[1] = val; return true;
    case 0x259: env->mtrr_fixed[2] = val; return true;
    case 0x268 ... 0x26f: env->mtrr_fixed[3 + msr - 0x268] = val; return true;
    case 0x200 ... 0x200 + 2 * X86_MAX_MTRR_VAR - 1: {
        unsigned i = (msr - 0x200) / 2;
        if (msr & 1) {
            env->mtrr_var_mask[i] = val;
        } else {
            env->mtrr_var_base[i] = val;
        }
        return true;
    }
    case 0xc0000080: {
        uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE | X86_EFER_LMA;
        if (val & ~allowed) {
            return false;
        }
        if ((env->cr0 & X86_CR0_PG) && ((val ^ env->efer) & X86_EFER_LME)) {
            return false;
        }
        x86_write_efer(cpu, val);
        return true;
    }
    case 0xc0000081: env->star = val; return true;
    case 0xc0000082:
    case 0xc0000083:
    case 0xc0000100:
    case 0xc0000101:
    case 0xc0000102:
        if (!x86_canonical(val)) {
            return false;
        }
        switch (msr) {
        case 0xc0000082: env->lstar = val; break;
        case 0xc0000083: env->cstar = val; break;
        case 0xc0000100: env->segs[R_FS].base = val; break;
        case 0xc0000101: env->segs[R_GS].base = val; break;
        default: env->kernel_gs_base = val; break;
        }
        return true;
    case 0xc0000084: env->fmask = (uint32_t)val; return true;
    case 0xc0000103: env->tsc_aux = (uint32_t)val; return true;
    default: return false;
    }
}
