/*
 * block-core.c: the generic half of the block layer.  Finds the format
 * driver (by name or by probing), opens backing chains with loop and
 * depth detection, checks every request against the image bounds and
 * serializes drivers that are not thread-safe.
 */
#include "block/block.h"
#include "block/drivers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(kestrel-block-error-quark, block_error)

static const BlockDriver *const all_drivers[] = {
    &bdrv_qcow2,
    &bdrv_raw,
};

const BlockDriver *bdrv_find_format(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(all_drivers); i++) {
        if (strcmp(all_drivers[i]->format_name, name) == 0) {
            return all_drivers[i];
        }
    }
    return NULL;
}

const char *const *bdrv_format_names(void)
{
    static const char *const names[] = { "qcow2", "raw", NULL };
    return names;
}

bool bdrv_parse_cache_mode(const char *mode, int *flags, GError **errp)
{
    *flags &= ~(BDRV_O_NOCACHE | BDRV_O_NO_FLUSH | BDRV_O_WRITETHROUGH);
    if (strcmp(mode, "writeback") == 0) {
        return true;
    } else if (strcmp(mode, "none") == 0 || strcmp(mode, "off") == 0) {
        *flags |= BDRV_O_NOCACHE;
    } else if (strcmp(mode, "writethrough") == 0) {
        *flags |= BDRV_O_WRITETHROUGH;
    } else if (strcmp(mode, "directsync") == 0) {
        *flags |= BDRV_O_NOCACHE | BDRV_O_WRITETHROUGH;
    } else if (strcmp(mode, "unsafe") == 0) {
        *flags |= BDRV_O_NO_FLUSH;
    } else {
        g_set_error(errp, BLOCK_ERROR, EINVAL, "Invalid cache option: %s",
                    mode);
        return false;
    }
    return true;
}

void block_snapshot_list_free(BlockSnapshotInfo *list, int count)
{
    for (int i = 0; i < count; i++) {
        g_free(list[i].id);
        g_free(list[i].name);
    }
    g_free(list);
}

char *bdrv_resolve_backing_path(const char *image_filename,
                                const char *backing)
{
    if (g_path_is_absolute(backing) || !strchr(image_filename, '/')) {
        return g_strdup(backing);
    }
    char *dir = g_path_get_dirname(image_filename);
    char *path = g_build_filename(dir, backing, NULL);
    g_free(dir);
    return path;
}

static const BlockDriver *probe_format(const char *filename, GError **errp)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        g_set_error(errp, BLOCK_ERROR, err, "Could not open '%s': %s",
                    filename, g_strerror(err));
        return NULL;
    }
    uint8_t buf[512];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    close(fd);
    if (n < 0) {
        int err = errno;
        g_set_error(errp, BLOCK_ERROR, err, "Could not read '%s': %s",
                    filename, g_strerror(err));
        return NULL;
    }
    const BlockDriver *best = &bdrv_raw;
    int best_score = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(all_drivers); i++) {
        if (!all_drivers[i]->probe) {
            continue;
        }
        int score = all_drivers[i]->probe(buf, (size_t)n);
        if (score > best_score) {
            best_score = score;
            best = all_drivers[i];
        }
    }
    return best;
}

/* The files already in a chain being opened, to catch loops. */
typedef struct ChainVisit {
    dev_t dev[BDRV_MAX_BACKING_DEPTH + 2];
    ino_t ino[BDRV_MAX_BACKING_DEPTH + 2];
    int count;
} ChainVisit;

static BlockDriverState *open_in_chain(const char *filename,
                                       const BlockOpenOptions *opts,
                                       ChainVisit *visit, GError **errp);

static int open_backing(BlockDriverState *bs, const BlockOpenOptions *opts,
                        ChainVisit *visit, GError **errp)
{
    if (!bs->backing_file || (opts->flags & BDRV_O_NO_BACKING)) {
        return 0;
    }
    if (visit->count > BDRV_MAX_BACKING_DEPTH) {
        g_set_error(errp, BLOCK_ERROR, ELOOP,
                    "Backing chain of '%s' is deeper than %d images",
                    bs->filename, BDRV_MAX_BACKING_DEPTH);
        return -ELOOP;
    }
    BlockOpenOptions bopts = {
        .format = bs->backing_format,
        .flags = (opts->flags & (BDRV_O_NOCACHE | BDRV_O_NO_FLUSH)),
        .l2_cache_size = opts->l2_cache_size,
    };
    GError *local = NULL;
    bs->backing = open_in_chain(bs->full_backing_filename, &bopts, visit,
                                &local);
    if (!bs->backing) {
        int code = local->code ? local->code : EINVAL;
        if (code == ELOOP) {
            g_propagate_error(errp, local);
        } else {
            g_set_error(errp, BLOCK_ERROR, code,
                        "Could not open backing file: %s", local->message);
            g_error_free(local);
        }
        return -code;
    }
    return 0;
}

static BlockDriverState *open_in_chain(const char *filename,
                                       const BlockOpenOptions *opts,
                                       ChainVisit *visit, GError **errp)
{
    struct stat st;
    if (stat(filename, &st) < 0) {
        int err = errno;
        g_set_error(errp, BLOCK_ERROR, err, "Could not open '%s': %s",
                    filename, g_strerror(err));
        return NULL;
    }
    for (int i = 0; i < visit->count; i++) {
        if (visit->dev[i] == st.st_dev && visit->ino[i] == st.st_ino) {
            g_set_error(errp, BLOCK_ERROR, ELOOP,
                        "Backing chain loops: '%s' is its own backing file",
                        filename);
            return NULL;
        }
    }
    visit->dev[visit->count] = st.st_dev;
    visit->ino[visit->count] = st.st_ino;
    visit->count++;

    const BlockDriver *drv;
    if (opts->format) {
        drv = bdrv_find_format(opts->format);
        if (!drv) {
            g_set_error(errp, BLOCK_ERROR, EINVAL,
                        "Unknown image format '%s'", opts->format);
            return NULL;
        }
    } else {
        drv = probe_format(filename, errp);
        if (!drv) {
            return NULL;
        }
    }

    BlockDriverState *bs = g_new0(BlockDriverState, 1);
    bs->drv = drv;
    bs->filename = g_strdup(filename);
    bs->open_flags = opts->flags;
    bs->read_only = !(opts->flags & BDRV_O_RDWR);
    bs->request_alignment = 1;
    g_mutex_init(&bs->lock);
    if (drv->open(bs, opts, errp) < 0) {
        g_mutex_clear(&bs->lock);
        g_free(bs->filename);
        g_free(bs->backing_file);
        g_free(bs->backing_format);
        g_free(bs->full_backing_filename);
        g_free(bs);
        return NULL;
    }
    if (open_backing(bs, opts, visit, errp) < 0) {
        bdrv_close(bs);
        return NULL;
    }
    return bs;
}

BlockDriverState *bdrv_open(const char *filename,
                            const BlockOpenOptions *opts, GError **errp)
{
    ChainVisit visit = { .count = 0 };
    return open_in_chain(filename, opts, &visit, errp);
}

void bdrv_close(BlockDriverState *bs)
{
    if (!bs) {
        return;
    }
    if (bs->drv->close) {
        bs->drv->close(bs);
    }
    bdrv_close(bs->backing);
    g_mutex_clear(&bs->lock);
    g_free(bs->filename);
    g_free(bs->backing_file);
    g_free(bs->backing_format);
    g_free(bs->full_backing_filename);
    g_free(bs);
}

int bdrv_create(const char *format, const char *filename,
                const BlockCreateOptions *opts, GError **errp)
{
    const BlockDriver *drv = bdrv_find_format(format);
    if (!drv) {
        g_set_error(errp, BLOCK_ERROR, EINVAL, "Unknown file format '%s'",
                    format);
        return -EINVAL;
    }
    if (opts->size > BDRV_MAX_VIRTUAL_SIZE) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "Image size %" PRIu64 " is too large (at most %" PRIu64
                    " bytes)", opts->size, (uint64_t)BDRV_MAX_VIRTUAL_SIZE);
        return -EFBIG;
    }
    return drv->create(filename, opts, errp);
}

static void lock(BlockDriverState *bs)
{
    if (!bs->drv->thread_safe) {
        g_mutex_lock(&bs->lock);
    }
}

static void unlock(BlockDriverState *bs)
{
    if (!bs->drv->thread_safe) {
        g_mutex_unlock(&bs->lock);
    }
}

static int check_request(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                         bool write, GError **errp)
{
    if (write && bs->read_only) {
        g_set_error(errp, BLOCK_ERROR, EROFS, "Image '%s' is read-only",
                    bs->filename);
        return -EROFS;
    }
    if (offset > bs->total_size || bytes > bs->total_size - offset) {
        g_set_error(errp, BLOCK_ERROR, EINVAL,
                    "Request at %" PRIu64 "+%" PRIu64 " is beyond the end of "
                    "'%s' (%" PRIu64 " bytes)", offset, bytes, bs->filename,
                    bs->total_size);
        return -EINVAL;
    }
    return 0;
}

static int unsupported(BlockDriverState *bs, const char *what, GError **errp)
{
    g_set_error(errp, BLOCK_ERROR, ENOTSUP,
                "Format '%s' does not support %s", bs->drv->format_name, what);
    return -ENOTSUP;
}

static size_t iov_size(const struct iovec *iov, int niov)
{
    size_t n = 0;
    for (int i = 0; i < niov; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

int bdrv_preadv(BlockDriverState *bs, uint64_t offset,
                const struct iovec *iov, int niov, GError **errp)
{
    size_t bytes = iov_size(iov, niov);
    int r = check_request(bs, offset, bytes, false, errp);
    if (r < 0 || bytes == 0) {
        return r;
    }
    lock(bs);
    r = bs->drv->preadv(bs, offset, iov, niov, errp);
    unlock(bs);
    return r;
}

int bdrv_try_preadv(BlockDriverState *bs, uint64_t offset,
                    const struct iovec *iov, int niov)
{
    if (!bs->drv->try_preadv ||
        check_request(bs, offset, iov_size(iov, niov), false, NULL) < 0) {
        return -EAGAIN;
    }
    /* A driver serialized by bs->lock is tried only when it is idle. */
    if (!bs->drv->thread_safe && !g_mutex_trylock(&bs->lock)) {
        return -EAGAIN;
    }
    int r = bs->drv->try_preadv(bs, offset, iov, niov);
    if (!bs->drv->thread_safe) {
        g_mutex_unlock(&bs->lock);
    }
    return r;
}

int bdrv_pread(BlockDriverState *bs, uint64_t offset, void *buf, size_t bytes,
               GError **errp)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };
    return bdrv_preadv(bs, offset, &iov, 1, errp);
}

static int flush_locked(BlockDriverState *bs, GError **errp)
{
    if (bs->read_only || !bs->drv->flush) {
        return 0;
    }
    return bs->drv->flush(bs, errp);
}

int bdrv_pwritev(BlockDriverState *bs, uint64_t offset,
                 const struct iovec *iov, int niov, GError **errp)
{
    size_t bytes = iov_size(iov, niov);
    int r = check_request(bs, offset, bytes, true, errp);
    if (r < 0 || bytes == 0) {
        return r;
    }
    lock(bs);
    r = bs->drv->pwritev(bs, offset, iov, niov, errp);
    if (r >= 0 && (bs->open_flags & BDRV_O_WRITETHROUGH)) {
        r = flush_locked(bs, errp);
    }
    unlock(bs);
    return r;
}

int bdrv_pwrite(BlockDriverState *bs, uint64_t offset, const void *buf,
                size_t bytes, GError **errp)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = bytes };
    return bdrv_pwritev(bs, offset, &iov, 1, errp);
}

int bdrv_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                      bool may_unmap, GError **errp)
{
    int r = check_request(bs, offset, bytes, true, errp);
    if (r < 0 || bytes == 0) {
        return r;
    }
    lock(bs);
    r = bs->drv->write_zeroes(bs, offset, bytes, may_unmap, errp);
    if (r >= 0 && (bs->open_flags & BDRV_O_WRITETHROUGH)) {
        r = flush_locked(bs, errp);
    }
    unlock(bs);
    return r;
}

int bdrv_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                 GError **errp)
{
    int r = check_request(bs, offset, bytes, true, errp);
    if (r < 0 || bytes == 0 || !bs->drv->discard) {
        return r;
    }
    lock(bs);
    r = bs->drv->discard(bs, offset, bytes, errp);
    unlock(bs);
    return r;
}

bool bdrv_supports_compression(BlockDriverState *bs)
{
    return bs->drv->write_compressed != NULL;
}

int bdrv_write_compressed(BlockDriverState *bs, uint64_t offset,
                          const void *deflated, size_t deflated_len,
                          GError **errp)
{
    if (!bs->drv->write_compressed) {
        return unsupported(bs, "compressed writes", errp);
    }
    int r = check_request(bs, offset, 1, true, errp);
    if (r < 0) {
        return r;
    }
    lock(bs);
    r = bs->drv->write_compressed(bs, offset, deflated, deflated_len, errp);
    unlock(bs);
    return r;
}

int bdrv_flush(BlockDriverState *bs, GError **errp)
{
    lock(bs);
    int r = flush_locked(bs, errp);
    unlock(bs);
    return r;
}

int bdrv_truncate(BlockDriverState *bs, uint64_t size, bool shrink,
                  BdrvPreallocMode prealloc, GError **errp)
{
    if (bs->read_only) {
        return check_request(bs, 0, 0, true, errp);
    }
    if (!bs->drv->truncate) {
        return unsupported(bs, "resizing", errp);
    }
    if (size > BDRV_MAX_VIRTUAL_SIZE) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "Image size %" PRIu64 " is too large", size);
        return -EFBIG;
    }
    lock(bs);
    int r = bs->drv->truncate(bs, size, shrink, prealloc, errp);
    unlock(bs);
    return r;
}

uint64_t bdrv_getlength(BlockDriverState *bs)
{
    return bs->total_size;
}

int64_t bdrv_allocated_file_size(BlockDriverState *bs)
{
    if (!bs->drv->allocated_file_size) {
        return -ENOTSUP;
    }
    return bs->drv->allocated_file_size(bs);
}

void bdrv_get_info(BlockDriverState *bs, BlockImageInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->format = bs->drv->format_name;
    info->virtual_size = bs->total_size;
    if (bs->drv->get_info) {
        lock(bs);
        bs->drv->get_info(bs, info);
        unlock(bs);
    }
}

int bdrv_check(BlockDriverState *bs, BlockCheckResult *res, int fix,
               GError **errp)
{
    void (*log)(void *, const char *) = res->log;
    void *log_opaque = res->log_opaque;
    memset(res, 0, sizeof(*res));
    res->log = log;
    res->log_opaque = log_opaque;
    if (!bs->drv->check) {
        return unsupported(bs, "checks", errp);
    }
    if (fix && bs->read_only) {
        return check_request(bs, 0, 0, true, errp);
    }
    lock(bs);
    int r = bs->drv->check(bs, res, fix, errp);
    unlock(bs);
    return r;
}

int bdrv_make_empty(BlockDriverState *bs, GError **errp)
{
    int r = check_request(bs, 0, 0, true, errp);
    if (r < 0) {
        return r;
    }
    if (!bs->drv->make_empty) {
        return unsupported(bs, "emptying", errp);
    }
    lock(bs);
    r = bs->drv->make_empty(bs, errp);
    unlock(bs);
    return r;
}

int bdrv_change_backing_file(BlockDriverState *bs, const char *file,
                             const char *format, GError **errp)
{
    int r = check_request(bs, 0, 0, true, errp);
    if (r < 0) {
        return r;
    }
    if (!bs->drv->change_backing_file) {
        return unsupported(bs, "backing files", errp);
    }
    lock(bs);
    r = bs->drv->change_backing_file(bs, file, format, errp);
    unlock(bs);
    return r;
}

#define SNAPSHOT_CALL(op, write, ...)                                   \
    do {                                                                \
        if (!bs->drv->op) {                                             \
            return unsupported(bs, "internal snapshots", errp);         \
        }                                                               \
        if (write) {                                                    \
            int c = check_request(bs, 0, 0, true, errp);                \
            if (c < 0) {                                                \
                return c;                                               \
            }                                                           \
        }                                                               \
        lock(bs);                                                       \
        int r = bs->drv->op(bs, __VA_ARGS__, errp);                     \
        unlock(bs);                                                     \
        return r;                                                       \
    } while (0)

int bdrv_snapshot_create(BlockDriverState *bs, const char *name, GError **errp)
{
    SNAPSHOT_CALL(snapshot_create, true, name);
}

int bdrv_snapshot_apply(BlockDriverState *bs, const char *id_or_name,
                        GError **errp)
{
    SNAPSHOT_CALL(snapshot_apply, true, id_or_name);
}

int bdrv_snapshot_delete(BlockDriverState *bs, const char *id_or_name,
                         GError **errp)
{
    SNAPSHOT_CALL(snapshot_delete, true, id_or_name);
}

int bdrv_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **list,
                       GError **errp)
{
    *list = NULL;
    if (!bs->drv->snapshot_list) {
        return 0;
    }
    lock(bs);
    int r = bs->drv->snapshot_list(bs, list, errp);
    unlock(bs);
    return r;
}

int bdrv_block_status(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                      uint64_t *pnum, uint64_t *map, GError **errp)
{
    *map = 0;
    *pnum = 0;
    int r = check_request(bs, offset, bytes, false, errp);
    if (r < 0) {
        return r;
    }
    if (bytes == 0) {
        return 0;
    }
    if (!bs->drv->block_status) {
        *pnum = bytes;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED;
    }
    lock(bs);
    r = bs->drv->block_status(bs, offset, bytes, pnum, map, errp);
    unlock(bs);
    if (r >= 0 && (*pnum == 0 || *pnum > bytes)) {
        *pnum = bytes;
    }
    return r;
}

int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base,
                            uint64_t offset, uint64_t bytes, uint64_t *pnum,
                            uint64_t *map, int *depth,
                            BlockDriverState **file_bs, GError **errp)
{
    uint64_t want = bytes;
    int d = 0;
    *map = 0;
    for (BlockDriverState *layer = bs; layer && layer != base;
         layer = layer->backing, d++) {
        if (offset >= layer->total_size) {
            /* Past the end of a backing image: zeroes, as if unallocated
             * in the layer above. */
            *pnum = want;
            *depth = d > 0 ? d - 1 : 0;
            if (file_bs) {
                *file_bs = NULL;
            }
            return BDRV_BLOCK_ZERO;
        }
        uint64_t n = 0;
        uint64_t len = MIN(want, layer->total_size - offset);
        int r = bdrv_block_status(layer, offset, len, &n, map, errp);
        if (r < 0) {
            return r;
        }
        want = n;
        if (r & BDRV_BLOCK_ALLOCATED) {
            *pnum = want;
            *depth = d;
            if (file_bs) {
                *file_bs = layer;
            }
            return r;
        }
    }
    /* Nothing decides: zeroes, reported at the bottom layer searched. */
    *pnum = want;
    *depth = d > 0 ? d - 1 : 0;
    if (file_bs) {
        *file_bs = NULL;
    }
    return BDRV_BLOCK_ZERO;
}

int bdrv_measure(const char *format, const BlockCreateOptions *opts,
                 uint64_t virtual_size, uint64_t allocated_bytes,
                 BlockMeasureInfo *info, GError **errp)
{
    memset(info, 0, sizeof(*info));
    if (strcmp(format, "qcow2") == 0) {
        return qcow2_measure(opts, virtual_size, allocated_bytes, info, errp);
    }
    if (strcmp(format, "raw") == 0) {
        info->required = MIN(allocated_bytes, virtual_size);
        info->fully_allocated = virtual_size;
        return 0;
    }
    g_set_error(errp, BLOCK_ERROR, ENOTSUP,
                "Format '%s' does not support measuring", format);
    return -ENOTSUP;
}
