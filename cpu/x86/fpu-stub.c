/*
 * Placeholder for the x87 half of the extension (see ext.h and
 * ext-internal.h), used until fpu-*.c replace it.  It advertises no CPUID
 * feature and claims only the state-management instructions an operating
 * system runs whether or not it computes with the FPU (SDM vol. 1, 8.1 and
 * 10.5): FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FXSAVE and FXRSTOR.
 */
#include <string.h>

#include "cpu/x86/ext-internal.h"

enum { OP_FNINIT, OP_FNCLEX, OP_FLDCW, OP_FNSTCW, OP_FNSTSW_M, OP_FNSTSW_AX,
       OP_FXSAVE, OP_FXRSTOR };

static void exec_stub(X86Cpu *cpu, const X86DecodedInsn *d)
{
    X86FpuState *f = &cpu->env->fpu;
    uint8_t buf[512];
    uint16_t w;
    uint32_t l;
    if (d->op >= OP_FXSAVE) {
        x86_ext_check_sse(cpu);
    } else {
        x86_ext_check_fpu(cpu);
    }
    switch (d->op) {
    case OP_FNINIT:
        f->fcw = 0x37f;
        f->fsw = 0;
        f->ftw = 0;
        f->fop = 0;
        f->fip = f->fdp = 0;
        f->fcs = f->fds = 0;
        break;
    case OP_FNCLEX:
        f->fsw &= 0x7f00;
        break;
    case OP_FLDCW:
        x86_ext_load(cpu, d, 0, &w, 2);
        f->fcw = w;
        break;
    case OP_FNSTCW:
        x86_ext_store(cpu, d, 0, &f->fcw, 2);
        break;
    case OP_FNSTSW_M:
        x86_ext_store(cpu, d, 0, &f->fsw, 2);
        break;
    case OP_FNSTSW_AX:
        x86_ext_set_gpr(cpu, d, R_EAX, 2, f->fsw);
        break;
    case OP_FXSAVE:
        x86_ext_check_align(cpu, d, 16);
        memset(buf, 0, sizeof(buf));
        memcpy(buf + 0, &f->fcw, 2);
        memcpy(buf + 2, &f->fsw, 2);
        buf[4] = f->ftw;
        memcpy(buf + 6, &f->fop, 2);
        memcpy(buf + 8, &f->fip, 8);
        memcpy(buf + 16, &f->fdp, 8);
        memcpy(buf + 24, &f->mxcsr, 4);
        l = 0xffff;
        memcpy(buf + 28, &l, 4);
        for (int i = 0; i < 8; i++) {
            memcpy(buf + 32 + i * 16, &f->st[i].mant, 8);
            memcpy(buf + 40 + i * 16, &f->st[i].sign_exp, 2);
        }
        memcpy(buf + 160, f->xmm, (d->code64 ? 16 : 8) * 16);
        x86_ext_store(cpu, d, 0, buf, 464); /* 464..511 are software's */
        break;
    case OP_FXRSTOR:
        x86_ext_check_align(cpu, d, 16);
        x86_ext_load(cpu, d, 0, buf, 512);
        memcpy(&l, buf + 24, 4);
        if (l & ~0xffffu) {
            x86_ext_raise(cpu, EXC_GP);
        }
        memcpy(&f->fcw, buf + 0, 2);
        memcpy(&f->fsw, buf + 2, 2);
        f->ftw = buf[4];
        memcpy(&f->fop, buf + 6, 2);
        memcpy(&f->fip, buf + 8, 8);
        memcpy(&f->fdp, buf + 16, 8);
        f->mxcsr = l;
        for (int i = 0; i < 8; i++) {
            memcpy(&f->st[i].mant, buf + 32 + i * 16, 8);
            memcpy(&f->st[i].sign_exp, buf + 40 + i * 16, 2);
        }
        memcpy(f->xmm, buf + 160, (d->code64 ? 16 : 8) * 16);
        break;
    }
}

static bool claim(X86DecodedInsn *insn, int op)
{
    insn->op = (uint8_t)op;
    insn->exec = exec_stub;
    return true;
}

bool x86_fpu_decode(X86DecodedInsn *insn)
{
    unsigned r = insn->reg & 7;
    bool mem = insn->mod != 3;
    if (insn->map == X86_MAP_1B) {
        switch (insn->opcode) {
        case 0xd9:
            if (mem && r == 5) {
                return claim(insn, OP_FLDCW);
            }
            if (mem && r == 7) {
                return claim(insn, OP_FNSTCW);
            }
            return false;
        case 0xdb:
            if (insn->modrm == 0xe3) {
                return claim(insn, OP_FNINIT);
            }
            if (insn->modrm == 0xe2) {
                return claim(insn, OP_FNCLEX);
            }
            return false;
        case 0xdd:
            return mem && r == 7 ? claim(insn, OP_FNSTSW_M) : false;
        case 0xdf:
            return insn->modrm == 0xe0 ? claim(insn, OP_FNSTSW_AX) : false;
        default:
            return false;
        }
    }
    if (insn->map == X86_MAP_0F && insn->opcode == 0xae && mem && !insn->mandatory) {
        switch (r) {
        case 0: return claim(insn, OP_FXSAVE);
        case 1: return claim(insn, OP_FXRSTOR);
        default: return false;
        }
    }
    return false;
}

void x86_fpu_cpuid_features(uint32_t *leaf1_edx, uint32_t *leaf1_ecx,
                            uint32_t *ext1_ecx)
{
}
