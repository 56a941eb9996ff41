/*
 * CRC32 (SSE4.2, SDM vol. 2): accumulate CRC-32C (Castagnoli polynomial
 * 0x1EDC6F41, bit-reflected, no final inversion) of a 1/2/4/8-byte source
 * into a 32-bit value held in a 32- or 64-bit general register.
 */
#include "cpu/x86/sse-internal.h"

#define CRC32C_REFLECTED 0x82f63b78u

void sse_crc32(X86Cpu *cpu, const X86DecodedInsn *d)
{
    unsigned size = d->op;
    unsigned dsize = (d->rex & X86_REX_W) ? 8 : 4;
    uint64_t v = 0;
    if (d->mod == 3) {
        v = x86_ext_get_gpr(cpu, d, d->rm, size);
    } else {
        x86_ext_load(cpu, d, 0, &v, size);
    }
    uint32_t crc = (uint32_t)x86_ext_get_gpr(cpu, d, d->reg, 4);
    for (unsigned i = 0; i < size; i++) {
        crc ^= (uint8_t)(v >> (8 * i));
        for (unsigned b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ (CRC32C_REFLECTED & (0u - (crc & 1)));
        }
    }
    x86_ext_set_gpr(cpu, d, d->reg, dsize, crc);
}
