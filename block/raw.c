/*
 * raw.c: the raw format.  The virtual disk is the host file or block
 * device byte for byte; holes in a sparse file read as zeroes and are
 * reported as such, discards punch holes.
 */
#include "block/block.h"
#include "block/drivers.h"
#include "block/host-file.h"

#include <errno.h>

typedef struct RawState {
    HostFile file;
} RawState;

static int raw_host_flags(int open_flags)
{
    int flags = 0;
    if (open_flags & BDRV_O_RDWR) {
        flags |= HOST_FILE_RDWR;
    }
    if (open_flags & BDRV_O_NOCACHE) {
        flags |= HOST_FILE_DIRECT;
    }
    if (open_flags & BDRV_O_NO_FLUSH) {
        flags |= HOST_FILE_NO_FLUSH;
    }
    return flags;
}

static int raw_open(BlockDriverState *bs, const BlockOpenOptions *opts,
                    GError **errp)
{
    RawState *s = g_new0(RawState, 1);
    int r = host_file_open(&s->file, bs->filename,
                           raw_host_flags(opts->flags), errp);
    if (r < 0) {
        g_free(s);
        return r;
    }
    int64_t size = host_file_size(&s->file, errp);
    if (size < 0) {
        host_file_close(&s->file);
        g_free(s);
        return (int)size;
    }
    bs->opaque = s;
    bs->total_size = (uint64_t)size;
    bs->request_alignment = (uint32_t)s->file.align;
    return 0;
}

static void raw_close(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    host_file_close(&s->file);
    g_free(s);
}

static int raw_create(const char *filename, const BlockCreateOptions *opts,
                      GError **errp)
{
    if (opts->backing_file) {
        g_set_error(errp, BLOCK_ERROR, ENOTSUP,
                    "Format 'raw' does not support backing files");
        return -ENOTSUP;
    }
    HostFile hf;
    int r = host_file_open(&hf, filename, HOST_FILE_RDWR | HOST_FILE_CREATE,
                           errp);
    if (r < 0) {
        return r;
    }
    r = host_file_truncate(&hf, opts->size, errp);
    if (r == 0 && opts->preallocation == BDRV_PREALLOC_FALLOC) {
        r = host_file_fallocate(&hf, 0, opts->size, errp);
    } else if (r == 0 && opts->preallocation == BDRV_PREALLOC_FULL) {
        r = host_file_fallocate(&hf, 0, opts->size, errp);
    }
    host_file_close(&hf);
    return r;
}

static int raw_preadv(BlockDriverState *bs, uint64_t offset,
                      const struct iovec *iov, int niov, GError **errp)
{
    RawState *s = bs->opaque;
    return host_file_preadv(&s->file, offset, iov, niov, errp);
}

static int raw_try_preadv(BlockDriverState *bs, uint64_t offset,
                          const struct iovec *iov, int niov)
{
    RawState *s = bs->opaque;
    return host_file_try_preadv(&s->file, offset, iov, niov);
}

static int raw_pwritev(BlockDriverState *bs, uint64_t offset,
                       const struct iovec *iov, int niov, GError **errp)
{
    RawState *s = bs->opaque;
    return host_file_pwritev(&s->file, offset, iov, niov, errp);
}

static int raw_write_zeroes(BlockDriverState *bs, uint64_t offset,
                            uint64_t bytes, bool may_unmap, GError **errp)
{
    RawState *s = bs->opaque;
    return host_file_write_zeroes(&s->file, offset, bytes, may_unmap, errp);
}

static int raw_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       GError **errp)
{
    RawState *s = bs->opaque;
    if (!(bs->open_flags & BDRV_O_UNMAP)) {
        return 0;
    }
    /* A discard is advice: a host that cannot punch holes just keeps data. */
    host_file_punch_hole(&s->file, offset, bytes);
    return 0;
}

static int raw_flush(BlockDriverState *bs, GError **errp)
{
    RawState *s = bs->opaque;
    return host_file_flush(&s->file, errp);
}

static int raw_truncate(BlockDriverState *bs, uint64_t size, bool shrink,
                        BdrvPreallocMode prealloc, GError **errp)
{
    RawState *s = bs->opaque;
    uint64_t old = bs->total_size;
    if (size < old && !shrink) {
        g_set_error(errp, BLOCK_ERROR, EINVAL,
                    "Use the --shrink option to perform a shrink operation.");
        return -EINVAL;
    }
    int r = host_file_truncate(&s->file, size, errp);
    if (r < 0) {
        return r;
    }
    if (size > old && prealloc == BDRV_PREALLOC_FALLOC) {
        r = host_file_fallocate(&s->file, old, size - old, errp);
    } else if (size > old && prealloc == BDRV_PREALLOC_FULL) {
        r = host_file_write_zeroes(&s->file, old, size - old, false, errp);
    }
    if (r < 0) {
        return r;
    }
    int64_t now = host_file_size(&s->file, errp);
    if (now < 0) {
        return (int)now;
    }
    bs->total_size = (uint64_t)now;
    return 0;
}

static int raw_block_status(BlockDriverState *bs, uint64_t offset,
                            uint64_t bytes, uint64_t *pnum, uint64_t *map,
                            GError **errp)
{
    RawState *s = bs->opaque;
    int data = host_file_data_status(&s->file, offset, bytes, pnum);
    *map = offset;
    return BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID |
           (data ? BDRV_BLOCK_DATA : BDRV_BLOCK_ZERO);
}

static int64_t raw_allocated_file_size(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    return host_file_allocated_bytes(&s->file);
}

const BlockDriver bdrv_raw = {
    .format_name = "raw",
    .thread_safe = true,
    .open = raw_open,
    .close = raw_close,
    .create = raw_create,
    .preadv = raw_preadv,
    .try_preadv = raw_try_preadv,
    .pwritev = raw_pwritev,
    .write_zeroes = raw_write_zeroes,
    .discard = raw_discard,
    .flush = raw_flush,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .allocated_file_size = raw_allocated_file_size,
};
