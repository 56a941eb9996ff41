/*
 * From the assembly entry to kmain(): check the Multiboot handshake, bring up
 * COM1 and the IDT, remember the command line.
 */
#include "lib/idt.h"
#include "lib/kernel.h"
#include "lib/serial.h"

static const char *cmdline = "";

const char *boot_cmdline(void)
{
    return cmdline;
}

void kernel_entry(uint32_t magic, const struct mb_info *info);

void kernel_entry(uint32_t magic, const struct mb_info *info)
{
    serial_init();
    if (magic != MB_BOOTLOADER_MAGIC) {
        kprintf("boot: bad Multiboot magic %x\n", magic);
        debug_exit(EXIT_FAIL);
    }
    if (info->flags & MB_INFO_CMDLINE) {
        cmdline = (const char *)(uintptr_t)info->cmdline;
    }
    idt_init();
    kmain(info);
    test_finish("kmain returned", 0);
}
