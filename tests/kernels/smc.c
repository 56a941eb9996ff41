/*
 * smc: self-modifying code under the software CPU (SDM vol. 3, 8.1.3:
 * a write to a code location takes effect for the instructions fetched
 * after it, including the next one).  The translator caches decoded blocks
 * (and, with the JIT, host code that chains blocks together), so each case
 * changes code that has already run, many times, and checks that the new
 * bytes run:
 *   - a function in a data buffer, called in a hot loop, then patched
 *     (another block than the writer's; chained blocks);
 *   - an instruction patched by the one just before it, in the same block;
 *   - a REP MOVSB that copies new code over a function that has run;
 *   - a loop whose conditional branch is rewritten while the loop runs.
 */
#include "lib/kernel.h"

static int failures;

static void check(const char *what, int ok)
{
    kprintf("smc: %s: %s\n", what, ok ? "ok" : "WRONG");
    if (!ok) {
        failures++;
    }
}

static uint8_t buf[4096] __attribute__((aligned(4096)));

typedef uint32_t (*fn_t)(void);

/* mov eax, imm32; ret */
static void put_mov_ret(uint8_t *p, uint32_t imm)
{
    p[0] = 0xb8;
    p[1] = (uint8_t)imm;
    p[2] = (uint8_t)(imm >> 8);
    p[3] = (uint8_t)(imm >> 16);
    p[4] = (uint8_t)(imm >> 24);
    p[5] = 0xc3;
}

static uint32_t call_many(fn_t f, unsigned n)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        sum += f();
    }
    return sum;
}

/* Writes v into the immediate of the very next instruction and returns
 * what that instruction loaded. */
static __attribute__((noinline)) uint32_t patch_next(uint32_t v)
{
    uint32_t r;
    __asm__ volatile("movl %1, 1f+1\n\t"
                     "1: movl $0, %0\n\t"
                     : "=a"(r) : "r"(v) : "memory");
    return r;
}

/* Counts down from n; the JNZ at smc_loop_jcc is turned into a JZ by the
 * loop body itself when the counter reaches `at`, which makes the loop end
 * right there.  Returns the counter value when the loop ended. */
extern uint8_t smc_loop_jcc[];

static __attribute__((noinline)) uint32_t rewrite_branch(uint32_t n, uint32_t at)
{
    uint32_t c = n;
    __asm__ volatile("2: decl %0\n\t"
                     "cmpl %1, %0\n\t"
                     "jne 3f\n\t"
                     "movb $0x74, smc_loop_jcc\n\t"  /* JNZ (0x75) -> JZ (0x74) */
                     "3: testl %0, %0\n\t"
                     ".globl smc_loop_jcc\n"
                     "smc_loop_jcc: jnz 2b\n\t"
                     : "+r"(c) : "r"(at) : "memory", "cc");
    return c;
}

void kmain(const struct mb_info *info)
{
    (void)info;
    fn_t f = (fn_t)(void *)buf;

    put_mov_ret(buf, 1);
    check("buffer function before patching", call_many(f, 5000) == 5000);
    put_mov_ret(buf, 3);
    check("patched after 5000 calls", call_many(f, 5000) == 15000);
    for (uint32_t i = 0; i < 200; i++) {
        put_mov_ret(buf, i);
        if (f() != i) {
            check("patched between every call", 0);
            break;
        }
        if (i == 199) {
            check("patched between every call", 1);
        }
    }

    int same_ok = 1;
    for (uint32_t i = 1; i <= 1000; i++) {
        if (patch_next(i * 7) != i * 7) {
            same_ok = 0;
        }
    }
    check("the next instruction in the same block", same_ok);

    static const uint8_t code5[6] = { 0xb8, 5, 0, 0, 0, 0xc3 };
    put_mov_ret(buf, 4);
    call_many(f, 1000);
    uint8_t *dst = buf;
    const uint8_t *src = code5;
    uint32_t cnt = sizeof(code5);
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(cnt) : : "memory");
    check("REP MOVSB over code that ran", f() == 5);

    check("the loop runs to zero", rewrite_branch(5000, 0xffffffffu) == 0);
    uint32_t end = rewrite_branch(100000, 60000);
    check("conditional branch rewritten inside its loop", end == 60000);
    check("and stays rewritten", rewrite_branch(5000, 0xffffffffu) == 4999);
    *(volatile uint8_t *)smc_loop_jcc = 0x75; /* JNZ again */
    check("put back: the loop runs to zero again", rewrite_branch(3000, 0xffffffffu) == 0);

    test_finish("smc", failures == 0);
}
