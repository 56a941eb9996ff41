/*
 * The x87 group of the differential test (difftest.h).
 */
#include "tests/cpu/difftest.h"

static bool x87_one(Gen *g)
{
    switch (rn(g, 2)) {
    case 0: /* fnstsw ax */
        emit(g, 0xdf);
        emit(g, 0xe0);
        break;
    default: /* fnstcw [rbx+disp8] */
        emit(g, 0xd9);
        emit_mem_rbx(g, 7, (uint8_t)(rn(g, 0x70) & ~1u));
        break;
    }
    return true;
}

const DiffGen gen_x87 = { .name = "x87", .one = x87_one };
