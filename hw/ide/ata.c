/*
 * The ATA command set of a disk (ATA/ATAPI-6, T13/1410D, section 8):
 * IDENTIFY DEVICE, READ/WRITE SECTORS (EXT), READ/WRITE MULTIPLE (EXT),
 * SET MULTIPLE MODE, READ/WRITE DMA (EXT), READ VERIFY SECTORS (EXT),
 * FLUSH CACHE (EXT), SET FEATURES (transfer mode, write cache,
 * look-ahead), IDLE/STANDBY (IMMEDIATE), CHECK POWER MODE, INITIALIZE
 * DEVICE PARAMETERS, RECALIBRATE, SEEK; and the subset a packet device
 * accepts (section 6.1: PACKET, IDENTIFY PACKET DEVICE, DEVICE RESET,
 * power commands, SET FEATURES), which aborts the rest with its signature
 * in the registers.
 *
 * PIO reads fetch up to 128 KiB ahead into the drive's buffer and hand it
 * out one DRQ block (1 sector, or the multiple count) at a time; PIO
 * writes collect blocks and write them in chunks.  DMA goes through the
 * channel's bus-master engine straight between the image and guest RAM.
 */
#include <errno.h>
#include <string.h>

#include "hw/ide/ide-internal.h"

#define LBA28_MAX 0x0fffffffull

enum {
    CMD_NOP = 0x00,
    CMD_DEVICE_RESET = 0x08,
    CMD_RECALIBRATE = 0x10,
    CMD_READ_SECTORS = 0x20,
    CMD_READ_SECTORS_NR = 0x21,
    CMD_READ_SECTORS_EXT = 0x24,
    CMD_READ_DMA_EXT = 0x25,
    CMD_READ_MULTIPLE_EXT = 0x29,
    CMD_WRITE_SECTORS = 0x30,
    CMD_WRITE_SECTORS_NR = 0x31,
    CMD_WRITE_SECTORS_EXT = 0x34,
    CMD_WRITE_DMA_EXT = 0x35,
    CMD_WRITE_MULTIPLE_EXT = 0x39,
    CMD_READ_VERIFY = 0x40,
    CMD_READ_VERIFY_NR = 0x41,
    CMD_READ_VERIFY_EXT = 0x42,
    CMD_SEEK = 0x70,
    CMD_INITIALIZE_DEVICE_PARAMETERS = 0x91,
    CMD_PACKET = 0xa0,
    CMD_IDENTIFY_PACKET_DEVICE = 0xa1,
    CMD_READ_MULTIPLE = 0xc4,
    CMD_WRITE_MULTIPLE = 0xc5,
    CMD_SET_MULTIPLE_MODE = 0xc6,
    CMD_READ_DMA = 0xc8,
    CMD_READ_DMA_NR = 0xc9,
    CMD_WRITE_DMA = 0xca,
    CMD_WRITE_DMA_NR = 0xcb,
    CMD_STANDBY_IMMEDIATE = 0xe0,
    CMD_IDLE_IMMEDIATE = 0xe1,
    CMD_STANDBY = 0xe2,
    CMD_IDLE = 0xe3,
    CMD_CHECK_POWER_MODE = 0xe5,
    CMD_FLUSH_CACHE = 0xe7,
    CMD_FLUSH_CACHE_EXT = 0xea,
    CMD_IDENTIFY_DEVICE = 0xec,
    CMD_SET_FEATURES = 0xef,
};

enum {
    SF_ENABLE_WRITE_CACHE = 0x02,
    SF_SET_TRANSFER_MODE = 0x03,
    SF_DISABLE_LOOKAHEAD = 0x55,
    SF_DISABLE_REVERT = 0x66,
    SF_DISABLE_WRITE_CACHE = 0x82,
    SF_ENABLE_LOOKAHEAD = 0xaa,
    SF_ENABLE_REVERT = 0xcc,
};

typedef enum XferKind { XFER_PIO, XFER_PIO_MULTIPLE, XFER_DMA } XferKind;

void ata_default_geometry(IDEDrive *d)
{
    uint64_t n = d->nb_sectors;

    d->heads = 16;
    d->secs = 63;
    if (n >= 16383ull * 16 * 63) {
        d->cyls = 16383;
    } else {
        d->cyls = (uint16_t)(n / (16 * 63));
        if (d->cyls == 0) {
            d->cyls = 1;
        }
    }
    d->cur_heads = d->heads;
    d->cur_secs = d->secs;
}

static uint16_t cur_cylinders(IDEDrive *d)
{
    uint64_t c = d->nb_sectors / ((uint64_t)d->cur_heads * d->cur_secs);

    return (uint16_t)(c > 65535 ? 65535 : c);
}

void ata_identify(IDEDrive *d, uint16_t *id)
{
    uint64_t n = d->nb_sectors;
    uint32_t lba28 = (uint32_t)(n > LBA28_MAX ? LBA28_MAX : n);
    uint32_t chs = (uint32_t)cur_cylinders(d) * d->cur_heads * d->cur_secs;
    uint8_t mode = d->xfer_mode & 7;

    memset(id, 0, 512);
    id[0] = 0x0040; /* fixed device, not removable */
    id[1] = d->cyls;
    id[3] = d->heads;
    id[6] = d->secs;
    ide_id_string(id, 10, 10, d->serial);
    ide_id_string(id, 23, 4, "0.1");
    ide_id_string(id, 27, 20, d->model);
    id[47] = 0x8000 | IDE_MAX_MULT_SECTORS;
    id[49] = 0x0f00; /* IORDY, IORDY may be disabled, LBA, DMA */
    id[50] = 0x4000;
    id[51] = 0x0200;
    id[52] = 0x0200;
    id[53] = 0x0007; /* words 54-58, 64-70 and 88 are valid */
    id[54] = cur_cylinders(d);
    id[55] = d->cur_heads;
    id[56] = d->cur_secs;
    id[57] = (uint16_t)chs;
    id[58] = (uint16_t)(chs >> 16);
    id[59] = d->mult_sectors ? (uint16_t)(0x0100 | d->mult_sectors) : 0;
    id[60] = (uint16_t)lba28;
    id[61] = (uint16_t)(lba28 >> 16);
    id[63] = 0x0007; /* multiword DMA modes 0-2 */
    if ((d->xfer_mode & 0xf8) == 0x20) {
        id[63] |= (uint16_t)(0x0100 << mode);
    }
    id[64] = 0x0003; /* PIO modes 3 and 4 */
    id[65] = 120;
    id[66] = 120;
    id[67] = 120;
    id[68] = 120;
    id[80] = 0x00f0; /* ATA-4 to ATA-7 */
    id[82] = 0x0068; /* look-ahead, write cache, power management */
    id[83] = 0x7400; /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit addresses */
    id[84] = 0x4000;
    id[85] = 0x0008 | (d->write_cache ? 0x0020 : 0) |
             (d->lookahead ? 0x0040 : 0);
    id[86] = 0x3400;
    id[87] = 0x4000;
    id[88] = 0x003f; /* Ultra DMA modes 0-5 */
    if ((d->xfer_mode & 0xf8) == 0x40) {
        id[88] |= (uint16_t)(0x0100 << mode);
    }
    id[100] = (uint16_t)n;
    id[101] = (uint16_t)(n >> 16);
    id[102] = (uint16_t)(n >> 32);
    id[103] = (uint16_t)(n >> 48);
    id[106] = 0x4000; /* one 512-byte logical sector per physical sector */
    ide_id_checksum(id);
}

static void send_identify(IDEDrive *d, bool packet)
{
    uint16_t id[256];

    if (packet) {
        atapi_identify(d, id);
    } else {
        ata_identify(d, id);
    }
    ide_id_to_buf(d, id);
    ide_pio_block(d, 0, 512, true, PIO_NEXT_END);
    ide_set_irq(d);
}

/* The address and count of a read/write/verify command, or false (IDNF)
 * when they leave the disk or name an impossible CHS address. */
static bool get_range(IDEDrive *d, bool lba48, uint64_t *lba, uint32_t *count)
{
    const IDETaskFile *tf = &d->tf;
    uint64_t a;
    uint32_t n;

    if (lba48) {
        n = tf->nsector | ((uint32_t)tf->hob_nsector << 8);
        n = n ? n : 65536;
        a = tf->lbal | ((uint64_t)tf->lbam << 8) | ((uint64_t)tf->lbah << 16) |
            ((uint64_t)tf->hob_lbal << 24) | ((uint64_t)tf->hob_lbam << 32) |
            ((uint64_t)tf->hob_lbah << 40);
    } else {
        n = tf->nsector ? tf->nsector : 256;
        if (tf->select & DEV_LBA) {
            a = tf->lbal | ((uint32_t)tf->lbam << 8) |
                ((uint32_t)tf->lbah << 16) |
                ((uint32_t)(tf->select & 0x0f) << 24);
        } else {
            uint32_t cyl = tf->lbam | ((uint32_t)tf->lbah << 8);
            uint32_t head = tf->select & 0x0f;
            uint32_t sec = tf->lbal;

            if (sec == 0 || sec > d->cur_secs || head >= d->cur_heads) {
                return false;
            }
            a = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs + sec - 1;
        }
    }
    if (a > d->nb_sectors || n > d->nb_sectors - a) {
        return false;
    }
    *lba = a;
    *count = n;
    return true;
}

/* ---- PIO reads ---- */

static uint32_t chunk_sectors(IDEDrive *d)
{
    uint32_t max = IDE_BUF_SECTORS / d->drq_sectors * d->drq_sectors;

    return d->remaining < max ? d->remaining : max;
}

static void present_read_block(IDEDrive *d)
{
    uint32_t left = (d->chunk_bytes - d->buf_pos) / IDE_SECTOR_SIZE;
    uint32_t n = d->drq_sectors < left ? d->drq_sectors : left;

    ide_pio_block(d, d->buf_pos, n * IDE_SECTOR_SIZE, true, PIO_NEXT_ATA_READ);
    ide_set_irq(d);
}

static void read_chunk_done(IDEDrive *d, int ret)
{
    if (ret < 0) {
        ide_io_error_report(d, "read");
        ide_cmd_error(d, ERR_UNC);
        return;
    }
    d->buf_pos = 0;
    present_read_block(d);
}

static void read_chunk(IDEDrive *d)
{
    d->chunk_bytes = chunk_sectors(d) * IDE_SECTOR_SIZE;
    d->status = ST_DRDY | ST_DSC;
    ide_aio_read(d, d->lba * IDE_SECTOR_SIZE, d->chunk_bytes, read_chunk_done);
}

/* ---- PIO writes ---- */

static void present_write_block(IDEDrive *d)
{
    uint32_t left = (d->chunk_bytes - d->buf_pos) / IDE_SECTOR_SIZE;
    uint32_t n = d->drq_sectors < left ? d->drq_sectors : left;

    ide_pio_block(d, d->buf_pos, n * IDE_SECTOR_SIZE, false,
                  PIO_NEXT_ATA_WRITE);
}

static void start_write_chunk(IDEDrive *d)
{
    d->chunk_bytes = chunk_sectors(d) * IDE_SECTOR_SIZE;
    d->buf_pos = 0;
    present_write_block(d);
}

static void write_chunk_done(IDEDrive *d, int ret)
{
    uint32_t n = d->chunk_bytes / IDE_SECTOR_SIZE;

    if (ret < 0) {
        ide_io_error_report(d, "write");
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    d->lba += n;
    d->remaining -= n;
    if (d->remaining == 0) {
        ide_cmd_ok(d);
        return;
    }
    start_write_chunk(d);
    ide_set_irq(d);
}

void ata_pio_next(IDEDrive *d)
{
    if (d->pio_next == PIO_NEXT_ATA_READ) {
        uint32_t n = (d->data_end - d->buf_pos) / IDE_SECTOR_SIZE;

        d->lba += n;
        d->remaining -= n;
        d->buf_pos = d->data_end;
        if (d->remaining == 0) {
            d->status = ST_DRDY | ST_DSC;
        } else if (d->buf_pos < d->chunk_bytes) {
            present_read_block(d);
        } else {
            read_chunk(d);
        }
        return;
    }
    d->buf_pos = d->data_end;
    if (d->buf_pos < d->chunk_bytes) {
        present_write_block(d);
        ide_set_irq(d);
        return;
    }
    d->status = ST_DRDY | ST_DSC;
    ide_aio_write(d, d->lba * IDE_SECTOR_SIZE, d->chunk_bytes,
                  write_chunk_done);
}

/* ---- DMA ---- */

void ata_dma_done(IDEDrive *d, int ret)
{
    if (ret < 0) {
        if (ret != -EFAULT) {
            ide_io_error_report(d, d->dma_op == DMA_MEM_TO_DISK ? "write"
                                                                : "read");
        }
        ide_cmd_error(d, d->dma_op == DMA_DISK_TO_MEM && ret != -EFAULT
                             ? ERR_UNC : ERR_ABRT);
        return;
    }
    d->dma_op = DMA_NONE;
    ide_cmd_ok(d);
}

/* ---- command dispatch ---- */

static void start_rw(IDEDrive *d, bool write, bool lba48, XferKind kind)
{
    uint64_t lba;
    uint32_t count;

    if (kind == XFER_PIO_MULTIPLE && d->mult_sectors == 0) {
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    if (!get_range(d, lba48, &lba, &count)) {
        ide_cmd_error(d, ERR_IDNF);
        return;
    }
    if (write && blk_is_read_only(d->blk)) {
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    d->standby = false;
    d->lba = lba;
    d->remaining = count;
    d->drq_sectors = kind == XFER_PIO_MULTIPLE ? d->mult_sectors : 1;
    if (kind == XFER_DMA) {
        ide_dma_request(d, write ? DMA_MEM_TO_DISK : DMA_DISK_TO_MEM,
                        lba * IDE_SECTOR_SIZE, (uint64_t)count * IDE_SECTOR_SIZE,
                        IDE_SECTOR_SIZE, ata_dma_done);
    } else if (write) {
        start_write_chunk(d);
    } else {
        read_chunk(d);
    }
}

static void verify(IDEDrive *d, bool lba48)
{
    uint64_t lba;
    uint32_t count;

    if (!get_range(d, lba48, &lba, &count)) {
        ide_cmd_error(d, ERR_IDNF);
        return;
    }
    ide_cmd_ok(d);
}

static void flush_done(IDEDrive *d, int ret)
{
    if (ret < 0) {
        ide_io_error_report(d, "flush");
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    ide_cmd_ok(d);
}

static bool valid_transfer_mode(uint8_t v)
{
    uint8_t mode = v & 7;

    switch (v & 0xf8) {
    case 0x00:
        return mode <= 1; /* PIO default mode */
    case 0x08:
        return mode <= 4;
    case 0x20:
        return mode <= 2;
    case 0x40:
        return mode <= 5;
    default:
        return false;
    }
}

static void set_features(IDEDrive *d)
{
    switch (d->tf.feature) {
    case SF_SET_TRANSFER_MODE:
        if (!valid_transfer_mode(d->tf.nsector)) {
            ide_cmd_error(d, ERR_ABRT);
            return;
        }
        d->xfer_mode = d->tf.nsector < 0x08 ? 0x08 | 4 : d->tf.nsector;
        break;
    case SF_ENABLE_WRITE_CACHE:
    case SF_DISABLE_WRITE_CACHE:
        if (d->kind != IDE_MEDIA_DISK) {
            ide_cmd_error(d, ERR_ABRT);
            return;
        }
        d->write_cache = d->tf.feature == SF_ENABLE_WRITE_CACHE;
        break;
    case SF_ENABLE_LOOKAHEAD:
    case SF_DISABLE_LOOKAHEAD:
        d->lookahead = d->tf.feature == SF_ENABLE_LOOKAHEAD;
        break;
    case SF_DISABLE_REVERT:
    case SF_ENABLE_REVERT:
        break;
    default:
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    ide_cmd_ok(d);
}

static void set_multiple_mode(IDEDrive *d)
{
    uint8_t n = d->tf.nsector;

    if (n > IDE_MAX_MULT_SECTORS || (n & (n - 1)) != 0) {
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    d->mult_sectors = n;
    ide_cmd_ok(d);
}

static void initialize_device_parameters(IDEDrive *d)
{
    if (d->tf.nsector == 0) {
        ide_cmd_error(d, ERR_ABRT);
        return;
    }
    d->cur_secs = d->tf.nsector;
    d->cur_heads = (uint16_t)((d->tf.select & 0x0f) + 1);
    ide_cmd_ok(d);
}

static void power_command(IDEDrive *d, bool standby)
{
    d->standby = standby;
    ide_cmd_ok(d);
}

static void check_power_mode(IDEDrive *d)
{
    d->tf.nsector = d->standby ? 0x00 : 0xff;
    ide_cmd_ok(d);
}

/* A packet device: the commands of the PACKET feature set's ATA subset. */
static void packet_device_exec(IDEDrive *d, uint8_t cmd)
{
    switch (cmd) {
    case CMD_PACKET:
        atapi_packet(d);
        break;
    case CMD_IDENTIFY_PACKET_DEVICE:
        send_identify(d, true);
        break;
    case CMD_DEVICE_RESET:
        ide_set_signature(d);
        d->error = DIAG_PASSED;
        d->status = 0;
        atapi_reset(d);
        break;
    case CMD_CHECK_POWER_MODE:
        check_power_mode(d);
        break;
    case CMD_IDLE_IMMEDIATE:
        power_command(d, false);
        break;
    case CMD_STANDBY_IMMEDIATE:
        power_command(d, true);
        break;
    case CMD_SET_FEATURES:
        set_features(d);
        break;
    default:
        ide_set_signature(d);
        ide_cmd_error(d, ERR_ABRT);
        break;
    }
}

void ata_exec(IDEDrive *d, uint8_t cmd)
{
    if (d->kind == IDE_MEDIA_CDROM) {
        packet_device_exec(d, cmd);
        return;
    }
    if (cmd >= CMD_RECALIBRATE && cmd <= CMD_RECALIBRATE + 0x0f) {
        ide_cmd_ok(d);
        return;
    }
    switch (cmd) {
    case CMD_IDENTIFY_DEVICE:
        send_identify(d, false);
        break;
    case CMD_READ_SECTORS:
    case CMD_READ_SECTORS_NR:
        start_rw(d, false, false, XFER_PIO);
        break;
    case CMD_READ_SECTORS_EXT:
        start_rw(d, false, true, XFER_PIO);
        break;
    case CMD_READ_MULTIPLE:
        start_rw(d, false, false, XFER_PIO_MULTIPLE);
        break;
    case CMD_READ_MULTIPLE_EXT:
        start_rw(d, false, true, XFER_PIO_MULTIPLE);
        break;
    case CMD_READ_DMA:
    case CMD_READ_DMA_NR:
        start_rw(d, false, false, XFER_DMA);
        break;
    case CMD_READ_DMA_EXT:
        start_rw(d, false, true, XFER_DMA);
        break;
    case CMD_WRITE_SECTORS:
    case CMD_WRITE_SECTORS_NR:
        start_rw(d, true, false, XFER_PIO);
        break;
    case CMD_WRITE_SECTORS_EXT:
        start_rw(d, true, true, XFER_PIO);
        break;
    case CMD_WRITE_MULTIPLE:
        start_rw(d, true, false, XFER_PIO_MULTIPLE);
        break;
    case CMD_WRITE_MULTIPLE_EXT:
        start_rw(d, true, true, XFER_PIO_MULTIPLE);
        break;
    case CMD_WRITE_DMA:
    case CMD_WRITE_DMA_NR:
        start_rw(d, true, false, XFER_DMA);
        break;
    case CMD_WRITE_DMA_EXT:
        start_rw(d, true, true, XFER_DMA);
        break;
    case CMD_READ_VERIFY:
    case CMD_READ_VERIFY_NR:
        verify(d, false);
        break;
    case CMD_READ_VERIFY_EXT:
        verify(d, true);
        break;
    case CMD_SEEK:
        ide_cmd_ok(d);
        break;
    case CMD_FLUSH_CACHE:
    case CMD_FLUSH_CACHE_EXT:
        ide_aio_flush(d, flush_done);
        break;
    case CMD_SET_FEATURES:
        set_features(d);
        break;
    case CMD_SET_MULTIPLE_MODE:
        set_multiple_mode(d);
        break;
    case CMD_INITIALIZE_DEVICE_PARAMETERS:
        initialize_device_parameters(d);
        break;
    case CMD_STANDBY_IMMEDIATE:
    case CMD_STANDBY:
        power_command(d, true);
        break;
    case CMD_IDLE_IMMEDIATE:
    case CMD_IDLE:
        power_command(d, false);
        break;
    case CMD_CHECK_POWER_MODE:
        check_power_mode(d);
        break;
    default: /* NOP, DEVICE RESET and everything not implemented */
        ide_cmd_error(d, ERR_ABRT);
        break;
    }
}
