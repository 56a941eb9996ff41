/*
 * Differential test of the software CPU against the host CPU under KVM.
 *
 * For each seed, the groups named on the command line (difftest.h; gen-*.c)
 * write a random instruction sequence for 64-bit (or 32-bit compatibility)
 * mode, starting from random registers and flags and a random valid x87/SSE
 * state loaded with FXRSTOR; the sequence ends with FXSAVE into a compared
 * area.  It runs at CPL 3 in long mode under KVM (natively on the real CPU)
 * and under the TCG accelerator; the test compares all GPRs, RIP, RFLAGS
 * (flags the SDM leaves undefined are masked, tracked per instruction), the
 * data and stack pages and the FXSAVE image (implementation-dependent fields
 * masked: FOP, FIP, FDP, FCS, FDS, MXCSR_MASK, reserved bytes).  CR0 has
 * MP and NE, not EM or TS; CR4 has OSFXSR and OSXMMEXCPT.  Exit 77 when
 * /dev/kvm is unusable.
 *
 * usage: difftest [first-seed [count [insns-per-seed [64|32 [groups]]]]]
 * groups: a comma-separated list of int, x87, sse (default int)
 */
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "accel/accel.h"
#include "tests/cpu/difftest.h"
#include "tests/cpu/host-ref.h"
#include "tests/cpu/kvm-ref.h"
#include "tests/cpu/user-env.h"

#if LDBL_MANT_DIG != 64
#error "difftest compares x87 registers as the host's 80-bit long double"
#endif

static const DiffGen *const all_groups[] = { &gen_int, &gen_x87, &gen_sse, &gen_exc };
#define NGROUPS (sizeof(all_groups) / sizeof(all_groups[0]))

static void build_page_tables(uint8_t *ram)
{
    uint64_t *pml4 = (uint64_t *)(ram + PT_BASE);
    uint64_t *pdpt = (uint64_t *)(ram + PT_BASE + 0x1000);
    uint64_t *pd = (uint64_t *)(ram + PT_BASE + 0x2000);
    memset(ram + PT_BASE, 0, 0x3000);
    pml4[0] = (PT_BASE + 0x1000) | 7;
    pdpt[0] = (PT_BASE + 0x2000) | 7;
    for (int i = 0; i < 2; i++) {
        pd[i] = ((uint64_t)i << 21) | 0x87; /* 2 MiB, user, writable */
    }
}

static void initial_state(X86State *s, Gen *g)
{
    const uint32_t code32 = X86_DESC_P | X86_DESC_S | X86_DESC_B | X86_DESC_G |
                            (3u << X86_DESC_DPL_SHIFT) | (11u << X86_DESC_TYPE_SHIFT);
    memset(s, 0, sizeof(*s));
    const uint32_t code = X86_DESC_P | X86_DESC_S | X86_DESC_L | X86_DESC_G |
                          (3u << X86_DESC_DPL_SHIFT) | (11u << X86_DESC_TYPE_SHIFT);
    const uint32_t data = X86_DESC_P | X86_DESC_S | X86_DESC_B | X86_DESC_G |
                          (3u << X86_DESC_DPL_SHIFT) | (3u << X86_DESC_TYPE_SHIFT);
    s->segs[R_CS] = (SegmentCache){ 0x33, 0, 0xffffffff, code };
    for (int i = 0; i < 6; i++) {
        if (i != R_CS) {
            s->segs[i] = (SegmentCache){ 0x2b, 0, 0xffffffff, data };
        }
    }
    if (g->m32) {
        s->segs[R_CS] = (SegmentCache){ 0x23, 0, 0xffffffff, code32 };
    }
    s->tr = (SegmentCache){ 0x40, 0, 0x67, X86_DESC_P | (11u << X86_DESC_TYPE_SHIFT) };
    s->ldt = (SegmentCache){ 0, 0, 0, 0 };
    s->gdt.limit = 0x7f;
    s->idt.limit = 0xfff;
    s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_MP;
    s->cr3 = PT_BASE;
    s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE;
    for (int i = 0; i < 16; i++) {
        uint64_t v = rnd(g);
        switch (rn(g, 4)) {
        case 0: v &= 0xff; break;
        case 1: v = (uint64_t)(int64_t)(int32_t)v; break;
        default: break;
        }
        s->regs[i] = v;
    }
    s->regs[R_EBX] = DATA_BASE;
    s->regs[R_ESP] = STACK_TOP;
    s->rip = CODE_BASE;
    s->rflags = X86_FLAG_FIXED1 | X86_FLAG_IOPL | (rnd(g) & ALL);
    s->fpu.fcw = 0x37f;
    s->fpu.mxcsr = 0x1f80;
}

/* ---- the TCG side ---- */

/* A random valid FXRSTOR image: all x87 and SSE exceptions masked, random
 * rounding and precision control, random TOP, tags and condition codes,
 * finite values in the registers, random XMM registers. */
static void make_fx_image(Gen *r, uint8_t *fx, bool m32)
{
    memset(fx, 0, 512);
    uint16_t fcw = (uint16_t)(0x7f | (rn(r, 4) << 10) | ((rn(r, 4) ? 3 : rn(r, 4)) << 8));
    uint16_t fsw = (uint16_t)((rn(r, 8) << 11) | (rnd(r) & 0x4700));
    if (rn(r, 4) == 0) {
        fsw |= (uint16_t)(rnd(r) & 0x3f); /* sticky flags already set (masked) */
    }
    uint32_t mxcsr = 0x1f80 | (uint32_t)(rn(r, 4) << 13);
    if (rn(r, 4) == 0) {
        mxcsr |= (uint32_t)(rnd(r) & 0x3f);
    }
    if (rn(r, 4) == 0) {
        mxcsr |= 0x8000; /* FZ */
    }
    if (rn(r, 4) == 0) {
        mxcsr |= 0x40; /* DAZ */
    }
    memcpy(fx + FX_FCW, &fcw, 2);
    memcpy(fx + FX_FSW, &fsw, 2);
    fx[FX_FTW] = (uint8_t)rnd(r);
    memcpy(fx + FX_MXCSR, &mxcsr, 4);
    for (int i = 0; i < 8; i++) {
        uint8_t *st = fx + FX_ST + 16 * i;
        uint64_t mant = rnd(r) | (1ull << 63);
        uint16_t se = (uint16_t)(0x3fff - 40 + rn(r, 80));
        if (rn(r, 8) == 0) {
            mant = 0;
            se = 0;
        }
        se |= (uint16_t)(rn(r, 2) << 15);
        memcpy(st, &mant, 8);
        memcpy(st + 8, &se, 2);
    }
    for (int i = 0; i < (m32 ? 8 : 16); i++) {
        for (int j = 0; j < 16; j += 8) {
            uint64_t v = rnd(r);
            memcpy(fx + FX_XMM + 16 * i + j, &v, 8);
        }
    }
}

/* The compared bits of the final FXSAVE image before the groups refine it. */
static void init_fx_mask(Gen *g)
{
    memset(g->fx_mask, 0xff, sizeof(g->fx_mask));
    memset(g->fx_mask + 5, 0, 1);                     /* reserved */
    memset(g->fx_mask + FX_FOP, 0, FX_MXCSR - FX_FOP); /* FOP FIP FCS FDP FDS */
    memset(g->fx_mask + FX_MXCSR_MASK, 0, 4);          /* model-specific */
    for (int i = 0; i < 8; i++) {
        memset(g->fx_mask + FX_ST + 16 * i + 10, 0, 6); /* reserved */
    }
    if (g->m32) {
        memset(g->fx_mask + FX_XMM + 8 * 16, 0, 8 * 16); /* XMM8-15 not saved */
    }
    memset(g->fx_mask + 416, 0, 48);                   /* reserved */
    /* 464..511 are the software's: the CPU must not write them */
}

static const char *fx_field(unsigned off)
{
    static const char *const st[8] = { "st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7" };
    static const char *const xmm[16] = { "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                                         "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                                         "xmm12", "xmm13", "xmm14", "xmm15" };
    if (off < 2) return "fcw";
    if (off < 4) return "fsw";
    if (off < 6) return "ftw";
    if (off < FX_MXCSR) return "fop/fip/fdp";
    if (off < FX_MXCSR_MASK) return "mxcsr";
    if (off < FX_ST) return "mxcsr_mask";
    if (off < FX_XMM) return st[(off - FX_ST) / 16];
    if (off < 416) return xmm[(off - FX_XMM) / 16];
    if (off < 464) return "reserved";
    return "software-available bytes";
}

static long double st_value(const uint8_t *p)
{
    long double v = 0;
    memcpy(&v, p, 10);
    return v;
}

/* Transcendental results: equal within a few units in the last place of
 * the 64-bit significand, or both NaN. */
static bool st_close(const uint8_t *a, const uint8_t *b)
{
    long double x = st_value(a), y = st_value(b);
    if (isnan(x) || isnan(y)) {
        return isnan(x) && isnan(y);
    }
    if (x == y) {
        return true;
    }
    long double tol = fmaxl(fabsl(x), fabsl(y)) * 0x1p-52L;
    return fabsl(x - y) <= tol || fabsl(x - y) < 0x1p-16000L;
}

/* RCPPS/RSQRTPS lanes: equal, or the same sign within 2^-10 relative (each
 * side is within 1.5 * 2^-12 of the exact value), or both tiny. */
static bool lane_close(const uint8_t *a, const uint8_t *b)
{
    float x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    if (!memcmp(a, b, 4)) {
        return true;
    }
    if (isnan(x) || isnan(y) || signbit(x) != signbit(y)) {
        return false;
    }
    return fabsf(x - y) <= fmaxf(fabsf(x), fabsf(y)) * 0x1p-10f ||
           (fabsf(x) <= 0x1p-125f && fabsf(y) <= 0x1p-125f);
}

/* Compare the two final FXSAVE images under g->fx_mask and g->st_approx;
 * print the first difference. */
static bool fx_compare(const Gen *g, uint64_t seed, const uint8_t *k, const uint8_t *t)
{
    bool ok = true;
    for (unsigned i = 0; i < 512; i++) {
        unsigned st = i >= FX_ST && i < FX_XMM ? (i - FX_ST) / 16 : 8;
        if (st < 8 && (g->st_approx & (1u << st))) {
            continue;
        }
        unsigned xr = i >= FX_XMM && i < 416 ? (i - FX_XMM) / 16 : 16;
        if (xr < 16 && (g->xmm_approx & (1u << xr))) {
            if (i % 4 == 0 && !lane_close(k + i, t + i)) {
                printf("FAIL seed %" PRIu64 ": fxsave+%u (xmm%u lane) beyond tolerance\n",
                       seed, i, xr);
                ok = false;
                break;
            }
            continue;
        }
        if ((k[i] ^ t[i]) & g->fx_mask[i]) {
            printf("FAIL seed %" PRIu64 ": fxsave+%u (%s) kvm %02x tcg %02x (mask %02x)\n",
                   seed, i, fx_field(i), k[i], t[i], g->fx_mask[i]);
            ok = false;
            break;
        }
    }
    for (unsigned i = 0; i < 8; i++) {
        const uint8_t *ks = k + FX_ST + 16 * i, *ts = t + FX_ST + 16 * i;
        if ((g->st_approx & (1u << i)) && !st_close(ks, ts)) {
            printf("FAIL seed %" PRIu64 ": st%u kvm %.21Lg tcg %.21Lg (beyond tolerance)\n",
                   seed, i, st_value(ks), st_value(ts));
            ok = false;
        }
    }
    if (!ok || getenv("DIFFTEST_VERBOSE")) {
        uint16_t kw, tw;
        memcpy(&kw, k + FX_FSW, 2);
        memcpy(&tw, t + FX_FSW, 2);
        printf("  fsw kvm %04x tcg %04x, ftw kvm %02x tcg %02x\n", kw, tw, k[FX_FTW], t[FX_FTW]);
        for (unsigned i = 0; i < 8; i++) {
            printf("  st%u kvm %04x:%016" PRIx64 " tcg %04x:%016" PRIx64 "\n", i,
                   *(const uint16_t *)(k + FX_ST + 16 * i + 8),
                   *(const uint64_t *)(k + FX_ST + 16 * i),
                   *(const uint16_t *)(t + FX_ST + 16 * i + 8),
                   *(const uint64_t *)(t + FX_ST + 16 * i));
        }
    }
    return ok;
}

/* FXRSTOR/FXSAVE [abs32] (ModRM rm=100 with a SIB of no base, no index),
 * in 64-bit code sometimes in the REX.W form. */
static void emit_fx(Gen *g, Gen *r, unsigned digit, uint32_t addr)
{
    if (g->m16) {
        /* [disp16] relative to DS (base DATA_BASE) */
        emit(g, 0x0f);
        emit(g, 0xae);
        emit(g, (uint8_t)((digit << 3) | 6));
        emit_n(g, addr - DATA_BASE, 2);
        return;
    }
    if (!g->m32 && rn(r, 2)) {
        emit(g, 0x48);
    }
    emit(g, 0x0f);
    emit(g, 0xae);
    emit(g, (uint8_t)((digit << 3) | 4));
    emit(g, 0x25);
    emit_n(g, addr, 4);
}

static bool parse_groups(const char *list, const DiffGen **out, unsigned *n)
{
    char **names = g_strsplit(list, ",", -1);
    bool ok = true;
    *n = 0;
    for (char **p = names; *p && ok; p++) {
        ok = false;
        for (size_t i = 0; i < NGROUPS; i++) {
            if (strcmp(*p, all_groups[i]->name) == 0) {
                out[(*n)++] = all_groups[i];
                ok = true;
            }
        }
        if (!ok) {
            fprintf(stderr, "difftest: unknown group '%s'\n", *p);
        }
    }
    g_strfreev(names);
    return ok && *n > 0 && *n <= NGROUPS;
}

/* ---- the TCG side ---- */

typedef struct Tcg {
    AddressSpace mem, io;
    MemoryRegion ram, port;
    GMutex lock;
    Accel a;
    VCpu v;
} Tcg;

static void port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Tcg *t = opaque;
    if (addr == DONE_PORT) {
        __atomic_or_fetch(&t->v.intr.pending, CPU_INTR_EXIT, __ATOMIC_SEQ_CST);
    }
}

static uint64_t port_read(void *opaque, uint64_t addr, unsigned size)
{
    return ~0ull;
}

static const MemoryRegionOps port_ops = { .read = port_read, .write = port_write };

static bool tcg_setup(Tcg *t, uint8_t *ram)
{
    GError *err = NULL;
    address_space_init(&t->mem, "memory", ~0ull);
    address_space_init(&t->io, "io", 0xffff);
    memory_region_init_ram(&t->ram, "ram", ram, 0, RAM_SIZE);
    address_space_map(&t->mem, &t->ram, 0, 0);
    memory_region_init_io(&t->port, "ports", &port_ops, t, 0x10000);
    address_space_map(&t->io, &t->port, 0, 0);
    g_mutex_init(&t->lock);
    t->a.ops = &accel_tcg_ops;
    t->a.mem = &t->mem;
    t->a.io = &t->io;
    t->a.lock = &t->lock;
    t->a.nr_vcpus = 1;
    /* DIFFTEST_JIT=off compares the interpreter instead of the JIT */
    t->a.cfg.jit = g_strcmp0(g_getenv("DIFFTEST_JIT"), "off") != 0;
    if (!accel_tcg_ops.init(&t->a, &err) || !accel_tcg_ops.vcpu_init(&t->a, &t->v, &err)) {
        fprintf(stderr, "tcg init: %s\n", err ? err->message : "?");
        return false;
    }
    t->v.accel = &t->a;
    return true;
}

/* The TCG run a watchdog signal stops (a handler gets no pointer of ours). */
static Tcg *volatile watched_run;
static volatile sig_atomic_t watchdog_fired;

static void on_watchdog(int sig)
{
    Tcg *t = watched_run;
    if (t) {
        watchdog_fired = 1;
        __atomic_or_fetch(&t->v.intr.pending, CPU_INTR_EXIT, __ATOMIC_SEQ_CST);
    }
}

/* Run until the done port; false if the run stopped otherwise or took
 * more than 5 s of CPU time (code that runs away). */
static bool tcg_run(Tcg *t, X86State *s)
{
    t->v.env = *s;
    accel_tcg_ops.set_state(&t->v, NULL);
    watchdog_fired = 0;
    watched_run = t;
    signal(SIGPROF, on_watchdog);
    struct itimerval limit = { { 0, 0 }, { 5, 0 } }, off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_PROF, &limit, NULL);
    bool done = false;
    for (int i = 0; i < 1000; i++) {
        VCpuExit e = accel_tcg_ops.vcpu_run(&t->v);
        if (e == VCPU_EXIT_KICKED) {
            accel_tcg_ops.get_state(&t->v, NULL);
            *s = t->v.env;
            done = true;
            break;
        }
        if (e != VCPU_EXIT_HALTED) {
            break;
        }
    }
    setitimer(ITIMER_PROF, &off, NULL);
    watched_run = NULL;
    return done && !watchdog_fired;
}

static const char *const regnames[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

/* The flags undefined at each byte of the code: an idiom from `at` to g->p
 * that started with `before` undefined may stop (fault) on any of its
 * instructions, so both its start and end sets are masked there. */
static void mark_unknown(uint32_t *unknown_at, const uint8_t *ram, const Gen *g,
                         const uint8_t *at, uint32_t before, uint32_t *all)
{
    for (const uint8_t *p = at; p < g->p; p++) {
        unknown_at[p - (ram + CODE_BASE)] = before | g->unknown;
    }
    *all |= before | g->unknown;
}

/* The program's code, data page and initial FXRSTOR image (DIFFTEST_DUMP). */
static void dump_program(const Gen *g, const uint8_t *ram, uint64_t seed)
{
    FILE *f = fopen(getenv("DIFFTEST_DUMP"), "wb");
    if (f) {
        fwrite(ram + CODE_BASE, 1, (size_t)(g->p - (ram + CODE_BASE)), f);
        fclose(f);
    }
    fprintf(stderr, "data page and initial FXRSTOR image of seed %" PRIu64 ":\n", seed);
    for (unsigned i = 0; i < 0x100; i += 16) {
        fprintf(stderr, "data+%03x:", i);
        for (unsigned j = 0; j < 16; j++) {
            fprintf(stderr, " %02x", ram[DATA_BASE + i + j]);
        }
        fprintf(stderr, "\n");
    }
    for (unsigned i = 0; i < 512; i += 16) {
        fprintf(stderr, "fx+%03u:", i);
        for (unsigned j = 0; j < 16; j++) {
            fprintf(stderr, " %02x", ram[FX_IN + i + j]);
        }
        fprintf(stderr, "\n");
    }
}

/* The reference CPU of a run: KVM for 64-bit code, the host process for
 * 32- and 16-bit code (this host's nested KVM emulates those) and for the
 * groups that provoke exceptions. */
typedef struct Ref {
    KvmRef *kvm;
    HostRef *host;
    HostMode mode;
} Ref;

int main(int argc, char **argv)
{
    const char *mode_arg = argc > 4 ? argv[4] : "64";
    bool m16 = strcmp(mode_arg, "16") == 0;
    bool m32 = m16 || strcmp(mode_arg, "32") == 0;
    if (!m32 && strcmp(mode_arg, "64") != 0) {
        fprintf(stderr, "difftest: mode must be 64, 32 or 16\n");
        return 1;
    }
    uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 0) : 300;
    unsigned ninsn = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 24;
    const DiffGen *groups[NGROUPS * 4];
    unsigned ngroups;
    if (!parse_groups(argc > 5 ? argv[5] : "int", groups, &ngroups)) {
        return 1;
    }
    bool use_host = m32 || g_strcmp0(g_getenv("DIFFTEST_REF"), "host") == 0;
    for (unsigned i = 0; i < ngroups; i++) {
        use_host |= groups[i]->faults;
    }
    uint8_t *kram = aligned_alloc(1 << 21, RAM_SIZE);
    uint8_t *tram = aligned_alloc(1 << 21, RAM_SIZE);
    const char *why = NULL;
    Ref ref = { .mode = m16 ? HOST_CODE16 : m32 ? HOST_CODE32 : HOST_CODE64 };
    if (use_host) {
        ref.host = host_ref_new(&why);
    } else {
        ref.kvm = kvm_ref_new(kram, RAM_SIZE, &why);
    }
    if (!ref.host && !ref.kvm) {
        printf("SKIP: %s: no reference CPU for the differential test\n", why);
        return 77;
    }
    Tcg *t = g_new0(Tcg, 1);
    if (!tcg_setup(t, tram)) {
        return 1;
    }
    unsigned failed = 0, passed = 0, faulted = 0;
    uint32_t *unknown_at = g_new0(uint32_t, 0x10000);
    for (uint64_t seed = first; seed < first + count; seed++) {
        Gen g = { .rng = seed * 0x9e3779b97f4a7c15ull + 1, .m32 = m32, .m16 = m16 };
        Gen fxr = { .rng = seed * 0xd1342543de82ef95ull + 7 };
        memset(kram, 0, RAM_SIZE);
        if (ref.host) {
            user_env_build(kram);
        } else {
            build_page_tables(kram);
        }
        for (unsigned i = 0; i < 0x1000; i++) {
            kram[DATA_BASE + i] = (uint8_t)rnd(&g);
        }
        make_fx_image(&fxr, kram + FX_IN, m32);
        for (unsigned i = 0; i < 512; i++) {
            kram[FX_OUT + i] = (uint8_t)rnd(&fxr);
        }
        X86State s0;
        initial_state(&s0, &g);
        if (ref.host) {
            user_env_state(&s0, ref.mode);
            if (m16) {
                s0.regs[R_EBX] = 0;
                s0.regs[R_ESP] = 0; /* SS's base is DATA_BASE: SP 0 is STACK_TOP */
                s0.rip = 0;
            }
        }
        g.p = kram + CODE_BASE;
        g.unknown = 0;
        g.fx_in = kram + FX_IN;
        init_fx_mask(&g);
        emit_fx(&g, &fxr, 1, FX_IN);
        for (unsigned i = 0; i < ngroups; i++) {
            if (groups[i]->start) {
                groups[i]->start(&g);
            }
        }
        uint32_t all_unknown = g.unknown;
        mark_unknown(unknown_at, kram, &g, kram + CODE_BASE, g.unknown, &all_unknown);
        for (unsigned i = 0; i < ninsn;) {
            const DiffGen *grp = groups[ngroups == 1 ? 0 : rn(&fxr, ngroups)];
            uint8_t *at = g.p;
            uint32_t before = g.unknown;
            if (grp->one(&g)) {
                mark_unknown(unknown_at, kram, &g, at, before, &all_unknown);
                i++;
            }
        }
        uint8_t *at = g.p;
        uint32_t before = g.unknown;
        for (unsigned i = 0; i < ngroups; i++) {
            if (groups[i]->finish) {
                groups[i]->finish(&g);
            }
        }
        emit_fx(&g, &fxr, 0, FX_OUT);
        emit(&g, 0xe6);
        emit(&g, DONE_PORT); /* out 0xe9, al */
        mark_unknown(unknown_at, kram, &g, at, before, &all_unknown);
        uint64_t end_rip = (uint64_t)(g.p - 2 - (kram + CODE_BASE)) + (m16 ? 0 : CODE_BASE);
        memcpy(tram, kram, RAM_SIZE);
        if (getenv("DIFFTEST_DUMP")) {
            dump_program(&g, kram, seed);
        }

        X86State ks = s0, ts = s0;
        HostFault kf = { 0 }, tf = { 0 };
        if (ref.host) {
            host_ref_run(ref.host, ref.mode, kram, &ks, kram + FX_OUT, &kf);
            if (kf.vector < 0) {
                printf("seed %" PRIu64 ": reference run did not finish in time (skipped)\n", seed);
                continue;
            }
        } else {
            uint16_t port = 0;
            if (!kvm_ref_run(ref.kvm, &ks, &port) || port != DONE_PORT) {
                char why_exit[96];
                kvm_ref_describe_exit(ref.kvm, why_exit, sizeof(why_exit));
                printf("seed %" PRIu64 ": reference run did not finish: %s (skipped)\n", seed,
                       why_exit);
                continue;
            }
        }
        if (!tcg_run(t, &ts) || (ref.host && !user_env_fault(&ts, tram, &tf))) {
            printf("FAIL seed %" PRIu64 ": tcg run did not finish (rip %#" PRIx64 ")\n",
                   seed, t->v.env.rip);
            failed++;
            continue;
        }
        bool bad = false;
        if (ref.host) {
            bool cr2 = kf.vector == 14;
            /* Linux sets P in the error code of faults at or above
             * TASK_SIZE_MAX (the last user page): the hardware's P is lost */
            uint32_t emask = cr2 && kf.cr2 >= 0x7ffffffff000ull ? ~1u : ~0u;
            if (kf.vector != tf.vector || (vector_has_error_code(kf.vector) &&
                                           ((kf.error_code ^ tf.error_code) & emask)) ||
                (cr2 && kf.cr2 != tf.cr2)) {
                printf("FAIL seed %" PRIu64 ": exception host %d (error %#x cr2 %#" PRIx64
                       ") tcg %d (error %#x cr2 %#" PRIx64 ")\n", seed, kf.vector,
                       kf.error_code, cr2 ? kf.cr2 : 0, tf.vector, tf.error_code,
                       cr2 ? tf.cr2 : 0);
                bad = true;
            }
            if (kf.vector != 13 || ks.rip != end_rip) {
                faulted++;
            }
        }
        for (int i = 0; i < 16; i++) {
            /* compatibility mode: only the low halves are architectural;
             * a 16-bit stack: only SP (Linux's espfix sets ESP's high half) */
            uint64_t rm = m32 ? 0xffffffffull : ~0ull;
            if (m16 && i == R_ESP) {
                rm = 0xffff;
            }
            if (i >= 8 && m32) {
                continue;
            }
            if ((ks.regs[i] & rm) != (ts.regs[i] & rm)) {
                printf("FAIL seed %" PRIu64 ": %s kvm %#" PRIx64 " tcg %#" PRIx64 "\n",
                       seed, regnames[i], ks.regs[i], ts.regs[i]);
                bad = true;
            }
        }
        /* IOPL is the harness's own setting (KVM does not report it back);
         * the flags undefined where the run stopped are masked */
        uint64_t code_off = ks.rip - (m16 ? 0 : CODE_BASE);
        uint32_t unknown = code_off < (uint64_t)(g.p - (kram + CODE_BASE)) ?
                           unknown_at[code_off] : all_unknown;
        uint64_t fmask = ~(uint64_t)unknown & 0x3f4fd7;
        if ((ks.rflags & fmask) != (ts.rflags & fmask) || ks.rip != ts.rip) {
            printf("FAIL seed %" PRIu64 ": rflags kvm %#" PRIx64 " tcg %#" PRIx64
                   " (mask %#" PRIx64 ") rip kvm %#" PRIx64 " tcg %#" PRIx64 "\n",
                   seed, ks.rflags, ts.rflags, fmask, ks.rip, ts.rip);
            bad = true;
        }
        if (memcmp(kram + DATA_BASE, tram + DATA_BASE, 0x1000) != 0 ||
            memcmp(kram + STACK_TOP - 0x1000, tram + STACK_TOP - 0x1000, 0x2000) != 0 ||
            memcmp(kram + PAGE_SPARE, tram + PAGE_SPARE, 0x1000) != 0) {
            for (unsigned i = 0; i < 0x1000; i++) {
                if (kram[DATA_BASE + i] != tram[DATA_BASE + i]) {
                    printf("FAIL seed %" PRIu64 ": data+%#x kvm %02x tcg %02x\n", seed, i,
                           kram[DATA_BASE + i], tram[DATA_BASE + i]);
                    break;
                }
                if (kram[STACK_TOP - 0x1000 + i] != tram[STACK_TOP - 0x1000 + i]) {
                    printf("FAIL seed %" PRIu64 ": stack-%#x kvm %02x tcg %02x\n", seed,
                           0x1000 - i, kram[STACK_TOP - 0x1000 + i], tram[STACK_TOP - 0x1000 + i]);
                    break;
                }
                if (kram[STACK_TOP + i] != tram[STACK_TOP + i]) {
                    printf("FAIL seed %" PRIu64 ": stack+%#x kvm %02x tcg %02x\n", seed, i,
                           kram[STACK_TOP + i], tram[STACK_TOP + i]);
                    break;
                }
                if (kram[PAGE_SPARE + i] != tram[PAGE_SPARE + i]) {
                    printf("FAIL seed %" PRIu64 ": spare+%#x kvm %02x tcg %02x\n", seed, i,
                           kram[PAGE_SPARE + i], tram[PAGE_SPARE + i]);
                    break;
                }
            }
            bad = true;
        }
        if (!fx_compare(&g, seed, kram + FX_OUT, tram + FX_OUT)) {
            bad = true;
        }
        if (bad) {
            if (getenv("DIFFTEST_VERBOSE")) {
                printf("  code:");
                for (uint8_t *c = kram + CODE_BASE; c < g.p; c++) {
                    printf(" %02x", *c);
                }
                printf("\n");
            }
            failed++;
        } else {
            passed++;
        }
    }
    if (ref.host) {
        printf("%u passed (%u of them stopped by an exception before the end), %u failed\n",
               passed, faulted, failed);
    } else {
        printf("%u passed, %u failed\n", passed, failed);
    }
    kvm_ref_free(ref.kvm);
    host_ref_free(ref.host);
    return failed ? 1 : 0;
}
