/*
 * One IDE channel (ATA/ATAPI-6, T13/1410D, section 7 and 9): the command
 * block registers (data, error/features, sector count, LBA low/mid/high,
 * device, status/command), the control block register (alternate status /
 * device control with nIEN, SRST and HOB), device selection between the
 * two devices that both latch every command block write, the INTRQ line
 * (driven by the selected device while nIEN is clear, released by a status
 * read or a new command), PIO data blocks through the data port, soft
 * reset (SRST) and the signatures devices leave after a reset.
 *
 * Block requests run asynchronously; a reset while one is in flight keeps
 * the device busy until it completes, so a buffer or guest memory is never
 * written after the reset finished.  A machine reset (ide_channel_reset)
 * also waits until the block layer has finished moving the data: the guest
 * RAM a bus-master transfer pointed at is not written once the machine
 * starts again.
 */
#include <string.h>

#include "core/error.h"
#include "hw/ide/ide-internal.h"

#define CMD_EXECUTE_DEVICE_DIAGNOSTIC 0x90

static IDEDrive *cur_drive(IDEChannel *ch)
{
    return &ch->drive[ch->cur];
}

static bool present(const IDEDrive *d)
{
    return d->kind != IDE_MEDIA_NONE;
}

static bool irq_wanted(IDEChannel *ch)
{
    IDEDrive *d = cur_drive(ch);

    return present(d) && d->irq_pending && !(ch->ctl & CTL_NIEN);
}

void ide_update_irq(IDEChannel *ch)
{
    bool level = irq_wanted(ch);

    if (level != ch->irq_level) {
        ch->irq_level = level;
        irq_set(ch->irq, level);
    }
}

void ide_sync_irq(IDEChannel *ch)
{
    ch->irq_level = irq_wanted(ch);
    irq_set(ch->irq, ch->irq_level);
}

void ide_set_irq(IDEDrive *d)
{
    d->irq_pending = true;
    d->ch->bm.status |= BM_ST_INTR;
    ide_update_irq(d->ch);
}

void ide_set_signature(IDEDrive *d)
{
    d->tf.nsector = 1;
    d->tf.lbal = 1;
    if (d->kind == IDE_MEDIA_CDROM) {
        d->tf.lbam = 0x14;
        d->tf.lbah = 0xeb;
    } else {
        d->tf.lbam = 0;
        d->tf.lbah = 0;
    }
    d->tf.select = 0;
}

static void cancel_command(IDEDrive *d)
{
    d->pio_next = PIO_NEXT_END;
    d->data_pos = d->data_end = 0;
    d->dma_op = DMA_NONE;
    d->aio_done = NULL;
    d->dma_complete = NULL;
    d->remaining = 0;
    d->atapi_left = 0;
}

/* What a device does at the end of a reset: idle, signature, diagnostics
 * passed.  Packet devices leave DRDY clear (ATA-6 9.12). */
static void finish_reset(IDEDrive *d)
{
    d->reset_pending = false;
    cancel_command(d);
    ide_set_signature(d);
    d->error = DIAG_PASSED;
    d->status = d->kind == IDE_MEDIA_CDROM ? 0 : ST_DRDY | ST_DSC;
    d->irq_pending = false;
    if (d->kind == IDE_MEDIA_CDROM) {
        atapi_reset(d);
    }
}

static void begin_reset(IDEDrive *d)
{
    cancel_command(d);
    d->status = ST_BSY;
    d->irq_pending = false;
    d->reset_pending = true;
}

static void drive_power_on(IDEDrive *d)
{
    d->mult_sectors = 0;
    d->xfer_mode = 0x08 | 4; /* PIO mode 4 */
    d->write_cache = true;
    d->lookahead = true;
    d->standby = false;
    d->error_reported = false;
    if (d->kind == IDE_MEDIA_DISK) {
        ata_default_geometry(d);
    }
    memset(&d->tf, 0, sizeof(d->tf));
    if (d->aio_busy) {
        begin_reset(d);
    } else {
        finish_reset(d);
    }
}

void ide_channel_reset(IDEChannel *ch)
{
    for (unsigned u = 0; u < 2; u++) {
        IDEDrive *d = &ch->drive[u];

        if (d->blk && d->aio_busy) {
            blk_wait_io(d->blk);
        }
    }
    ch->ctl = 0;
    ch->cur = 0;
    for (unsigned u = 0; u < 2; u++) {
        drive_power_on(&ch->drive[u]);
    }
    bmdma_reset(&ch->bm);
    ch->irq_level = false;
    irq_set(ch->irq, 0);
}

void ide_channel_init(IDEChannel *ch, unsigned index, const IrqLine *irq,
                      AddressSpace *dma_as, GMutex *lock)
{
    ch->index = (uint8_t)index;
    ch->irq = irq;
    ch->dma_as = dma_as;
    ch->lock = lock;
    for (unsigned u = 0; u < 2; u++) {
        ch->drive[u].ch = ch;
        ch->drive[u].unit = (uint8_t)u;
    }
    bmdma_init(&ch->bm);
    memory_region_init_io(&ch->cmd_mr, index ? "ide1-cmd" : "ide0-cmd",
                          &ide_cmd_ops, ch, 8);
    memory_region_init_io(&ch->ctl_mr, index ? "ide1-ctl" : "ide0-ctl",
                          &ide_ctl_ops, ch, 1);
}

void ide_channel_cleanup(IDEChannel *ch)
{
    for (unsigned u = 0; u < 2; u++) {
        IDEDrive *d = &ch->drive[u];

        if (d->blk && d->aio_busy) {
            blk_drain(d->blk);
        }
    }
    bmdma_cleanup(&ch->bm);
}

void ide_drive_setup(IDEDrive *d, IDEMedia media, BlockBackend *blk,
                     const char *serial, const char *model)
{
    unsigned n = d->ch->index * 2 + d->unit;

    d->kind = (uint8_t)media;
    d->blk = blk;
    d->nb_sectors = 0;
    if (blk) {
        d->nb_sectors = blk_getlength(blk) /
            (media == IDE_MEDIA_CDROM ? CD_BLOCK_SIZE : IDE_SECTOR_SIZE);
    }
    if (serial) {
        g_strlcpy(d->serial, serial, sizeof(d->serial));
    } else {
        g_snprintf(d->serial, sizeof(d->serial), "KST%08u", n + 1);
    }
    if (model) {
        g_strlcpy(d->model, model, sizeof(d->model));
    } else {
        g_strlcpy(d->model, media == IDE_MEDIA_CDROM ? "KESTREL DVD-ROM"
                                                     : "KESTREL HARDDISK",
                  sizeof(d->model));
    }
    d->tray_open = false;
    d->locked = false;
    d->unit_attention = false;
    d->media_event = 0;
    drive_power_on(d);
}

void ide_pio_block(IDEDrive *d, uint32_t pos, uint32_t len, bool in,
                   IDEPioNext next)
{
    d->data_pos = pos;
    d->data_end = pos + len;
    d->pio_in = in;
    d->pio_next = (uint8_t)next;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

void ide_cmd_ok(IDEDrive *d)
{
    d->status = ST_DRDY | ST_DSC;
    ide_set_irq(d);
}

void ide_cmd_error(IDEDrive *d, uint8_t error)
{
    d->error = error;
    d->status = ST_DRDY | ST_DSC | ST_ERR;
    d->pio_next = PIO_NEXT_END;
    d->dma_op = DMA_NONE;
    ide_set_irq(d);
}

void ide_io_error_report(IDEDrive *d, const char *what)
{
    if (d->error_reported) {
        return;
    }
    d->error_reported = true;
    char *msg = d->blk ? blk_last_error(d->blk) : NULL;
    warn_report("ide%u-%u: %s failed%s%s (further errors not reported)",
                d->ch->index, d->unit, what, msg ? ": " : "",
                msg ? msg : "");
    g_free(msg);
}

/* ---- asynchronous block requests ---- */

/* A block request finished; the machine lock is held. */
static void aio_complete(IDEDrive *d, int ret)
{
    d->aio_busy = false;
    if (d->aio_is_dma) {
        d->aio_is_dma = false;
        d->ch->bm.in_flight = false;
    }
    if (d->reset_pending) {
        if (!(d->ch->ctl & CTL_SRST)) {
            finish_reset(d);
        }
    } else if (d->aio_done) {
        void (*done)(IDEDrive *d, int ret) = d->aio_done;

        d->aio_done = NULL;
        done(d, ret);
    }
}

static void aio_cb(void *opaque, int ret)
{
    IDEDrive *d = opaque;
    GMutex *lock = d->ch->lock;

    if (lock) {
        g_mutex_lock(lock);
    }
    aio_complete(d, ret);
    if (lock) {
        g_mutex_unlock(lock);
    }
}

/* Every caller submits as its last step, so a read served at once from the
 * host page cache (blk_try_preadv) completes here, as a very fast disk
 * would, without a worker thread and a main-loop round trip. */
void ide_aio_submit(IDEDrive *d, bool write, uint64_t offset,
                    const struct iovec *iov, int niov,
                    void (*done)(IDEDrive *d, int ret))
{
    d->aio_busy = true;
    d->aio_done = done;
    d->status |= ST_BSY;
    if (write) {
        blk_aio_pwritev(d->blk, offset, iov, niov, aio_cb, d);
    } else if (blk_try_preadv(d->blk, offset, iov, niov) == 0) {
        aio_complete(d, 0);
    } else {
        blk_aio_preadv(d->blk, offset, iov, niov, aio_cb, d);
    }
}

void ide_aio_read(IDEDrive *d, uint64_t offset, uint32_t len,
                  void (*done)(IDEDrive *d, int ret))
{
    struct iovec iov = { .iov_base = d->buf, .iov_len = len };

    ide_aio_submit(d, false, offset, &iov, 1, done);
}

void ide_aio_write(IDEDrive *d, uint64_t offset, uint32_t len,
                   void (*done)(IDEDrive *d, int ret))
{
    struct iovec iov = { .iov_base = d->buf, .iov_len = len };

    ide_aio_submit(d, true, offset, &iov, 1, done);
}

void ide_aio_flush(IDEDrive *d, void (*done)(IDEDrive *d, int ret))
{
    d->aio_busy = true;
    d->aio_done = done;
    d->status |= ST_BSY;
    blk_aio_flush(d->blk, aio_cb, d);
}

void ide_dma_request(IDEDrive *d, IDEDmaOp op, uint64_t offset,
                     uint64_t total, uint32_t unit,
                     void (*complete)(IDEDrive *d, int ret))
{
    d->dma_op = (uint8_t)op;
    d->dma_offset = offset;
    d->dma_total = total;
    d->dma_done = 0;
    d->dma_unit = unit;
    d->dma_complete = complete;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    bmdma_kick(d->ch);
}

/* ---- PIO data port ---- */

static void pio_block_done(IDEDrive *d)
{
    d->status &= (uint8_t)~ST_DRQ;
    switch (d->pio_next) {
    case PIO_NEXT_ATA_READ:
    case PIO_NEXT_ATA_WRITE:
        ata_pio_next(d);
        break;
    case PIO_NEXT_PACKET_CDB:
        atapi_cdb_received(d);
        break;
    case PIO_NEXT_ATAPI_DATA:
        atapi_data_next(d);
        break;
    default:
        d->status = ST_DRDY | ST_DSC;
        break;
    }
}

static bool data_phase(IDEDrive *d, bool in)
{
    return present(d) && (d->status & (ST_DRQ | ST_BSY)) == ST_DRQ &&
           d->pio_in == in && d->data_pos < d->data_end;
}

static uint32_t data_read(IDEChannel *ch, unsigned size)
{
    IDEDrive *d = cur_drive(ch);
    uint32_t v = 0;
    unsigned n;

    if (!data_phase(d, true)) {
        return 0;
    }
    n = MIN(size, d->data_end - d->data_pos);
    memcpy(&v, d->buf + d->data_pos, n);
    d->data_pos += n;
    if (d->data_pos >= d->data_end) {
        pio_block_done(d);
    }
    return v;
}

static void data_write(IDEChannel *ch, uint32_t v, unsigned size)
{
    IDEDrive *d = cur_drive(ch);
    unsigned n;

    if (!data_phase(d, false)) {
        return;
    }
    n = MIN(size, d->data_end - d->data_pos);
    memcpy(d->buf + d->data_pos, &v, n);
    d->data_pos += n;
    if (d->data_pos >= d->data_end) {
        pio_block_done(d);
    }
}

/* ---- command block registers ---- */

static uint8_t reg_read(IDEChannel *ch, unsigned reg)
{
    IDEDrive *d = cur_drive(ch);
    bool hob = ch->ctl & CTL_HOB;

    if (!present(d)) {
        return 0;
    }
    switch (reg) {
    case 1:
        return d->error;
    case 2:
        return hob ? d->tf.hob_nsector : d->tf.nsector;
    case 3:
        return hob ? d->tf.hob_lbal : d->tf.lbal;
    case 4:
        return hob ? d->tf.hob_lbam : d->tf.lbam;
    case 5:
        return hob ? d->tf.hob_lbah : d->tf.lbah;
    case 6:
        return d->tf.select | 0xa0;
    default:
        d->irq_pending = false;
        ide_update_irq(ch);
        return d->status;
    }
}

static void latch(uint8_t *reg, uint8_t *hob, uint8_t v)
{
    *hob = *reg;
    *reg = v;
}

static void execute_device_diagnostic(IDEChannel *ch)
{
    for (unsigned u = 0; u < 2; u++) {
        IDEDrive *d = &ch->drive[u];

        if (present(d) && !d->aio_busy) {
            finish_reset(d);
        }
    }
    if (present(&ch->drive[0])) {
        ide_set_irq(&ch->drive[0]);
    } else if (present(&ch->drive[1])) {
        ide_set_irq(&ch->drive[1]);
    }
}

static void command_write(IDEChannel *ch, uint8_t cmd)
{
    IDEDrive *d = cur_drive(ch);

    if (!present(d) || (d->status & ST_BSY) || d->aio_busy ||
        (ch->ctl & CTL_SRST)) {
        return;
    }
    d->irq_pending = false;
    ide_update_irq(ch);
    if (cmd == CMD_EXECUTE_DEVICE_DIAGNOSTIC) {
        execute_device_diagnostic(ch);
        return;
    }
    cancel_command(d);
    d->cmd = cmd;
    ata_exec(d, cmd);
}

static void reg_write(IDEChannel *ch, unsigned reg, uint8_t v)
{
    ch->ctl &= (uint8_t)~CTL_HOB;
    if (reg == 7) {
        command_write(ch, v);
        return;
    }
    for (unsigned u = 0; u < 2; u++) {
        IDETaskFile *tf = &ch->drive[u].tf;

        switch (reg) {
        case 1:
            latch(&tf->feature, &tf->hob_feature, v);
            break;
        case 2:
            latch(&tf->nsector, &tf->hob_nsector, v);
            break;
        case 3:
            latch(&tf->lbal, &tf->hob_lbal, v);
            break;
        case 4:
            latch(&tf->lbam, &tf->hob_lbam, v);
            break;
        case 5:
            latch(&tf->lbah, &tf->hob_lbah, v);
            break;
        default:
            tf->select = v & 0x5f;
            break;
        }
    }
    if (reg == 6) {
        ch->cur = (v & DEV_DEV) ? 1 : 0;
        ide_update_irq(ch);
    }
}

static uint64_t cmd_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEChannel *ch = opaque;
    uint64_t v = 0;

    if (addr == 0) {
        return data_read(ch, size);
    }
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        v |= (uint64_t)reg_read(ch, (unsigned)addr + i) << (8 * i);
    }
    return v;
}

static void cmd_write(void *opaque, uint64_t addr, uint64_t value,
                      unsigned size)
{
    IDEChannel *ch = opaque;

    if (addr == 0) {
        data_write(ch, (uint32_t)value, size);
        return;
    }
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        reg_write(ch, (unsigned)addr + i, (uint8_t)(value >> (8 * i)));
    }
}

const MemoryRegionOps ide_cmd_ops = {
    .read = cmd_read,
    .write = cmd_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- control block ---- */

static uint64_t ctl_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEChannel *ch = opaque;
    IDEDrive *d = cur_drive(ch);

    return present(d) ? d->status : 0;
}

static void ctl_write(void *opaque, uint64_t addr, uint64_t value,
                      unsigned size)
{
    IDEChannel *ch = opaque;
    uint8_t old = ch->ctl, v = (uint8_t)value;

    ch->ctl = v;
    if (!(old & CTL_SRST) && (v & CTL_SRST)) {
        for (unsigned u = 0; u < 2; u++) {
            if (present(&ch->drive[u])) {
                begin_reset(&ch->drive[u]);
            }
        }
        ch->cur = 0;
    } else if ((old & CTL_SRST) && !(v & CTL_SRST)) {
        for (unsigned u = 0; u < 2; u++) {
            IDEDrive *d = &ch->drive[u];

            if (present(d) && d->reset_pending && !d->aio_busy) {
                finish_reset(d);
            }
        }
        ch->cur = 0;
    }
    ide_update_irq(ch);
}

const MemoryRegionOps ide_ctl_ops = {
    .read = ctl_read,
    .write = ctl_write,
    .min_access = 1,
    .max_access = 1,
};
