/*
 * qcow2-resize.c: changing the virtual size (qcow2 specification:
 * "Header" size field, "Cluster mapping").  Growing enlarges the L1
 * table when needed and makes sure the newly visible area reads as
 * zeroes; shrinking unmaps everything past the new end first and is
 * refused while internal snapshots exist.  Also preallocation.
 */
#include "block/qcow2.h"

#include <errno.h>
#include <string.h>

int qcow2_preallocate(Qcow2State *s, uint64_t from, uint64_t to,
                      BdrvPreallocMode mode, GError **errp)
{
    if (mode == BDRV_PREALLOC_OFF || to <= from) {
        return 0;
    }
    uint64_t cs = s->cluster_size;
    uint64_t guest = from & ~(cs - 1);
    int r = 0;
    while (guest < to && r == 0) {
        uint64_t *l2;
        uint64_t idx;
        r = qcow2_l2_for_write(s, guest, &l2, &idx, errp);
        if (r < 0) {
            break;
        }
        uint64_t n = MIN(s->l2_entries - idx, (to - guest + cs - 1) / cs);
        for (uint64_t j = 0; j < n && r == 0;) {
            if (qcow2_l2_entry_kind(s, qcow2_l2_get(l2, idx + j)) !=
                QCOW2_CLUSTER_UNALLOCATED) {
                j++;
                continue;
            }
            uint64_t run = 1;
            while (j + run < n && qcow2_l2_entry_kind(
                       s, qcow2_l2_get(l2, idx + j + run)) ==
                       QCOW2_CLUSTER_UNALLOCATED) {
                run++;
            }
            int64_t host = qcow2_alloc_clusters(s, run, errp);
            if (host < 0) {
                r = (int)host;
                break;
            }
            if (mode == BDRV_PREALLOC_FALLOC || mode == BDRV_PREALLOC_FULL) {
                r = host_file_fallocate(&s->file, (uint64_t)host, run * cs,
                                        errp);
            }
            for (uint64_t k = 0; k < run && r == 0; k++) {
                qcow2_l2_set(l2, idx + j + k,
                             ((uint64_t)host + k * cs) | QCOW2_OFLAG_COPIED);
            }
            qcow2_cache_mark_dirty(s->l2_cache, l2);
            j += run;
        }
        qcow2_cache_put(s->l2_cache, l2);
        guest += n * cs;
    }
    if (r == 0) {
        /* The clusters exist only as space: make the file cover them. */
        int64_t size = host_file_size(&s->file, errp);
        if (size < 0) {
            return (int)size;
        }
        if ((uint64_t)size < s->file_end) {
            r = host_file_truncate(&s->file, s->file_end, errp);
        }
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    return r;
}

static int shrink(Qcow2State *s, uint64_t size, GError **errp)
{
    uint64_t cs = s->cluster_size;
    uint64_t old = s->bs->total_size;
    uint64_t first = (size + cs - 1) / cs;
    uint64_t end = (old + cs - 1) / cs;
    int r = qcow2_unmap_clusters(s, first, end - first, true, errp);
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    /* L2 tables wholly past the new end are no longer needed. */
    uint64_t keep = qcow2_l1_entries_for(s, size);
    bool changed = false;
    for (uint64_t i = keep; r == 0 && i < s->h.l1_size; i++) {
        uint64_t off = s->l1_table[i] & QCOW2_L1E_OFFSET_MASK;
        if (!off) {
            continue;
        }
        s->l1_table[i] = 0;
        changed = true;
        qcow2_cache_forget(s->l2_cache, off);
        qcow2_overlap_remove(s, off, cs);
        qcow2_free_later(s, off, cs);
    }
    if (r == 0 && changed) {
        r = qcow2_l1_write_all(s, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        r = qcow2_header_write_u64(s, QCOW2_HDR_SIZE, size, errp);
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    return r;
}

int qcow2_truncate(BlockDriverState *bs, uint64_t size, bool allow_shrink,
                   BdrvPreallocMode prealloc, GError **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t old = bs->total_size;
    if (size % 512) {
        g_set_error(errp, BLOCK_ERROR, EINVAL,
                    "The new size must be a multiple of 512");
        return -EINVAL;
    }
    if (size == old) {
        return 0;
    }
    int r = qcow2_mark_dirty(s, errp);
    if (r == 0 && !s->metadata_clusters) {
        r = qcow2_overlap_build(s, errp);
    }
    if (r < 0) {
        return r;
    }
    if (size < old) {
        if (!allow_shrink) {
            g_set_error(errp, BLOCK_ERROR, EINVAL,
                        "Use the --shrink option to perform a shrink "
                        "operation.");
            return -EINVAL;
        }
        if (s->nb_snapshots) {
            g_set_error(errp, BLOCK_ERROR, ENOTSUP,
                        "Can't shrink an image with internal snapshots");
            return -ENOTSUP;
        }
        r = shrink(s, size, errp);
        if (r == 0) {
            s->h.size = size;
            bs->total_size = size;
        }
        return r;
    }
    r = qcow2_grow_l1(s, qcow2_l1_entries_for(s, size), errp);
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        r = qcow2_header_write_u64(s, QCOW2_HDR_SIZE, size, errp);
    }
    if (r < 0) {
        return r;
    }
    s->h.size = size;
    bs->total_size = size;
    /* Whatever lies past the old end (backing data, a partial cluster's
     * old tail) must not show through. */
    uint64_t cs = s->cluster_size;
    uint64_t zero_end = bs->backing_file ? size
                                         : MIN(size, (old + cs - 1) & ~(cs - 1));
    if (zero_end > old) {
        r = qcow2_write_zeroes(bs, old, zero_end - old, false, errp);
    }
    if (r == 0) {
        r = qcow2_preallocate(s, old, size, prealloc, errp);
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    return r;
}
