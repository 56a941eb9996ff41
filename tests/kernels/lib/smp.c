/*
 * AP start-up by the universal INIT-SIPI-SIPI sequence (Intel SDM vol. 3,
 * 9.4.4.1): INIT, 10 ms, STARTUP, 200 us, STARTUP.
 */
#include "lib/idt.h"
#include "lib/lapic.h"
#include "lib/layout.h"
#include "lib/smp.h"
#include "lib/tsc.h"

#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_ASSERT 0x00004000u

extern char trampoline_start[], trampoline_end[], tramp_gdt_desc[];
extern char gdt_desc[];
void ap_entry(void);

static void (*volatile ap_fn)(void);

void ap_entry(void)
{
    idt_load();
    if (ap_fn) {
        ap_fn();
    }
}

static void copy_bytes(volatile char *dst, const char *src, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        dst[i] = src[i];
    }
}

void smp_start_aps(unsigned ncpus, void (*fn)(void))
{
    volatile char *dst = (volatile char *)TRAMPOLINE_ADDR;
    unsigned len = (unsigned)(trampoline_end - trampoline_start);

    ap_fn = fn;
    copy_bytes(dst, trampoline_start, len);
    copy_bytes(dst + (tramp_gdt_desc - trampoline_start), gdt_desc, 6);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    for (unsigned id = 1; id < ncpus; id++) {
        lapic_send_ipi(id, ICR_INIT | ICR_ASSERT);
    }
    mdelay(10);
    for (int round = 0; round < 2; round++) {
        for (unsigned id = 1; id < ncpus; id++) {
            lapic_send_ipi(id, ICR_STARTUP | (TRAMPOLINE_ADDR >> 12));
        }
        mdelay(1);
    }
}
