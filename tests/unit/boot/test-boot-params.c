/*
 * Direct boot: the E820 map of the pc board, and what the bzImage loader
 * writes for the kernel (boot_params fields, e820 table, command line,
 * initrd placement under initrd_addr_max, entry state), from a synthetic
 * bzImage with a protocol 2.15 setup header.  Also the Multiboot loader's
 * info structure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hw/i386/boot.h"
#include "hw/i386/linux-bootparam.h"
#include "hw/i386/pc-layout.h"

#define RAM_SIZE (64ull << 20)

typedef struct Fixture {
    AddressSpace as;
    MemoryRegion ram_lo, ram_hi;
    uint8_t *ram;
    E820Map e820;
    char kernel[64], initrd[64];
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->ram = g_malloc0(RAM_SIZE);
    address_space_init(&f->as, "mem", ~0ull);
    memory_region_init_ram(&f->ram_lo, "lo", f->ram, 0, PC_VGA_START);
    memory_region_init_ram(&f->ram_hi, "hi", f->ram + 0xc0000, 0xc0000,
                           RAM_SIZE - 0xc0000);
    address_space_map(&f->as, &f->ram_lo, 0, 0);
    address_space_map(&f->as, &f->ram_hi, 0xc0000, 0);
    e820_build_pc(&f->e820, RAM_SIZE, 0);
    strcpy(f->kernel, "/tmp/kestrel-test-kernel-XXXXXX");
    strcpy(f->initrd, "/tmp/kestrel-test-initrd-XXXXXX");
    close(mkstemp(f->kernel));
    close(mkstemp(f->initrd));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    unlink(f->kernel);
    unlink(f->initrd);
    address_space_destroy(&f->as);
    g_free(f->ram);
    g_free(f);
    return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* A bzImage: 4 setup sectors + 1 boot sector, then a "protected-mode" part. */
static uint8_t *fake_bzimage(size_t *size, uint16_t version, uint32_t addr_max)
{
    size_t setup = 5 * 512, pm = 0x3000;
    uint8_t *img = g_malloc0(setup + pm);
    img[BP_SETUP_SECTS] = 4;
    st16(img + BP_BOOT_FLAG, 0xaa55);
    img[BP_HEADER_START_JUMP] = 0xeb;
    img[BP_HEADER_START_JUMP + 1] = 0x6a; /* header ends at 0x26c */
    memcpy(img + BP_HEADER_MAGIC, "HdrS", 4);
    st16(img + BP_VERSION, version);
    img[BP_LOADFLAGS] = BP_LOADED_HIGH;
    st32(img + BP_CODE32_START, 0x100000);
    st32(img + BP_INITRD_ADDR_MAX, addr_max);
    st32(img + BP_CMDLINE_SIZE, 2047);
    st32(img + BP_INIT_SIZE, 0x800000);
    memset(img + setup, 0x90, pm);
    *size = setup + pm;
    return img;
}

static void test_e820_pc(void **state)
{
    E820Map m;
    e820_build_pc(&m, 0xc0000000ull, 0x40000000ull);
    assert_int_equal(m.e[0].addr, 0);
    assert_int_equal(m.e[0].size, 0x9fc00);
    assert_int_equal(m.e[0].type, E820_RAM);
    /* low RAM + 1 MiB..3 GiB + 4..5 GiB are usable, nothing else */
    assert_int_equal(e820_ram_between(&m, 0, ~0ull),
                     0x9fc00ull + (0xc0000000ull - 0x100000) + 0x40000000ull);
    assert_int_equal(e820_ram_between(&m, 0x9fc00, 0x100000), 0);
    bool kvm_reserved = false;
    for (unsigned i = 0; i < m.nr; i++) {
        if (m.e[i].addr == PC_KVM_RESERVED_START && m.e[i].type == E820_RESERVED) {
            kvm_reserved = true;
        }
    }
    assert_true(kvm_reserved);
}

static void test_bzimage_boot_params(void **state)
{
    Fixture *f = *state;
    size_t size;
    uint8_t *img = fake_bzimage(&size, 0x020f, 0x37ffffff);
    uint8_t initrd[10000];
    memset(initrd, 0xab, sizeof(initrd));
    write_file(f->initrd, initrd, sizeof(initrd));
    BootEnv env = { &f->as, RAM_SIZE, &f->e820, 0xf0000, f->kernel, f->initrd,
                    "console=ttyS0 quiet" };
    X86State cpu;
    x86_state_reset(&cpu, true);
    GError *err = NULL;
    assert_true(linux_boot(&env, img, size, &cpu, &err));
    const uint8_t *bp = f->ram + PC_BOOT_PARAMS;
    /* setup header copied, loader fields set */
    assert_memory_equal(bp + BP_HEADER_MAGIC, "HdrS", 4);
    assert_int_equal(ld16(bp + BP_VERSION), 0x020f);
    assert_int_equal(bp[BP_TYPE_OF_LOADER], 0xff);
    assert_int_equal(ld64(bp + BP_ACPI_RSDP_ADDR), 0xf0000);
    /* command line */
    uint32_t cl = ld32(bp + BP_CMD_LINE_PTR);
    assert_string_equal((const char *)f->ram + cl, "console=ttyS0 quiet");
    /* initrd: page aligned, at the top of RAM, its bytes in place */
    uint32_t rd = ld32(bp + BP_RAMDISK_IMAGE);
    assert_int_equal(ld32(bp + BP_RAMDISK_SIZE), sizeof(initrd));
    assert_int_equal(rd & 0xfff, 0);
    assert_true(rd + sizeof(initrd) <= RAM_SIZE);
    assert_true(rd + sizeof(initrd) > RAM_SIZE - 0x2000);
    assert_memory_equal(f->ram + rd, initrd, sizeof(initrd));
    /* e820 table matches the board's map */
    assert_int_equal(bp[BP_E820_ENTRIES], f->e820.nr);
    assert_int_equal(ld64(bp + BP_E820_TABLE + 20 * 3 + 8),
                     f->e820.e[3].size);
    /* kernel at 1 MiB, entry state: flat 32-bit, ESI = boot_params */
    assert_int_equal(f->ram[0x100000], 0x90);
    assert_int_equal(cpu.rip, 0x100000);
    assert_int_equal(cpu.regs[R_ESI], PC_BOOT_PARAMS);
    assert_true(cpu.cr0 & X86_CR0_PE);
    assert_false(cpu.cr0 & X86_CR0_PG);
    assert_false(cpu.rflags & X86_FLAG_IF);
    assert_int_equal(cpu.segs[R_CS].selector, 0x10);
    assert_int_equal(cpu.segs[R_DS].selector, 0x18);
    assert_int_equal(cpu.segs[R_CS].limit, 0xffffffff);
    g_free(img);
}

static void test_initrd_addr_max_respected(void **state)
{
    Fixture *f = *state;
    size_t size;
    uint8_t *img = fake_bzimage(&size, 0x020f, 0x01ffffff); /* 32 MiB */
    uint8_t initrd[5000] = { 1 };
    write_file(f->initrd, initrd, sizeof(initrd));
    BootEnv env = { &f->as, RAM_SIZE, &f->e820, 0, f->kernel, f->initrd, NULL };
    X86State cpu;
    assert_true(linux_boot(&env, img, size, &cpu, NULL));
    uint32_t rd = ld32(f->ram + PC_BOOT_PARAMS + BP_RAMDISK_IMAGE);
    assert_true(rd + sizeof(initrd) <= 0x02000000);
    assert_true(rd >= 0x02000000 - 0x3000);
    g_free(img);
}

static void test_bad_kernels(void **state)
{
    Fixture *f = *state;
    size_t size;
    X86State cpu;
    GError *err = NULL;
    BootEnv env = { &f->as, RAM_SIZE, &f->e820, 0, f->kernel, NULL, NULL };
    uint8_t *old = fake_bzimage(&size, 0x0204, 0x37ffffff);
    assert_false(linux_boot(&env, old, size, &cpu, &err));
    assert_non_null(strstr(err->message, "2.06"));
    g_clear_error(&err);
    g_free(old);
    /* too little RAM for init_size */
    uint8_t *img = fake_bzimage(&size, 0x020f, 0x37ffffff);
    st32(img + BP_INIT_SIZE, 0x10000000);
    assert_false(linux_boot(&env, img, size, &cpu, &err));
    assert_non_null(strstr(err->message, "-m"));
    g_clear_error(&err);
    /* command line longer than cmdline_size */
    st32(img + BP_INIT_SIZE, 0x100000);
    st32(img + BP_CMDLINE_SIZE, 4);
    env.cmdline = "console=ttyS0";
    assert_false(linux_boot(&env, img, size, &cpu, &err));
    assert_non_null(strstr(err->message, "at most 4"));
    g_clear_error(&err);
    g_free(img);
    /* not a kernel at all */
    uint8_t junk[4096] = { 0 };
    assert_false(linux_is_bzimage(junk, sizeof(junk)));
    size_t off;
    assert_false(multiboot_find_header(junk, sizeof(junk), &off));
    uint32_t entry;
    assert_false(pvh_find_entry(junk, sizeof(junk), &entry));
}

static void test_multiboot_kludge(void **state)
{
    Fixture *f = *state;
    /* a.out kludge image: header at offset 0, loaded at 1 MiB */
    uint8_t img[0x2000];
    memset(img, 0xcc, sizeof(img));
    uint32_t flags = 0x00010003;
    st32(img + 0, 0x1badb002);
    st32(img + 4, flags);
    st32(img + 8, (uint32_t)-(0x1badb002 + flags));
    st32(img + 12, 0x100000);           /* header_addr */
    st32(img + 16, 0x100000);           /* load_addr */
    st32(img + 20, 0x100000 + 0x1000);  /* load_end_addr */
    st32(img + 24, 0x100000 + 0x3000);  /* bss_end_addr */
    st32(img + 28, 0x100020);           /* entry */
    size_t off;
    assert_true(multiboot_find_header(img, sizeof(img), &off));
    assert_int_equal(off, 0);
    memset(f->ram + 0x101000, 0x77, 0x2000);
    BootEnv env = { &f->as, RAM_SIZE, &f->e820, 0, "/k/kernel.elf", NULL, "a=1" };
    X86State cpu;
    GError *err = NULL;
    assert_true(multiboot_boot(&env, img, sizeof(img), &cpu, &err));
    assert_int_equal(cpu.regs[R_EAX], 0x2badb002);
    assert_int_equal(cpu.rip, 0x100020);
    assert_int_equal(f->ram[0x100fff], 0xcc);
    assert_int_equal(f->ram[0x101000], 0);   /* bss zeroed */
    assert_int_equal(f->ram[0x102fff], 0);
    const uint8_t *mbi = f->ram + cpu.regs[R_EBX];
    assert_true(ld32(mbi) & (1u << 6));      /* memory map present */
    assert_int_equal(ld32(mbi + 4), 639);    /* mem_lower in KiB */
    assert_string_equal((const char *)f->ram + ld32(mbi + 16), "/k/kernel.elf a=1");
    assert_int_equal(ld32(mbi + 44), f->e820.nr * 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e820_pc),
        cmocka_unit_test_setup_teardown(test_bzimage_boot_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initrd_addr_max_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_kernels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiboot_kludge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
