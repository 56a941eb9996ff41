/*
 * The -drive option and its short forms (-hda..-hdd, -cdrom, -snapshot),
 * spelled as in QEMU: parsing, then opening the images for the machine
 * (format probing, read-only and snapshot modes, cache modes, image
 * locking) and creating the devices of if=virtio drives.  The drives
 * themselves are hw/block/drive.h's; this file makes them.
 *
 * Start-up order (system/main.c): drives_open() before the board's devices
 * (so controllers can claim drives), drives_create_devices() after them,
 * then -device, then drives_check_claimed().
 */
#ifndef KESTREL_SYSTEM_DRIVE_H
#define KESTREL_SYSTEM_DRIVE_H

#include <glib.h>
#include <stdbool.h>

#include "hw/block/drive.h"

typedef struct DriveOptions {
    char *file;            /* NULL: none (empty CD-ROM) */
    char *format;          /* "raw", "qcow2"; NULL: probe */
    char *id;              /* NULL: generated */
    char *cache;           /* NULL: writeback */
    DriveIf iface;
    DriveMedia media;
    int index;             /* -1: next free */
    int bus, unit;         /* -1: not given (IDE: index = bus * 2 + unit) */
    bool read_only;
    bool snapshot;
    bool discard_unmap;    /* discard=unmap */
} DriveOptions;

/* Parse "file=x.img,if=virtio,..." (",," in a value is a comma).  Checks
 * each value and the combination; touches no file.  On failure *o is
 * cleared. */
bool drive_parse(const char *spec, DriveOptions *o, GError **errp);
void drive_options_clear(DriveOptions *o);

/* Parse, check and open every -drive; add the drives to m.  snapshot_all
 * is -snapshot. */
bool drives_open(Machine *m, const char *const *specs, unsigned nr,
                 bool snapshot_all, GError **errp);
/* Give a removable drive a new medium, opened read-only and locked as
 * -drive would (file NULL: no medium).  On failure nothing changes.  The
 * caller makes sure no device request uses the old medium (it is closed)
 * and tells the device. */
bool drive_replace_medium(Machine *m, Drive *d, const char *file,
                          const char *format, GError **errp);
/* One ide-hd/ide-cd per if=ide drive and one virtio-blk-pci per if=virtio
 * drive, in index order. */
bool drives_create_devices(Machine *m, GError **errp);
/* Every drive must have a device by now. */
bool drives_check_claimed(Machine *m, GError **errp);
/* Flush and close every image, release the locks (at exit). */
void drives_close_all(Machine *m);

#endif
