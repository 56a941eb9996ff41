/*
 * Drives: the disk images a machine's disk controllers use.  system/drive.c
 * builds them from -drive/-hda/-cdrom (opens the image, locks it, probes its
 * format) before any device exists; disk controllers find them here, by id
 * (-device virtio-blk-pci,drive=ID) or by interface and index (if=ide
 * index=N), and claim them.  A drive has at most one device.
 *
 * if=ide drives (-hda, -cdrom, or -drive with no if=) become ide-hd/ide-cd
 * devices (system/drive.c, drives_create_devices) on bus index / 2, unit
 * index % 2; hw/ide/ide-dev.c claims them like any drive=ID.  Drives left
 * unclaimed make start-up fail (drives_check_claimed).
 *
 * All of this runs on the main thread before the vCPUs start; drives live
 * until the machine is torn down (drives_close_all in system/drive.c).
 */
#ifndef KESTREL_HW_BLOCK_DRIVE_H
#define KESTREL_HW_BLOCK_DRIVE_H

#include <glib.h>
#include <stdbool.h>

#include "core/device.h"

typedef struct BlockBackend BlockBackend;

typedef enum DriveIf {
    DRIVE_IF_NONE,    /* only for -device ...,drive=ID */
    DRIVE_IF_IDE,     /* the PIIX3 IDE channels (QEMU's default on pc) */
    DRIVE_IF_VIRTIO,  /* a virtio-blk-pci device is created for it */
} DriveIf;

typedef enum DriveMedia {
    DRIVE_MEDIA_DISK,
    DRIVE_MEDIA_CDROM,
} DriveMedia;

/* IDE: two channels of two units. */
#define DRIVE_IDE_MAX_INDEX 4

typedef struct Drive {
    char *id;             /* user's id=, or generated (ide0-hd0, virtio0) */
    DriveIf iface;
    DriveMedia media;
    int index;            /* IDE: bus * 2 + unit; virtio: n-th; none: -1 */
    bool read_only;       /* readonly=on, or a CD-ROM */
    char *filename;       /* NULL: no medium (an empty CD-ROM drive) */
    const char *format;   /* "raw"/"qcow2" as opened (probed or given) */
    BlockBackend *blk;    /* NULL: no medium */
    Device *claimed_by;   /* the device using it, or NULL */
} Drive;

/* The drive with this id, or NULL. */
Drive *drive_find(Machine *m, const char *id);
/* The drive of interface iface at index, or NULL. */
Drive *drive_find_by_index(Machine *m, DriveIf iface, int index);
/* Iterate the drives of one interface in index order: start with
 * prev = NULL; returns NULL after the last. */
Drive *drive_next(Machine *m, DriveIf iface, const Drive *prev);
/* Give the drive to dev.  Fails if another device has it already. */
bool drive_claim(Drive *d, Device *dev, GError **errp);
/* drive_find + drive_claim with the errors a drive=ID property needs
 * ("no drive with id", "already in use"), prefixed with the device type. */
Drive *drive_claim_by_id(Machine *m, const char *id, Device *dev,
                         GError **errp);
/* Add a drive to the machine (system/drive.c).  False if the table is full. */
bool drive_add(Machine *m, Drive *d, GError **errp);

const char *drive_if_name(DriveIf iface);

#endif
