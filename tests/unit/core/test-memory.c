/*
 * Address-space dispatch: RAM/ROM/MMIO lookup, priorities and overlaps,
 * access splitting and widening, unassigned accesses, DMA bounds checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/memory.h"

typedef struct Mmio {
    uint64_t last_addr;
    uint64_t last_val;
    unsigned last_size;
    unsigned reads, writes;
    uint8_t regs[16];
} Mmio;

static uint64_t mmio_rd(void *opaque, uint64_t addr, unsigned size)
{
    Mmio *m = opaque;
    m->reads++;
    m->last_addr = addr;
    m->last_size = size;
    uint64_t v = 0;
    memcpy(&v, m->regs + addr, size);
    return v;
}

static void mmio_wr(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Mmio *m = opaque;
    m->writes++;
    m->last_addr = addr;
    m->last_val = val;
    m->last_size = size;
    memcpy(m->regs + addr, &val, size);
}

static const MemoryRegionOps ops_any = { .read = mmio_rd, .write = mmio_wr };
static const MemoryRegionOps ops_32 = { .read = mmio_rd, .write = mmio_wr,
                                        .min_access = 4, .max_access = 4 };

static void test_ram_and_holes(void **state)
{
    AddressSpace as;
    uint8_t ram[0x2000] = { 0 };
    MemoryRegion lo, hi;
    address_space_init(&as, "mem", ~0ull);
    memory_region_init_ram(&lo, "lo", ram, 0, 0x1000);
    memory_region_init_ram(&hi, "hi", ram + 0x1000, 0x1000, 0x1000);
    assert_true(address_space_map(&as, &lo, 0, 0));
    assert_true(address_space_map(&as, &hi, 0x100000000ull, 0));
    address_space_write_val(&as, 0x10, 0x11223344, 4);
    assert_int_equal(ram[0x10], 0x44);
    assert_int_equal(address_space_read_val(&as, 0x10, 2), 0x3344);
    address_space_write_val(&as, 0x100000008ull, 0xdeadbeefcafef00dull, 8);
    assert_int_equal(ld64(ram + 0x1008), 0xdeadbeefcafef00dull);
    /* a hole reads as all-ones and ignores writes */
    assert_int_equal(address_space_read_val(&as, 0x5000, 4), 0xffffffffu);
    address_space_write_val(&as, 0x5000, 0, 4);
    /* an access straddling RAM and a hole is split */
    ram[0xfff] = 0x5a;
    assert_int_equal(address_space_read_val(&as, 0xfff, 2), 0xff5a);
    assert_null(address_space_ram_ptr(&as, 0xff0, 0x20));
    assert_ptr_equal(address_space_ram_ptr(&as, 0xff0, 0x10), ram + 0xff0);
    address_space_destroy(&as);
}

static void test_mmio_priority_and_overlap(void **state)
{
    AddressSpace as;
    uint8_t ram[0x4000] = { 0 };
    MemoryRegion r, io;
    Mmio dev = { 0 };
    address_space_init(&as, "mem", ~0ull);
    memory_region_init_ram(&r, "ram", ram, 0, sizeof(ram));
    memory_region_init_io(&io, "dev", &ops_any, &dev, 0x10);
    assert_true(address_space_map(&as, &r, 0, 0));
    assert_true(address_space_map(&as, &io, 0x1008, 1));
    const FlatView *v = address_space_view(&as);
    assert_int_equal(v->nr, 3);
    address_space_write_val(&as, 0x100c, 0xabcd, 2);
    assert_int_equal(dev.last_addr, 4);
    assert_int_equal(dev.last_val, 0xabcd);
    assert_int_equal(ram[0x100c], 0);
    /* RAM after the window keeps its offset */
    address_space_write_val(&as, 0x1018, 0x77, 1);
    assert_int_equal(ram[0x1018], 0x77);
    /* unmapping the window uncovers RAM */
    address_space_unmap(&as, &io);
    address_space_write_val(&as, 0x100c, 0x99, 1);
    assert_int_equal(ram[0x100c], 0x99);
    /* a lower-priority region does not hide RAM */
    assert_true(address_space_map(&as, &io, 0x1008, -1));
    address_space_write_val(&as, 0x100c, 0x42, 1);
    assert_int_equal(ram[0x100c], 0x42);
    assert_int_equal(dev.writes, 1);
    /* remap moves it to an uncovered place */
    assert_true(address_space_remap(&as, &io, 0x8000));
    address_space_write_val(&as, 0x8000, 0x1, 1);
    assert_int_equal(dev.writes, 2);
    address_space_destroy(&as);
}

static void test_access_size_adjustment(void **state)
{
    AddressSpace as;
    MemoryRegion io;
    Mmio dev = { 0 };
    address_space_init(&as, "io", 0xffff);
    memory_region_init_io(&io, "dev32", &ops_32, &dev, 8);
    assert_true(address_space_map(&as, &io, 0xcf8, 0));
    memcpy(dev.regs, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    /* a byte read is widened to 32 bits and shifted */
    assert_int_equal(address_space_read_val(&as, 0xcfa, 1), 0x33);
    assert_int_equal(dev.last_size, 4);
    assert_int_equal(dev.last_addr, 0);
    /* a 16-bit write becomes a read-modify-write of 32 bits */
    address_space_write_val(&as, 0xcf9, 0xaabb, 2);
    assert_int_equal(dev.last_size, 4);
    assert_int_equal(dev.last_val, 0x44aabb11);
    /* a 64-bit read is split into two 32-bit reads */
    dev.reads = 0;
    assert_int_equal(address_space_read_val(&as, 0xcf8, 8), 0x8877665544aabb11ull);
    assert_int_equal(dev.reads, 2);
    /* ports wrap at 64 KiB, and the region cannot exceed the space */
    MemoryRegion big;
    memory_region_init_io(&big, "big", &ops_any, &dev, 0x10);
    assert_false(address_space_map(&as, &big, 0xfff8, 0));
    address_space_destroy(&as);
}

typedef struct Written {
    unsigned calls;
    uint64_t addr, len;
} Written;

static void record_written(void *opaque, uint64_t addr, uint64_t len)
{
    Written *w = opaque;
    w->calls++;
    w->addr = addr;
    w->len = len;
}

/* DMA writes tell the listeners (the software CPU drops code there). */
static void test_dma_written_listener(void **state)
{
    AddressSpace as;
    uint8_t ram[0x2000] = { 0 };
    MemoryRegion a;
    Written w = { 0 };
    address_space_init(&as, "mem", ~0ull);
    memory_region_init_ram(&a, "a", ram, 0, sizeof(ram));
    address_space_map(&as, &a, 0, 0);
    MemoryListener l = { .ram_written = record_written, .opaque = &w };
    address_space_add_listener(&as, &l);
    uint8_t buf[16] = { 1 };
    assert_true(dma_write(&as, 0x1ff8, buf, 8));
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.addr, 0x1ff8);
    assert_int_equal(w.len, 8);
    assert_false(dma_write(&as, 0x1ff8, buf, 16)); /* refused: no call */
    assert_int_equal(w.calls, 1);
    address_space_notify_written(&as, 0x100, 0x200);
    assert_int_equal(w.calls, 2);
    assert_int_equal(w.addr, 0x100);
    address_space_notify_written(&as, 0x100, 0); /* nothing written */
    assert_int_equal(w.calls, 2);
    address_space_destroy(&as);
}

static void test_dma_bounds(void **state)
{
    AddressSpace as;
    uint8_t ram[0x3000] = { 0 };
    MemoryRegion a, b, io;
    Mmio dev = { 0 };
    address_space_init(&as, "mem", ~0ull);
    memory_region_init_ram(&a, "a", ram, 0, 0x1000);
    memory_region_init_ram(&b, "b", ram + 0x1000, 0x1000, 0x1000);
    memory_region_init_io(&io, "io", &ops_any, &dev, 0x10);
    address_space_map(&as, &a, 0, 0);
    address_space_map(&as, &b, 0x1000, 0);
    address_space_map(&as, &io, 0x2000, 0);
    uint8_t buf[32];
    memset(buf, 0xee, sizeof(buf));
    /* across two adjacent RAM regions: fine */
    assert_true(dma_write(&as, 0xff0, buf, 32));
    assert_int_equal(ram[0x100f], 0xee);
    /* into MMIO or past the end of RAM: refused, nothing touched */
    assert_false(dma_write(&as, 0x1ff0, buf, 32));
    assert_int_equal(ram[0x1ff0], 0);
    assert_int_equal(dev.writes, 0);
    assert_false(dma_read(&as, 0xfffffffffffffff0ull, buf, 32));
    assert_false(dma_read(&as, 0x10000, buf, 1));
    assert_true(dma_read(&as, 0, buf, 0));
    address_space_destroy(&as);
}

typedef struct Seen {
    unsigned calls;
    unsigned last_nr;
} Seen;

static void on_change(void *opaque, const FlatView *v)
{
    Seen *s = opaque;
    s->calls++;
    s->last_nr = v->nr;
}

static void test_listener_and_batch(void **state)
{
    AddressSpace as;
    uint8_t ram[0x2000];
    MemoryRegion a, b;
    Seen seen = { 0 };
    address_space_init(&as, "mem", ~0ull);
    MemoryListener l = { .ram_changed = on_change, .opaque = &seen };
    address_space_add_listener(&as, &l);
    assert_int_equal(seen.calls, 1);
    memory_region_init_ram(&a, "a", ram, 0, 0x1000);
    memory_region_init_ram(&b, "b", ram + 0x1000, 0x1000, 0x1000);
    address_space_begin(&as);
    address_space_map(&as, &a, 0, 0);
    address_space_map(&as, &b, 0x10000, 0);
    address_space_commit(&as);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.last_nr, 2);
    address_space_destroy(&as);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ram_and_holes),
        cmocka_unit_test(test_mmio_priority_and_overlap),
        cmocka_unit_test(test_access_size_adjustment),
        cmocka_unit_test(test_dma_bounds),
        cmocka_unit_test(test_dma_written_listener),
        cmocka_unit_test(test_listener_and_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
