/*
 * The IDE function of the Intel 82371SB (PIIX3), PCI 01.1 (82371FB/SB
 * datasheet, section 2.4 "PCI configuration registers - IDE interface"):
 * 8086:7010, class 01.01 with programming interface 80h (bus master,
 * both channels in compatibility mode at fixed ports), so the primary
 * channel is at 0x1f0-0x1f7/0x3f6 on IRQ 14 and the secondary at
 * 0x170-0x177/0x376 on IRQ 15, decoded while the command register's I/O
 * enable and the channel's IDETIM "IDE decode enable" bit (bit 15 of
 * 0x40/0x42) are set.  BAR4 (16 I/O ports) holds the two bus-master
 * register sets (SFF-8038i).  IDETIM/SIDETIM timing values are stored.
 *
 * There is no firmware in direct boot: reset leaves both channels'
 * decode enabled and the drives' "DMA capable" status bits set, as a BIOS
 * would.
 */
#include <string.h>

#include "core/error.h"
#include "hw/ide/ide-internal.h"
#include "hw/machine.h"
#include "hw/pci/pci.h"

#define PIIX_IDETIM 0x40
#define PIIX_SIDETIM 0x44
#define IDETIM_DECODE 0x8000
#define BM_BAR 4
#define BM_BAR_SIZE 16

static const uint16_t cmd_ports[2] = { 0x1f0, 0x170 };
static const uint16_t ctl_ports[2] = { 0x3f6, 0x376 };
static const unsigned channel_irqs[2] = { 14, 15 };

typedef struct PiixIdeState {
    PCIDevice pci;
    IDEChannel ch[IDE_NR_BUSES];
    MemoryRegion bm_mr;
    bool legacy_mapped[IDE_NR_BUSES];
} PiixIdeState;

static bool decodes(PiixIdeState *s, unsigned i)
{
    const uint8_t *c = s->pci.config;

    return (pci_get_word(c + PCI_COMMAND) & PCI_COMMAND_IO) &&
           (pci_get_word(c + PIIX_IDETIM + 2 * i) & IDETIM_DECODE);
}

static void update_legacy(PiixIdeState *s)
{
    AddressSpace *io = &s->pci.parent.machine->io;

    for (unsigned i = 0; i < IDE_NR_BUSES; i++) {
        bool want = decodes(s, i);

        if (want == s->legacy_mapped[i]) {
            continue;
        }
        if (want) {
            address_space_map(io, &s->ch[i].cmd_mr, cmd_ports[i], 0);
            address_space_map(io, &s->ch[i].ctl_mr, ctl_ports[i], 0);
        } else {
            address_space_unmap(io, &s->ch[i].cmd_mr);
            address_space_unmap(io, &s->ch[i].ctl_mr);
        }
        s->legacy_mapped[i] = want;
    }
}

static bool master_enabled(void *opaque)
{
    PiixIdeState *s = opaque;

    return pci_get_word(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER;
}

static void piix_ide_config_write(PCIDevice *dev, uint32_t addr,
                                  uint32_t value, unsigned size)
{
    PiixIdeState *s = (PiixIdeState *)dev;

    if (addr < PCI_COMMAND + 2 && addr + size > PCI_COMMAND) {
        update_legacy(s);
        for (unsigned i = 0; i < IDE_NR_BUSES; i++) {
            bmdma_kick(&s->ch[i]);
        }
    }
    if (addr < PIIX_IDETIM + 4 && addr + size > PIIX_IDETIM) {
        update_legacy(s);
    }
}

static uint64_t bm_read(void *opaque, uint64_t addr, unsigned size)
{
    PiixIdeState *s = opaque;

    return bmdma_read(&s->ch[addr >= 8], (unsigned)(addr & 7));
}

static void bm_write(void *opaque, uint64_t addr, uint64_t value,
                     unsigned size)
{
    PiixIdeState *s = opaque;

    bmdma_write(&s->ch[addr >= 8], (unsigned)(addr & 7), (uint8_t)value);
}

static const MemoryRegionOps bm_ops = {
    .read = bm_read,
    .write = bm_write,
    .min_access = 1,
    .max_access = 1,
};

static void set_dma_capable(IDEChannel *ch)
{
    for (unsigned u = 0; u < IDE_NR_UNITS; u++) {
        if (ch->drive[u].kind != IDE_MEDIA_NONE) {
            ch->bm.status |= (uint8_t)(0x20 << u);
        }
    }
}

static void piix_ide_reset(Device *dev)
{
    PiixIdeState *s = (PiixIdeState *)dev;
    uint8_t *c = s->pci.config;

    pci_device_reset(&s->pci);
    pci_set_word(c + PCI_STATUS, 0x0280); /* fast back-to-back, medium DEVSEL */
    memset(c + 0x40, 0, PCI_CONFIG_SPACE_SIZE - 0x40);
    pci_set_word(c + PIIX_IDETIM, IDETIM_DECODE);
    pci_set_word(c + PIIX_IDETIM + 2, IDETIM_DECODE);
    for (unsigned i = 0; i < IDE_NR_BUSES; i++) {
        ide_channel_reset(&s->ch[i]);
        set_dma_capable(&s->ch[i]);
    }
    update_legacy(s);
}

static bool piix_ide_realize(Device *dev, GError **errp)
{
    PiixIdeState *s = (PiixIdeState *)dev;
    Machine *m = dev->machine;

    pci_config_set_ids(&s->pci, 0x8086, 0x7010, 0x00, 0x010180);
    if (!pci_device_register(&s->pci, m->pci, PCI_DEVFN(1, 1), errp)) {
        return false;
    }
    for (unsigned a = PIIX_IDETIM; a <= PIIX_SIDETIM; a++) {
        s->pci.wmask[a] = 0xff;
    }
    s->pci.config_write = piix_ide_config_write;
    for (unsigned i = 0; i < IDE_NR_BUSES; i++) {
        ide_channel_init(&s->ch[i], i, &m->gsi[channel_irqs[i]], &m->mem,
                         &m->lock);
        s->ch[i].master_enabled = master_enabled;
        s->ch[i].master_opaque = s;
    }
    memory_region_init_io(&s->bm_mr, "piix-bmdma", &bm_ops, s, BM_BAR_SIZE);
    pci_register_bar(&s->pci, BM_BAR, PCI_BAR_IO, false, BM_BAR_SIZE,
                     &s->bm_mr);
    piix_ide_reset(dev);
    return true;
}

static void piix_ide_unrealize(Device *dev)
{
    PiixIdeState *s = (PiixIdeState *)dev;
    AddressSpace *io = &dev->machine->io;

    for (unsigned i = 0; i < IDE_NR_BUSES; i++) {
        if (s->legacy_mapped[i]) {
            address_space_unmap(io, &s->ch[i].cmd_mr);
            address_space_unmap(io, &s->ch[i].ctl_mr);
            s->legacy_mapped[i] = false;
        }
        ide_channel_cleanup(&s->ch[i]);
    }
    pci_device_unregister(&s->pci);
}

/* ---- state description ---- */

static const VMStateField drive_fields[] = {
    VMSTATE_BUFFER(IDEDrive, tf),
    VMSTATE_U8(IDEDrive, status),
    VMSTATE_U8(IDEDrive, error),
    VMSTATE_BOOL(IDEDrive, irq_pending),
    VMSTATE_U8(IDEDrive, mult_sectors),
    VMSTATE_U8(IDEDrive, xfer_mode),
    VMSTATE_BOOL(IDEDrive, write_cache),
    VMSTATE_BOOL(IDEDrive, lookahead),
    VMSTATE_BOOL(IDEDrive, standby),
    VMSTATE_U16(IDEDrive, cur_heads),
    VMSTATE_U16(IDEDrive, cur_secs),
    VMSTATE_U8(IDEDrive, cmd),
    VMSTATE_U64(IDEDrive, lba),
    VMSTATE_U32(IDEDrive, remaining),
    VMSTATE_U32(IDEDrive, drq_sectors),
    VMSTATE_U32(IDEDrive, chunk_bytes),
    VMSTATE_U32(IDEDrive, buf_pos),
    VMSTATE_U8(IDEDrive, pio_next),
    VMSTATE_BOOL(IDEDrive, pio_in),
    VMSTATE_U32(IDEDrive, data_pos),
    VMSTATE_U32(IDEDrive, data_end),
    VMSTATE_U8(IDEDrive, dma_op),
    VMSTATE_U64(IDEDrive, dma_offset),
    VMSTATE_U64(IDEDrive, dma_total),
    VMSTATE_U64(IDEDrive, dma_done),
    VMSTATE_U32(IDEDrive, dma_unit),
    VMSTATE_U8_ARRAY(IDEDrive, cdb),
    VMSTATE_BOOL(IDEDrive, atapi_dma),
    VMSTATE_U32(IDEDrive, byte_limit),
    VMSTATE_U64(IDEDrive, atapi_left),
    VMSTATE_U8(IDEDrive, sense_key),
    VMSTATE_U8(IDEDrive, asc),
    VMSTATE_U8(IDEDrive, ascq),
    VMSTATE_BOOL(IDEDrive, unit_attention),
    VMSTATE_BOOL(IDEDrive, tray_open),
    VMSTATE_BOOL(IDEDrive, locked),
    VMSTATE_U8(IDEDrive, media_event),
    VMSTATE_BUFFER(IDEDrive, buf),
    VMSTATE_END,
};

static const VMStateDescription drive_vmsd = {
    .name = "ide-drive",
    .version = 1,
    .fields = drive_fields,
};

static const VMStateField channel_fields[] = {
    VMSTATE_STRUCT_ARRAY(IDEChannel, drive, &drive_vmsd),
    VMSTATE_U8(IDEChannel, ctl),
    VMSTATE_U8(IDEChannel, cur),
    VMSTATE_U8(IDEChannel, bm.cmd),
    VMSTATE_U8(IDEChannel, bm.status),
    VMSTATE_U32(IDEChannel, bm.prd_table),
    VMSTATE_BOOL(IDEChannel, bm.exhausted),
    VMSTATE_END,
};

static const VMStateDescription channel_vmsd = {
    .name = "ide-channel",
    .version = 1,
    .fields = channel_fields,
};

/* Bring loaded values back inside what the code relies on. */
static void sanitize_drive(IDEDrive *d)
{
    if (d->data_end > IDE_BUF_SIZE || d->data_pos > d->data_end) {
        d->data_pos = d->data_end = 0;
        d->status &= (uint8_t)~ST_DRQ;
    }
    if (d->chunk_bytes > IDE_BUF_SIZE || d->buf_pos > d->chunk_bytes) {
        d->chunk_bytes = d->buf_pos = 0;
    }
    if (d->pio_next > PIO_NEXT_ATAPI_DATA) {
        d->pio_next = PIO_NEXT_END;
    }
    if (d->drq_sectors == 0 || d->drq_sectors > IDE_MAX_MULT_SECTORS) {
        d->drq_sectors = 1;
    }
    if (d->cur_heads == 0 || d->cur_heads > 16 || d->cur_secs == 0) {
        ata_default_geometry(d);
    }
    if (d->dma_op > DMA_BUF_TO_MEM || d->dma_done > d->dma_total ||
        d->dma_unit == 0 || d->kind == IDE_MEDIA_NONE ||
        (d->dma_op == DMA_BUF_TO_MEM && d->dma_total > IDE_BUF_SIZE)) {
        d->dma_op = DMA_NONE;
    }
    d->dma_complete = d->kind == IDE_MEDIA_CDROM ? atapi_dma_done
                                                 : ata_dma_done;
}

static bool piix_ide_post_load(void *opaque, GError **errp)
{
    PiixIdeState *s = opaque;

    for (unsigned i = 0; i < IDE_NR_BUSES; i++) {
        IDEChannel *ch = &s->ch[i];

        ch->cur &= 1;
        ch->bm.prd_table &= ~3u;
        for (unsigned u = 0; u < IDE_NR_UNITS; u++) {
            sanitize_drive(&ch->drive[u]);
        }
        ide_sync_irq(ch);
    }
    update_legacy(s);
    return pci_device_post_load(&s->pci, errp);
}

static const VMStateField piix_ide_fields[] = {
    VMSTATE_PCI_DEVICE(PiixIdeState, pci),
    VMSTATE_STRUCT_ARRAY(PiixIdeState, ch, &channel_vmsd),
    VMSTATE_END,
};

static const VMStateDescription piix_ide_vmsd = {
    .name = "piix3-ide",
    .version = 1,
    .fields = piix_ide_fields,
    .post_load = piix_ide_post_load,
};

const DeviceClass piix3_ide_class = {
    .name = "piix3-ide",
    .description = "Intel 82371SB IDE controller (PCI 01.1)",
    .instance_size = sizeof(PiixIdeState),
    .realize = piix_ide_realize,
    .unrealize = piix_ide_unrealize,
    .reset = piix_ide_reset,
    .vmsd = &piix_ide_vmsd,
};

/* ---- the board's and the drive devices' view ---- */

Device *ide_controller(Machine *m)
{
    for (unsigned i = 0; i < m->nr_devices; i++) {
        if (m->devices[i]->cls == &piix3_ide_class) {
            return m->devices[i];
        }
    }
    return NULL;
}

static IDEDrive *find_drive(Device *ctrl, unsigned bus, unsigned unit,
                            GError **errp)
{
    if (!ctrl || ctrl->cls != &piix3_ide_class) {
        error_setg(errp, "no IDE controller");
        return NULL;
    }
    if (bus >= IDE_NR_BUSES || unit >= IDE_NR_UNITS) {
        error_setg(errp, "IDE bus %u unit %u does not exist (bus 0-1, "
                   "unit 0-1)", bus, unit);
        return NULL;
    }
    return &((PiixIdeState *)ctrl)->ch[bus].drive[unit];
}

bool ide_unit_used(Device *ctrl, unsigned bus, unsigned unit)
{
    IDEDrive *d = find_drive(ctrl, bus, unit, NULL);

    return d && d->kind != IDE_MEDIA_NONE;
}

bool ide_attach(Device *ctrl, unsigned bus, unsigned unit, IDEMedia media,
                BlockBackend *blk, const char *serial, const char *model,
                GError **errp)
{
    IDEDrive *d = find_drive(ctrl, bus, unit, errp);

    if (!d) {
        return false;
    }
    if (d->kind != IDE_MEDIA_NONE) {
        error_setg(errp, "IDE bus %u unit %u is already in use", bus, unit);
        return false;
    }
    if (media == IDE_MEDIA_NONE || (media == IDE_MEDIA_DISK && !blk)) {
        error_setg(errp, "an IDE disk needs an image");
        return false;
    }
    if (media == IDE_MEDIA_DISK && blk_getlength(blk) < IDE_SECTOR_SIZE) {
        error_setg(errp, "an IDE disk needs an image of at least 512 bytes");
        return false;
    }
    ide_drive_setup(d, media, blk, serial, model);
    set_dma_capable(d->ch);
    return true;
}

bool ide_cd_change_allowed(Device *ctrl, unsigned bus, unsigned unit,
                           bool force, GError **errp)
{
    IDEDrive *d = find_drive(ctrl, bus, unit, errp);

    if (!d) {
        return false;
    }
    if (d->kind != IDE_MEDIA_CDROM) {
        error_setg(errp, "IDE bus %u unit %u is not a CD-ROM drive", bus, unit);
        return false;
    }
    if (d->locked && !force) {
        error_setg(errp, "the CD-ROM drive is locked by the guest (use -f "
                   "to force)");
        return false;
    }
    if (d->aio_busy || d->dma_op != DMA_NONE || d->atapi_left ||
        d->remaining) {
        error_setg(errp, "the CD-ROM drive is busy; try again");
        return false;
    }
    return true;
}

bool ide_cd_change(Device *ctrl, unsigned bus, unsigned unit,
                   BlockBackend *blk, bool force, BlockBackend **old,
                   GError **errp)
{
    if (!ide_cd_change_allowed(ctrl, bus, unit, force, errp)) {
        return false;
    }
    IDEDrive *d = find_drive(ctrl, bus, unit, errp);

    *old = d->blk;
    atapi_change_medium(d, blk);
    return true;
}
