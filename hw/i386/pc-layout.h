/*
 * Fixed addresses of the pc board: where RAM, the BIOS area, the boot
 * loaders' structures and the platform devices live.
 */
#ifndef KESTREL_HW_I386_PC_LAYOUT_H
#define KESTREL_HW_I386_PC_LAYOUT_H

#define PC_EBDA_START 0x9fc00ull
#define PC_VGA_START 0xa0000ull
#define PC_BIOS_AREA_START 0xe0000ull   /* ACPI tables and RSDP live here */
#define PC_HIGH_START 0x100000ull

/* Boot loader scratch in low memory (all below the EBDA). */
#define PC_BOOT_GDT 0x500ull           /* flat GDT: 0x10 code, 0x18 data, 0x20 TSS */
#define PC_BOOT_TSS 0x600ull
#define PC_BOOT_PARAMS 0x7000ull       /* Linux zero page / PVH start info */
#define PC_BOOT_INFO_END 0x10000ull
#define PC_BOOT_CMDLINE 0x20000ull
#define PC_BOOT_CMDLINE_MAX 0x10000ull

/* RAM below 4 GiB ends where the 32-bit PCI hole begins. */
#define PC_MAX_BELOW_4G 0xe0000000ull
#define PC_BELOW_4G_BIG_RAM 0xc0000000ull
#define PC_PCI_HOLE_END 0xfec00000ull
#define PC_IOAPIC_BASE 0xfec00000ull
#define PC_HPET_BASE 0xfed00000ull
#define PC_LAPIC_BASE 0xfee00000ull
#define PC_KVM_RESERVED_START 0xfeffc000ull /* KVM identity map + TSS */
#define PC_KVM_RESERVED_SIZE 0x4000ull

#endif
