/*
 * The IDE controller of the pc machine (the PIIX3 IDE function, PCI 01.1)
 * as the board and the drive devices see it: attach a disk or CD-ROM to a
 * channel (bus 0 = primary, 1 = secondary) and unit (0 = master,
 * 1 = slave), and change a CD-ROM's medium.
 */
#ifndef KESTREL_HW_IDE_IDE_H
#define KESTREL_HW_IDE_IDE_H

#include <glib.h>
#include <stdbool.h>

#include "block/block-backend.h"
#include "core/device.h"

typedef enum IDEMedia {
    IDE_MEDIA_NONE = 0, /* an empty slot */
    IDE_MEDIA_DISK,
    IDE_MEDIA_CDROM,
} IDEMedia;

#define IDE_NR_BUSES 2
#define IDE_NR_UNITS 2

extern const DeviceClass piix3_ide_class;
extern const DeviceClass ide_hd_class;
extern const DeviceClass ide_cd_class;

/* The machine's IDE controller, or NULL. */
Device *ide_controller(Machine *m);

/* Attach a drive.  blk may be NULL only for a CD-ROM (no medium); writes
 * to a disk on a read-only blk fail with ABRT.  serial/model may be NULL
 * for defaults.  The caller keeps owning blk. */
bool ide_attach(Device *ctrl, unsigned bus, unsigned unit, IDEMedia media,
                BlockBackend *blk, const char *serial, const char *model,
                GError **errp);
/* Is the slot taken? */
bool ide_unit_used(Device *ctrl, unsigned bus, unsigned unit);

/* Replace a CD-ROM's medium (NULL: eject).  Returns the old medium in
 * *old (the caller closes it) or false with errp when the drive is locked
 * by the guest (unless force) or busy.  ide_cd_change_allowed() makes the
 * same checks without changing anything. */
bool ide_cd_change_allowed(Device *ctrl, unsigned bus, unsigned unit,
                           bool force, GError **errp);
bool ide_cd_change(Device *ctrl, unsigned bus, unsigned unit,
                   BlockBackend *blk, bool force, BlockBackend **old,
                   GError **errp);
/* The slot an ide-hd/ide-cd device sits in; false for other devices. */
bool ide_device_slot(Device *dev, unsigned *bus, unsigned *unit);

#endif
