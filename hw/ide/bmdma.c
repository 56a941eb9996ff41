/*
 * The bus-master IDE engine of one channel (SFF-8038i rev 1.0, "Bus
 * Master Programming Interface for IDE ATA Controllers"; PIIX3 datasheet
 * section 2.7): command register (start/stop, direction), status register
 * (active, error, interrupt, drive DMA capable bits), and the physical
 * region descriptor (PRD) table pointer.  Each PRD is 8 bytes: a 32-bit
 * even memory address, a 16-bit even byte count (0 = 64 KiB) and bit 31
 * of the second dword marking the end of the table (EOT).
 *
 * Every guest value is checked: the table must be RAM and end within the
 * 64 KiB page it starts in (else: error bit, command aborted), each region
 * must lie wholly in writable RAM (else the same), and the engine moves
 * at most what the device asked for.  When the PRDs describe less than the
 * transfer, the engine moves the whole units they cover, stops (active
 * and interrupt clear, as SFF-8038i's status table says) and the device
 * keeps waiting for the guest to restart the engine with more regions.
 * When they describe more, the command completes with active still set.
 *
 * The direction bit is not consulted: the device's command decides which
 * way data flows, so a mismatched bit cannot make the engine do anything
 * the command did not ask for.
 */
#include <errno.h>
#include <string.h>

#include "hw/ide/ide-internal.h"

#define PRD_EOT 0x80000000u

void bmdma_init(BMDMA *bm)
{
    bm->iov = g_new(struct iovec, IDE_MAX_PRD);
    bm->gpa = g_new(uint64_t, IDE_MAX_PRD);
}

void bmdma_cleanup(BMDMA *bm)
{
    g_free(bm->iov);
    bm->iov = NULL;
    g_free(bm->gpa);
    bm->gpa = NULL;
}

void bmdma_reset(BMDMA *bm)
{
    bm->cmd = 0;
    bm->status = 0;
    bm->prd_table = 0;
    bm->exhausted = false;
}

static bool region_writable(AddressSpace *as, uint64_t addr)
{
    const FlatRange *fr = flatview_lookup(address_space_view(as), addr);

    return fr && !fr->mr->readonly_for_guest;
}

static void add_iov(BMDMA *bm, uint64_t gpa, uint8_t *p, size_t n)
{
    struct iovec *last = bm->niov ? &bm->iov[bm->niov - 1] : NULL;

    if (last && (uint8_t *)last->iov_base + last->iov_len == p &&
        bm->gpa[bm->niov - 1] + last->iov_len == gpa) {
        last->iov_len += n;
        return;
    }
    bm->iov[bm->niov].iov_base = p;
    bm->iov[bm->niov].iov_len = n;
    bm->gpa[bm->niov] = gpa;
    bm->niov++;
}

/* Drop bytes from the end of the iovec list. */
static void trim_iov(BMDMA *bm, uint64_t excess)
{
    while (excess && bm->niov) {
        struct iovec *last = &bm->iov[bm->niov - 1];

        if (last->iov_len > excess) {
            last->iov_len -= excess;
            return;
        }
        excess -= last->iov_len;
        bm->niov--;
    }
}

static void fail(IDEChannel *ch, IDEDrive *d)
{
    ch->bm.status = (uint8_t)((ch->bm.status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
    d->dma_complete(d, -EFAULT);
}

static void finish_run(IDEChannel *ch, IDEDrive *d, uint64_t moved)
{
    BMDMA *bm = &ch->bm;

    d->dma_done += moved;
    if (d->dma_done < d->dma_total) {
        /* The PRDs ran out first: stop and let the guest supply more. */
        bm->status &= (uint8_t)~BM_ST_ACTIVE;
        return;
    }
    if (bm->exhausted) {
        bm->status &= (uint8_t)~BM_ST_ACTIVE;
    }
    d->dma_complete(d, 0);
}

static void aio_done(IDEDrive *d, int ret)
{
    IDEChannel *ch = d->ch;

    d->status &= (uint8_t)~ST_BSY;
    if (ret < 0) {
        ch->bm.status &= (uint8_t)~BM_ST_ACTIVE;
        d->dma_complete(d, ret);
        return;
    }
    if (d->dma_op != DMA_MEM_TO_DISK) {
        /* data read from the disk may be code the guest runs next */
        for (unsigned i = 0; i < ch->bm.niov; i++) {
            address_space_notify_written(ch->dma_as, ch->bm.gpa[i],
                                         ch->bm.iov[i].iov_len);
        }
    }
    finish_run(ch, d, ch->bm.pending);
}

/* Walk the PRD table and move what it describes, up to what d wants. */
static void run(IDEChannel *ch, IDEDrive *d)
{
    BMDMA *bm = &ch->bm;
    AddressSpace *as = ch->dma_as;
    uint64_t need = d->dma_total - d->dma_done;
    uint64_t got = 0;
    uint32_t prd = bm->prd_table;
    uint32_t page = prd & ~0xffffu;
    bool to_mem = d->dma_op != DMA_MEM_TO_DISK;

    bm->niov = 0;
    bm->exhausted = false;
    while (got < need) {
        uint8_t e[8];
        uint32_t addr, len;
        uint64_t n;

        if ((prd & ~0xffffu) != page || !dma_read(as, prd, e, sizeof(e))) {
            fail(ch, d);
            return;
        }
        prd += 8;
        addr = ld32(e) & ~1u;
        len = ld32(e + 4) & 0xfffe;
        len = len ? len : 0x10000;
        n = len < need - got ? len : need - got;
        if (d->dma_op == DMA_BUF_TO_MEM) {
            if (!dma_write(as, addr, d->buf + d->dma_done + got, n)) {
                fail(ch, d);
                return;
            }
        } else {
            uint8_t *p = address_space_ram_ptr(as, addr, n);

            if (!p || (to_mem && !region_writable(as, addr))) {
                fail(ch, d);
                return;
            }
            add_iov(bm, addr, p, n);
        }
        got += n;
        if (ld32(e + 4) & PRD_EOT) {
            bm->exhausted = n == len;
            break;
        }
    }
    if (got < need) {
        uint64_t whole = got / d->dma_unit * d->dma_unit;

        trim_iov(bm, got - whole);
        got = whole;
    }
    if (d->dma_op == DMA_BUF_TO_MEM || got == 0) {
        finish_run(ch, d, got);
        return;
    }
    bm->pending = got;
    bm->in_flight = true;
    d->aio_is_dma = true;
    ide_aio_submit(d, d->dma_op == DMA_MEM_TO_DISK, d->dma_offset + d->dma_done,
                   bm->iov, (int)bm->niov, aio_done);
}

void bmdma_kick(IDEChannel *ch)
{
    BMDMA *bm = &ch->bm;
    IDEDrive *d = &ch->drive[ch->cur];

    if (!(bm->cmd & BM_CMD_START) || !(bm->status & BM_ST_ACTIVE) ||
        bm->in_flight) {
        return;
    }
    if (d->dma_op == DMA_NONE) {
        d = &ch->drive[!ch->cur];
    }
    if (d->dma_op == DMA_NONE || d->aio_busy || d->reset_pending) {
        return;
    }
    if (ch->master_enabled && !ch->master_enabled(ch->master_opaque)) {
        return;
    }
    run(ch, d);
}

uint8_t bmdma_read(IDEChannel *ch, unsigned reg)
{
    BMDMA *bm = &ch->bm;

    switch (reg) {
    case 0:
        return bm->cmd;
    case 2:
        return bm->status;
    case 4:
    case 5:
    case 6:
    case 7:
        return (uint8_t)(bm->prd_table >> (8 * (reg - 4)));
    default:
        return 0;
    }
}

void bmdma_write(IDEChannel *ch, unsigned reg, uint8_t value)
{
    BMDMA *bm = &ch->bm;

    switch (reg) {
    case 0: {
        uint8_t old = bm->cmd;

        bm->cmd = value & (BM_CMD_START | BM_CMD_WRITE);
        if (!(old & BM_CMD_START) && (value & BM_CMD_START)) {
            bm->status |= BM_ST_ACTIVE;
            bmdma_kick(ch);
        } else if ((old & BM_CMD_START) && !(value & BM_CMD_START)) {
            bm->status &= (uint8_t)~BM_ST_ACTIVE;
        }
        break;
    }
    case 2:
        bm->status = (uint8_t)((bm->status & ~BM_ST_DMA_CAPABLE) |
                               (value & BM_ST_DMA_CAPABLE));
        bm->status &= (uint8_t)~(value & (BM_ST_ERROR | BM_ST_INTR));
        break;
    case 4:
    case 5:
    case 6:
    case 7: {
        unsigned shift = 8 * (reg - 4);

        bm->prd_table &= ~(0xffu << shift);
        bm->prd_table |= (uint32_t)value << shift;
        bm->prd_table &= ~3u;
        break;
    }
    default:
        break;
    }
}
