/*
 * The host-process reference CPU (host-ref.h): the generated code runs
 * natively in this process at CPL 3.  Entry is rt_sigreturn from a built
 * frame (arch/x86/kernel/signal_64.c: the frame is at RSP - 8, the
 * ucontext's sigcontext gives every GPR, RIP, RFLAGS, CS and, with
 * UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, SS); the exit is the first
 * exception, delivered by Linux as a signal to a handler on an alternate
 * stack that records the sigcontext (trapno, err, cr2, registers) and the
 * FXSAVE part of the signal frame's XSAVE area, then siglongjmps back.
 * The 16-bit code and data segments are LDT entries (modify_ldt,
 * asm/ldt.h).
 */

#include <asm/ldt.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/cpu/difftest.h"
#include "tests/cpu/host-ref.h"

#define UC_SIGCONTEXT_SS 2
#define UC_STRICT_RESTORE_SS 4
#define XSTATE_MAGIC1 0x46505853u /* fpstate's sw_reserved.magic1 (sigcontext.h) */
#define ALT_STACK_SIZE (64 * 1024)

struct HostRef {
    sigjmp_buf jb;
    volatile sig_atomic_t running;
    uint8_t *altstack;
    /* the state at the fault, written by the signal handler */
    int sig;
    greg_t gregs[NGREG];
    uint8_t fx[512];
    /* the frame rt_sigreturn starts the guest from */
    struct {
        uint64_t pretcode;
        ucontext_t uc;
        siginfo_t info;
    } frame __attribute__((aligned(64)));
};

/* The run a signal belongs to: a signal handler gets no pointer of ours. */
static HostRef *active_run;

static const int handled_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGVTALRM };

/* The XSAVE area leaves x87 or SSE state out when it is in its initial
 * configuration (XSTATE_BV bit clear): put the initial values in. */
static void fx_from_xsave(uint8_t *fx, const uint8_t *area)
{
    memcpy(fx, area, 512);
    uint32_t magic;
    memcpy(&magic, area + 464, 4);
    if (magic != XSTATE_MAGIC1) {
        return; /* plain FXSAVE image */
    }
    uint64_t bv;
    memcpy(&bv, area + 512, 8);
    if (!(bv & 1)) {
        memset(fx, 0, 24);
        memset(fx + FX_ST, 0, 128);
        fx[FX_FCW] = 0x7f;
        fx[FX_FCW + 1] = 0x03;
    }
    if (!(bv & 2)) {
        memset(fx + FX_XMM, 0, 256);
    }
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    /* the guest may have left EFLAGS.AC set: clear it before any access
     * that might not be aligned */
    __asm__ volatile("pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" ::: "memory", "cc");
    (void)si;
    HostRef *h = active_run;
    if (!h || !h->running) {
        if (sig != SIGVTALRM) {
            signal(sig, SIG_DFL); /* not the guest's: let it kill us */
        }
        return;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    const ucontext_t *uc = ctx;
    h->running = 0;
    h->sig = sig;
    memcpy(h->gregs, uc->uc_mcontext.gregs, sizeof(h->gregs));
    if (uc->uc_mcontext.fpregs) {
        fx_from_xsave(h->fx, (const uint8_t *)uc->uc_mcontext.fpregs);
    } else {
        memset(h->fx, 0, sizeof(h->fx));
    }
    siglongjmp(h->jb, 1);
}

static bool ldt_entry(unsigned n, uint32_t base, bool code)
{
    struct user_desc d = {
        .entry_number = n, .base_addr = base, .limit = 0xffff,
        .seg_32bit = 0, .contents = code ? MODIFY_LDT_CONTENTS_CODE : MODIFY_LDT_CONTENTS_DATA,
        .read_exec_only = 0, .limit_in_pages = 0, .seg_not_present = 0, .useable = 0,
    };
    return syscall(SYS_modify_ldt, 1, &d, sizeof(d)) == 0;
}

static void set_data_segments(uint16_t sel)
{
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es" :: "r"(sel) : "memory");
}

HostRef *host_ref_new(const char **why)
{
    HostRef *h = aligned_alloc(64, (sizeof(HostRef) + 63) & ~(size_t)63);
    memset(h, 0, sizeof(*h));
    struct { uint32_t lo, hi; int prot; } maps[] = {
        { HOST_LO, CODE_BASE + 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC },
        { CODE_BASE + 0x10000, PAGE_ABSENT, PROT_READ | PROT_WRITE },
        { PAGE_READONLY, PAGE_READONLY + 0x1000, PROT_READ },
        { PAGE_SPARE, HOST_HI, PROT_READ | PROT_WRITE },
    };
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        void *want = (void *)(uintptr_t)maps[i].lo;
        void *p = mmap(want, maps[i].hi - maps[i].lo, maps[i].prot,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE, -1, 0);
        if (p != want) {
            *why = "cannot map the guest pages at their addresses in this process";
            if (p != MAP_FAILED) {
                munmap(p, maps[i].hi - maps[i].lo);
            }
            free(h);
            return NULL;
        }
    }
    if (!ldt_entry(0, CODE_BASE, true) || !ldt_entry(1, DATA_BASE, false)) {
        *why = "modify_ldt failed (no 16-bit segments)";
        host_ref_free(h);
        return NULL;
    }
    h->altstack = malloc(ALT_STACK_SIZE);
    stack_t ss = { .ss_sp = h->altstack, .ss_size = ALT_STACK_SIZE, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++) {
        sigaction(handled_signals[i], &sa, NULL);
    }
    active_run = h;
    return h;
}

void host_ref_free(HostRef *h)
{
    if (!h) {
        return;
    }
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++) {
        signal(handled_signals[i], SIG_DFL);
    }
    active_run = NULL;
    munmap((void *)(uintptr_t)HOST_LO, HOST_HI - HOST_LO);
    if (h->altstack) {
        stack_t ss = { .ss_flags = SS_DISABLE };
        sigaltstack(&ss, NULL);
        free(h->altstack);
    }
    free(h);
}

static void copy_pages(uint8_t *ram, bool in)
{
    for (uint32_t a = HOST_LO; a < HOST_HI; a += 0x1000) {
        if (a == PAGE_ABSENT) {
            continue;
        }
        uint8_t *host = (uint8_t *)(uintptr_t)a;
        if (in) {
            memcpy(host, ram + a, 0x1000);
        } else {
            memcpy(ram + a, host, 0x1000);
        }
    }
}

static const int greg_of[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

bool host_ref_run(HostRef *h, HostMode mode, uint8_t *ram, X86State *s, uint8_t *fx_out,
                  HostFault *f)
{
    void *ro = (void *)(uintptr_t)PAGE_READONLY;
    mprotect(ro, 0x1000, PROT_READ | PROT_WRITE);
    copy_pages(ram, true);
    mprotect(ro, 0x1000, PROT_READ);

    memset(&h->frame, 0, sizeof(h->frame));
    ucontext_t *uc = &h->frame.uc;
    uc->uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    sigaltstack(NULL, &uc->uc_stack);
    for (int i = 0; i < 16; i++) {
        uc->uc_mcontext.gregs[greg_of[i]] = (greg_t)s->regs[i];
    }
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)s->rip;
    uc->uc_mcontext.gregs[REG_EFL] = (greg_t)(s->rflags & (ALL | X86_FLAG_DF | X86_FLAG_AC));
    uint16_t cs = mode == HOST_CODE64 ? SEL_USER_CS : mode == HOST_CODE32 ? SEL_USER32_CS
                                                                         : SEL_LDT_CODE16;
    uint16_t ds = mode == HOST_CODE16 ? SEL_LDT_DATA16 : SEL_USER_DS;
    uc->uc_mcontext.gregs[REG_CSGSFS] = (greg_t)((uint64_t)cs | ((uint64_t)ds << 48));
    uc->uc_mcontext.fpregs = NULL; /* initial FPU state; the program loads its own */

    set_data_segments(ds);
    h->running = 1;
    if (sigsetjmp(h->jb, 1) == 0) {
        struct itimerval limit = { { 0, 0 }, { 2, 0 } }; /* 2 s of CPU time */
        setitimer(ITIMER_VIRTUAL, &limit, NULL);
        __asm__ volatile("mov %0, %%rsp\n\t"
                         "mov $15, %%eax\n\t" /* rt_sigreturn */
                         "syscall"
                         :: "r"(uc) : "memory");
        __builtin_unreachable();
    }
    set_data_segments(SEL_USER_DS);

    mprotect(ro, 0x1000, PROT_READ | PROT_WRITE);
    copy_pages(ram, false);
    for (int i = 0; i < 16; i++) {
        s->regs[i] = (uint64_t)h->gregs[greg_of[i]];
    }
    s->rip = (uint64_t)h->gregs[REG_RIP];
    s->rflags = (uint64_t)h->gregs[REG_EFL];
    memcpy(fx_out, h->fx, 464);
    f->vector = h->sig == SIGVTALRM ? -1 : (int)h->gregs[REG_TRAPNO];
    f->error_code = (uint32_t)h->gregs[REG_ERR];
    f->cr2 = (uint64_t)h->gregs[REG_CR2];
    return true;
}
