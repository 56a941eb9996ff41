/*
 * The drives a user puts on the IDE channels, as QEMU spells them:
 * `-device ide-hd,drive=ID[,bus=ide.0|ide.1][,unit=0|1]` (a disk) and
 * `-device ide-cd[,drive=ID][,bus=...][,unit=...]` (an ATAPI CD-ROM drive,
 * empty without drive=).  Each one claims its drive (hw/block/drive.h)
 * and attaches it to a slot of the PIIX3 IDE function, which holds all
 * the drive state; these devices only carry the configuration.
 */
#include <string.h>

#include "block/block-backend.h"
#include "core/error.h"
#include "hw/block/drive.h"
#include "hw/ide/ide.h"
#include "hw/machine.h"

#define UNIT_ANY 0xff

typedef struct IDEDevConfig {
    Device parent;
    char *drive;
    char *bus;
    uint8_t unit;
    char *serial;
    char *model;
    unsigned attached_bus, attached_unit;
} IDEDevConfig;

static bool parse_bus(const char *s, int *bus, GError **errp)
{
    if (!s) {
        *bus = -1;
        return true;
    }
    if (!strcmp(s, "ide.0") || !strcmp(s, "ide.1")) {
        *bus = s[4] - '0';
        return true;
    }
    error_setg(errp, "bus '%s' not found (the IDE buses are ide.0 and ide.1)",
               s);
    return false;
}

/* The first free slot matching the requested bus and unit (-1: any). */
static bool pick_slot(Device *ctrl, int bus, int unit, unsigned *out_bus,
                      unsigned *out_unit, GError **errp)
{
    for (unsigned b = 0; b < IDE_NR_BUSES; b++) {
        for (unsigned u = 0; u < IDE_NR_UNITS; u++) {
            if ((bus < 0 || (unsigned)bus == b) &&
                (unit < 0 || (unsigned)unit == u) &&
                !ide_unit_used(ctrl, b, u)) {
                *out_bus = b;
                *out_unit = u;
                return true;
            }
        }
    }
    if (bus >= 0 && unit >= 0) {
        error_setg(errp, "IDE unit %d on bus ide.%d is already in use", unit,
                   bus);
    } else {
        error_setg(errp, "no free IDE slot%s", bus >= 0 ? " on this bus" : "");
    }
    return false;
}

static bool realize(Device *dev, IDEMedia media, GError **errp)
{
    IDEDevConfig *c = (IDEDevConfig *)dev;
    Device *ctrl = ide_controller(dev->machine);
    BlockBackend *blk = NULL;
    unsigned bus, unit;
    int want_bus;

    if (!ctrl) {
        error_setg(errp, "%s: this machine has no IDE controller",
                   dev->cls->name);
        return false;
    }
    if (c->unit != UNIT_ANY && c->unit >= IDE_NR_UNITS) {
        error_setg(errp, "%s: unit %u does not exist (0 = master, 1 = slave)",
                   dev->cls->name, c->unit);
        return false;
    }
    if (!parse_bus(c->bus, &want_bus, errp)) {
        g_prefix_error(errp, "%s: ", dev->cls->name);
        return false;
    }
    if (media == IDE_MEDIA_DISK && !c->drive) {
        error_setg(errp, "ide-hd: drive property not set (-device "
                   "ide-hd,drive=ID with -drive if=none,id=ID,file=...)");
        return false;
    }
    if (!pick_slot(ctrl, want_bus, c->unit == UNIT_ANY ? -1 : c->unit, &bus,
                   &unit, errp)) {
        g_prefix_error(errp, "%s: ", dev->cls->name);
        return false;
    }
    if (c->drive) {
        Drive *d = drive_find(dev->machine, c->drive);

        if (d && media == IDE_MEDIA_DISK &&
            (d->media == DRIVE_MEDIA_CDROM || !d->blk)) {
            error_setg(errp, "ide-hd: drive '%s' is a CD-ROM or has no image "
                       "(use -device ide-cd)", c->drive);
            return false;
        }
        d = drive_claim_by_id(dev->machine, c->drive, dev, errp);
        if (!d) {
            return false;
        }
        blk = d->blk;
    }
    if (!ide_attach(ctrl, bus, unit, media, blk, c->serial, c->model, errp)) {
        g_prefix_error(errp, "%s: ", dev->cls->name);
        return false;
    }
    c->attached_bus = bus;
    c->attached_unit = unit;
    return true;
}

static bool ide_hd_realize(Device *dev, GError **errp)
{
    return realize(dev, IDE_MEDIA_DISK, errp);
}

static bool ide_cd_realize(Device *dev, GError **errp)
{
    return realize(dev, IDE_MEDIA_CDROM, errp);
}

static const Property ide_dev_props[] = {
    DEFINE_PROP_STRING(IDEDevConfig, "drive", drive, NULL,
                       "the -drive id of the image"),
    DEFINE_PROP_STRING(IDEDevConfig, "bus", bus, NULL,
                       "ide.0 (primary) or ide.1 (secondary); default: the "
                       "first with a free unit"),
    DEFINE_PROP_U8(IDEDevConfig, "unit", unit, "255",
                   "0 (master) or 1 (slave); default: the first free"),
    DEFINE_PROP_STRING(IDEDevConfig, "serial", serial, NULL,
                       "serial number in IDENTIFY data (20 characters)"),
    DEFINE_PROP_STRING(IDEDevConfig, "model", model, NULL,
                       "model name in IDENTIFY data (40 characters)"),
    DEFINE_PROP_END,
};

const DeviceClass ide_hd_class = {
    .name = "ide-hd",
    .description = "an ATA disk on the IDE controller",
    .instance_size = sizeof(IDEDevConfig),
    .props = ide_dev_props,
    .user_creatable = true,
    .realize = ide_hd_realize,
};

const DeviceClass ide_cd_class = {
    .name = "ide-cd",
    .description = "an ATAPI CD-ROM drive on the IDE controller",
    .instance_size = sizeof(IDEDevConfig),
    .props = ide_dev_props,
    .user_creatable = true,
    .realize = ide_cd_realize,
};

bool ide_device_slot(Device *dev, unsigned *bus, unsigned *unit)
{
    IDEDevConfig *c = (IDEDevConfig *)dev;

    if (!dev || (dev->cls != &ide_hd_class && dev->cls != &ide_cd_class) ||
        !dev->realized) {
        return false;
    }
    *bus = c->attached_bus;
    *unit = c->attached_unit;
    return true;
}
