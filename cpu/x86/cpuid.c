/*
 * CPUID (SDM vol. 2 "CPUID"): the named CPU models the software CPU offers.
 * A model advertises exactly what is implemented: the integer core's
 * features here, plus the x87/SSE bits reported by the extension (ext.h).
 *
 * Models:
 *   kestrel      the default; honest feature set.
 *   kestrel-dev  bring-up aid: also claims FPU/FXSR/MMX/SSE/SSE2 (which a
 *                64-bit Linux kernel requires before it starts) even while
 *                the extension does not implement them.
 */
#include <string.h>

#include "cpu/x86/ext.h"
#include "cpu/x86/mem.h"

typedef struct X86CpuModel {
    const char *name;
    uint32_t family, model, stepping;
    bool force_sse;
} X86CpuModel;

static const X86CpuModel models[] = {
    { "kestrel", 6, 6, 3, false },
    { "kestrel-dev", 6, 6, 3, true },
};

bool x86_cpu_set_model(X86Cpu *cpu, const char *name)
{
    if (!name) {
        cpu->model = &models[0];
        return true;
    }
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(models[i].name, name) == 0) {
            cpu->model = &models[i];
            return true;
        }
    }
    return false;
}

/* leaf 1 EDX: DE PSE TSC MSR PAE CX8 APIC SEP MTRR PGE CMOV PAT PSE36 CLFSH */
#define L1_EDX ((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | \
                (1u << 8) | (1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | \
                (1u << 15) | (1u << 16) | (1u << 17) | (1u << 19))
/* leaf 1 ECX: CX16 POPCNT */
#define L1_ECX ((1u << 13) | (1u << 23))
/* 0x80000001 EDX: SYSCALL NX RDTSCP LM; ECX: LAHF_LM ABM(LZCNT) */
#define E1_EDX ((1u << 11) | (1u << 20) | (1u << 27) | (1u << 29))
#define E1_ECX ((1u << 0) | (1u << 5))

static void str4(uint32_t *out, const char *s)
{
    memcpy(out, s, 4);
}

void x86_cpuid(X86Cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    const X86CpuModel *m = cpu->model ? cpu->model : &models[0];
    memset(out, 0, 16);
    uint32_t edx1 = L1_EDX, ecx1 = L1_ECX, ecx_e1 = E1_ECX;
    x86_ext_cpuid_features(&edx1, &ecx1, &ecx_e1);
    if (m->force_sse) {
        /* FPU MMX FXSR SSE SSE2 */
        edx1 |= (1u << 0) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);
    }
    switch (leaf) {
    case 0:
        out[0] = 7;
        str4(&out[1], "Genu");
        str4(&out[3], "ineI");
        str4(&out[2], "ntel");
        break;
    case 1:
        out[0] = (m->family << 8) | ((m->model & 15) << 4) | ((m->model >> 4) << 16) |
                 m->stepping;
        out[1] = (cpu->apic_id << 24) | (1u << 16) | (8u << 8);
        out[2] = ecx1;
        out[3] = edx1;
        break;
    case 7:
        if (sub == 0) {
            out[3] = 1u << 29; /* IA32_ARCH_CAPABILITIES (msr.c) */
        }
        break;
    case 0x80000000:
        out[0] = 0x80000008;
        break;
    case 0x80000001:
        out[2] = ecx_e1;
        out[3] = E1_EDX;
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        static const char brand[48] = "Kestrel software CPU";
        memcpy(out, brand + (leaf - 0x80000002) * 16, 16);
        break;
    }
    case 0x80000007:
        out[3] = 1u << 8; /* invariant TSC */
        break;
    case 0x80000008:
        out[0] = 0x3028; /* 48 linear, 40 physical address bits */
        break;
    default:
        break;
    }
}
