/*
 * The PIIX3 IDE function driven through its ports as a guest driver would:
 * IDENTIFY data, signatures after SRST, PIO and bus-master DMA reads and
 * writes checked against the image, error reporting (IDNF, ABRT), nIEN,
 * hostile PRD tables, the ATAPI packet protocol and media change, and a
 * fuzz-style run of random register writes and PRD tables after which the
 * device must still reset and work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "block/block-backend.h"
#include "hw-test.h"
#include "hw/ide/ide.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"

#define RAM_SIZE (4u << 20)
#define DISK_SECTORS 8192u
#define CD_BLOCKS 64u

#define P_DATA 0x1f0
#define P_ERR 0x1f1
#define P_NSECT 0x1f2
#define P_LBAL 0x1f3
#define P_LBAM 0x1f4
#define P_LBAH 0x1f5
#define P_DEV 0x1f6
#define P_CMD 0x1f7
#define P_CTL 0x3f6
#define S_OFF (0x170 - 0x1f0) /* secondary channel: add to the P_ ports */
#define S_CTL 0x376

#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DRQ 0x08
#define ST_ERR 0x01

typedef struct Fixture {
    TestMachine *t;
    Device *ide;
    BlockBackend *disk;
    BlockBackend *cd;
    char *disk_path;
    char *cd_path;
    uint16_t bm;        /* bus-master base port */
    /* guest RAM the device reported as written (the software CPU drops
     * translated code there): lowest address, end, bytes */
    uint64_t written_lo, written_hi, written_bytes;
} Fixture;

static char *make_image(uint32_t size, uint32_t unit)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-ide-XXXXXX", &path, NULL);
    uint8_t *data = g_malloc(size);

    assert_true(fd >= 0);
    for (uint32_t i = 0; i < size; i++) {
        data[i] = (uint8_t)(i / unit * 7 + i);
    }
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    close(fd);
    g_free(data);
    return path;
}

static uint8_t expected_byte(uint64_t off, uint32_t unit)
{
    return (uint8_t)(off / unit * 7 + off);
}

static BlockBackend *open_image(Fixture *f, const char *path)
{
    BlockBackendOptions o = { .format = "raw", .context = f->t->ctx };
    GError *err = NULL;
    BlockBackend *blk = blk_open(path, &o, &err);

    if (!blk) {
        fail_msg("blk_open: %s", err->message);
    }
    return blk;
}

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    GError *err = NULL;

    f->t = tm_new(RAM_SIZE, true);
    assert_non_null(pci_i440fx_init(&f->t->m, NULL));
    f->ide = tm_add(f->t, &piix3_ide_class, NULL);
    f->disk_path = make_image(DISK_SECTORS * 512, 512);
    f->cd_path = make_image(CD_BLOCKS * 2048, 2048);
    f->disk = open_image(f, f->disk_path);
    f->cd = open_image(f, f->cd_path);
    if (!ide_attach(f->ide, 0, 0, IDE_MEDIA_DISK, f->disk, NULL, NULL, &err) ||
        !ide_attach(f->ide, 1, 0, IDE_MEDIA_CDROM, f->cd, NULL, NULL, &err)) {
        fail_msg("attach: %s", err->message);
    }
    assert_true(pci_assign_bars(f->t->m.pci, 0xe0000000, 0xefffffff, 0xc000,
                                0xffff));
    PCIDevice *pd = pci_bus_find(f->t->m.pci, PCI_DEVFN(1, 1));
    assert_non_null(pd);
    f->bm = (uint16_t)(pci_config_read(pd, PCI_BASE_ADDRESS_0 + 16, 4) & ~3u);
    assert_true(f->bm >= 0xc000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    PCIBus *bus = f->t->m.pci;

    tm_free_devices(f->t);
    pci_bus_free(bus);
    f->t->m.pci = NULL;
    blk_close(f->disk);
    blk_close(f->cd);
    unlink(f->disk_path);
    unlink(f->cd_path);
    g_free(f->disk_path);
    g_free(f->cd_path);
    tm_free(f->t);
    g_free(f);
    return 0;
}

/* ---- helpers ---- */

typedef struct Wait {
    TestMachine *t;
    uint16_t ctl;
} Wait;

static bool not_busy(void *arg)
{
    Wait *w = arg;

    return !(tm_inb(w->t, w->ctl) & ST_BSY);
}

static uint8_t wait_ready(Fixture *f, unsigned ch)
{
    Wait w = { f->t, ch ? S_CTL : P_CTL };

    assert_true(tm_run_until(f->t, not_busy, &w));
    return tm_inb(f->t, w.ctl);
}

static uint16_t port(unsigned ch, uint16_t p)
{
    return (uint16_t)(ch ? p + S_OFF : p);
}

static void lba28(Fixture *f, unsigned ch, uint32_t lba, uint8_t count,
                  uint8_t cmd)
{
    TestMachine *t = f->t;

    tm_outb(t, port(ch, P_DEV), (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
    tm_outb(t, port(ch, P_NSECT), count);
    tm_outb(t, port(ch, P_LBAL), (uint8_t)lba);
    tm_outb(t, port(ch, P_LBAM), (uint8_t)(lba >> 8));
    tm_outb(t, port(ch, P_LBAH), (uint8_t)(lba >> 16));
    tm_outb(t, port(ch, P_CMD), cmd);
}

static void lba48(Fixture *f, uint64_t lba, uint16_t count, uint8_t cmd)
{
    TestMachine *t = f->t;

    tm_outb(t, P_DEV, 0x40);
    tm_outb(t, P_NSECT, (uint8_t)(count >> 8));
    tm_outb(t, P_LBAL, (uint8_t)(lba >> 24));
    tm_outb(t, P_LBAM, (uint8_t)(lba >> 32));
    tm_outb(t, P_LBAH, (uint8_t)(lba >> 40));
    tm_outb(t, P_NSECT, (uint8_t)count);
    tm_outb(t, P_LBAL, (uint8_t)lba);
    tm_outb(t, P_LBAM, (uint8_t)(lba >> 8));
    tm_outb(t, P_LBAH, (uint8_t)(lba >> 16));
    tm_outb(t, P_CMD, cmd);
}

static void read_words(Fixture *f, unsigned ch, uint16_t *buf, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        buf[i] = tm_inw(f->t, port(ch, P_DATA));
    }
}

static void id_string(const uint16_t *id, unsigned word, unsigned nwords,
                      char *out)
{
    for (unsigned i = 0; i < nwords; i++) {
        out[2 * i] = (char)(id[word + i] >> 8);
        out[2 * i + 1] = (char)id[word + i];
    }
    out[2 * nwords] = 0;
    g_strchomp(out);
}

static void identify(Fixture *f, unsigned ch, uint8_t cmd, uint16_t *id)
{
    tm_outb(f->t, port(ch, P_DEV), 0xa0);
    tm_outb(f->t, port(ch, P_CMD), cmd);
    assert_int_equal(wait_ready(f, ch) & (ST_DRQ | ST_ERR), ST_DRQ);
    assert_int_equal(f->t->gsi_level[14 + ch], 1);
    tm_inb(f->t, port(ch, P_CMD));
    assert_int_equal(f->t->gsi_level[14 + ch], 0);
    read_words(f, ch, id, 256);
    assert_int_equal(tm_inb(f->t, port(ch, P_CMD)) & ST_DRQ, 0);
}

/* ---- ATA ---- */

static void test_identify_device(void **state)
{
    Fixture *f = *state;
    uint16_t id[256];
    char s[48];
    uint8_t sum = 0;

    identify(f, 0, 0xec, id);
    assert_int_equal(id[0], 0x0040);
    id_string(id, 27, 20, s);
    assert_string_equal(s, "KESTREL HARDDISK");
    id_string(id, 10, 10, s);
    assert_string_equal(s, "KST00000001");
    id_string(id, 23, 4, s);
    assert_string_equal(s, "0.1");
    assert_int_equal(id[49] & 0x0300, 0x0300);          /* LBA, DMA */
    assert_int_equal(id[60] | (uint32_t)id[61] << 16, DISK_SECTORS);
    assert_int_equal(id[83] & 0x0400, 0x0400);          /* LBA48 */
    assert_int_equal(id[100] | (uint32_t)id[101] << 16, DISK_SECTORS);
    assert_int_equal(id[102] | id[103], 0);
    assert_int_equal(id[63] & 0x07, 0x07);              /* MWDMA 0-2 */
    assert_int_equal(id[88] & 0x3f, 0x3f);              /* UDMA 0-5 */
    assert_int_equal(id[47] & 0xff, 16);                /* max multiple */
    assert_int_equal((uint32_t)id[1] * id[3] * id[6] <= DISK_SECTORS, 1);
    assert_int_equal(id[255] & 0xff, 0xa5);
    for (unsigned i = 0; i < 256; i++) {
        sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
    }
    assert_int_equal(sum, 0);
}

static void test_srst_signatures(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;

    tm_outb(t, P_CTL, 0x04);
    assert_int_equal(tm_inb(t, P_CTL) & ST_BSY, ST_BSY);
    tm_outb(t, P_CTL, 0x00);
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(tm_inb(t, P_ERR), 0x01);
    assert_int_equal(tm_inb(t, P_NSECT), 1);
    assert_int_equal(tm_inb(t, P_LBAL), 1);
    assert_int_equal(tm_inb(t, P_LBAM), 0);
    assert_int_equal(tm_inb(t, P_LBAH), 0);

    /* No slave on the primary channel: its registers read zero. */
    tm_outb(t, P_DEV, 0xb0);
    tm_outb(t, P_NSECT, 0x55);
    assert_int_equal(tm_inb(t, P_NSECT), 0);
    assert_int_equal(tm_inb(t, P_CMD), 0);
    tm_outb(t, P_DEV, 0xa0);
    assert_int_equal(tm_inb(t, P_NSECT), 0x55);

    /* The CD-ROM leaves the packet signature and DRDY clear. */
    tm_outb(t, S_CTL, 0x04);
    tm_outb(t, S_CTL, 0x00);
    assert_int_equal(wait_ready(f, 1), 0x00);
    assert_int_equal(tm_inb(t, port(1, P_LBAM)), 0x14);
    assert_int_equal(tm_inb(t, port(1, P_LBAH)), 0xeb);
    assert_int_equal(t->gsi_edges[15], 0);

    /* EXECUTE DEVICE DIAGNOSTIC: signature, error 01h, an interrupt. */
    tm_outb(t, P_NSECT, 0x33);
    tm_outb(t, P_CMD, 0x90);
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(tm_inb(t, P_ERR), 0x01);
    assert_int_equal(tm_inb(t, P_NSECT), 1);
    assert_int_equal(t->gsi_level[14], 1);
    tm_inb(t, P_CMD);
    assert_int_equal(t->gsi_level[14], 0);
}

static void check_sector(Fixture *f, const uint8_t *buf, uint64_t lba,
                         uint8_t xor)
{
    for (unsigned i = 0; i < 512; i++) {
        uint8_t want = (uint8_t)(expected_byte(lba * 512 + i, 512) ^ xor);

        if (buf[i] != want) {
            fail_msg("sector %llu byte %u: %02x, want %02x",
                     (unsigned long long)lba, i, buf[i], want);
        }
    }
}

/* PIO read of count sectors starting at lba, one DRQ block per interrupt. */
static void pio_read(Fixture *f, uint64_t lba, unsigned count,
                     unsigned per_block, uint8_t xor)
{
    TestMachine *t = f->t;
    uint8_t buf[512];

    for (unsigned s = 0; s < count; s++) {
        if (s % per_block == 0) {
            assert_int_equal(wait_ready(f, 0) & (ST_DRQ | ST_ERR), ST_DRQ);
            assert_int_equal(t->gsi_level[14], 1);
            tm_inb(t, P_CMD);
        }
        read_words(f, 0, (uint16_t *)buf, 256);
        check_sector(f, buf, lba + s, xor);
    }
    assert_int_equal(wait_ready(f, 0), 0x50);
}

static void test_pio_read(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;

    lba28(f, 0, 100, 3, 0x20);
    pio_read(f, 100, 3, 1, 0);

    /* 300 sectors: more than one 128 KiB read-ahead chunk. */
    lba48(f, DISK_SECTORS - 300, 300, 0x24);
    pio_read(f, DISK_SECTORS - 300, 300, 1, 0);

    /* READ MULTIPLE after SET MULTIPLE MODE 4: one interrupt per 4. */
    tm_outb(t, P_NSECT, 4);
    tm_outb(t, P_CMD, 0xc6);
    assert_int_equal(wait_ready(f, 0), 0x50);
    tm_inb(t, P_CMD);
    unsigned edges = t->gsi_edges[14];
    lba28(f, 0, 7, 10, 0xc4);
    pio_read(f, 7, 10, 4, 0);
    assert_int_equal(t->gsi_edges[14] - edges, 3);

    /* 32-bit data port accesses. */
    lba28(f, 0, 1, 1, 0x20);
    assert_int_equal(wait_ready(f, 0) & ST_DRQ, ST_DRQ);
    uint32_t w[128];
    for (unsigned i = 0; i < 128; i++) {
        w[i] = tm_inl(t, P_DATA);
    }
    check_sector(f, (uint8_t *)w, 1, 0);
}

static void pio_write(Fixture *f, uint64_t lba, unsigned count, bool ext,
                      uint8_t xor)
{
    TestMachine *t = f->t;
    uint8_t buf[512];

    if (ext) {
        lba48(f, lba, (uint16_t)count, 0x34);
    } else {
        lba28(f, 0, (uint32_t)lba, (uint8_t)count, 0x30);
    }
    for (unsigned s = 0; s < count; s++) {
        assert_int_equal(wait_ready(f, 0) & (ST_DRQ | ST_ERR), ST_DRQ);
        if (s > 0) {
            assert_int_equal(t->gsi_level[14], 1);
        }
        tm_inb(t, P_CMD);
        for (unsigned i = 0; i < 512; i++) {
            buf[i] = (uint8_t)(expected_byte((lba + s) * 512 + i, 512) ^ xor);
        }
        for (unsigned i = 0; i < 256; i++) {
            tm_outw(t, P_DATA, (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8));
        }
    }
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(t->gsi_level[14], 1);
    tm_inb(t, P_CMD);
}

static void test_pio_write(void **state)
{
    Fixture *f = *state;
    uint8_t buf[512];

    pio_write(f, 20, 3, false, 0xff);
    pio_write(f, 4000, 270, true, 0x5a);
    for (unsigned s = 0; s < 3; s++) {
        assert_int_equal(blk_pread(f->disk, (20 + s) * 512, buf, 512, NULL), 0);
        check_sector(f, buf, 20 + s, 0xff);
    }
    assert_int_equal(blk_pread(f->disk, 4269 * 512, buf, 512, NULL), 0);
    check_sector(f, buf, 4269, 0x5a);
    assert_int_equal(blk_pread(f->disk, 23 * 512, buf, 512, NULL), 0);
    check_sector(f, buf, 23, 0);
    lba28(f, 0, 20, 3, 0x20);
    pio_read(f, 20, 3, 1, 0xff);

    /* FLUSH CACHE EXT completes with an interrupt. */
    assert_int_equal(f->t->gsi_level[14], 0);
    tm_outb(f->t, P_CMD, 0xea);
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(f->t->gsi_level[14], 1);
}

static void expect_error(Fixture *f, uint8_t error)
{
    assert_int_equal(wait_ready(f, 0), ST_DRDY | 0x10 | ST_ERR);
    assert_int_equal(tm_inb(f->t, P_ERR), error);
    assert_int_equal(f->t->gsi_level[14], 1);
    tm_inb(f->t, P_CMD);
}

static void test_errors(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;

    lba28(f, 0, DISK_SECTORS - 1, 2, 0x20);          /* past the end */
    expect_error(f, 0x10);
    lba48(f, 1ull << 40, 1, 0x25);                 /* far past the end */
    expect_error(f, 0x10);
    lba28(f, 0, DISK_SECTORS, 1, 0xca);
    expect_error(f, 0x10);
    lba28(f, 0, 0, 1, 0xc4);                         /* multiple not set */
    expect_error(f, 0x04);
    tm_outb(t, P_NSECT, 3);                          /* not a power of 2 */
    tm_outb(t, P_CMD, 0xc6);
    expect_error(f, 0x04);
    tm_outb(t, P_CMD, 0xa1);                         /* a disk has no packets */
    expect_error(f, 0x04);
    tm_outb(t, P_CMD, 0x00);                         /* NOP always aborts */
    expect_error(f, 0x04);

    /* SET FEATURES: an impossible transfer mode aborts, MWDMA 2 shows. */
    tm_outb(t, P_ERR, 0x03);
    tm_outb(t, P_NSECT, 0x47);
    tm_outb(t, P_CMD, 0xef);
    expect_error(f, 0x04);
    tm_outb(t, P_ERR, 0x03);
    tm_outb(t, P_NSECT, 0x22);
    tm_outb(t, P_CMD, 0xef);
    assert_int_equal(wait_ready(f, 0), 0x50);
    uint16_t id[256];
    identify(f, 0, 0xec, id);
    assert_int_equal(id[63], 0x0407);
    assert_int_equal(id[88] & 0xff00, 0);

    /* CHS: sector numbers start at 1. */
    tm_outb(t, P_DEV, 0xa0);
    tm_outb(t, P_NSECT, 1);
    tm_outb(t, P_LBAL, 0);
    tm_outb(t, P_LBAM, 0);
    tm_outb(t, P_LBAH, 0);
    tm_outb(t, P_CMD, 0x20);
    expect_error(f, 0x10);
    tm_outb(t, P_DEV, 0xa1);   /* head 1, sector 2: LBA 63 + 1 */
    tm_outb(t, P_LBAL, 2);
    tm_outb(t, P_NSECT, 1);
    tm_outb(t, P_CMD, 0x20);
    pio_read(f, 64, 1, 1, 0);

    /* CHECK POWER MODE after STANDBY IMMEDIATE, then IDLE IMMEDIATE. */
    tm_outb(t, P_CMD, 0xe0);
    assert_int_equal(wait_ready(f, 0), 0x50);
    tm_outb(t, P_CMD, 0xe5);
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(tm_inb(t, P_NSECT), 0x00);
    tm_outb(t, P_CMD, 0xe1);
    tm_outb(t, P_CMD, 0xe5);
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(tm_inb(t, P_NSECT), 0xff);

    /* nIEN holds INTRQ back until it is cleared. */
    tm_inb(t, P_CMD);
    tm_outb(t, P_CTL, 0x02);
    lba28(f, 0, 5, 1, 0x40);   /* READ VERIFY */
    assert_int_equal(wait_ready(f, 0), 0x50);
    assert_int_equal(t->gsi_level[14], 0);
    tm_outb(t, P_CTL, 0x00);
    assert_int_equal(t->gsi_level[14], 1);
    tm_inb(t, P_CMD);
    assert_int_equal(t->gsi_level[14], 0);
}

/* ---- bus-master DMA ---- */

#define PRD_TABLE 0x1000u

static void put_prd(Fixture *f, uint32_t at, uint32_t addr, uint32_t len,
                    bool eot)
{
    uint8_t *p = f->t->m.ram + at;

    st32(p, addr);
    st32(p + 4, (len & 0xffff) | (eot ? 0x80000000u : 0));
}

static void bm_start(Fixture *f, unsigned ch, uint32_t table, bool to_mem)
{
    uint16_t b = (uint16_t)(f->bm + 8 * ch);

    tm_outl(f->t, (uint16_t)(b + 4), table);
    tm_outb(f->t, (uint16_t)(b + 2), 0x06); /* clear error and interrupt */
    tm_outb(f->t, b, to_mem ? 0x09 : 0x01);
}

static uint8_t bm_status(Fixture *f, unsigned ch)
{
    return tm_inb(f->t, (uint16_t)(f->bm + 8 * ch + 2));
}

static void bm_stop(Fixture *f, unsigned ch)
{
    tm_outb(f->t, (uint16_t)(f->bm + 8 * ch), 0);
}

typedef struct IrqWait {
    TestMachine *t;
    unsigned gsi;
} IrqWait;

static bool irq_high(void *arg)
{
    IrqWait *w = arg;

    return w->t->gsi_level[w->gsi] != 0;
}

static void wait_irq(Fixture *f, unsigned gsi)
{
    IrqWait w = { f->t, gsi };

    assert_true(tm_run_until(f->t, irq_high, &w));
}

static void note_written(void *opaque, uint64_t addr, uint64_t len)
{
    Fixture *f = opaque;

    if (f->written_bytes == 0 || addr < f->written_lo) {
        f->written_lo = addr;
    }
    if (addr + len > f->written_hi) {
        f->written_hi = addr + len;
    }
    f->written_bytes += len;
}

static void test_dma(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;
    uint8_t *ram = t->m.ram;
    MemoryListener l = { .ram_written = note_written, .opaque = f };

    address_space_add_listener(&t->m.mem, &l);

    /* Write 8 sectors from two regions (3 + 5 sectors). */
    for (unsigned i = 0; i < 8 * 512; i++) {
        uint8_t v = (uint8_t)(expected_byte(200 * 512 + i, 512) ^ 0x3c);

        ram[(i < 1536 ? 0x10000 : 0x20000 - 1536) + i] = v;
    }
    put_prd(f, PRD_TABLE, 0x10000, 1536, false);
    put_prd(f, PRD_TABLE + 8, 0x20000, 2560, true);
    lba28(f, 0, 200, 8, 0xca);
    bm_start(f, 0, PRD_TABLE, false);
    wait_irq(f, 14);
    assert_int_equal(bm_status(f, 0) & 0x07, 0x04); /* interrupt, idle */
    assert_int_equal(tm_inb(t, P_CMD), 0x50);
    bm_stop(f, 0);
    uint8_t buf[512];
    assert_int_equal(blk_pread(f->disk, 207 * 512, buf, 512, NULL), 0);
    check_sector(f, buf, 207, 0x3c);
    assert_true(f->written_bytes == 0);   /* a write reads guest RAM only */

    /* Read them back with READ DMA EXT into one 64 KiB region (count 0 in
     * the PRD means 64 KiB): the engine stays active, PRDs were larger. */
    memset(ram + 0x30000, 0, 0x10000);
    put_prd(f, PRD_TABLE, 0x30000, 0, true);
    bm_start(f, 0, PRD_TABLE, true);       /* engine first, command second */
    lba48(f, 200, 8, 0x25);
    wait_irq(f, 14);
    assert_int_equal(bm_status(f, 0) & 0x07, 0x05);
    assert_int_equal(tm_inb(t, P_CMD), 0x50);
    bm_stop(f, 0);
    for (unsigned s = 0; s < 8; s++) {
        check_sector(f, ram + 0x30000 + s * 512, 200 + s, 0x3c);
    }
    assert_int_equal(ram[0x30000 + 8 * 512], 0);
    /* exactly the 8 sectors read were reported as written */
    assert_true(f->written_lo == 0x30000 && f->written_hi == 0x30000 + 4096 &&
                f->written_bytes == 4096);
}

static void test_dma_bad_prd(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;
    uint8_t *ram = t->m.ram;

    /* A region beyond RAM: error bit, command aborted. */
    put_prd(f, PRD_TABLE, RAM_SIZE - 256, 512, true);
    lba28(f, 0, 0, 1, 0xc8);
    bm_start(f, 0, PRD_TABLE, true);
    wait_irq(f, 14);
    assert_int_equal(bm_status(f, 0) & 0x07, 0x06);
    expect_error(f, 0x04);
    bm_stop(f, 0);

    /* The table runs into the next 64 KiB page without EOT. */
    put_prd(f, 0xfff8, 0x10000, 512, false);
    put_prd(f, 0x10000, 0x20000, 512, true);
    lba28(f, 0, 0, 2, 0xc8);
    bm_start(f, 0, 0xfff8, true);
    wait_irq(f, 14);
    assert_int_equal(bm_status(f, 0) & 0x07, 0x06);
    expect_error(f, 0x04);
    bm_stop(f, 0);

    /* The table itself beyond RAM. */
    lba28(f, 0, 0, 1, 0xc8);
    bm_start(f, 0, 0xfffffff0u, true);
    wait_irq(f, 14);
    assert_int_equal(bm_status(f, 0) & 0x07, 0x06);
    expect_error(f, 0x04);
    bm_stop(f, 0);

    /* PRDs shorter than the transfer: one sector moves, the engine stops
     * with interrupt clear, the device waits; more PRDs finish it. */
    memset(ram + 0x40000, 0, 0x2000);
    put_prd(f, PRD_TABLE, 0x40000, 700, true);
    lba28(f, 0, 50, 2, 0xc8);
    bm_start(f, 0, PRD_TABLE, true);
    Wait w = { t, P_CTL };
    assert_true(tm_run_until(t, not_busy, &w));
    assert_int_equal(bm_status(f, 0) & 0x07, 0x00);
    assert_int_equal(t->gsi_level[14], 0);
    assert_int_equal(tm_inb(t, P_CTL) & ST_DRQ, ST_DRQ);
    check_sector(f, ram + 0x40000, 50, 0);
    assert_int_equal(ram[0x40000 + 512], 0);
    bm_stop(f, 0);
    put_prd(f, PRD_TABLE, 0x41000, 512, true);
    bm_start(f, 0, PRD_TABLE, true);
    wait_irq(f, 14);
    assert_int_equal(bm_status(f, 0) & 0x07, 0x04);
    assert_int_equal(tm_inb(t, P_CMD), 0x50);
    check_sector(f, ram + 0x41000, 51, 0);
    bm_stop(f, 0);

    /* Bus mastering disabled in PCI command: nothing moves. */
    PCIDevice *pd = pci_bus_find(t->m.pci, PCI_DEVFN(1, 1));
    pci_config_write(pd, PCI_COMMAND, PCI_COMMAND_IO, 2);
    memset(ram + 0x40000, 0, 512);
    put_prd(f, PRD_TABLE, 0x40000, 512, true);
    lba28(f, 0, 50, 1, 0xc8);
    bm_start(f, 0, PRD_TABLE, true);
    for (unsigned i = 0; i < 20; i++) {
        g_main_context_iteration(t->ctx, FALSE);
    }
    assert_int_equal(ram[0x40000], 0);
    assert_int_equal(t->gsi_level[14], 0);
    pci_config_write(pd, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    wait_irq(f, 14);
    check_sector(f, ram + 0x40000, 50, 0);
    bm_stop(f, 0);
}

/* ---- ATAPI ---- */

static void packet(Fixture *f, const uint8_t *cdb, uint16_t limit, bool dma)
{
    TestMachine *t = f->t;

    tm_outb(t, port(1, P_DEV), 0xa0);
    tm_outb(t, port(1, P_ERR), dma ? 1 : 0);
    tm_outb(t, port(1, P_LBAM), (uint8_t)limit);
    tm_outb(t, port(1, P_LBAH), (uint8_t)(limit >> 8));
    tm_outb(t, port(1, P_CMD), 0xa0);
    assert_int_equal(wait_ready(f, 1) & ST_DRQ, ST_DRQ);
    assert_int_equal(tm_inb(t, port(1, P_NSECT)) & 3, 1); /* CoD */
    for (unsigned i = 0; i < 6; i++) {
        tm_outw(t, port(1, P_DATA), (uint16_t)(cdb[2 * i] | cdb[2 * i + 1] << 8));
    }
}

/* Run a data-in packet command by PIO; returns the bytes received, or -1
 * with *sense_key set on CHECK CONDITION. */
static int packet_in(Fixture *f, const uint8_t *cdb, uint8_t *out,
                     unsigned max, uint16_t limit, uint8_t *sense_key)
{
    TestMachine *t = f->t;
    unsigned got = 0;

    packet(f, cdb, limit, false);
    for (;;) {
        uint8_t st = wait_ready(f, 1);

        assert_int_equal(t->gsi_level[15], 1);
        tm_inb(t, port(1, P_CMD));
        if (!(st & ST_DRQ)) {
            assert_int_equal(tm_inb(t, port(1, P_NSECT)) & 3, 3);
            if (st & ST_ERR) {
                *sense_key = tm_inb(t, port(1, P_ERR)) >> 4;
                return -1;
            }
            return (int)got;
        }
        assert_int_equal(tm_inb(t, port(1, P_NSECT)) & 3, 2);
        unsigned n = tm_inb(t, port(1, P_LBAM)) |
                     tm_inb(t, port(1, P_LBAH)) << 8;
        assert_true(n > 0 && n <= limit && got + n <= max);
        for (unsigned i = 0; i < n; i += 2) {
            uint16_t v = tm_inw(t, port(1, P_DATA));

            out[got + i] = (uint8_t)v;
            out[got + i + 1] = (uint8_t)(v >> 8);
        }
        got += n;
    }
}

static uint8_t sense_of(Fixture *f, uint8_t *asc)
{
    uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };
    uint8_t b[18], key = 0xff;

    assert_int_equal(packet_in(f, cdb, b, sizeof(b), 18, &key), 18);
    *asc = b[12];
    return b[2] & 0x0f;
}

static void test_atapi(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;
    uint16_t id[256];
    char s[48];
    uint8_t b[0x4000], key, asc;

    /* IDENTIFY DEVICE aborts with the packet signature. */
    tm_outb(t, port(1, P_DEV), 0xa0);
    tm_outb(t, port(1, P_CMD), 0xec);
    assert_int_equal(wait_ready(f, 1) & ST_ERR, ST_ERR);
    assert_int_equal(tm_inb(t, port(1, P_ERR)), 0x04);
    assert_int_equal(tm_inb(t, port(1, P_LBAM)), 0x14);
    assert_int_equal(tm_inb(t, port(1, P_LBAH)), 0xeb);
    identify(f, 1, 0xa1, id);
    assert_int_equal(id[0], 0x85c0);
    id_string(id, 27, 20, s);
    assert_string_equal(s, "KESTREL DVD-ROM");

    uint8_t tur[12] = { 0x00 };
    assert_int_equal(packet_in(f, tur, b, 0, 2048, &key), 0);

    uint8_t inq[12] = { 0x12, 0, 0, 0, 96 };
    assert_int_equal(packet_in(f, inq, b, sizeof(b), 2048, &key), 36);
    assert_int_equal(b[0], 0x05);
    assert_int_equal(b[1], 0x80);
    assert_memory_equal(b + 8, "KESTREL ", 8);

    uint8_t cap[12] = { 0x25 };
    assert_int_equal(packet_in(f, cap, b, sizeof(b), 2048, &key), 8);
    assert_int_equal(ld32(b), __builtin_bswap32(CD_BLOCKS - 1));
    assert_int_equal(ld32(b + 4), __builtin_bswap32(2048));

    /* READ(10) of 3 blocks in chunks of at most 1000 bytes. */
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 3 };
    assert_int_equal(packet_in(f, rd, b, sizeof(b), 1000, &key), 3 * 2048);
    for (unsigned i = 0; i < 3 * 2048; i++) {
        assert_int_equal(b[i], expected_byte(5 * 2048 + i, 2048));
    }
    /* READ(12) past the end: ILLEGAL REQUEST, LBA out of range. */
    uint8_t rd12[12] = { 0xa8, 0, 0, 0, 0, CD_BLOCKS - 1, 0, 0, 0, 2 };
    assert_int_equal(packet_in(f, rd12, b, sizeof(b), 2048, &key), -1);
    assert_int_equal(key, 5);
    assert_int_equal(sense_of(f, &asc), 5);
    assert_int_equal(asc, 0x21);

    /* READ TOC format 0: track 1 at 0, lead-out at the end. */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
    assert_int_equal(packet_in(f, toc, b, sizeof(b), 2048, &key), 20);
    assert_int_equal(b[1], 18);
    assert_int_equal(b[6], 1);
    assert_int_equal(b[14], 0xaa);
    assert_int_equal(ld32(b + 16), __builtin_bswap32(CD_BLOCKS));
    toc[1] = 0x02;                    /* MSF: lead-out at 00:02:64 + 150 */
    assert_int_equal(packet_in(f, toc, b, sizeof(b), 2048, &key), 20);
    assert_int_equal(b[17], 0);
    assert_int_equal(b[18], (CD_BLOCKS + 150) / 75);
    assert_int_equal(b[19], (CD_BLOCKS + 150) % 75);
    toc[1] = 0;
    toc[2] = 2;                       /* raw TOC: four 11-byte entries */
    assert_int_equal(packet_in(f, toc, b, sizeof(b), 2048, &key), 48);
    toc[2] = 1;                       /* session info */
    assert_int_equal(packet_in(f, toc, b, sizeof(b), 2048, &key), 12);

    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64 };
    assert_int_equal(packet_in(f, ms, b, sizeof(b), 2048, &key), 30);
    assert_int_equal(b[8], 0x2a);
    ms[2] = 0x3f;
    assert_int_equal(packet_in(f, ms, b, sizeof(b), 2048, &key), 42);

    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 255 };
    int n = packet_in(f, gc, b, sizeof(b), 2048, &key);
    assert_true(n > 8);
    assert_int_equal(b[6] << 8 | b[7], 0x0008); /* CD-ROM profile */

    uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
    assert_int_equal(packet_in(f, di, b, sizeof(b), 2048, &key), 34);

    /* An unknown opcode, then REQUEST SENSE says why. */
    uint8_t bad[12] = { 0xff };
    assert_int_equal(packet_in(f, bad, b, sizeof(b), 2048, &key), -1);
    assert_int_equal(sense_of(f, &asc), 5);
    assert_int_equal(asc, 0x20);

    /* Locked: eject refused, by the guest and by the monitor. */
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
    BlockBackend *old = NULL;
    GError *err = NULL;
    assert_int_equal(packet_in(f, lock, b, 0, 2048, &key), 0);
    assert_int_equal(packet_in(f, eject, b, 0, 2048, &key), -1);
    assert_int_equal(sense_of(f, &asc), 5);
    assert_int_equal(asc, 0x53);
    assert_false(ide_cd_change(f->ide, 1, 0, NULL, false, &old, &err));
    g_clear_error(&err);
    lock[4] = 0;
    assert_int_equal(packet_in(f, lock, b, 0, 2048, &key), 0);
    assert_int_equal(packet_in(f, eject, b, 0, 2048, &key), 0);
    assert_int_equal(packet_in(f, tur, b, 0, 2048, &key), -1);
    assert_int_equal(sense_of(f, &asc), 2);
    assert_int_equal(asc, 0x3a);

    /* The monitor inserts a medium: UNIT ATTENTION, then a media event. */
    assert_true(ide_cd_change(f->ide, 1, 0, f->cd, false, &old, &err));
    assert_ptr_equal(old, f->cd);
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    assert_int_equal(packet_in(f, gesn, b, sizeof(b), 2048, &key), 8);
    assert_int_equal(b[4], 2);        /* new media */
    assert_int_equal(b[5], 2);        /* present, tray closed */
    assert_int_equal(packet_in(f, tur, b, 0, 2048, &key), -1);
    assert_int_equal(key, 6);
    assert_int_equal(packet_in(f, tur, b, 0, 2048, &key), 0);
    assert_int_equal(packet_in(f, gesn, b, sizeof(b), 2048, &key), 8);
    assert_int_equal(b[4], 0);

    /* No medium change while the guest is in the middle of a read. */
    uint8_t rd3[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 2 };
    packet(f, rd3, 2048, false);
    assert_int_equal(wait_ready(f, 1) & ST_DRQ, ST_DRQ);
    assert_false(ide_cd_change(f->ide, 1, 0, NULL, true, &old, &err));
    assert_non_null(strstr(err->message, "busy"));
    g_clear_error(&err);
    tm_inb(t, port(1, P_CMD));
    for (unsigned i = 0; i < 2048; i += 2) {
        tm_inw(t, port(1, P_DATA));
    }
    assert_int_equal(wait_ready(f, 1) & ST_DRQ, ST_DRQ);
    for (unsigned i = 0; i < 2048; i += 2) {
        tm_inw(t, port(1, P_DATA));
    }
    assert_int_equal(wait_ready(f, 1) & (ST_DRQ | ST_ERR), 0);
    tm_inb(t, port(1, P_CMD));

    /* READ(10) by DMA. */
    memset(t->m.ram + 0x50000, 0, 3 * 2048);
    put_prd(f, PRD_TABLE, 0x50000, 3 * 2048, true);
    bm_start(f, 1, PRD_TABLE, true);
    uint8_t rd2[12] = { 0x28, 0, 0, 0, 0, 9, 0, 0, 3 };
    packet(f, rd2, 0, true);
    wait_irq(f, 15);
    assert_int_equal(bm_status(f, 1) & 0x07, 0x04);
    assert_int_equal(tm_inb(t, port(1, P_CMD)) & (ST_ERR | ST_DRQ), 0);
    bm_stop(f, 1);
    for (unsigned i = 0; i < 3 * 2048; i++) {
        assert_int_equal(t->m.ram[0x50000 + i], expected_byte(9 * 2048 + i, 2048));
    }
    /* INQUIRY by DMA into a larger region. */
    put_prd(f, PRD_TABLE, 0x50000, 4096, true);
    bm_start(f, 1, PRD_TABLE, true);
    packet(f, inq, 0, true);
    wait_irq(f, 15);
    assert_int_equal(bm_status(f, 1) & 0x07, 0x05);
    assert_memory_equal(t->m.ram + 0x50008, "KESTREL ", 8);
    tm_inb(t, port(1, P_CMD));
    bm_stop(f, 1);
}

/* ---- state description ---- */

/* Save in the middle of a PIO read, reset, load: the transfer goes on. */
static void test_vmstate(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;
    GByteArray *saved = g_byte_array_new();
    GError *err = NULL;
    size_t used = 0;
    uint8_t buf[512];

    lba28(f, 0, 300, 3, 0x20);
    assert_int_equal(wait_ready(f, 0) & ST_DRQ, ST_DRQ);
    tm_inb(t, P_CMD);
    read_words(f, 0, (uint16_t *)buf, 256);
    check_sector(f, buf, 300, 0);
    assert_int_equal(wait_ready(f, 0) & ST_DRQ, ST_DRQ);
    read_words(f, 0, (uint16_t *)buf, 100);
    vmstate_save(f->ide->cls->vmsd, f->ide, saved);

    device_reset(f->ide);
    assert_int_equal(tm_inb(t, P_CTL), 0xff); /* PCI reset: I/O decode off */
    assert_true(vmstate_load(f->ide->cls->vmsd, f->ide, saved->data,
                             saved->len, &used, &err));
    assert_int_equal(used, saved->len);
    assert_int_equal(tm_inb(t, P_CTL) & ST_DRQ, ST_DRQ);
    read_words(f, 0, (uint16_t *)buf + 100, 156);
    check_sector(f, buf, 301, 0);
    pio_read(f, 302, 1, 1, 0);

    /* A corrupted record is refused before it changes anything. */
    saved->data[saved->len / 2] ^= 0xff;
    assert_true(vmstate_load(f->ide->cls->vmsd, f->ide, saved->data,
                             saved->len - 1, &used, &err) == false);
    g_clear_error(&err);
    g_byte_array_free(saved, TRUE);
}

/* ---- fuzz ---- */

static void fuzz_round(Fixture *f, GRand *r)
{
    TestMachine *t = f->t;
    static const uint16_t ports[] = { 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4,
                                      0x1f5, 0x1f6, 0x1f7, 0x3f6, 0x170,
                                      0x171, 0x172, 0x173, 0x174, 0x175,
                                      0x176, 0x177, 0x376 };

    /* Random PRD tables in the first pages, some pointing anywhere. */
    for (unsigned i = 0; i < 64; i++) {
        uint32_t at = PRD_TABLE + 8 * g_rand_int_range(r, 0, 512);
        uint32_t addr = g_rand_boolean(r) ? g_rand_int(r)
                                          : (uint32_t)g_rand_int_range(r, 0, RAM_SIZE);

        put_prd(f, at, addr, g_rand_int(r), g_rand_int_range(r, 0, 4) == 0);
    }
    for (unsigned i = 0; i < 2000; i++) {
        unsigned what = (unsigned)g_rand_int_range(r, 0, 16);

        if (what < 9) {
            uint16_t p = ports[g_rand_int_range(r, 0, G_N_ELEMENTS(ports))];
            uint8_t v = (uint8_t)g_rand_int(r);

            if ((p & 7) == 7 && p < 0x300 && g_rand_boolean(r)) {
                static const uint8_t cmds[] = { 0x20, 0x24, 0x25, 0x30, 0x35,
                                                0xc4, 0xc5, 0xc6, 0xc8, 0xca,
                                                0xa0, 0xa1, 0xec, 0xef, 0x90,
                                                0xe7, 0x08, 0x91, 0x40 };
                v = cmds[g_rand_int_range(r, 0, G_N_ELEMENTS(cmds))];
            }
            tm_outb(t, p, v);
        } else if (what < 11) {
            tm_inb(t, ports[g_rand_int_range(r, 0, G_N_ELEMENTS(ports))]);
        } else if (what < 13) {
            unsigned ch = (unsigned)g_rand_int_range(r, 0, 2);

            if (g_rand_boolean(r)) {
                tm_outw(t, port(ch, P_DATA), (uint16_t)g_rand_int(r));
            } else {
                tm_inl(t, port(ch, P_DATA));
            }
        } else if (what < 15) {
            uint16_t reg = (uint16_t)(f->bm + g_rand_int_range(r, 0, 16));

            if (g_rand_boolean(r)) {
                uint32_t v = g_rand_int_range(r, 0, 4) == 0
                                 ? g_rand_int(r)
                                 : PRD_TABLE + 8 * (uint32_t)g_rand_int_range(r, 0, 512);
                if ((reg & 7) == 4) {
                    tm_outl(t, reg, v);
                } else {
                    tm_outb(t, reg, (uint8_t)v);
                }
            } else {
                tm_inb(t, reg);
            }
        } else {
            g_main_context_iteration(t->ctx, FALSE);
        }
    }
}

static bool both_idle(void *arg)
{
    Fixture *f = arg;

    return !(tm_inb(f->t, P_CTL) & ST_BSY) && !(tm_inb(f->t, S_CTL) & ST_BSY);
}

static void test_fuzz(void **state)
{
    Fixture *f = *state;
    TestMachine *t = f->t;

    for (guint32 seed = 1; seed <= 12; seed++) {
        GRand *r = g_rand_new_with_seed(seed);

        fuzz_round(f, r);
        g_rand_free(r);
        /* Alternate a guest soft reset and a machine reset. */
        if (seed % 2) {
            tm_outb(t, P_CTL, 0x04);
            tm_outb(t, S_CTL, 0x04);
            tm_outb(t, P_CTL, 0x00);
            tm_outb(t, S_CTL, 0x00);
        } else {
            device_reset(f->ide);
            PCIDevice *pd = pci_bus_find(t->m.pci, PCI_DEVFN(1, 1));
            pci_config_write(pd, PCI_BASE_ADDRESS_0 + 16, f->bm, 4);
            pci_config_write(pd, PCI_COMMAND,
                             PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
        }
        bm_stop(f, 0);
        bm_stop(f, 1);
        assert_true(tm_run_until(t, both_idle, f));
        tm_outb(t, P_DEV, 0xa0);
        assert_int_equal(tm_inb(t, P_NSECT), 1);
        assert_int_equal(tm_inb(t, P_LBAM), 0);
        uint16_t id[256];
        identify(f, 0, 0xec, id);
        assert_int_equal(id[60], DISK_SECTORS);
        identify(f, 1, 0xa1, id);
        assert_int_equal(id[0], 0x85c0);
        /* The fuzzer may have written anywhere: compare with the image. */
        uint8_t want[512], got[512];
        assert_int_equal(blk_pread(f->disk, 3000 * 512, want, 512, NULL), 0);
        lba28(f, 0, 3000, 1, 0x20);
        assert_int_equal(wait_ready(f, 0) & (ST_DRQ | ST_ERR), ST_DRQ);
        read_words(f, 0, (uint16_t *)got, 256);
        assert_memory_equal(got, want, 512);
        assert_int_equal(wait_ready(f, 0), 0x50);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_srst_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_bad_prd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
