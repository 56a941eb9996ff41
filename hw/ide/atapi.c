/*
 * An ATAPI CD-ROM drive with read-only ISO media: the PACKET protocol
 * (ATA/ATAPI-6 section 9.8-9.9: command packet, byte count limit, the
 * interrupt reason in the sector count register, PIO or DMA data) and the
 * packet commands Linux's sr/cdrom drivers and boot loaders use, with the
 * data formats of MMC-3 (T10/1363-D) and SPC-3: TEST UNIT READY, REQUEST
 * SENSE, INQUIRY (with VPD pages 00h and 80h), START STOP UNIT (eject and
 * load), PREVENT ALLOW MEDIUM REMOVAL, READ CAPACITY, READ(10), READ(12),
 * SEEK(10), MODE SENSE(10) (pages 01h, 2Ah, 3Fh), READ TOC/PMA/ATIP
 * (formats 0, 1 and 2), GET CONFIGURATION, GET EVENT STATUS NOTIFICATION
 * (media class, polled), READ DISC INFORMATION, SET CD SPEED.
 *
 * A medium change (monitor `change`/`eject`, or the guest's own eject)
 * raises a media event and a UNIT ATTENTION (28h, medium may have
 * changed) that the next command other than INQUIRY, REQUEST SENSE, GET
 * CONFIGURATION or GET EVENT STATUS NOTIFICATION reports.
 */
#include <errno.h>
#include <string.h>

#include "core/error.h"
#include "hw/ide/ide-internal.h"

enum {
    OP_TEST_UNIT_READY = 0x00,
    OP_REQUEST_SENSE = 0x03,
    OP_INQUIRY = 0x12,
    OP_START_STOP_UNIT = 0x1b,
    OP_PREVENT_ALLOW = 0x1e,
    OP_READ_CAPACITY = 0x25,
    OP_READ_10 = 0x28,
    OP_SEEK_10 = 0x2b,
    OP_READ_TOC = 0x43,
    OP_GET_CONFIGURATION = 0x46,
    OP_GET_EVENT_STATUS = 0x4a,
    OP_READ_DISC_INFO = 0x51,
    OP_MODE_SENSE_10 = 0x5a,
    OP_READ_12 = 0xa8,
    OP_SET_CD_SPEED = 0xbb,
};

enum {
    SENSE_NO_SENSE = 0x0,
    SENSE_NOT_READY = 0x2,
    SENSE_MEDIUM_ERROR = 0x3,
    SENSE_ILLEGAL_REQUEST = 0x5,
    SENSE_UNIT_ATTENTION = 0x6,
};

enum {
    ASC_UNRECOVERED_READ = 0x11,
    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24,
    ASC_MEDIUM_CHANGED = 0x28,
    ASC_SAVING_NOT_SUPPORTED = 0x39,
    ASC_MEDIUM_NOT_PRESENT = 0x3a,
    ASC_REMOVAL_PREVENTED = 0x53,
};

/* GET EVENT STATUS NOTIFICATION media event codes. */
enum {
    MEDIA_EVENT_NONE = 0,
    MEDIA_EVENT_NEW = 2,
    MEDIA_EVENT_REMOVAL = 3,
};

#define PROFILE_CDROM 0x0008
#define PROFILE_DVDROM 0x0010
#define CD_MAX_BLOCKS 360000 /* 80 minutes: larger media are DVDs */

static void st16be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void st32be(uint8_t *p, uint32_t v)
{
    st16be(p, v >> 16);
    st16be(p + 2, v);
}

static uint32_t ld16be(const uint8_t *p)
{
    return (uint32_t)(p[0] << 8 | p[1]);
}

static uint32_t ld32be(const uint8_t *p)
{
    return ld16be(p) << 16 | ld16be(p + 2);
}

static bool has_medium(IDEDrive *d)
{
    return d->blk && !d->tray_open;
}

void atapi_identify(IDEDrive *d, uint16_t *id)
{
    uint8_t mode = d->xfer_mode & 7;

    memset(id, 0, 512);
    /* ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets. */
    id[0] = 0x85c0;
    ide_id_string(id, 10, 10, d->serial);
    ide_id_string(id, 23, 4, "0.1");
    ide_id_string(id, 27, 20, d->model);
    id[49] = 0x0f00; /* IORDY, IORDY may be disabled, LBA, DMA */
    id[53] = 0x0006; /* words 64-70 and 88 are valid */
    id[63] = 0x0007;
    if ((d->xfer_mode & 0xf8) == 0x20) {
        id[63] |= (uint16_t)(0x0100 << mode);
    }
    id[64] = 0x0003;
    id[65] = 120;
    id[66] = 120;
    id[67] = 120;
    id[68] = 120;
    id[71] = 30; /* PACKET to bus release, ns */
    id[72] = 30; /* SERVICE to BSY clear, ns */
    id[80] = 0x0070; /* ATA/ATAPI-4 to 6 */
    id[82] = 0x0010; /* PACKET feature set */
    id[83] = 0x4000;
    id[84] = 0x4000;
    id[85] = 0x0010;
    id[87] = 0x4000;
    id[88] = 0x003f;
    if ((d->xfer_mode & 0xf8) == 0x40) {
        id[88] |= (uint16_t)(0x0100 << mode);
    }
    ide_id_checksum(id);
}

void atapi_reset(IDEDrive *d)
{
    d->atapi_left = 0;
    d->sense_key = SENSE_NO_SENSE;
    d->asc = 0;
    d->ascq = 0;
}

/* ---- completion ---- */

static void set_reason(IDEDrive *d, uint8_t reason)
{
    d->tf.nsector = (uint8_t)((d->tf.nsector & 0xf8) | reason);
}

static void set_sense(IDEDrive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
}

static void complete_ok(IDEDrive *d)
{
    set_sense(d, SENSE_NO_SENSE, 0, 0);
    d->error = 0;
    d->atapi_left = 0;
    set_reason(d, IR_IO | IR_COD);
    d->status = ST_DRDY | ST_DSC;
    ide_set_irq(d);
}

static void check_condition(IDEDrive *d, uint8_t key, uint8_t asc,
                            uint8_t ascq)
{
    set_sense(d, key, asc, ascq);
    d->error = (uint8_t)(key << 4);
    d->atapi_left = 0;
    d->dma_op = DMA_NONE;
    set_reason(d, IR_IO | IR_COD);
    d->status = ST_DRDY | ST_DSC | ST_ERR;
    ide_set_irq(d);
}

static void not_ready(IDEDrive *d)
{
    check_condition(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT,
                    d->tray_open ? 0x02 : 0x01);
}

static void invalid_field(IDEDrive *d)
{
    check_condition(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* ---- data phase ---- */

static void present_chunk(IDEDrive *d)
{
    uint64_t n = d->atapi_left;

    if (n > d->byte_limit) {
        n = d->byte_limit;
    }
    if (n > d->chunk_bytes - d->buf_pos) {
        n = d->chunk_bytes - d->buf_pos;
    }
    d->tf.lbam = (uint8_t)n;
    d->tf.lbah = (uint8_t)(n >> 8);
    set_reason(d, IR_IO);
    ide_pio_block(d, d->buf_pos, (uint32_t)n, true, PIO_NEXT_ATAPI_DATA);
    ide_set_irq(d);
}

static void fetch_done(IDEDrive *d, int ret)
{
    uint32_t n = d->chunk_bytes / CD_BLOCK_SIZE;

    if (ret < 0) {
        ide_io_error_report(d, "CD-ROM read");
        check_condition(d, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
        return;
    }
    d->lba += n;
    d->remaining -= n;
    d->buf_pos = 0;
    present_chunk(d);
}

static void fetch_chunk(IDEDrive *d)
{
    uint32_t n = IDE_BUF_SIZE / CD_BLOCK_SIZE;

    if (!has_medium(d)) {
        not_ready(d);
        return;
    }

    if (d->remaining < n) {
        n = d->remaining;
    }
    d->chunk_bytes = n * CD_BLOCK_SIZE;
    d->status = ST_DRDY | ST_DSC;
    ide_aio_read(d, d->lba * CD_BLOCK_SIZE, d->chunk_bytes, fetch_done);
}

void atapi_data_next(IDEDrive *d)
{
    uint32_t n = d->data_end - d->buf_pos;

    d->atapi_left -= n;
    d->buf_pos = d->data_end;
    if (d->atapi_left == 0) {
        complete_ok(d);
    } else if (d->buf_pos < d->chunk_bytes) {
        present_chunk(d);
    } else {
        fetch_chunk(d);
    }
}

void atapi_dma_done(IDEDrive *d, int ret)
{
    if (ret == -EFAULT) {
        d->error = ERR_ABRT;
        d->dma_op = DMA_NONE;
        set_reason(d, IR_IO | IR_COD);
        d->status = ST_DRDY | ST_DSC | ST_ERR;
        ide_set_irq(d);
    } else if (ret < 0) {
        ide_io_error_report(d, "CD-ROM read");
        check_condition(d, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
    } else {
        d->dma_op = DMA_NONE;
        complete_ok(d);
    }
}

/* Send buf[0, min(len, alloc)) to the host. */
static void send_reply(IDEDrive *d, uint32_t len, uint32_t alloc)
{
    uint32_t n = len < alloc ? len : alloc;

    if (n == 0) {
        complete_ok(d);
        return;
    }
    d->atapi_left = n;
    d->buf_pos = 0;
    d->chunk_bytes = n;
    d->remaining = 0;
    if (d->atapi_dma) {
        ide_dma_request(d, DMA_BUF_TO_MEM, 0, n, 1, atapi_dma_done);
    } else {
        present_chunk(d);
    }
}

/* ---- commands ---- */

static void inquiry(IDEDrive *d)
{
    uint8_t *b = d->buf;
    uint32_t alloc = ld16be(d->cdb + 3);

    memset(b, 0, 96);
    if (d->cdb[1] & 1) {
        b[0] = 0x05;
        b[1] = d->cdb[2];
        if (d->cdb[2] == 0x00) {
            b[3] = 2;
            b[4] = 0x00;
            b[5] = 0x80;
            send_reply(d, 6, alloc);
        } else if (d->cdb[2] == 0x80) {
            size_t n = strlen(d->serial);

            b[3] = (uint8_t)n;
            memcpy(b + 4, d->serial, n);
            send_reply(d, (uint32_t)(4 + n), alloc);
        } else {
            invalid_field(d);
        }
        return;
    }
    if (d->cdb[2]) {
        invalid_field(d);
        return;
    }
    b[0] = 0x05;  /* CD/DVD device */
    b[1] = 0x80;  /* removable */
    b[2] = 0x05;  /* SPC-3 */
    b[3] = 0x02;  /* response data format */
    b[4] = 31;    /* additional length */
    memcpy(b + 8, "KESTREL ", 8);
    memset(b + 16, ' ', 16);
    memcpy(b + 16, d->model, MIN(strlen(d->model), 16));
    memcpy(b + 32, "0.1 ", 4);
    send_reply(d, 36, alloc);
}

static void request_sense(IDEDrive *d)
{
    uint8_t *b = d->buf;

    if (d->unit_attention) {
        d->unit_attention = false;
        set_sense(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
    }
    memset(b, 0, 18);
    b[0] = 0x70;
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    set_sense(d, SENSE_NO_SENSE, 0, 0);
    send_reply(d, 18, d->cdb[4]);
}

static void read_capacity(IDEDrive *d)
{
    uint64_t last = d->nb_sectors ? d->nb_sectors - 1 : 0;

    st32be(d->buf, (uint32_t)(last > UINT32_MAX ? UINT32_MAX : last));
    st32be(d->buf + 4, CD_BLOCK_SIZE);
    send_reply(d, 8, 8);
}

static void read_blocks(IDEDrive *d, uint64_t lba, uint64_t count)
{
    if (lba > d->nb_sectors || count > d->nb_sectors - lba) {
        check_condition(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (count == 0) {
        complete_ok(d);
        return;
    }
    if (d->atapi_dma) {
        ide_dma_request(d, DMA_DISK_TO_MEM, lba * CD_BLOCK_SIZE,
                        count * CD_BLOCK_SIZE, CD_BLOCK_SIZE, atapi_dma_done);
        return;
    }
    d->lba = lba;
    d->remaining = (uint32_t)count;
    d->atapi_left = count * CD_BLOCK_SIZE;
    fetch_chunk(d);
}

static void start_stop_unit(IDEDrive *d)
{
    bool loej = d->cdb[4] & 0x02, start = d->cdb[4] & 0x01;

    if (loej && !start) {
        if (d->locked) {
            check_condition(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED,
                            0x02);
            return;
        }
        if (!d->tray_open && d->blk) {
            d->media_event = MEDIA_EVENT_REMOVAL;
        }
        d->tray_open = true;
    } else if (loej && start && d->tray_open) {
        d->tray_open = false;
        if (d->blk) {
            d->media_event = MEDIA_EVENT_NEW;
            d->unit_attention = true;
        }
    }
    complete_ok(d);
}

/* MODE SENSE pages: 01h read error recovery, 2Ah capabilities. */
static uint32_t mode_page(IDEDrive *d, uint8_t page, bool changeable,
                          uint8_t *p)
{
    if (page == 0x01) {
        memset(p, 0, 12);
        p[0] = 0x01;
        p[1] = 0x0a;
        if (!changeable) {
            p[3] = 5; /* read retry count */
        }
        return 12;
    }
    memset(p, 0, 22);
    p[0] = 0x2a;
    p[1] = 0x14;
    if (!changeable) {
        p[2] = 0x09;  /* reads CD-R, DVD-ROM */
        p[4] = 0x50;  /* multi-session, mode 2 form 1 */
        p[6] = 0x29 | (d->locked ? 0x02 : 0); /* tray, eject, lock */
        st16be(p + 8, 2816);  /* max read speed, kB/s */
        st16be(p + 10, 256);  /* volume levels */
        st16be(p + 12, 512);  /* buffer, KiB */
        st16be(p + 14, 2816); /* current read speed */
    }
    return 22;
}

static void mode_sense(IDEDrive *d)
{
    uint8_t pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3f;
    uint8_t *b = d->buf;
    uint32_t len = 8;

    if (pc == 3) {
        check_condition(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    if (page != 0x01 && page != 0x2a && page != 0x3f) {
        invalid_field(d);
        return;
    }
    memset(b, 0, 8);
    if (page == 0x01 || page == 0x3f) {
        len += mode_page(d, 0x01, pc == 1, b + len);
    }
    if (page == 0x2a || page == 0x3f) {
        len += mode_page(d, 0x2a, pc == 1, b + len);
    }
    st16be(b, len - 2);
    send_reply(d, len, ld16be(d->cdb + 7));
}

static void lba_to_msf(uint8_t *p, uint64_t lba)
{
    lba += 150;
    p[0] = (uint8_t)(lba / (75 * 60));
    p[1] = (uint8_t)((lba / 75) % 60);
    p[2] = (uint8_t)(lba % 75);
}

static void put_address(uint8_t *p, uint64_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf(p + 1, lba);
    } else {
        st32be(p, (uint32_t)lba);
    }
}

static void read_toc(IDEDrive *d)
{
    bool msf = d->cdb[1] & 0x02;
    uint8_t format = d->cdb[2] & 0x0f, track = d->cdb[6];
    uint8_t *b = d->buf;
    uint32_t len;

    if (format == 0) {
        format = d->cdb[9] >> 6;
    }
    memset(b, 0, 64);
    b[2] = 1;
    b[3] = 1;
    switch (format) {
    case 0:
        len = 4;
        if (track > 1 && track != 0xaa) {
            invalid_field(d);
            return;
        }
        if (track <= 1) {
            b[len + 1] = 0x14; /* ADR 1, data track */
            b[len + 2] = 1;
            put_address(b + len + 4, 0, msf);
            len += 8;
        }
        b[len + 1] = 0x14;
        b[len + 2] = 0xaa; /* lead-out */
        put_address(b + len + 4, d->nb_sectors, msf);
        len += 8;
        break;
    case 1: /* session information */
        b[5] = 0x14;
        b[6] = 1;
        put_address(b + 8, 0, msf);
        len = 12;
        break;
    case 2: { /* raw TOC: points A0, A1, A2 and track 1 */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };

        len = 4;
        for (unsigned i = 0; i < 4; i++) {
            uint8_t *e = b + len;

            e[0] = 1;
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1) {
                e[8] = 1; /* first/last track; disc type 0 */
            } else if (points[i] == 0xa2) {
                lba_to_msf(e + 8, d->nb_sectors);
            } else {
                lba_to_msf(e + 8, 0);
            }
            len += 11;
        }
        break;
    }
    default:
        invalid_field(d);
        return;
    }
    st16be(b, len - 2);
    send_reply(d, len, ld16be(d->cdb + 7));
}

static uint16_t current_profile(IDEDrive *d)
{
    if (!has_medium(d)) {
        return 0;
    }
    return d->nb_sectors > CD_MAX_BLOCKS ? PROFILE_DVDROM : PROFILE_CDROM;
}

/* One feature descriptor; returns its length (0: not reported). */
static uint32_t feature(IDEDrive *d, uint16_t code, uint8_t *p, bool only_current)
{
    uint16_t profile = current_profile(d);
    bool current = true;
    uint32_t len;

    memset(p, 0, 16);
    st16be(p, code);
    switch (code) {
    case 0x0000: /* profile list */
        p[2] = 0x03;
        p[3] = 8;
        st16be(p + 4, PROFILE_DVDROM);
        p[6] = profile == PROFILE_DVDROM;
        st16be(p + 8, PROFILE_CDROM);
        p[10] = profile == PROFILE_CDROM;
        len = 12;
        break;
    case 0x0001: /* core */
        p[2] = 0x0b;
        p[3] = 8;
        st32be(p + 4, 2); /* ATAPI */
        len = 12;
        break;
    case 0x0002: /* morphing */
        p[2] = 0x07;
        p[3] = 4;
        len = 8;
        break;
    case 0x0003: /* removable medium */
        p[2] = 0x03;
        p[3] = 4;
        p[4] = 0x29; /* tray, eject, lock */
        len = 8;
        break;
    case 0x0010: /* random readable */
        current = profile != 0;
        p[2] = current ? 0x01 : 0;
        p[3] = 8;
        st32be(p + 4, CD_BLOCK_SIZE);
        st16be(p + 8, profile == PROFILE_DVDROM ? 16 : 1);
        len = 12;
        break;
    default:
        return 0;
    }
    return only_current && !current ? 0 : len;
}

static void get_configuration(IDEDrive *d)
{
    static const uint16_t codes[] = { 0x0000, 0x0001, 0x0002, 0x0003, 0x0010 };
    uint8_t rt = d->cdb[1] & 0x03;
    uint16_t start = (uint16_t)ld16be(d->cdb + 2);
    uint8_t *b = d->buf;
    uint32_t len = 8;

    if (rt == 3) {
        invalid_field(d);
        return;
    }
    memset(b, 0, 8);
    st16be(b + 6, current_profile(d));
    for (unsigned i = 0; i < G_N_ELEMENTS(codes); i++) {
        if (rt == 2 ? codes[i] != start : codes[i] < start) {
            continue;
        }
        len += feature(d, codes[i], b + len, rt == 1);
    }
    st32be(b, len - 4);
    send_reply(d, len, ld16be(d->cdb + 7));
}

static void get_event_status(IDEDrive *d)
{
    uint8_t *b = d->buf;
    uint32_t len;

    if (!(d->cdb[1] & 0x01)) { /* only polled operation */
        invalid_field(d);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10; /* supported: media class */
    if (d->cdb[4] & 0x10) {
        b[2] = 0x04; /* media class */
        b[4] = d->media_event;
        b[5] = (has_medium(d) ? 0x02 : 0) | (d->tray_open ? 0x01 : 0);
        d->media_event = MEDIA_EVENT_NONE;
        len = 8;
    } else {
        b[2] = 0x80; /* no event available */
        len = 4;
    }
    st16be(b, len - 2);
    send_reply(d, len, ld16be(d->cdb + 7));
}

static void read_disc_information(IDEDrive *d)
{
    uint8_t *b = d->buf;

    if (d->cdb[1] & 0x07) {
        invalid_field(d);
        return;
    }
    memset(b, 0, 34);
    st16be(b, 32);
    b[2] = 0x0e; /* complete disc, complete last session */
    b[3] = 1;    /* first track */
    b[4] = 1;    /* sessions */
    b[5] = 1;    /* first track in last session */
    b[6] = 1;    /* last track in last session */
    st32be(b + 16, 0xffffffffu); /* lead-in of the last session: none */
    st32be(b + 20, 0xffffffffu); /* last possible lead-out: none */
    send_reply(d, 34, ld16be(d->cdb + 7));
}

static bool needs_medium(uint8_t op)
{
    switch (op) {
    case OP_TEST_UNIT_READY:
    case OP_READ_CAPACITY:
    case OP_READ_10:
    case OP_READ_12:
    case OP_SEEK_10:
    case OP_READ_TOC:
    case OP_READ_DISC_INFO:
        return true;
    default:
        return false;
    }
}

static bool reports_unit_attention(uint8_t op)
{
    return op != OP_INQUIRY && op != OP_REQUEST_SENSE &&
           op != OP_GET_CONFIGURATION && op != OP_GET_EVENT_STATUS;
}

void atapi_packet(IDEDrive *d)
{
    uint32_t limit = d->tf.lbam | ((uint32_t)d->tf.lbah << 8);

    d->atapi_dma = d->tf.feature & 0x01;
    limit &= ~1u;
    d->byte_limit = limit ? limit : 0xfffe;
    set_reason(d, IR_COD);
    ide_pio_block(d, 0, sizeof(d->cdb), false, PIO_NEXT_PACKET_CDB);
}

void atapi_cdb_received(IDEDrive *d)
{
    uint8_t op;

    memcpy(d->cdb, d->buf, sizeof(d->cdb));
    op = d->cdb[0];
    d->status = ST_DRDY | ST_DSC;
    if (d->unit_attention && reports_unit_attention(op)) {
        d->unit_attention = false;
        check_condition(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    if (needs_medium(op) && !has_medium(d)) {
        not_ready(d);
        return;
    }
    switch (op) {
    case OP_TEST_UNIT_READY:
    case OP_SEEK_10:
    case OP_SET_CD_SPEED:
        complete_ok(d);
        break;
    case OP_REQUEST_SENSE:
        request_sense(d);
        break;
    case OP_INQUIRY:
        inquiry(d);
        break;
    case OP_START_STOP_UNIT:
        start_stop_unit(d);
        break;
    case OP_PREVENT_ALLOW:
        d->locked = d->cdb[4] & 0x01;
        complete_ok(d);
        break;
    case OP_READ_CAPACITY:
        read_capacity(d);
        break;
    case OP_READ_10:
        read_blocks(d, ld32be(d->cdb + 2), ld16be(d->cdb + 7));
        break;
    case OP_READ_12:
        read_blocks(d, ld32be(d->cdb + 2), ld32be(d->cdb + 6));
        break;
    case OP_MODE_SENSE_10:
        mode_sense(d);
        break;
    case OP_READ_TOC:
        read_toc(d);
        break;
    case OP_GET_CONFIGURATION:
        get_configuration(d);
        break;
    case OP_GET_EVENT_STATUS:
        get_event_status(d);
        break;
    case OP_READ_DISC_INFO:
        read_disc_information(d);
        break;
    default:
        check_condition(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

/* Medium change from the host side (monitor change/eject). */
void atapi_change_medium(IDEDrive *d, BlockBackend *blk)
{
    bool had = has_medium(d);

    d->blk = blk;
    d->nb_sectors = blk ? blk_getlength(blk) / CD_BLOCK_SIZE : 0;
    d->tray_open = false;
    if (blk) {
        d->media_event = MEDIA_EVENT_NEW;
        d->unit_attention = true;
    } else if (had) {
        d->media_event = MEDIA_EVENT_REMOVAL;
        d->unit_attention = true;
    }
}
