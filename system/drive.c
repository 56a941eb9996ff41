/*
 * -drive and friends (see drive.h): QEMU's option spelling, the default
 * interface (ide on pc), default ids (ide0-hd0, ide1-cd0, virtio0, none0),
 * IDE index/bus/unit numbering, image locking and format probing.
 */
#include "system/drive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/block-backend.h"
#include "block/image-lock.h"
#include "core/error.h"
#include "hw/machine.h"

#define DRIVE_MAX_LOCKS (BDRV_MAX_BACKING_DEPTH + 1)

/* A drive as this file keeps it: the public part and the image locks. */
typedef struct DriveEntry {
    Drive drive;
    ImageLock *locks[DRIVE_MAX_LOCKS];
    unsigned nr_locks;
} DriveEntry;

void drive_options_clear(DriveOptions *o)
{
    g_free(o->file);
    g_free(o->format);
    g_free(o->id);
    g_free(o->cache);
    memset(o, 0, sizeof(*o));
    o->index = o->bus = o->unit = -1;
}

static bool parse_bool(const char *key, const char *v, bool *out,
                       GError **errp)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
    } else {
        error_setg(errp, "-drive: %s expects on or off, not '%s'", key, v);
        return false;
    }
    return true;
}

static bool parse_int(const char *key, const char *v, int max, int *out,
                      GError **errp)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > max) {
        error_setg(errp, "-drive: %s expects a number from 0 to %d, not '%s'",
                   key, max, v);
        return false;
    }
    *out = (int)n;
    return true;
}

static bool set_option(DriveOptions *o, const char *key, const char *v,
                       GError **errp)
{
    if (!strcmp(key, "file")) {
        g_free(o->file);
        o->file = g_strdup(v);
    } else if (!strcmp(key, "format")) {
        if (!bdrv_find_format(v)) {
            error_setg(errp, "-drive: unknown format '%s' (raw or qcow2)", v);
            return false;
        }
        g_free(o->format);
        o->format = g_strdup(v);
    } else if (!strcmp(key, "if")) {
        if (!strcmp(v, "ide")) {
            o->iface = DRIVE_IF_IDE;
        } else if (!strcmp(v, "virtio")) {
            o->iface = DRIVE_IF_VIRTIO;
        } else if (!strcmp(v, "none")) {
            o->iface = DRIVE_IF_NONE;
        } else {
            error_setg(errp, "-drive: unsupported interface if=%s (ide, "
                       "virtio or none)", v);
            return false;
        }
    } else if (!strcmp(key, "media")) {
        if (!strcmp(v, "disk")) {
            o->media = DRIVE_MEDIA_DISK;
        } else if (!strcmp(v, "cdrom")) {
            o->media = DRIVE_MEDIA_CDROM;
        } else {
            error_setg(errp, "-drive: media=%s: expected disk or cdrom", v);
            return false;
        }
    } else if (!strcmp(key, "readonly") || !strcmp(key, "read-only")) {
        return parse_bool(key, v, &o->read_only, errp);
    } else if (!strcmp(key, "snapshot")) {
        return parse_bool(key, v, &o->snapshot, errp);
    } else if (!strcmp(key, "cache")) {
        int flags = 0;
        if (!bdrv_parse_cache_mode(v, &flags, NULL)) {
            error_setg(errp, "-drive: cache=%s: expected writeback, none, "
                       "writethrough, directsync or unsafe", v);
            return false;
        }
        g_free(o->cache);
        o->cache = g_strdup(v);
    } else if (!strcmp(key, "discard")) {
        if (!strcmp(v, "unmap") || !strcmp(v, "on")) {
            o->discard_unmap = true;
        } else if (!strcmp(v, "ignore") || !strcmp(v, "off")) {
            o->discard_unmap = false;
        } else {
            error_setg(errp, "-drive: discard=%s: expected ignore or unmap", v);
            return false;
        }
    } else if (!strcmp(key, "aio")) {
        if (strcmp(v, "threads") != 0) {
            error_setg(errp, "-drive: aio=%s: only aio=threads is supported", v);
            return false;
        }
    } else if (!strcmp(key, "index")) {
        return parse_int(key, v, 255, &o->index, errp);
    } else if (!strcmp(key, "bus")) {
        return parse_int(key, v, 255, &o->bus, errp);
    } else if (!strcmp(key, "unit")) {
        return parse_int(key, v, 255, &o->unit, errp);
    } else if (!strcmp(key, "id")) {
        if (!*v || !g_ascii_isalpha(v[0])) {
            error_setg(errp, "-drive: id '%s' must start with a letter", v);
            return false;
        }
        for (const char *p = v; *p; p++) {
            if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
                error_setg(errp, "-drive: id '%s' may only hold letters, "
                           "digits, '-', '.' and '_'", v);
                return false;
            }
        }
        g_free(o->id);
        o->id = g_strdup(v);
    } else {
        error_setg(errp, "-drive: unknown parameter '%s'", key);
        return false;
    }
    return true;
}

/* The IDE index from index= or bus=/unit=; -1 when none was given. */
static bool resolve_ide_index(DriveOptions *o, GError **errp)
{
    if (o->bus >= 0 || o->unit >= 0) {
        if (o->index >= 0) {
            error_setg(errp, "-drive: index= cannot be used with bus= and unit=");
            return false;
        }
        int bus = o->bus >= 0 ? o->bus : 0;
        int unit = o->unit >= 0 ? o->unit : 0;
        if (bus > 1 || unit > 1) {
            error_setg(errp, "-drive: if=ide has bus 0-1 and unit 0-1 "
                       "(bus=%d,unit=%d)", bus, unit);
            return false;
        }
        o->index = bus * 2 + unit;
    }
    if (o->index >= DRIVE_IDE_MAX_INDEX) {
        error_setg(errp, "-drive: if=ide index=%d: at most %d IDE drives "
                   "(index 0-%d)", o->index, DRIVE_IDE_MAX_INDEX,
                   DRIVE_IDE_MAX_INDEX - 1);
        return false;
    }
    return true;
}

static bool check_combination(DriveOptions *o, GError **errp)
{
    if (o->iface == DRIVE_IF_IDE) {
        if (!resolve_ide_index(o, errp)) {
            return false;
        }
    } else if (o->bus >= 0 || o->unit >= 0) {
        error_setg(errp, "-drive: bus= and unit= are for if=ide only");
        return false;
    }
    if (o->media == DRIVE_MEDIA_CDROM) {
        if (o->iface != DRIVE_IF_IDE && o->iface != DRIVE_IF_NONE) {
            error_setg(errp, "-drive: media=cdrom needs if=ide (or if=none "
                       "with -device ide-cd)");
            return false;
        }
        o->read_only = true;
    } else if (!o->file || !*o->file) {
        error_setg(errp, "-drive: a disk needs file= (only a CD-ROM drive "
                   "may be empty)");
        return false;
    }
    if (o->file && !*o->file) {
        g_free(o->file);
        o->file = NULL;
    }
    return true;
}

bool drive_parse(const char *spec, DriveOptions *o, GError **errp)
{
    memset(o, 0, sizeof(*o));
    o->index = o->bus = o->unit = -1;
    o->iface = DRIVE_IF_IDE;
    GString *key = g_string_new(NULL);
    GString *val = g_string_new(NULL);
    bool ok = true;
    const char *p = spec;
    while (ok && *p) {
        g_string_truncate(key, 0);
        g_string_truncate(val, 0);
        while (*p && *p != '=' && *p != ',') {
            g_string_append_c(key, *p++);
        }
        if (*p != '=') {
            error_setg(errp, "-drive: '%s' needs a value (key=value)",
                       key->len ? key->str : "");
            ok = false;
            break;
        }
        p++;
        for (;;) {
            if (*p == ',' && p[1] == ',') {
                g_string_append_c(val, ',');
                p += 2;
            } else if (*p && *p != ',') {
                g_string_append_c(val, *p++);
            } else {
                break;
            }
        }
        if (*p == ',') {
            p++;
        }
        ok = set_option(o, key->str, val->str, errp);
    }
    g_string_free(key, TRUE);
    g_string_free(val, TRUE);
    if (ok) {
        ok = check_combination(o, errp);
    }
    if (!ok) {
        drive_options_clear(o);
    }
    return ok;
}

/* ---- opening ---- */

static bool index_taken(Machine *m, DriveIf iface, int index)
{
    return iface != DRIVE_IF_NONE && drive_find_by_index(m, iface, index);
}

static char *default_id(Machine *m, const DriveOptions *o, int index)
{
    if (o->iface == DRIVE_IF_IDE) {
        return g_strdup_printf("ide%d-%s%d", index / 2,
                               o->media == DRIVE_MEDIA_CDROM ? "cd" : "hd",
                               index % 2);
    }
    const char *prefix = o->iface == DRIVE_IF_VIRTIO ? "virtio" : "none";
    for (unsigned n = 0;; n++) {
        char *id = g_strdup_printf("%s%u", prefix, n);
        if (!drive_find(m, id)) {
            return id;
        }
        g_free(id);
    }
}

static bool lock_file(DriveEntry *e, const char *filename, bool write,
                      GError **errp)
{
    if (e->nr_locks == DRIVE_MAX_LOCKS) {
        return true;
    }
    ImageLock *l = image_lock(filename, write, errp);
    if (!l) {
        return false;
    }
    e->locks[e->nr_locks++] = l;
    return true;
}

static void free_entry(DriveEntry *e)
{
    if (e->drive.blk) {
        blk_close(e->drive.blk);
    }
    for (unsigned i = 0; i < e->nr_locks; i++) {
        image_unlock(e->locks[i]);
    }
    g_free(e->drive.id);
    g_free(e->drive.filename);
    g_free(e);
}

static bool open_image(Machine *m, DriveEntry *e, const DriveOptions *o,
                       bool snapshot, GError **errp)
{
    Drive *d = &e->drive;
    bool writes_image = !d->read_only && !snapshot;
    if (!lock_file(e, o->file, writes_image, errp)) {
        return false;
    }
    BlockBackendOptions bo = {
        .format = o->format,
        .cache = o->cache,
        .read_only = d->read_only,
        .snapshot = snapshot && !d->read_only,
        .discard_unmap = o->discard_unmap,
        .context = m->ctx,
    };
    d->blk = blk_open(o->file, &bo, errp);
    if (!d->blk) {
        return false;
    }
    BlockDriverState *bs = blk_bs(d->blk);
    /* With snapshot=on the top is the temporary overlay, already deleted:
     * the image is its backing file, locked above. */
    BlockDriverState *img = bo.snapshot && bs->backing ? bs->backing : bs;
    d->format = img->drv->format_name;
    for (BlockDriverState *b = img->backing; b; b = b->backing) {
        if (!lock_file(e, b->filename, false, errp)) {
            return false;
        }
    }
    if (!o->format && !strcmp(d->format, "raw")) {
        warn_report("image format was not given for '%s' and probing found "
                    "raw; give format=raw to say so (a guest could write an "
                    "image header into a raw disk and be probed as that "
                    "format next time)", o->file);
    }
    return true;
}

bool drive_replace_medium(Machine *m, Drive *d, const char *file,
                          const char *format, GError **errp)
{
    DriveEntry *e = (DriveEntry *)d;
    DriveEntry fresh = { .drive = { .read_only = true } };
    if (file) {
        DriveOptions o = { .file = (char *)file, .format = (char *)format,
                           .read_only = true };
        if (format && !bdrv_find_format(format)) {
            error_setg(errp, "unknown format '%s' (raw or qcow2)", format);
            return false;
        }
        if (!open_image(m, &fresh, &o, false, errp)) {
            if (fresh.drive.blk) {
                blk_close(fresh.drive.blk);
            }
            for (unsigned i = 0; i < fresh.nr_locks; i++) {
                image_unlock(fresh.locks[i]);
            }
            return false;
        }
    }
    if (d->blk) {
        blk_close(d->blk);
    }
    for (unsigned i = 0; i < e->nr_locks; i++) {
        image_unlock(e->locks[i]);
    }
    g_free(d->filename);
    d->filename = g_strdup(file);
    d->blk = fresh.drive.blk;
    d->format = fresh.drive.format;
    memcpy(e->locks, fresh.locks, sizeof(e->locks));
    e->nr_locks = fresh.nr_locks;
    return true;
}

static bool add_drive(Machine *m, DriveOptions *o, bool snapshot_all,
                      GError **errp)
{
    if (o->id && drive_find(m, o->id)) {
        error_setg(errp, "-drive: duplicate drive id '%s'", o->id);
        return false;
    }
    int index = o->index;
    if (o->iface == DRIVE_IF_NONE) {
        index = -1;
    } else if (index < 0) {
        int max = o->iface == DRIVE_IF_IDE ? DRIVE_IDE_MAX_INDEX : 256;
        for (index = 0; index < max && index_taken(m, o->iface, index);
             index++) {
        }
        if (index == max) {
            error_setg(errp, "-drive: no free if=%s index left",
                       drive_if_name(o->iface));
            return false;
        }
    } else if (index_taken(m, o->iface, index)) {
        if (o->iface == DRIVE_IF_IDE) {
            error_setg(errp, "-drive: drive with bus=%d, unit=%d (index=%d) "
                       "exists", index / 2, index % 2, index);
        } else {
            error_setg(errp, "-drive: drive with if=%s,index=%d exists",
                       drive_if_name(o->iface), index);
        }
        return false;
    }
    DriveEntry *e = g_new0(DriveEntry, 1);
    Drive *d = &e->drive;
    d->id = o->id ? g_strdup(o->id) : default_id(m, o, index);
    d->iface = o->iface;
    d->media = o->media;
    d->index = index;
    d->read_only = o->read_only;
    d->filename = g_strdup(o->file);
    if (o->file && !open_image(m, e, o, o->snapshot || snapshot_all, errp)) {
        g_prefix_error(errp, "-drive %s: ", d->id);
        free_entry(e);
        return false;
    }
    if (!drive_add(m, d, errp)) {
        free_entry(e);
        return false;
    }
    return true;
}

bool drives_open(Machine *m, const char *const *specs, unsigned nr,
                 bool snapshot_all, GError **errp)
{
    for (unsigned i = 0; i < nr; i++) {
        DriveOptions o;
        if (!drive_parse(specs[i], &o, errp)) {
            return false;
        }
        bool ok = add_drive(m, &o, snapshot_all, errp);
        drive_options_clear(&o);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* if=ide drives (-hda.., -cdrom): an ide-hd or ide-cd on bus index / 2,
 * unit index % 2, as QEMU's pc machine does. */
static bool create_ide_devices(Machine *m, GError **errp)
{
    for (Drive *d = drive_next(m, DRIVE_IF_IDE, NULL); d;
         d = drive_next(m, DRIVE_IF_IDE, d)) {
        gchar *props = g_strdup_printf("drive=%s,bus=ide.%d,unit=%d", d->id,
                                       d->index / 2, d->index % 2);
        Device *dev = machine_add_device(m, d->media == DRIVE_MEDIA_CDROM
                                                ? "ide-cd" : "ide-hd",
                                         NULL, props, errp);
        g_free(props);
        if (!dev) {
            g_prefix_error(errp, "-drive %s,if=ide: ", d->id);
            return false;
        }
    }
    return true;
}

bool drives_create_devices(Machine *m, GError **errp)
{
    if (!create_ide_devices(m, errp)) {
        return false;
    }
    for (Drive *d = drive_next(m, DRIVE_IF_VIRTIO, NULL); d;
         d = drive_next(m, DRIVE_IF_VIRTIO, d)) {
        gchar *props = g_strdup_printf("drive=%s", d->id);
        Device *dev = machine_add_device(m, "virtio-blk-pci", NULL, props,
                                         errp);
        g_free(props);
        if (!dev) {
            g_prefix_error(errp, "-drive %s,if=virtio: ", d->id);
            return false;
        }
    }
    return true;
}

bool drives_check_claimed(Machine *m, GError **errp)
{
    for (unsigned i = 0; i < m->nr_drives; i++) {
        Drive *d = m->drives[i];
        if (d->claimed_by) {
            continue;
        }
        if (d->iface == DRIVE_IF_IDE) {
            error_setg(errp, "drive '%s' (if=ide,bus=%d,unit=%d) is not used "
                       "by any device", d->id, d->index / 2, d->index % 2);
        } else {
            error_setg(errp, "drive '%s' is not used by any device (add "
                       "-device virtio-blk-pci,drive=%s or -device ide-hd,"
                       "drive=%s)", d->id, d->id, d->id);
        }
        return false;
    }
    return true;
}

void drives_close_all(Machine *m)
{
    for (unsigned i = 0; i < m->nr_drives; i++) {
        free_entry((DriveEntry *)m->drives[i]);
        m->drives[i] = NULL;
    }
    m->nr_drives = 0;
}
