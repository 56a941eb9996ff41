/*
 * qcow2-compress.c: reading and writing compressed clusters (qcow2
 * specification: "Compressed Clusters Descriptor").  A compressed
 * cluster is a raw deflate stream at any byte offset; consecutive ones
 * are packed back to back and may share host clusters, whose refcount
 * then counts every compressed cluster that touches them.
 */
#include "block/qcow2.h"

#include <errno.h>
#include <string.h>

static int inflater_init(Qcow2State *s, GError **errp)
{
    if (s->inflater_ready) {
        return inflateReset(&s->inflater) == Z_OK ? 0 : -EIO;
    }
    memset(&s->inflater, 0, sizeof(s->inflater));
    if (inflateInit2(&s->inflater, -12) != Z_OK) {
        g_set_error(errp, BLOCK_ERROR, ENOMEM, "Could not set up zlib");
        return -ENOMEM;
    }
    s->inflater_ready = true;
    return 0;
}

void qcow2_compress_cleanup(Qcow2State *s)
{
    if (s->inflater_ready) {
        inflateEnd(&s->inflater);
        s->inflater_ready = false;
    }
}

int qcow2_read_compressed(Qcow2State *s, uint64_t entry, uint8_t *cluster,
                          GError **errp)
{
    uint64_t off, len;
    qcow2_compressed_extent(s, entry, &off, &len);
    if (off < s->cluster_size || off >= s->file_end) {
        return qcow2_corrupt(s, errp, "compressed cluster at 0x%" PRIx64
                             " is outside the image file", off);
    }
    if (len > s->compressed_buf_size) {
        return qcow2_corrupt(s, errp, "compressed cluster at 0x%" PRIx64
                             " is too long", off);
    }
    /* The last sector may run past the end of the file: that reads zero. */
    int r = host_file_pread(&s->file, off, s->compressed_buf, len, errp);
    if (r < 0) {
        return r;
    }
    r = inflater_init(s, errp);
    if (r < 0) {
        return r;
    }
    s->inflater.next_in = s->compressed_buf;
    s->inflater.avail_in = (uInt)len;
    s->inflater.next_out = cluster;
    s->inflater.avail_out = (uInt)s->cluster_size;
    int z = inflate(&s->inflater, Z_FINISH);
    if ((z != Z_STREAM_END && z != Z_BUF_ERROR) ||
        s->inflater.avail_out != 0) {
        return qcow2_corrupt(s, errp, "compressed cluster at 0x%" PRIx64
                             " does not decompress to a whole cluster", off);
    }
    return 0;
}

/* Finds room for len compressed bytes, packed after the previous ones. */
static int64_t place_compressed(Qcow2State *s, uint64_t len, GError **errp)
{
    uint64_t cs = s->cluster_size;
    uint64_t cur = s->compressed_cursor;
    if (cur && (cur & (cs - 1))) {
        uint64_t room = cs - (cur & (cs - 1));
        uint64_t extra = len > room ? (len - room + cs - 1) / cs : 0;
        int64_t more = 0;
        if (extra) {
            more = qcow2_alloc_clusters(s, extra, errp);
            if (more < 0) {
                return more;
            }
        }
        if (!extra || (uint64_t)more == (cur | (cs - 1)) + 1) {
            int r = qcow2_update_refcount(s, cur, 1, 1, errp);
            return r < 0 ? r : (int64_t)cur;
        }
        /* Not contiguous: give the clusters back and start afresh. */
        int r = qcow2_update_refcount(s, (uint64_t)more, extra * cs, -1, errp);
        if (r < 0) {
            return r;
        }
    }
    return qcow2_alloc_clusters(s, (len + cs - 1) / cs, errp);
}

int qcow2_write_compressed(BlockDriverState *bs, uint64_t offset,
                           const void *deflated, size_t deflated_len,
                           GError **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    if ((offset & (cs - 1)) || deflated_len == 0 || deflated_len >= cs) {
        g_set_error(errp, BLOCK_ERROR, EINVAL,
                    "Compressed writes take one whole cluster, compressed "
                    "to less than the cluster size");
        return -EINVAL;
    }
    int r = qcow2_mark_dirty(s, errp);
    if (r == 0 && !s->metadata_clusters) {
        r = qcow2_overlap_build(s, errp);
    }
    if (r < 0) {
        return r;
    }
    uint64_t *l2;
    uint64_t idx;
    r = qcow2_l2_for_write(s, offset, &l2, &idx, errp);
    if (r < 0) {
        return r;
    }
    int64_t at = place_compressed(s, deflated_len, errp);
    if (at >= 0) {
        r = qcow2_overlap_check(s, (uint64_t)at, deflated_len, errp);
        if (r == 0) {
            r = host_file_pwrite(&s->file, (uint64_t)at, deflated,
                                 deflated_len, errp);
        }
    } else {
        r = (int)at;
    }
    if (r < 0) {
        qcow2_cache_put(s->l2_cache, l2);
        return r;
    }
    uint64_t end = (uint64_t)at + deflated_len;
    s->compressed_cursor = (end & (cs - 1)) ? end : 0;
    uint64_t sectors = ((end - 1) >> 9) - ((uint64_t)at >> 9) + 1;
    uint64_t entry = QCOW2_OFLAG_COMPRESSED |
                     ((sectors - 1) << s->csize_shift) | (uint64_t)at;
    uint64_t old = qcow2_l2_get(l2, idx);
    qcow2_cache_depends_on_flush(s->l2_cache);
    qcow2_l2_set(l2, idx, entry);
    qcow2_cache_mark_dirty(s->l2_cache, l2);
    qcow2_cache_put(s->l2_cache, l2);
    qcow2_release_entry(s, old);
    return 0;
}
