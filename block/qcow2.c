/*
 * qcow2.c: the qcow2 format driver: opening an image (header, L1 table,
 * refcount table, snapshots, caches), the dirty bit used with lazy
 * refcounts, flushing, closing, image information, and the driver table
 * that ties the qcow2-*.c files together (qcow2 specification, versions
 * 2 and 3).
 */
#include "block/qcow2.h"
#include "block/byte-order.h"
#include "block/drivers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_L2_CACHE_MAX (32u * 1024 * 1024)

int qcow2_corrupt(Qcow2State *s, GError **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, BLOCK_ERROR, EIO, "Image '%s' is corrupt: %s",
                s->bs->filename, msg);
    g_free(msg);
    return -EIO;
}

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    /* The magic alone decides: an unsupported version is reported as
     * such rather than the file being taken for a raw image. */
    if (len >= 4 && load_be32(buf) == QCOW2_MAGIC) {
        return 100;
    }
    return 0;
}

int qcow2_mark_dirty(Qcow2State *s, GError **errp)
{
    if (!s->lazy_refcounts || s->dirty_on_disk) {
        return 0;
    }
    int r = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_DIRTY, true, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        s->dirty_on_disk = true;
    }
    return r;
}

static void free_state(Qcow2State *s)
{
    qcow2_cache_free(s->l2_cache);
    qcow2_cache_free(s->refblock_cache);
    qcow2_snapshots_clear(s);
    qcow2_overlap_free(s);
    qcow2_compress_cleanup(s);
    qcow2_header_clear(&s->h);
    g_free(s->l1_table);
    g_free(s->refcount_table);
    free(s->cluster_buf);
    g_free(s->iov_scratch);
    free(s->cow_head);
    free(s->cow_tail);
    g_free(s->compressed_buf);
    if (s->pending_frees) {
        g_array_free(s->pending_frees, TRUE);
    }
    if (s->file.fd >= 0 && s->file.filename) {
        host_file_close(&s->file);
    }
    g_free(s);
}

static void *aligned_buffer(size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, size) != 0) {
        return NULL;
    }
    return p;
}

static int read_header(Qcow2State *s, GError **errp)
{
    int64_t size = host_file_size(&s->file, errp);
    if (size < 0) {
        return (int)size;
    }
    uint8_t first[QCOW2_V3_HEADER_LENGTH];
    int r = host_file_pread(&s->file, 0, first, sizeof(first), errp);
    if (r < 0) {
        return r;
    }
    if ((uint64_t)size >= QCOW2_V2_HEADER_LENGTH &&
        load_be32(first + QCOW2_HDR_MAGIC) != QCOW2_MAGIC) {
        g_set_error(errp, BLOCK_ERROR, EINVAL, "Image is not in qcow2 format");
        return -EINVAL;
    }
    uint32_t bits = load_be32(first + QCOW2_HDR_CLUSTER_BITS);
    size_t cs = (bits >= QCOW2_MIN_CLUSTER_BITS && bits <= QCOW2_MAX_CLUSTER_BITS)
                ? ((size_t)1 << bits) : sizeof(first);
    uint8_t *buf = g_malloc0(cs);
    r = host_file_pread(&s->file, 0, buf, cs, errp);
    if (r == 0) {
        r = qcow2_header_parse(&s->h, buf, cs, (uint64_t)size, errp);
    }
    g_free(buf);
    s->file_end = (uint64_t)size;
    return r;
}

static void setup_geometry(Qcow2State *s)
{
    s->cluster_bits = s->h.cluster_bits;
    s->cluster_size = UINT64_C(1) << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_entries = UINT64_C(1) << s->l2_bits;
    s->refcount_order = s->h.refcount_order;
    s->refblock_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refblock_entries = UINT64_C(1) << s->refblock_bits;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (UINT64_C(1) << (s->cluster_bits - 8)) - 1;
    s->coffset_mask = (UINT64_C(1) << s->csize_shift) - 1;
}

static int load_l1(Qcow2State *s, GError **errp)
{
    uint32_t n = s->h.l1_size;
    s->l1_table = g_new0(uint64_t, MAX(n, 1));
    if (n == 0) {
        return 0;
    }
    int r = host_file_pread(&s->file, s->h.l1_table_offset, s->l1_table,
                            (size_t)n * 8, errp);
    for (uint32_t i = 0; i < n; i++) {
        s->l1_table[i] = GUINT64_FROM_BE(s->l1_table[i]);
    }
    return r;
}

static int make_caches(Qcow2State *s, uint64_t l2_cache_bytes)
{
    uint64_t cs = s->cluster_size;
    uint64_t tables;
    if (l2_cache_bytes) {
        tables = l2_cache_bytes / cs;
    } else {
        /* Enough to map the whole disk, up to a limit. */
        tables = MIN((uint64_t)s->h.l1_size, DEFAULT_L2_CACHE_MAX / cs);
    }
    tables = MAX(tables, 4);
    tables = MIN(tables, 65536);
    uint64_t refblocks = MAX(4, MIN(tables / 4, 256));
    s->l2_cache = qcow2_cache_new(&s->file, cs, (int)tables);
    s->refblock_cache = qcow2_cache_new(&s->file, cs, (int)refblocks);
    if (!s->l2_cache || !s->refblock_cache) {
        return -ENOMEM;
    }
    if (!s->lazy_refcounts) {
        qcow2_cache_set_dependency(s->l2_cache, s->refblock_cache);
    }
    return 0;
}

static int qcow2_open(BlockDriverState *bs, const BlockOpenOptions *opts,
                      GError **errp)
{
    Qcow2State *s = g_new0(Qcow2State, 1);
    s->bs = bs;
    s->file.fd = -1;
    s->writable = opts->flags & BDRV_O_RDWR;
    s->check_mode = opts->flags & BDRV_O_CHECK;
    int hflags = s->writable ? HOST_FILE_RDWR : 0;
    if (opts->flags & BDRV_O_NOCACHE) {
        hflags |= HOST_FILE_DIRECT;
    }
    if (opts->flags & BDRV_O_NO_FLUSH) {
        hflags |= HOST_FILE_NO_FLUSH;
    }
    int r = host_file_open(&s->file, bs->filename, hflags, errp);
    if (r < 0) {
        s->file.fd = -1;
        free_state(s);
        return r;
    }
    bs->opaque = s;
    bs->request_alignment = 1;
    r = read_header(s, errp);
    if (r < 0) {
        goto fail;
    }
    if ((s->h.incompatible_features & QCOW2_INCOMPAT_CORRUPT) && s->writable &&
        !s->check_mode) {
        g_set_error(errp, BLOCK_ERROR, EACCES,
                    "qcow2: Image is corrupt; cannot be opened read/write");
        r = -EACCES;
        goto fail;
    }
    setup_geometry(s);
    bs->total_size = s->h.size;
    /* Only a file with holes can hold preallocated clusters that read as
     * zeroes; asking the host about holes costs a scan, so ask only then. */
    int64_t on_disk = host_file_allocated_bytes(&s->file);
    s->sparse_file = on_disk >= 0 &&
                     (uint64_t)on_disk + 16 * s->cluster_size < s->file_end;
    s->lazy_refcounts = s->writable &&
                        (s->h.compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
    s->dirty_on_disk = s->h.incompatible_features & QCOW2_INCOMPAT_DIRTY;
    s->pending_frees = g_array_new(FALSE, FALSE, sizeof(Qcow2PendingFree));
    s->cluster_buf = aligned_buffer(s->cluster_size);
    s->iov_scratch = g_new(struct iovec, QCOW2_IOV_SCRATCH);
    s->cow_head = aligned_buffer(s->cluster_size);
    s->cow_tail = aligned_buffer(s->cluster_size);
    s->compressed_buf_size = 2 * s->cluster_size;
    s->compressed_buf = g_malloc(s->compressed_buf_size);
    if (!s->cluster_buf || !s->cow_head || !s->cow_tail ||
        make_caches(s, opts->l2_cache_size) < 0) {
        g_set_error(errp, BLOCK_ERROR, ENOMEM, "Out of memory");
        r = -ENOMEM;
        goto fail;
    }
    r = load_l1(s, errp);
    if (r == 0) {
        r = qcow2_refcount_load(s, errp);
    }
    if (r == 0) {
        r = qcow2_snapshots_load(s, errp);
    }
    if (r < 0) {
        goto fail;
    }
    if (s->h.backing_file) {
        bs->backing_file = g_strdup(s->h.backing_file);
        bs->backing_format = g_strdup(s->h.backing_format);
        bs->full_backing_filename =
            bdrv_resolve_backing_path(bs->filename, s->h.backing_file);
    }
    if (s->writable && !s->check_mode) {
        r = qcow2_overlap_build(s, errp);
        if (r < 0) {
            goto fail;
        }
        if (s->dirty_on_disk) {
            /* Refcounts lag behind after a crash with lazy refcounts. */
            r = qcow2_rebuild_refcounts(s, errp);
            if (r == 0) {
                r = qcow2_overlap_build(s, errp);
            }
            if (r == 0) {
                r = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_DIRTY, false,
                                              errp);
            }
            if (r < 0) {
                goto fail;
            }
            s->dirty_on_disk = false;
        }
        if (s->h.autoclear_features) {
            /* Extensions guarded by autoclear bits are not kept up to date. */
            r = qcow2_header_write_u64(s, QCOW2_HDR_AUTOCLEAR, 0, errp);
            if (r < 0) {
                goto fail;
            }
            s->h.autoclear_features = 0;
        }
    }
    return 0;
fail:
    bs->opaque = NULL;
    free_state(s);
    return r;
}

static int qcow2_flush(BlockDriverState *bs, GError **errp)
{
    Qcow2State *s = bs->opaque;
    int r = qcow2_flush_metadata(s, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    return r;
}

static void qcow2_close(BlockDriverState *bs)
{
    Qcow2State *s = bs->opaque;
    if (s->writable) {
        GError *err = NULL;
        int r = qcow2_flush(bs, &err);
        if (r == 0 && s->lazy_refcounts && s->dirty_on_disk) {
            r = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_DIRTY, false, &err);
            if (r == 0) {
                r = qcow2_barrier(s, &err);
            }
        }
        if (r < 0) {
            g_printerr("Warning: could not write back '%s' cleanly: %s\n",
                       bs->filename, err->message);
            g_error_free(err);
        }
    }
    free_state(s);
}

static void qcow2_get_info(BlockDriverState *bs, BlockImageInfo *info)
{
    Qcow2State *s = bs->opaque;
    info->cluster_size = (uint32_t)s->cluster_size;
    info->is_qcow2 = true;
    info->qcow2_version = (int)s->h.version;
    info->lazy_refcounts = s->h.compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS;
    info->refcount_bits = 1 << s->refcount_order;
    info->corrupt = s->h.incompatible_features & QCOW2_INCOMPAT_CORRUPT;
    info->dirty = s->h.incompatible_features & QCOW2_INCOMPAT_DIRTY;
    info->extended_l2 = false;
}

static int qcow2_change_backing_file(BlockDriverState *bs, const char *file,
                                     const char *format, GError **errp)
{
    Qcow2State *s = bs->opaque;
    char *old_file = s->h.backing_file, *old_format = s->h.backing_format;
    s->h.backing_file = (file && *file) ? g_strdup(file) : NULL;
    s->h.backing_format = (s->h.backing_file && format) ? g_strdup(format)
                                                        : NULL;
    int r = qcow2_flush_metadata(s, errp);
    if (r == 0) {
        r = qcow2_header_write(s, errp);
    }
    if (r < 0) {
        g_free(s->h.backing_file);
        g_free(s->h.backing_format);
        s->h.backing_file = old_file;
        s->h.backing_format = old_format;
        return r;
    }
    g_free(old_file);
    g_free(old_format);
    g_free(bs->backing_file);
    g_free(bs->backing_format);
    g_free(bs->full_backing_filename);
    bs->backing_file = g_strdup(s->h.backing_file);
    bs->backing_format = g_strdup(s->h.backing_format);
    bs->full_backing_filename = s->h.backing_file
        ? bdrv_resolve_backing_path(bs->filename, s->h.backing_file) : NULL;
    return qcow2_barrier(s, errp);
}

static int64_t qcow2_allocated_file_size(BlockDriverState *bs)
{
    Qcow2State *s = bs->opaque;
    return host_file_allocated_bytes(&s->file);
}

const BlockDriver bdrv_qcow2 = {
    .format_name = "qcow2",
    .thread_safe = false,
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .create = qcow2_create,
    .preadv = qcow2_preadv,
    .try_preadv = qcow2_try_preadv,
    .pwritev = qcow2_pwritev,
    .write_zeroes = qcow2_write_zeroes,
    .discard = qcow2_discard,
    .write_compressed = qcow2_write_compressed,
    .flush = qcow2_flush,
    .truncate = qcow2_truncate,
    .block_status = qcow2_block_status,
    .get_info = qcow2_get_info,
    .check = qcow2_check,
    .make_empty = qcow2_make_empty,
    .change_backing_file = qcow2_change_backing_file,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_apply = qcow2_snapshot_apply,
    .snapshot_delete = qcow2_snapshot_delete,
    .snapshot_list = qcow2_snapshot_list,
    .allocated_file_size = qcow2_allocated_file_size,
};
