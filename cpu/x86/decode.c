/*
 * The x86 instruction decoder (SDM vol. 2, chapter 2 and appendix A opcode
 * maps): legacy prefixes, REX, one-byte / 0F / 0F38 / 0F3A maps, ModRM and
 * SIB with 16-, 32- and 64-bit addressing, displacements and immediates.  It
 * picks a handler for each integer instruction and hands x87/SSE opcodes to
 * the extension (ext.h).
 */
#include <string.h>

#include "cpu/x86/ext.h"
#include "cpu/x86/insn.h"

typedef struct Fetch {
    X86Cpu *cpu;
    uint64_t cs_base;
    uint64_t ip;      /* offset of the next byte */
    uint64_t start;
    const uint8_t *host; /* host pointer of the current page, or NULL */
    uint64_t page;       /* linear page of host/paddr */
    uint64_t paddr;
    bool have_page;
    bool fault;
    unsigned count;
} Fetch;

static uint8_t fetch8(Fetch *f)
{
    X86Cpu *cpu = f->cpu;
    if (f->fault) {
        return 0;
    }
    if (++f->count > 15) {
        /* over-long instruction: #GP(0) */
        cpu->exc_vector = EXC_GP;
        cpu->exc_error = 0;
        cpu->exc_has_error = true;
        f->fault = true;
        return 0;
    }
    uint64_t off = f->ip;
    if (!cpu->long_mode || cpu->code_size != 8) {
        off &= 0xffffffffu;
        if (off > cpu->env->segs[R_CS].limit) {
            cpu->exc_vector = EXC_GP;
            cpu->exc_error = 0;
            cpu->exc_has_error = true;
            f->fault = true;
            return 0;
        }
    }
    uint64_t lin = f->cs_base + off;
    if (cpu->code_size != 8) {
        lin = (uint32_t)lin;
    }
    f->ip++;
    if (!f->have_page || (lin & X86_PAGE_MASK) != f->page) {
        uint64_t pa;
        if (!x86_code_paddr(cpu, lin, &pa)) {
            f->fault = true;
            return 0;
        }
        f->page = lin & X86_PAGE_MASK;
        f->paddr = pa & X86_PAGE_MASK;
        f->host = x86_code_host(cpu, f->paddr);
        f->have_page = true;
    }
    if (f->host) {
        return f->host[lin & 0xfff];
    }
    return (uint8_t)x86_phys_read(cpu, f->paddr | (lin & 0xfff), 1);
}

static uint64_t fetch_n(Fetch *f, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)fetch8(f) << (8 * i);
    }
    return v;
}

/* ModRM (and SIB, displacement) */
static void decode_modrm(Fetch *f, X86DecodedInsn *d)
{
    uint8_t m = fetch8(f);
    d->has_modrm = 1;
    d->modrm = m;
    d->mod = m >> 6;
    d->reg = ((m >> 3) & 7) | ((d->rex & X86_REX_R) ? 8 : 0);
    d->rm = (m & 7) | ((d->rex & X86_REX_B) ? 8 : 0);
    d->base = X86_REG_NONE;
    d->index = X86_REG_NONE;
    d->scale = 0;
    d->disp = 0;
    if (d->mod == 3) {
        return;
    }
    int defseg = R_DS;
    if (d->addrsize == 2) {
        static const uint8_t b16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, 0xff, 0xff, R_EBP, R_EBX };
        static const uint8_t i16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_ESI, R_EDI, 0xff, 0xff };
        unsigned rm = m & 7;
        if (d->mod == 0 && rm == 6) {
            d->disp = (int16_t)fetch_n(f, 2);
        } else {
            d->base = b16[rm];
            d->index = i16[rm];
            if (d->base == X86_REG_NONE) {
                d->base = d->index;
                d->index = X86_REG_NONE;
            }
            if (rm == 2 || rm == 3 || rm == 6) {
                defseg = R_SS;
            }
            if (d->mod == 1) {
                d->disp = (int8_t)fetch8(f);
            } else if (d->mod == 2) {
                d->disp = (int16_t)fetch_n(f, 2);
            }
        }
    } else {
        unsigned rm = m & 7;
        if (rm == 4) {
            uint8_t sib = fetch8(f);
            unsigned base = sib & 7, index = (sib >> 3) & 7;
            d->scale = sib >> 6;
            index |= (d->rex & X86_REX_X) ? 8 : 0;
            if (index != 4) {
                d->index = index;
            }
            if (base == 5 && d->mod == 0) {
                d->disp = (int32_t)fetch_n(f, 4);
            } else {
                d->base = base | ((d->rex & X86_REX_B) ? 8 : 0);
                if (base == 4 || base == 5) {
                    defseg = R_SS;
                }
            }
        } else if (rm == 5 && d->mod == 0) {
            d->disp = (int32_t)fetch_n(f, 4);
            if (d->code64) {
                d->rip_rel = 1;
            }
        } else {
            d->base = d->rm;
            if (rm == 5) {
                defseg = R_SS;
            }
        }
        if (d->mod == 1) {
            d->disp = (int8_t)fetch8(f);
        } else if (d->mod == 2) {
            d->disp = (int32_t)fetch_n(f, 4);
        }
    }
    if (!(d->prefixes & X86_PFX_SEG)) {
        d->seg = defseg;
    }
}

uint64_t x86_insn_ea(X86Cpu *cpu, const X86DecodedInsn *d)
{
    const uint64_t *r = cpu->env->regs;
    uint64_t ea = (uint64_t)(int64_t)d->disp;
    if (d->base != X86_REG_NONE) {
        ea += r[d->base];
    }
    if (d->index != X86_REG_NONE) {
        ea += r[d->index] << d->scale;
    }
    if (d->rip_rel) {
        ea += d->next_ip;
        if (d->addrsize == 4) {
            ea = (uint32_t)ea;
        }
        return ea;
    }
    switch (d->addrsize) {
    case 2: return ea & 0xffff;
    case 4: return (uint32_t)ea;
    default: return ea;
    }
}

void x86_decode_ea_precompute(X86DecodedInsn *d)
{
    d->ea_has_base = d->base != X86_REG_NONE;
    d->ea_has_index = d->index != X86_REG_NONE;
    d->ea_base = d->ea_has_base ? d->base : 0;
    d->ea_index = d->ea_has_index ? d->index : 0;
    d->ea_disp = (uint64_t)(int64_t)d->disp + (d->rip_rel ? d->next_ip : 0);
    d->ea_wrap_shift = d->addrsize == 2 ? 48 : d->addrsize == 4 ? 32 : 0;
}

bool x86_insn_ends_block(const X86DecodedInsn *d)
{
    return d->ends_block;
}

#define SET(fn) (d->exec = x86_h_##fn)

static uint64_t imm_z(Fetch *f, X86DecodedInsn *d, unsigned size)
{
    /* Iz: 16 or 32 bits, sign-extended to 64 for 64-bit operands */
    return size == 2 ? fetch_n(f, 2) : (uint64_t)(int64_t)(int32_t)fetch_n(f, 4);
}

static uint64_t rel_target(X86DecodedInsn *d, int64_t rel, unsigned opsize)
{
    uint64_t t = d->next_ip + (uint64_t)rel;
    if (!d->code64 || opsize != 8) {
        t &= x86_size_mask(opsize == 8 ? 4 : opsize);
    }
    return t;
}

/* 0F map without ModRM */
static bool map0f_no_modrm(uint8_t op)
{
    switch (op) {
    case 0x04 ... 0x0b: case 0x0e: case 0x30 ... 0x37: case 0x77:
    case 0x80 ... 0x8f: case 0xa0 ... 0xa2: case 0xa8 ... 0xaa:
    case 0xc8 ... 0xcf:
        return true;
    default:
        return false;
    }
}

static unsigned map0f_imm8(uint8_t op)
{
    switch (op) {
    case 0x70 ... 0x73: case 0xa4: case 0xac: case 0xba:
    case 0xc2: case 0xc4 ... 0xc6:
        return 1;
    default:
        return 0;
    }
}

static void decode_0f(Fetch *f, X86DecodedInsn *d, unsigned osz)
{
    uint8_t op = d->opcode;
    bool rex = d->prefixes & X86_PFX_REX;
    unsigned bsz = 1;
    (void)rex;
    if (!map0f_no_modrm(op)) {
        decode_modrm(f, d);
    }
    if (map0f_imm8(op)) {
        d->imm = fetch8(f);
    }
    d->op2 = osz;
    switch (op) {
    case 0x00: SET(grp6); d->ends_block = 1; return;
    case 0x01: SET(grp7); d->ends_block = 1; return;
    case 0x02: SET(lar); return;
    case 0x03: SET(lsl); return;
    case 0x05: SET(syscall); d->ends_block = 1; return;
    case 0x06: SET(clts); d->ends_block = 1; return;
    case 0x07: SET(sysret); d->ends_block = 1; return;
    case 0x08: case 0x09: SET(wbinvd); return;
    case 0x0b: SET(ud); d->ends_block = 1; return;
    case 0x0d: case 0x18 ... 0x1f: SET(nop); return;
    case 0x20: SET(mov_from_cr); return;
    case 0x22: SET(mov_to_cr); d->ends_block = 1; return;
    case 0x21: SET(mov_from_dr); return;
    case 0x23: SET(mov_to_dr); d->ends_block = 1; return;
    case 0x30: SET(wrmsr); d->ends_block = 1; return;
    case 0x31: SET(rdtsc); return;
    case 0x32: SET(rdmsr); return;
    case 0x33: SET(rdpmc); return;
    case 0x34: SET(sysenter); d->ends_block = 1; return;
    case 0x35: SET(sysexit); d->ends_block = 1; return;
    case 0x40 ... 0x4f: SET(cmov); d->op = op & 15; return;
    case 0x80 ... 0x8f: {
        unsigned bs = d->code64 ? (osz == 2 ? 2 : 8) : osz;
        int64_t rel = bs == 2 ? (int16_t)fetch_n(f, 2) : (int32_t)fetch_n(f, 4);
        d->next_ip = d->ip + f->count;
        d->imm = rel_target(d, rel, bs);
        d->op = op & 15;
        SET(jcc);
        d->ends_block = 1;
        return;
    }
    case 0x90 ... 0x9f: SET(setcc); d->op = op & 15; d->op2 = 1; return;
    case 0xa0: case 0xa8:
        SET(push_seg); d->op = op == 0xa0 ? R_FS : R_GS;
        d->op2 = d->code64 ? (osz == 2 ? 2 : 8) : osz;
        return;
    case 0xa1: case 0xa9:
        SET(pop_seg); d->op = op == 0xa1 ? R_FS : R_GS;
        d->op2 = d->code64 ? (osz == 2 ? 2 : 8) : osz;
        return;
    case 0xa2: SET(cpuid); return;
    case 0xa3: SET(bt_r); d->op = 0; return;
    case 0xab: SET(bt_r); d->op = 1; return;
    case 0xb3: SET(bt_r); d->op = 2; return;
    case 0xbb: SET(bt_r); d->op = 3; return;
    case 0xa4: SET(shd); d->op = 0; d->aux = 2; return;
    case 0xa5: SET(shd); d->op = 0; d->aux = 1; return;
    case 0xac: SET(shd); d->op = 1; d->aux = 2; return;
    case 0xad: SET(shd); d->op = 1; d->aux = 1; return;
    case 0xae:
        if (d->mod == 3 && (d->reg & 7) >= 5) {
            SET(fence); /* LFENCE MFENCE SFENCE */
            return;
        }
        if (d->mod != 3 && (d->reg & 7) == 7) {
            SET(fence); /* CLFLUSH */
            return;
        }
        break;
    case 0xaf: SET(imul_r_rm); return;
    case 0xb0: SET(cmpxchg); d->op2 = bsz; return;
    case 0xb1: SET(cmpxchg); return;
    case 0xb2: SET(lxs); d->op = R_SS; d->ends_block = 1; return;
    case 0xb4: SET(lxs); d->op = R_FS; return;
    case 0xb5: SET(lxs); d->op = R_GS; return;
    case 0xb6: SET(movzx); d->aux = 1; return;
    case 0xb7: SET(movzx); d->aux = 2; return;
    case 0xbe: SET(movsx); d->aux = 1; return;
    case 0xbf: SET(movsx); d->aux = 2; return;
    case 0xb8:
        if (d->prefixes & X86_PFX_REPZ) {
            SET(popcnt);
            return;
        }
        break;
    case 0xba:
        if ((d->reg & 7) >= 4) {
            SET(bt_imm);
            d->op = (d->reg & 7) - 4;
            return;
        }
        break;
    case 0xbc: if (d->prefixes & X86_PFX_REPZ) { SET(tzcnt); } else { SET(bsf); } return;
    case 0xbd: if (d->prefixes & X86_PFX_REPZ) { SET(lzcnt); } else { SET(bsr); } return;
    case 0xc0: SET(xadd); d->op2 = 1; return;
    case 0xc1: SET(xadd); return;
    case 0xc3:
        if (d->mod != 3 && !d->mandatory) {
            SET(mov_rm_r); /* MOVNTI */
            d->op2 = osz == 8 ? 8 : 4;
            return;
        }
        break;
    case 0xc7:
        if (d->mod != 3 && (d->reg & 7) == 1) {
            if (osz == 8) {
                SET(cmpxchg16b);
            } else {
                SET(cmpxchg8b);
            }
            return;
        }
        break;
    case 0xc8 ... 0xcf:
        SET(bswap);
        d->rm = (op & 7) | ((d->rex & X86_REX_B) ? 8 : 0);
        return;
    default:
        break;
    }
    if (x86_ext_decode(d)) {
        return;
    }
    SET(ud);
    d->ends_block = 1;
}

bool x86_decode(X86Cpu *cpu, uint64_t ip, X86DecodedInsn *d)
{
    Fetch f = { .cpu = cpu, .cs_base = cpu->env->segs[R_CS].base, .ip = ip };
    memset(d, 0, sizeof(*d));
    d->ip = ip;
    d->seg = R_DS;
    d->base = d->index = X86_REG_NONE;
    d->code64 = cpu->code_size == 8;
    unsigned csz = cpu->code_size;
    uint8_t b;
    uint8_t last_rep = 0;
    bool opsz = false;

    for (;;) {
        b = fetch8(&f);
        switch (b) {
        case 0x26: d->seg = R_ES; goto seg;
        case 0x2e: d->seg = R_CS; goto seg;
        case 0x36: d->seg = R_SS; goto seg;
        case 0x3e: d->seg = R_DS; goto seg;
        case 0x64: d->seg = R_FS; goto seg;
        case 0x65: d->seg = R_GS; goto seg;
        seg:
            d->prefixes |= X86_PFX_SEG;
            d->rex = 0;
            d->prefixes &= ~X86_PFX_REX;
            continue;
        case 0x66: d->prefixes |= X86_PFX_OPSIZE; opsz = true; d->rex = 0; d->prefixes &= ~X86_PFX_REX; continue;
        case 0x67: d->prefixes |= X86_PFX_ADSIZE; d->rex = 0; d->prefixes &= ~X86_PFX_REX; continue;
        case 0xf0: d->prefixes |= X86_PFX_LOCK; d->rex = 0; d->prefixes &= ~X86_PFX_REX; continue;
        case 0xf2: d->prefixes |= X86_PFX_REPNZ; last_rep = 0xf2; d->rex = 0; d->prefixes &= ~X86_PFX_REX; continue;
        case 0xf3: d->prefixes |= X86_PFX_REPZ; last_rep = 0xf3; d->rex = 0; d->prefixes &= ~X86_PFX_REX; continue;
        case 0x40 ... 0x4f:
            if (csz == 8) {
                d->rex = b & 15;
                d->prefixes |= X86_PFX_REX;
                continue;
            }
            break;
        default:
            break;
        }
        break;
    }
    if (d->code64 && d->seg < R_FS) {
        /* ES/CS/SS/DS overrides are ignored in 64-bit mode */
        d->prefixes &= ~X86_PFX_SEG;
        d->seg = R_DS;
    }
    d->mandatory = last_rep ? last_rep : (opsz ? 0x66 : 0);

    unsigned osz, asz;
    if (csz == 8) {
        osz = (d->rex & X86_REX_W) ? 8 : opsz ? 2 : 4;
        asz = (d->prefixes & X86_PFX_ADSIZE) ? 4 : 8;
    } else {
        osz = (csz == 4) != opsz ? 4 : 2;
        asz = (csz == 4) != !!(d->prefixes & X86_PFX_ADSIZE) ? 4 : 2;
    }
    d->opsize = osz;
    d->addrsize = asz;
    /* stack-operand size for push/pop/near branches in 64-bit mode */
    unsigned ssz = d->code64 ? (opsz ? 2 : 8) : osz;
    bool rex = d->prefixes & X86_PFX_REX;
    (void)rex;

    if (b == 0x0f) {
        b = fetch8(&f);
        if (b == 0x38 || b == 0x3a) {
            d->map = b == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            d->opcode = fetch8(&f);
            decode_modrm(&f, d);
            if (d->map == X86_MAP_0F3A) {
                d->imm = fetch8(&f);
            }
            d->op2 = osz;
            if (!x86_ext_decode(d)) {
                SET(ud);
                d->ends_block = 1;
            }
        } else {
            d->map = X86_MAP_0F;
            d->opcode = b;
            decode_0f(&f, d, osz);
        }
        goto done;
    }

    d->map = X86_MAP_1B;
    d->opcode = b;
    d->op2 = osz;
    bool inv64 = false;
    switch (b) {
    case 0x00 ... 0x05: case 0x08 ... 0x0d: case 0x10 ... 0x15:
    case 0x18 ... 0x1d: case 0x20 ... 0x25: case 0x28 ... 0x2d:
    case 0x30 ... 0x35: case 0x38 ... 0x3d:
        d->op = b >> 3;
        switch (b & 7) {
        case 0: decode_modrm(&f, d); d->op2 = 1; SET(alu_rm_r); break;
        case 1: decode_modrm(&f, d); SET(alu_rm_r); break;
        case 2: decode_modrm(&f, d); d->op2 = 1; SET(alu_r_rm); break;
        case 3: decode_modrm(&f, d); SET(alu_r_rm); break;
        case 4: d->mod = 3; d->rm = 0; d->op2 = 1; d->imm = fetch8(&f); SET(alu_rm_imm); break;
        case 5: d->mod = 3; d->rm = 0; d->imm = imm_z(&f, d, osz); SET(alu_rm_imm); break;
        }
        break;
    case 0x06: case 0x0e: case 0x16: case 0x1e:
        inv64 = true; SET(push_seg); d->op = b >> 3; break;
    case 0x07: case 0x17: case 0x1f:
        inv64 = true; SET(pop_seg); d->op = b >> 3;
        if (b == 0x17) {
            d->ends_block = 1;
        }
        break;
    case 0x27: inv64 = true; SET(daa); break;
    case 0x2f: inv64 = true; SET(das); break;
    case 0x37: inv64 = true; SET(aaa); break;
    case 0x3f: inv64 = true; SET(aas); break;
    case 0x40 ... 0x4f:
        d->mod = 3; d->rm = b & 7; d->op = (b >> 3) & 1; SET(incdec_rm); break;
    case 0x50 ... 0x57:
        d->rm = (b & 7) | ((d->rex & X86_REX_B) ? 8 : 0); d->op2 = ssz; SET(push_r); break;
    case 0x58 ... 0x5f:
        d->rm = (b & 7) | ((d->rex & X86_REX_B) ? 8 : 0); d->op2 = ssz; SET(pop_r); break;
    case 0x60: inv64 = true; SET(pusha); break;
    case 0x61: inv64 = true; SET(popa); break;
    case 0x62: inv64 = true; decode_modrm(&f, d); SET(bound); break;
    case 0x63:
        decode_modrm(&f, d);
        if (d->code64) {
            SET(movsx); d->aux = 4;
        } else {
            SET(arpl); d->op2 = 2;
        }
        break;
    case 0x68: d->imm = imm_z(&f, d, osz); d->op2 = ssz; SET(push_imm); break;
    case 0x6a: d->imm = (uint64_t)(int64_t)(int8_t)fetch8(&f); d->op2 = ssz; SET(push_imm); break;
    case 0x69: decode_modrm(&f, d); d->imm = imm_z(&f, d, osz); SET(imul_r_rm_imm); break;
    case 0x6b: decode_modrm(&f, d); d->imm = (uint64_t)(int64_t)(int8_t)fetch8(&f); SET(imul_r_rm_imm); break;
    case 0x6c: d->op2 = 1; SET(ins); break;
    case 0x6d: d->op2 = osz == 8 ? 4 : osz; SET(ins); break;
    case 0x6e: d->op2 = 1; SET(outs); break;
    case 0x6f: d->op2 = osz == 8 ? 4 : osz; SET(outs); break;
    case 0x70 ... 0x7f: case 0xe0 ... 0xe3: case 0xeb: {
        int64_t rel = (int8_t)fetch8(&f);
        d->next_ip = d->ip + f.count;
        d->imm = rel_target(d, rel, ssz);
        d->ends_block = 1;
        if (b == 0xeb) {
            SET(jmp_rel);
        } else if (b >= 0xe0) {
            SET(loop); d->op = b - 0xe0;
        } else {
            SET(jcc); d->op = b & 15;
        }
        break;
    }
    case 0x80: case 0x82:
        inv64 = b == 0x82;
        decode_modrm(&f, d); d->op2 = 1; d->op = d->reg & 7; d->imm = fetch8(&f);
        SET(alu_rm_imm); break;
    case 0x81: decode_modrm(&f, d); d->op = d->reg & 7; d->imm = imm_z(&f, d, osz); SET(alu_rm_imm); break;
    case 0x83:
        decode_modrm(&f, d); d->op = d->reg & 7;
        d->imm = (uint64_t)(int64_t)(int8_t)fetch8(&f); SET(alu_rm_imm); break;
    case 0x84: decode_modrm(&f, d); d->op2 = 1; SET(test_rm_r); break;
    case 0x85: decode_modrm(&f, d); SET(test_rm_r); break;
    case 0x86: decode_modrm(&f, d); d->op2 = 1; SET(xchg); break;
    case 0x87: decode_modrm(&f, d); SET(xchg); break;
    case 0x88: decode_modrm(&f, d); d->op2 = 1; SET(mov_rm_r); break;
    case 0x89: decode_modrm(&f, d); SET(mov_rm_r); break;
    case 0x8a: decode_modrm(&f, d); d->op2 = 1; SET(mov_r_rm); break;
    case 0x8b: decode_modrm(&f, d); SET(mov_r_rm); break;
    case 0x8c: decode_modrm(&f, d); SET(mov_rm_seg); break;
    case 0x8d: decode_modrm(&f, d); SET(lea); break;
    case 0x8e:
        decode_modrm(&f, d); SET(mov_seg_rm);
        if ((d->reg & 7) == R_SS) {
            d->ends_block = 1;
        }
        break;
    case 0x8f: decode_modrm(&f, d); d->op2 = ssz; SET(pop_rm); break;
    case 0x90:
        if (d->rex & X86_REX_B) {
            d->mod = 3; d->rm = 8; d->reg = 0; SET(xchg);
        } else if (d->prefixes & X86_PFX_REPZ) {
            SET(pause);
        } else {
            SET(nop);
        }
        break;
    case 0x91 ... 0x97:
        d->mod = 3; d->rm = (b & 7) | ((d->rex & X86_REX_B) ? 8 : 0); d->reg = 0;
        SET(xchg); break;
    case 0x98: SET(cbw); break;
    case 0x99: SET(cwd); break;
    case 0x9a:
        inv64 = true;
        d->imm = osz == 2 ? fetch_n(&f, 2) : fetch_n(&f, 4);
        d->imm2 = (uint16_t)fetch_n(&f, 2);
        SET(callf_ptr); d->ends_block = 1; break;
    case 0x9b: /* FWAIT: the x87 extension checks pending exceptions */
        if (!x86_ext_decode(d)) {
            SET(nop);
        }
        break;
    case 0x9c: d->op2 = ssz; SET(pushf); break;
    case 0x9d: d->op2 = ssz; SET(popf); d->ends_block = 1; break;
    case 0x9e: SET(sahf); break;
    case 0x9f: SET(lahf); break;
    case 0xa0 ... 0xa3:
        d->imm = fetch_n(&f, asz);
        d->op2 = (b & 1) ? osz : 1;
        if (b < 0xa2) {
            SET(mov_moffs_load);
        } else {
            SET(mov_moffs_store);
        }
        break;
    case 0xa4: d->op2 = 1; SET(movs); break;
    case 0xa5: SET(movs); break;
    case 0xa6: d->op2 = 1; SET(cmps); break;
    case 0xa7: SET(cmps); break;
    case 0xa8: d->mod = 3; d->rm = 0; d->op2 = 1; d->imm = fetch8(&f); SET(test_rm_imm); break;
    case 0xa9: d->mod = 3; d->rm = 0; d->imm = imm_z(&f, d, osz); SET(test_rm_imm); break;
    case 0xaa: d->op2 = 1; SET(stos); break;
    case 0xab: SET(stos); break;
    case 0xac: d->op2 = 1; SET(lods); break;
    case 0xad: SET(lods); break;
    case 0xae: d->op2 = 1; SET(scas); break;
    case 0xaf: SET(scas); break;
    case 0xb0 ... 0xb7:
        d->mod = 3; d->rm = (b & 7) | ((d->rex & X86_REX_B) ? 8 : 0);
        d->op2 = 1; d->imm = fetch8(&f); SET(mov_r_imm); break;
    case 0xb8 ... 0xbf:
        d->mod = 3; d->rm = (b & 7) | ((d->rex & X86_REX_B) ? 8 : 0);
        d->imm = osz == 8 ? fetch_n(&f, 8) : fetch_n(&f, osz);
        SET(mov_r_imm); break;
    case 0xc0: case 0xc1: case 0xd0 ... 0xd3:
        decode_modrm(&f, d);
        d->op = d->reg & 7;
        d->op2 = (b & 1) ? osz : 1;
        if (b <= 0xc1) {
            d->aux = 2; d->imm = fetch8(&f);
        } else {
            d->aux = b >= 0xd2 ? 1 : 0;
        }
        SET(shift_rm); break;
    case 0xc2: d->imm2 = (uint16_t)fetch_n(&f, 2); d->op2 = ssz; SET(ret); d->ends_block = 1; break;
    case 0xc3: d->op2 = ssz; SET(ret); d->ends_block = 1; break;
    case 0xc4: case 0xc5:
        if (d->code64) {
            SET(ud); d->ends_block = 1; break; /* VEX: not implemented */
        }
        decode_modrm(&f, d);
        if (d->mod == 3) {
            SET(ud); d->ends_block = 1; break;
        }
        SET(lxs); d->op = b == 0xc4 ? R_ES : R_DS; break;
    case 0xc6: decode_modrm(&f, d); d->op2 = 1; d->imm = fetch8(&f);
        if ((d->reg & 7) == 0) { SET(mov_rm_imm); } else { SET(ud); d->ends_block = 1; }
        break;
    case 0xc7: decode_modrm(&f, d); d->imm = imm_z(&f, d, osz);
        if ((d->reg & 7) == 0) { SET(mov_rm_imm); } else { SET(ud); d->ends_block = 1; }
        break;
    case 0xc8: d->imm = fetch_n(&f, 2); d->imm2 = fetch8(&f); d->op2 = ssz; SET(enter); break;
    case 0xc9: d->op2 = ssz; SET(leave); break;
    case 0xca: d->imm2 = (uint16_t)fetch_n(&f, 2); SET(retf); d->ends_block = 1; break;
    case 0xcb: SET(retf); d->ends_block = 1; break;
    case 0xcc: SET(int3); d->ends_block = 1; break;
    case 0xcd: d->imm = fetch8(&f); SET(int_imm); d->ends_block = 1; break;
    case 0xce: inv64 = true; SET(into); d->ends_block = 1; break;
    case 0xcf: SET(iret); d->ends_block = 1; break;
    case 0xd4: inv64 = true; d->imm = fetch8(&f); SET(aam); break;
    case 0xd5: inv64 = true; d->imm = fetch8(&f); SET(aad); break;
    case 0xd7: SET(xlat); break;
    case 0xd8 ... 0xdf:
        decode_modrm(&f, d);
        if (!x86_ext_decode(d)) {
            SET(ud); d->ends_block = 1;
        }
        break;
    case 0xe4: d->imm = fetch8(&f); d->op2 = 1; SET(in); break;
    case 0xe5: d->imm = fetch8(&f); d->op2 = osz == 8 ? 4 : osz; SET(in); break;
    case 0xe6: d->imm = fetch8(&f); d->op2 = 1; SET(out); d->ends_block = 1; break;
    case 0xe7: d->imm = fetch8(&f); d->op2 = osz == 8 ? 4 : osz; SET(out); d->ends_block = 1; break;
    case 0xec: d->aux = 1; d->op2 = 1; SET(in); break;
    case 0xed: d->aux = 1; d->op2 = osz == 8 ? 4 : osz; SET(in); break;
    case 0xee: d->aux = 1; d->op2 = 1; SET(out); d->ends_block = 1; break;
    case 0xef: d->aux = 1; d->op2 = osz == 8 ? 4 : osz; SET(out); d->ends_block = 1; break;
    case 0xe8: case 0xe9: {
        unsigned bs = d->code64 ? (opsz ? 2 : 8) : osz;
        int64_t rel = bs == 2 ? (int16_t)fetch_n(&f, 2) : (int32_t)fetch_n(&f, 4);
        d->next_ip = d->ip + f.count;
        d->imm = rel_target(d, rel, bs);
        d->op2 = bs;
        if (b == 0xe8) {
            SET(call_rel);
        } else {
            SET(jmp_rel);
        }
        d->ends_block = 1;
        break;
    }
    case 0xea:
        inv64 = true;
        d->imm = osz == 2 ? fetch_n(&f, 2) : fetch_n(&f, 4);
        d->imm2 = (uint16_t)fetch_n(&f, 2);
        SET(jmpf_ptr); d->ends_block = 1; break;
    case 0xf1: SET(int1); d->ends_block = 1; break;
    case 0xf4: SET(hlt); d->ends_block = 1; break;
    case 0xf5: SET(cmc); break;
    case 0xf6: case 0xf7:
        decode_modrm(&f, d);
        d->op2 = b == 0xf6 ? 1 : osz;
        switch (d->reg & 7) {
        case 0: case 1:
            d->imm = b == 0xf6 ? fetch8(&f) : imm_z(&f, d, osz);
            SET(test_rm_imm); break;
        case 2: SET(not_rm); break;
        case 3: SET(neg_rm); break;
        case 4: SET(mul_rm); break;
        case 5: SET(imul1_rm); break;
        case 6: SET(div_rm); break;
        case 7: SET(idiv_rm); break;
        }
        break;
    case 0xf8: SET(clc); break;
    case 0xf9: SET(stc); break;
    case 0xfa: SET(cli); break;
    case 0xfb: SET(sti); d->ends_block = 1; break;
    case 0xfc: SET(cld); break;
    case 0xfd: SET(std); break;
    case 0xfe:
        decode_modrm(&f, d); d->op2 = 1;
        if ((d->reg & 7) < 2) {
            d->op = d->reg & 1; SET(incdec_rm);
        } else {
            SET(ud); d->ends_block = 1;
        }
        break;
    case 0xff:
        decode_modrm(&f, d);
        switch (d->reg & 7) {
        case 0: case 1: d->op = d->reg & 1; SET(incdec_rm); break;
        case 2: d->op2 = ssz; SET(call_rm); d->ends_block = 1; break;
        case 3: SET(callf_m); d->ends_block = 1; break;
        case 4: d->op2 = ssz; SET(jmp_rm); d->ends_block = 1; break;
        case 5: SET(jmpf_m); d->ends_block = 1; break;
        case 6: d->op2 = ssz; SET(push_rm); break;
        default: SET(ud); d->ends_block = 1; break;
        }
        break;
    default:
        SET(ud);
        d->ends_block = 1;
        break;
    }
    if (inv64 && d->code64) {
        SET(ud);
        d->ends_block = 1;
    }
done:
    if (f.fault) {
        cpu->fetch_fault = true;
        return false;
    }
    d->len = (uint8_t)f.count;
    d->next_ip = d->ip + f.count;
    if (!d->code64) {
        d->next_ip &= csz == 2 ? 0xffff : 0xffffffffu;
    }
    if ((d->prefixes & X86_PFX_LOCK) && d->exec != x86_h_ud) {
        /* LOCK is only valid on read-modify-write instructions with a
         * memory destination (SDM vol. 2, LOCK). */
        bool ok = d->mod != 3 && d->has_modrm;
        if (ok) {
            if (d->map == X86_MAP_1B) {
                ok = (b < 0x40 && (b & 7) < 2) || b == 0x80 || b == 0x81 || b == 0x83 ||
                     b == 0x86 || b == 0x87 || ((b == 0xf6 || b == 0xf7) && (d->reg & 7) >= 2 && (d->reg & 7) <= 3) ||
                     ((b == 0xfe || b == 0xff) && (d->reg & 7) < 2);
                if ((b == 0x80 || b == 0x81 || b == 0x83) && (d->reg & 7) == 7) {
                    ok = false;
                }
                if (b < 0x40 && (b >> 3) == 7) {
                    ok = false;
                }
            } else if (d->map == X86_MAP_0F) {
                ok = d->opcode == 0xab || d->opcode == 0xb3 || d->opcode == 0xbb ||
                     (d->opcode == 0xba && (d->reg & 7) >= 5) || d->opcode == 0xb0 ||
                     d->opcode == 0xb1 || d->opcode == 0xc0 || d->opcode == 0xc1 ||
                     d->opcode == 0xc7;
            } else {
                ok = false;
            }
        }
        if (!ok) {
            SET(ud);
            d->ends_block = 1;
        }
    }
    if (d->has_modrm && d->mod != 3) {
        x86_decode_ea_precompute(d);
    }
    x86_specialize(d);
    return true;
}
