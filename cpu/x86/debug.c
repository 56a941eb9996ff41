/*
 * Debug features of the software CPU (SDM vol. 3, chapter 17: 17.2 the
 * debug registers DR0-DR3, DR6, DR7; 17.3 "Debug Exceptions": instruction
 * breakpoints as faults, data and I/O breakpoints and single-step (TF) as
 * traps after the instruction, the task-switch trap (TSS T bit, DR6.BT),
 * general detect (DR7.GD), RF suppressing instruction breakpoints for one
 * instruction; vol. 2 "MOV" / "POP" for the MOV SS / POP SS shadow that
 * delays the traps of that instruction until after the next one).
 *
 * While any of this can fire (TF or RF set, a breakpoint enabled in DR7, a
 * trap pending), cpu->debug_active is set and the execution loop runs one
 * instruction at a time through x86_debug_before()/x86_debug_after(); the
 * translated blocks and the JIT never run then, so they need no checks.
 * Data breakpoints make every TLB entry take the slow path (mmu.c), where
 * each access is compared with the breakpoints.
 */
#include "cpu/x86/mem.h"

#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR6_FIXED 0xffff0ff0u
#define DR7_GD (1u << 13)

/* Breakpoint i: enabled (local or global), R/W field, length in bytes. */
static bool bp_enabled(uint64_t dr7, unsigned i)
{
    return (dr7 >> (i * 2)) & 3;
}

static unsigned bp_rw(uint64_t dr7, unsigned i)
{
    return (dr7 >> (16 + i * 4)) & 3;
}

static unsigned bp_len(uint64_t dr7, unsigned i)
{
    static const unsigned len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + i * 4)) & 3];
}

void x86_debug_update(X86Cpu *cpu)
{
    X86State *env = cpu->env;
    uint64_t dr7 = env->dr[7];
    bool data = false, io = false, any = false;
    for (unsigned i = 0; i < 4; i++) {
        if (!bp_enabled(dr7, i)) {
            continue;
        }
        any = true;
        unsigned rw = bp_rw(dr7, i);
        data |= rw == 1 || rw == 3;
        io |= rw == 2 && (env->cr4 & X86_CR4_DE);
    }
    if (data != cpu->dbg_data_on) {
        cpu->dbg_data_on = data;
        x86_tlb_flush(cpu);
    }
    cpu->dbg_io_on = io;
    cpu->debug_active = any || cpu->dbg_trap || cpu->dbg_delayed ||
                        (env->rflags & (X86_FLAG_TF | X86_FLAG_RF));
}

static void raise_db(X86Cpu *cpu, uint32_t bits)
{
    cpu->env->dr[6] |= bits | DR6_FIXED;
    cpu->cur = NULL; /* a trap: RIP stays past the instruction */
    x86_raise(cpu, EXC_DB);
}

/* Accesses of [addr, addr + size) that match breakpoints of kind `want`
 * (a mask of R/W values). */
static uint32_t match(X86Cpu *cpu, uint64_t addr, unsigned size, unsigned want)
{
    uint64_t dr7 = cpu->env->dr[7];
    uint32_t hit = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (!bp_enabled(dr7, i) || !((want >> bp_rw(dr7, i)) & 1)) {
            continue;
        }
        unsigned len = bp_len(dr7, i);
        uint64_t start = cpu->env->dr[i] & ~(uint64_t)(len - 1);
        if (addr < start + len && start < addr + size) {
            hit |= 1u << i;
        }
    }
    return hit;
}

void x86_debug_data(X86Cpu *cpu, uint64_t addr, unsigned size, bool write)
{
    cpu->dbg_trap |= match(cpu, addr, size, write ? (1u << 1) | (1u << 3) : 1u << 3);
}

void x86_debug_io(X86Cpu *cpu, uint16_t port, unsigned size)
{
    cpu->dbg_trap |= match(cpu, port, size, 1u << 2);
}

void x86_debug_before(X86Cpu *cpu)
{
    X86State *env = cpu->env;
    if (cpu->dbg_trap) {
        /* a trap of an event between instructions (task switch T bit) */
        uint32_t bits = cpu->dbg_trap;
        cpu->dbg_trap = 0;
        raise_db(cpu, bits);
    }
    cpu->dbg_tf = env->rflags & X86_FLAG_TF;
    cpu->dbg_ss_shadow = false;
    if (env->rflags & X86_FLAG_RF) {
        env->rflags &= ~(uint64_t)X86_FLAG_RF;
        return;
    }
    if (cpu->dbg_delayed) {
        return; /* the instruction after MOV SS: no instruction breakpoint */
    }
    uint64_t lin = env->segs[R_CS].base + env->rip;
    if (cpu->code_size != 8) {
        lin = (uint32_t)lin;
    }
    uint32_t hit = match(cpu, lin, 1, 1u << 0);
    if (hit) {
        env->dr[6] = (env->dr[6] & ~0xfull) | hit | DR6_FIXED;
        cpu->cur = NULL;
        x86_raise(cpu, EXC_DB);
    }
}

void x86_debug_after(X86Cpu *cpu)
{
    uint32_t bits = cpu->dbg_trap | cpu->dbg_delayed | (cpu->dbg_tf ? DR6_BS : 0);
    cpu->dbg_trap = 0;
    cpu->dbg_tf = false;
    if (cpu->dbg_ss_shadow) {
        cpu->dbg_ss_shadow = false;
        cpu->dbg_delayed = bits;
        return;
    }
    cpu->dbg_delayed = 0;
    if (bits) {
        raise_db(cpu, bits);
    }
}

/* MOV from/to a debug register with DR7.GD set: #DB fault with DR6.BD. */
static void general_detect(X86Cpu *cpu)
{
    X86State *env = cpu->env;
    if (env->dr[7] & DR7_GD) {
        env->dr[7] &= ~(uint64_t)DR7_GD;
        env->dr[6] |= DR6_BD | DR6_FIXED;
        x86_raise(cpu, EXC_DB);
    }
}

uint64_t x86_debug_read_dr(X86Cpu *cpu, unsigned r)
{
    general_detect(cpu);
    return cpu->env->dr[r];
}

void x86_debug_write_dr(X86Cpu *cpu, unsigned r, uint64_t v)
{
    general_detect(cpu);
    if (r == 6) {
        v = (v & 0x1e00f) | DR6_FIXED;
    } else if (r == 7) {
        v = (v & 0xffff2bff) | 0x400;
    }
    cpu->env->dr[r] = v;
    x86_debug_update(cpu);
    if (r != 6) {
        x86_tlb_flush(cpu);
    }
    cpu->stop_tb = true;
}
