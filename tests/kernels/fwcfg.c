/*
 * fwcfg: reads the fw_cfg signature, CPU count and RAM size, and prints them
 * with what the Multiboot information says (memory, command line).
 */
#include "lib/fwcfg.h"
#include "lib/kernel.h"

void kmain(const struct mb_info *info)
{
    char sig[5] = { 0 };

    fwcfg_read(FW_CFG_SIGNATURE, sig, 4);
    kprintf("fwcfg: signature '%s'\n", sig);
    if (!fwcfg_present()) {
        test_finish("fwcfg", 0);
    }
    uint16_t cpus = fwcfg_read16(FW_CFG_NB_CPUS);
    uint64_t ram = fwcfg_read64(FW_CFG_RAM_SIZE);
    kprintf("fwcfg: id %x\n", fwcfg_read32(FW_CFG_ID));
    kprintf("fwcfg: cpus %u\n", cpus);
    kprintf("fwcfg: ram %llu MiB\n", ram >> 20);
    if (info->flags & MB_INFO_MEMORY) {
        kprintf("fwcfg: multiboot mem_lower %u KiB mem_upper %u KiB\n",
                info->mem_lower, info->mem_upper);
    }
    kprintf("fwcfg: cmdline '%s'\n", boot_cmdline());
    test_finish("fwcfg", cpus >= 1 && ram >= (1u << 20));
}
