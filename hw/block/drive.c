/*
 * The machine's table of drives and the claims disk controllers put on
 * them (see drive.h).
 */
#include "hw/block/drive.h"

#include <string.h>

#include "core/error.h"
#include "hw/machine.h"

const char *drive_if_name(DriveIf iface)
{
    switch (iface) {
    case DRIVE_IF_IDE:
        return "ide";
    case DRIVE_IF_VIRTIO:
        return "virtio";
    case DRIVE_IF_NONE:
    default:
        return "none";
    }
}

bool drive_add(Machine *m, Drive *d, GError **errp)
{
    if (m->nr_drives == MACHINE_MAX_DRIVES) {
        error_setg(errp, "too many drives (at most %d)", MACHINE_MAX_DRIVES);
        return false;
    }
    m->drives[m->nr_drives++] = d;
    return true;
}

Drive *drive_find(Machine *m, const char *id)
{
    for (unsigned i = 0; i < m->nr_drives; i++) {
        if (m->drives[i]->id && !strcmp(m->drives[i]->id, id)) {
            return m->drives[i];
        }
    }
    return NULL;
}

Drive *drive_find_by_index(Machine *m, DriveIf iface, int index)
{
    for (unsigned i = 0; i < m->nr_drives; i++) {
        Drive *d = m->drives[i];
        if (d->iface == iface && d->index == index) {
            return d;
        }
    }
    return NULL;
}

Drive *drive_next(Machine *m, DriveIf iface, const Drive *prev)
{
    Drive *best = NULL;
    for (unsigned i = 0; i < m->nr_drives; i++) {
        Drive *d = m->drives[i];
        if (d->iface != iface || (prev && d->index <= prev->index)) {
            continue;
        }
        if (!best || d->index < best->index) {
            best = d;
        }
    }
    return best;
}

bool drive_claim(Drive *d, Device *dev, GError **errp)
{
    if (d->claimed_by && d->claimed_by != dev) {
        error_setg(errp, "drive '%s' is already in use by device '%s'", d->id,
                   d->claimed_by->id ? d->claimed_by->id
                                     : d->claimed_by->cls->name);
        return false;
    }
    d->claimed_by = dev;
    return true;
}

Drive *drive_claim_by_id(Machine *m, const char *id, Device *dev,
                         GError **errp)
{
    if (!id || !*id) {
        error_setg(errp, "%s: drive property not set", dev->cls->name);
        return NULL;
    }
    Drive *d = m ? drive_find(m, id) : NULL;
    if (!d) {
        error_setg(errp, "%s: no drive with id '%s' (give it with -drive "
                   "if=none,id=%s,file=...)", dev->cls->name, id, id);
        return NULL;
    }
    if (!drive_claim(d, dev, errp)) {
        g_prefix_error(errp, "%s: ", dev->cls->name);
        return NULL;
    }
    return d;
}
