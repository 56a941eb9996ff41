/*
 * fw_cfg: the selector/data ports, the file directory, and the DMA
 * interface, including DMA to addresses that are not RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "hw-test.h"
#include "hw/nvram/fw_cfg.h"

#define SEL 0x510
#define DATA 0x511
#define DMA_HI 0x514
#define DMA_LO 0x518
#define RAM_SIZE (1 << 20)

static TestMachine *with_fw_cfg(FwCfg **f)
{
    TestMachine *t = tm_new(RAM_SIZE, false);

    *f = fw_cfg_init_io(&t->m, FW_CFG_IO_BASE, NULL);
    assert_non_null(*f);
    assert_ptr_equal(t->m.fw_cfg, *f);
    return t;
}

static void read_item(TestMachine *t, uint16_t key, uint8_t *buf, size_t len)
{
    tm_outw(t, SEL, key);
    for (size_t i = 0; i < len; i++) {
        buf[i] = tm_inb(t, DATA);
    }
}

static void test_signature_and_id(void **state)
{
    FwCfg *f;
    TestMachine *t = with_fw_cfg(&f);
    uint8_t buf[8];

    read_item(t, FW_CFG_SIGNATURE, buf, 4);
    assert_memory_equal(buf, "QEMU", 4);
    read_item(t, FW_CFG_ID, buf, 4);
    assert_int_equal(ld32(buf), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    /* Past the end of an item, and for missing items: zeros. */
    read_item(t, FW_CFG_SIGNATURE, buf, 6);
    assert_int_equal(buf[4], 0);
    assert_int_equal(buf[5], 0);
    read_item(t, 0x3ff, buf, 2);
    assert_int_equal(buf[0], 0);
    /* The DMA register reads as "QEMU CFG". */
    assert_int_equal(tm_inl(t, DMA_HI), 0x554d4551); /* "QEMU" */
    assert_int_equal(tm_inl(t, DMA_LO), 0x47464320); /* " CFG" */
    tm_free(t);
}

static void test_integers_little_endian(void **state)
{
    FwCfg *f;
    TestMachine *t = with_fw_cfg(&f);
    uint8_t buf[8];

    fw_cfg_add_i16(f, FW_CFG_NB_CPUS, 4);
    fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, 0x123456789ull);
    fw_cfg_add_i32(f, FW_CFG_E820_TABLE, 0xa1b2c3d4);
    read_item(t, FW_CFG_NB_CPUS, buf, 2);
    assert_int_equal(buf[0], 4);
    assert_int_equal(buf[1], 0);
    read_item(t, FW_CFG_RAM_SIZE, buf, 8);
    assert_int_equal(ld64(buf), 0x123456789ull);
    read_item(t, FW_CFG_E820_TABLE, buf, 4); /* an arch-local key */
    assert_int_equal(buf[0], 0xd4);
    tm_free(t);
}

static void test_file_dir(void **state)
{
    FwCfg *f;
    TestMachine *t = with_fw_cfg(&f);
    uint8_t dir[4 + 3 * 64], buf[16];
    const char *names[3] = { "etc/a", "etc/b", "opt/x" };
    char long_name[80];

    assert_true(fw_cfg_add_file(f, "opt/x", "xxxx", 4));
    assert_true(fw_cfg_add_file(f, "etc/b", "bb", 2));
    assert_true(fw_cfg_add_file(f, "etc/a", "a", 1));
    assert_false(fw_cfg_add_file(f, "etc/a", "again", 5)); /* duplicate */
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    assert_false(fw_cfg_add_file(f, long_name, "", 0));

    read_item(t, FW_CFG_FILE_DIR, dir, sizeof(dir));
    assert_int_equal(dir[0] << 24 | dir[1] << 16 | dir[2] << 8 | dir[3], 3);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *e = dir + 4 + 64 * i;
        uint32_t size = (uint32_t)(e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3]);
        uint16_t key = (uint16_t)(e[4] << 8 | e[5]);

        assert_string_equal((const char *)e + 8, names[i]); /* sorted */
        assert_true(key >= FW_CFG_FILE_FIRST);
        read_item(t, key, buf, size);
        if (i == 0) {
            assert_int_equal(size, 1);
            assert_memory_equal(buf, "a", 1);
        } else if (i == 1) {
            assert_int_equal(size, 2);
            assert_memory_equal(buf, "bb", 2);
        } else {
            assert_int_equal(size, 4);
            assert_memory_equal(buf, "xxxx", 4);
        }
    }
    tm_free(t);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)(p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);
}

/* Write an FWCfgDmaAccess at desc and start it, as a guest driver does. */
static void dma(TestMachine *t, uint64_t desc, uint32_t control, uint32_t len,
                uint64_t addr)
{
    uint8_t *ram = t->m.ram;

    if (desc + 16 <= RAM_SIZE) {
        put_be32(ram + desc, control);
        put_be32(ram + desc + 4, len);
        put_be32(ram + desc + 8, (uint32_t)(addr >> 32));
        put_be32(ram + desc + 12, (uint32_t)addr);
    }
    tm_outl(t, DMA_HI, GUINT32_TO_BE((uint32_t)(desc >> 32)));
    tm_outl(t, DMA_LO, GUINT32_TO_BE((uint32_t)desc));
}

static void test_dma_read(void **state)
{
    FwCfg *f;
    TestMachine *t = with_fw_cfg(&f);
    uint8_t *ram = t->m.ram;
    uint8_t blob[300];

    for (unsigned i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7);
    }
    assert_true(fw_cfg_add_file(f, "etc/blob", blob, sizeof(blob)));
    fw_cfg_add_bytes(f, FW_CFG_KERNEL_CMDLINE, "console=ttyS0", 14);

    /* Select and read in one go. */
    memset(ram + 0x2000, 0xee, 0x400);
    dma(t, 0x1000, (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT |
                       FW_CFG_DMA_CTL_READ, 100, 0x2000);
    assert_int_equal(get_be32(ram + 0x1000), 0); /* done, no error */
    assert_memory_equal(ram + 0x2000, blob, 100);
    assert_int_equal(ram[0x2000 + 100], 0xee);
    /* Skip 50, then read the rest; past the end the buffer is zero-filled. */
    dma(t, 0x1000, FW_CFG_DMA_CTL_SKIP, 50, 0);
    dma(t, 0x1000, FW_CFG_DMA_CTL_READ, 200, 0x2000);
    assert_int_equal(get_be32(ram + 0x1000), 0);
    assert_memory_equal(ram + 0x2000, blob + 150, 150);
    assert_int_equal(ram[0x2000 + 150], 0);
    assert_int_equal(ram[0x2000 + 199], 0);
    assert_int_equal(ram[0x2000 + 200], 0xee);
    /* The data port continues where DMA stopped (at the end: zeros). */
    assert_int_equal(tm_inb(t, DATA), 0);

    /* DMA with the descriptor above 4 GiB is not RAM: nothing happens. */
    dma(t, 0x100001000ull, FW_CFG_DMA_CTL_READ, 4, 0x2000);

    dma(t, 0x1000, (uint32_t)FW_CFG_KERNEL_CMDLINE << 16 |
                       FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 14, 0x3000);
    assert_string_equal((const char *)ram + 0x3000, "console=ttyS0");
    tm_free(t);
}

static void test_dma_errors(void **state)
{
    FwCfg *f;
    TestMachine *t = with_fw_cfg(&f);
    uint8_t *ram = t->m.ram;

    /* Target outside RAM: error in the control word, RAM untouched. */
    dma(t, 0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT |
                       FW_CFG_DMA_CTL_READ, 4, 0xf0000000u);
    assert_int_equal(get_be32(ram + 0x1000) & FW_CFG_DMA_CTL_ERROR,
                     FW_CFG_DMA_CTL_ERROR);
    /* Target straddling the end of RAM. */
    dma(t, 0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT |
                       FW_CFG_DMA_CTL_READ, 4, RAM_SIZE - 2);
    assert_int_equal(get_be32(ram + 0x1000), FW_CFG_DMA_CTL_ERROR);
    /* A huge length that wraps the address space. */
    dma(t, 0x1000, FW_CFG_DMA_CTL_READ, 0xffffffffu, 0xffffffff00000000ull);
    assert_int_equal(get_be32(ram + 0x1000), FW_CFG_DMA_CTL_ERROR);
    /* Writes: no item is writable. */
    dma(t, 0x1000, FW_CFG_NB_CPUS << 16 | FW_CFG_DMA_CTL_SELECT |
                       FW_CFG_DMA_CTL_WRITE, 2, 0x2000);
    assert_int_equal(get_be32(ram + 0x1000), FW_CFG_DMA_CTL_ERROR);
    /* Descriptor partly outside RAM: ignored without a crash. */
    dma(t, RAM_SIZE - 8, FW_CFG_DMA_CTL_READ, 4, 0x2000);
    /* The device still works. */
    dma(t, 0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT |
                       FW_CFG_DMA_CTL_READ, 4, 0x2000);
    assert_int_equal(get_be32(ram + 0x1000), 0);
    assert_memory_equal(ram + 0x2000, "QEMU", 4);
    tm_free(t);
}

static void test_reset_clears_selector(void **state)
{
    FwCfg *f;
    TestMachine *t = with_fw_cfg(&f);
    uint8_t buf[4];

    fw_cfg_add_bytes(f, FW_CFG_KERNEL_CMDLINE, "abcd", 4);
    tm_outw(t, SEL, FW_CFG_KERNEL_CMDLINE);
    assert_int_equal(tm_inb(t, DATA), 'a');
    machine_reset_devices(&t->m);
    for (unsigned i = 0; i < 4; i++) {
        buf[i] = tm_inb(t, DATA);
    }
    assert_memory_equal(buf, "QEMU", 4);
    tm_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_and_id),
        cmocka_unit_test(test_integers_little_endian),
        cmocka_unit_test(test_file_dir),
        cmocka_unit_test(test_dma_read),
        cmocka_unit_test(test_dma_errors),
        cmocka_unit_test(test_reset_clears_selector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
