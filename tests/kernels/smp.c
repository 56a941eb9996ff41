/*
 * smp: reads the CPU count from fw_cfg, starts every other CPU with
 * INIT/SIPI/SIPI through the real-mode trampoline, and counts the APs that
 * reach protected mode.  Passes when all of them did.
 */
#include "lib/fwcfg.h"
#include "lib/kernel.h"
#include "lib/lapic.h"
#include "lib/layout.h"
#include "lib/pic.h"
#include "lib/smp.h"
#include "lib/tsc.h"

static volatile unsigned started;
static volatile uint8_t seen[MAX_CPUS];

static void ap_main(void)
{
    uint32_t id = lapic_id();

    if (id < MAX_CPUS) {
        seen[id] = 1;
    }
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
}

void kmain(const struct mb_info *info)
{
    uint32_t timeout = cmdline_uint("timeout_ms", 10000);
    unsigned ncpus = fwcfg_present() ? fwcfg_read16(FW_CFG_NB_CPUS) : 1;

    if (ncpus > MAX_CPUS) {
        ncpus = MAX_CPUS;
    }
    kprintf("smp: %u CPUs, BSP APIC ID %u\n", ncpus, 0u);
    tsc_calibrate();
    pic_init();
    lapic_enable();
    smp_start_aps(ncpus, ap_main);

    uint64_t end = tsc_deadline(timeout);
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < ncpus - 1 &&
           !tsc_passed(end)) {
        cpu_relax();
    }
    unsigned n = started;
    for (unsigned id = 1; id < ncpus; id++) {
        kprintf("smp: APIC ID %u %s\n", id, seen[id] ? "started" : "missing");
    }
    kprintf("smp: %u of %u APs started\n", n, ncpus - 1);
    test_finish("smp", n == ncpus - 1);
}
