/*
 * The parts of the IDE model that share state: a channel (the ATA
 * command and control block registers, two device slots, the INTRQ line
 * and its bus-master DMA engine) and a drive (an ATA disk or an ATAPI
 * CD-ROM with its task file, status and the command in progress).
 *
 * Register and protocol facts follow ATA/ATAPI-6 (T13/1410D): sections
 * 7 (registers), 8 (commands), 9 (protocols); bus-master DMA follows
 * SFF-8038i; ATAPI packet commands follow MMC-3 and SPC-3.
 *
 * Threads: register handlers run with the machine lock held (vCPU
 * threads); block-layer completions arrive on the main loop and take the
 * machine lock before touching the drive.
 */
#ifndef KESTREL_HW_IDE_IDE_INTERNAL_H
#define KESTREL_HW_IDE_IDE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/block-backend.h"
#include "core/irq.h"
#include "core/memory.h"
#include "hw/ide/ide.h"

#define IDE_SECTOR_SIZE 512
#define CD_BLOCK_SIZE 2048
#define IDE_BUF_SIZE (128 * 1024)
#define IDE_BUF_SECTORS (IDE_BUF_SIZE / IDE_SECTOR_SIZE)
#define IDE_MAX_MULT_SECTORS 16
/* A PRD table may not cross a 64 KiB boundary: at most 8192 entries. */
#define IDE_MAX_PRD 8192

/* Status register (ATA-6 7.15.6). */
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DF 0x20
#define ST_DSC 0x10
#define ST_DRQ 0x08
#define ST_ERR 0x01

/* Error register (ATA-6 7.9.6). */
#define ERR_AMNF 0x01
#define ERR_ABRT 0x04
#define ERR_IDNF 0x10
#define ERR_UNC 0x40
#define DIAG_PASSED 0x01
#define DIAG_DEV1_FAILED 0x80

/* Device control register (ATA-6 7.8). */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB 0x80

/* Device register. */
#define DEV_LBA 0x40
#define DEV_DEV 0x10

/* ATAPI interrupt reason (the sector count register during PACKET). */
#define IR_COD 0x01
#define IR_IO 0x02

/* Bus-master IDE registers (SFF-8038i section 2). */
#define BM_CMD_START 0x01
#define BM_CMD_WRITE 0x08 /* the controller writes memory (device read) */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_DMA_CAPABLE 0x60

typedef struct IDEChannel IDEChannel;
typedef struct IDEDrive IDEDrive;

/* What the drive does when the host has moved the current PIO block. */
typedef enum IDEPioNext {
    PIO_NEXT_END,         /* the command completes (status only) */
    PIO_NEXT_ATA_READ,
    PIO_NEXT_ATA_WRITE,
    PIO_NEXT_PACKET_CDB,  /* the 12-byte command packet arrived */
    PIO_NEXT_ATAPI_DATA,
} IDEPioNext;

typedef enum IDEDmaOp {
    DMA_NONE,
    DMA_DISK_TO_MEM,   /* read from the image into the PRD regions */
    DMA_MEM_TO_DISK,   /* write the PRD regions to the image */
    DMA_BUF_TO_MEM,    /* copy the drive's buffer (ATAPI replies) */
} IDEDmaOp;

/* Command block registers as a drive latches them; the hob_ copies are the
 * previous writes (the "high order bytes" of 48-bit commands). */
typedef struct IDETaskFile {
    uint8_t feature, nsector, lbal, lbam, lbah;
    uint8_t hob_feature, hob_nsector, hob_lbal, hob_lbam, hob_lbah;
    uint8_t select;
} IDETaskFile;

struct IDEDrive {
    IDEChannel *ch;
    uint8_t unit;
    uint8_t kind;          /* IDEMedia, or IDE_MEDIA_NONE for an empty slot */
    BlockBackend *blk;     /* NULL: no medium (CD-ROM) */
    uint64_t nb_sectors;   /* disk: 512-byte sectors; CD: 2048-byte blocks */
    char serial[21];
    char model[41];

    IDETaskFile tf;
    uint8_t status;
    uint8_t error;
    bool irq_pending;

    /* ATA settings. */
    uint8_t mult_sectors;  /* 0: READ/WRITE MULTIPLE disabled */
    uint8_t xfer_mode;     /* SET FEATURES 03h value */
    bool write_cache;
    bool lookahead;
    bool standby;
    bool error_reported;   /* an I/O error was logged once */
    uint16_t cyls, heads, secs;         /* default geometry */
    uint16_t cur_heads, cur_secs;       /* INITIALIZE DEVICE PARAMETERS */

    /* The command in progress. */
    uint8_t cmd;
    uint64_t lba;          /* next sector/block to fetch or store */
    uint32_t remaining;    /* sectors/blocks left to fetch or store */
    uint32_t drq_sectors;  /* ATA PIO: sectors per DRQ block */
    uint32_t chunk_bytes;  /* bytes of buf in use by the current chunk */
    uint32_t buf_pos;      /* start of the current PIO block in buf */
    uint8_t pio_next;      /* IDEPioNext */
    bool pio_in;           /* data flows device -> host */
    uint32_t data_pos, data_end; /* host-visible window of buf */

    /* Asynchronous block I/O: one request at most. */
    bool aio_busy;
    bool reset_pending;    /* a reset waits for the request in flight */
    bool aio_is_dma;       /* the request is the bus-master engine's */
    void (*aio_done)(IDEDrive *d, int ret);

    /* DMA request, served by the channel's bus-master engine. */
    uint8_t dma_op;        /* IDEDmaOp */
    uint64_t dma_offset;   /* image byte offset of dma_done */
    uint64_t dma_total, dma_done;
    uint32_t dma_unit;     /* image transfers move whole units */
    void (*dma_complete)(IDEDrive *d, int ret);

    /* ATAPI. */
    uint8_t cdb[12];
    bool atapi_dma;
    uint32_t byte_limit;   /* PIO: bytes per DRQ, from the cylinder regs */
    uint64_t atapi_left;   /* bytes of the reply not yet moved */
    uint8_t sense_key, asc, ascq;
    bool unit_attention;
    bool tray_open;
    bool locked;
    uint8_t media_event;   /* GET EVENT STATUS NOTIFICATION media event */

    uint8_t buf[IDE_BUF_SIZE]; /* PIO data, ATAPI replies */
};

typedef struct BMDMA {
    uint8_t cmd;
    uint8_t status;
    uint32_t prd_table;
    bool in_flight;        /* a block request moves PRD data now */
    uint64_t pending;      /* bytes that request moves */
    bool exhausted;        /* the last run used up the PRD table exactly */
    unsigned niov;
    struct iovec *iov;     /* IDE_MAX_PRD entries, allocated at init */
    uint64_t *gpa;         /* guest address of each iov entry */
} BMDMA;

struct IDEChannel {
    IDEDrive drive[2];
    uint8_t index;
    uint8_t ctl;           /* device control */
    uint8_t cur;           /* selected device */
    const IrqLine *irq;
    bool irq_level;
    AddressSpace *dma_as;
    GMutex *lock;          /* the machine lock, for completions */
    bool (*master_enabled)(void *opaque);
    void *master_opaque;
    BMDMA bm;
    MemoryRegion cmd_mr;   /* 8 ports at 0x1f0 / 0x170 */
    MemoryRegion ctl_mr;   /* 1 port at 0x3f6 / 0x376 */
};

/* ide-bus.c: channel registers, selection, INTRQ, PIO blocks, reset. */
void ide_channel_init(IDEChannel *ch, unsigned index, const IrqLine *irq,
                      AddressSpace *dma_as, GMutex *lock);
void ide_channel_cleanup(IDEChannel *ch);
void ide_channel_reset(IDEChannel *ch);
extern const MemoryRegionOps ide_cmd_ops;
extern const MemoryRegionOps ide_ctl_ops;
void ide_drive_setup(IDEDrive *d, IDEMedia media, BlockBackend *blk,
                     const char *serial, const char *model);
void ide_set_irq(IDEDrive *d);
void ide_update_irq(IDEChannel *ch);
/* Drive the line from the state, whatever it was (after loading state). */
void ide_sync_irq(IDEChannel *ch);
/* Make buf[pos, pos + len) the next PIO block; DRQ is set. */
void ide_pio_block(IDEDrive *d, uint32_t pos, uint32_t len, bool in,
                   IDEPioNext next);
void ide_cmd_ok(IDEDrive *d);   /* DRDY, INTRQ */
void ide_cmd_error(IDEDrive *d, uint8_t error); /* DRDY|ERR, INTRQ */
/* Start a block request into/from buf (or iov); done runs with the lock
 * held, unless a reset came in between. */
void ide_aio_submit(IDEDrive *d, bool write, uint64_t offset,
                    const struct iovec *iov, int niov,
                    void (*done)(IDEDrive *d, int ret));
void ide_aio_read(IDEDrive *d, uint64_t offset, uint32_t len,
                  void (*done)(IDEDrive *d, int ret));
void ide_aio_write(IDEDrive *d, uint64_t offset, uint32_t len,
                   void (*done)(IDEDrive *d, int ret));
void ide_aio_flush(IDEDrive *d, void (*done)(IDEDrive *d, int ret));
/* Ask the bus-master engine to move dma_total bytes. */
void ide_dma_request(IDEDrive *d, IDEDmaOp op, uint64_t offset,
                     uint64_t total, uint32_t unit,
                     void (*complete)(IDEDrive *d, int ret));
void ide_set_signature(IDEDrive *d);
void ide_io_error_report(IDEDrive *d, const char *what);

/* ata.c: the ATA command set. */
void ata_exec(IDEDrive *d, uint8_t cmd);
void ata_pio_next(IDEDrive *d);
void ata_identify(IDEDrive *d, uint16_t *id);
void ata_default_geometry(IDEDrive *d);
void ata_dma_done(IDEDrive *d, int ret);

/* atapi.c: the PACKET command set. */
void atapi_packet(IDEDrive *d);
void atapi_cdb_received(IDEDrive *d);
void atapi_data_next(IDEDrive *d);
void atapi_identify(IDEDrive *d, uint16_t *id);
void atapi_reset(IDEDrive *d);
void atapi_change_medium(IDEDrive *d, BlockBackend *blk);
void atapi_dma_done(IDEDrive *d, int ret);

/* identify.c: strings and the checksum shared by both IDENTIFY commands. */
void ide_id_string(uint16_t *id, unsigned word, unsigned nwords,
                   const char *s);
void ide_id_checksum(uint16_t *id);
void ide_id_to_buf(IDEDrive *d, const uint16_t *id);

/* bmdma.c: the bus-master engine of a channel. */
void bmdma_init(BMDMA *bm);
void bmdma_cleanup(BMDMA *bm);
void bmdma_reset(BMDMA *bm);
uint8_t bmdma_read(IDEChannel *ch, unsigned reg);
void bmdma_write(IDEChannel *ch, unsigned reg, uint8_t value);
void bmdma_kick(IDEChannel *ch);

#endif
