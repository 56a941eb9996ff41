/*
 * qcow2-refcount.c: host cluster reference counts and allocation (qcow2
 * specification: "Host cluster management").  A two-level structure: the
 * refcount table points to refcount blocks, each holding refcount_bits
 * wide entries (1..64 bits; sub-byte widths are packed from the least
 * significant bit).  New refcount blocks describe themselves; the table
 * grows by moving to the end of the file.  Decrements wait until the
 * tables that referred to the clusters have reached the disk.
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <errno.h>
#include <string.h>

uint64_t qcow2_refblock_get(const void *block, uint32_t order, uint64_t i)
{
    const uint8_t *b = block;
    switch (order) {
    case 0:
        return (b[i / 8] >> (i % 8)) & 1;
    case 1:
        return (b[i / 4] >> (2 * (i % 4))) & 3;
    case 2:
        return (b[i / 2] >> (4 * (i % 2))) & 15;
    case 3:
        return b[i];
    case 4:
        return load_be16(b + 2 * i);
    case 5:
        return load_be32(b + 4 * i);
    default:
        return load_be64(b + 8 * i);
    }
}

void qcow2_refblock_set(void *block, uint32_t order, uint64_t i, uint64_t v)
{
    uint8_t *b = block;
    switch (order) {
    case 0:
    case 1:
    case 2: {
        unsigned width = 1u << order;
        unsigned per_byte = 8 / width;
        unsigned shift = (unsigned)(i % per_byte) * width;
        uint8_t mask = (uint8_t)(((1u << width) - 1) << shift);
        b[i / per_byte] = (uint8_t)((b[i / per_byte] & ~mask) |
                                    ((v << shift) & mask));
        break;
    }
    case 3:
        b[i] = (uint8_t)v;
        break;
    case 4:
        store_be16(b + 2 * i, (uint16_t)v);
        break;
    case 5:
        store_be32(b + 4 * i, (uint32_t)v);
        break;
    default:
        store_be64(b + 8 * i, v);
        break;
    }
}

static uint64_t refcount_max(const Qcow2State *s)
{
    return s->refcount_order == 6 ? UINT64_MAX
                                  : (UINT64_C(1) << (1u << s->refcount_order)) - 1;
}

int qcow2_refcount_load(Qcow2State *s, GError **errp)
{
    uint64_t bytes = (uint64_t)s->h.refcount_table_clusters << s->cluster_bits;
    s->refcount_table_entries = bytes / 8;
    s->refcount_table = g_malloc(bytes);
    int r = host_file_pread(&s->file, s->h.refcount_table_offset,
                            s->refcount_table, bytes, errp);
    if (r < 0) {
        return r;
    }
    for (uint64_t i = 0; i < s->refcount_table_entries; i++) {
        s->refcount_table[i] = GUINT64_FROM_BE(s->refcount_table[i]);
    }
    return 0;
}

int qcow2_barrier(Qcow2State *s, GError **errp)
{
    return host_file_flush(&s->file, errp);
}

/* The refcount block of a cluster; *block is NULL when there is none. */
static int refblock_for(Qcow2State *s, uint64_t cluster, void **block,
                        GError **errp)
{
    uint64_t idx = cluster >> s->refblock_bits;
    *block = NULL;
    if (idx >= s->refcount_table_entries) {
        return 0;
    }
    uint64_t off = s->refcount_table[idx] & QCOW2_REFT_OFFSET_MASK;
    if (off == 0) {
        return 0;
    }
    if ((off & (s->cluster_size - 1)) || off + s->cluster_size > s->file_end) {
        return qcow2_corrupt(s, errp, "refcount block %" PRIu64 " at offset "
                             "0x%" PRIx64 " is unaligned or beyond the end of "
                             "the file", idx, off);
    }
    return qcow2_cache_get(s->refblock_cache, off, block, errp);
}

int qcow2_get_refcount(Qcow2State *s, uint64_t cluster, uint64_t *refcount,
                       GError **errp)
{
    void *block;
    int r = refblock_for(s, cluster, &block, errp);
    if (r < 0) {
        return r;
    }
    if (!block) {
        *refcount = 0;
        return 0;
    }
    *refcount = qcow2_refblock_get(block, s->refcount_order,
                                   cluster & (s->refblock_entries - 1));
    qcow2_cache_put(s->refblock_cache, block);
    return 0;
}

int qcow2_update_refcount(Qcow2State *s, uint64_t offset, uint64_t length,
                          int64_t addend, GError **errp)
{
    if (length == 0 || addend == 0) {
        return 0;
    }
    if (addend < 0) {
        /* A cluster may become free: never pack compressed data there. */
        s->compressed_cursor = 0;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    void *block = NULL;
    uint64_t block_idx = UINT64_MAX;
    int r = 0;
    for (uint64_t c = first; c <= last; c++) {
        uint64_t idx = c >> s->refblock_bits;
        if (idx != block_idx) {
            if (block) {
                qcow2_cache_put(s->refblock_cache, block);
            }
            block_idx = idx;
            r = refblock_for(s, c, &block, errp);
            if (r < 0) {
                return r;
            }
            if (!block) {
                return qcow2_corrupt(s, errp, "cluster %" PRIu64 " has no "
                                     "refcount block but is in use", c);
            }
        }
        uint64_t i = c & (s->refblock_entries - 1);
        uint64_t v = qcow2_refblock_get(block, s->refcount_order, i);
        uint64_t nv = v + (uint64_t)addend;
        if ((addend < 0 && v < (uint64_t)-addend) ||
            (addend > 0 && (nv < v || nv > refcount_max(s)))) {
            r = qcow2_corrupt(s, errp, "refcount of cluster %" PRIu64
                              " would %s (it is %" PRIu64 ")", c,
                              addend < 0 ? "drop below zero" : "overflow", v);
            break;
        }
        qcow2_refblock_set(block, s->refcount_order, i, nv);
        qcow2_cache_mark_dirty(s->refblock_cache, block);
        if (nv == 0 && c < s->free_cluster_hint) {
            s->free_cluster_hint = c;
        }
    }
    if (block) {
        qcow2_cache_put(s->refblock_cache, block);
    }
    return r;
}

static int write_reftable_entry(Qcow2State *s, uint64_t idx, GError **errp)
{
    uint8_t b[8];
    store_be64(b, s->refcount_table[idx]);
    return host_file_pwrite(&s->file, s->h.refcount_table_offset + idx * 8, b,
                            sizeof(b), errp);
}

/* A new refcount block at cluster `at`, describing its own group. */
static int create_refblock(Qcow2State *s, uint64_t group, uint64_t at,
                           GError **errp)
{
    uint64_t off = at << s->cluster_bits;
    int r = qcow2_overlap_check(s, off, s->cluster_size, errp);
    if (r < 0) {
        return r;
    }
    void *block;
    r = qcow2_cache_get_empty(s->refblock_cache, off, &block, errp);
    if (r < 0) {
        return r;
    }
    memset(block, 0, s->cluster_size);
    qcow2_refblock_set(block, s->refcount_order,
                       at & (s->refblock_entries - 1), 1);
    qcow2_cache_mark_dirty(s->refblock_cache, block);
    qcow2_cache_put(s->refblock_cache, block);
    s->file_end = MAX(s->file_end, off + s->cluster_size);
    /* The block reaches the disk before the table entry pointing to it. */
    r = qcow2_cache_write_dirty(s->refblock_cache, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r < 0) {
        return r;
    }
    s->refcount_table[group] = off;
    r = write_reftable_entry(s, group, errp);
    if (r < 0) {
        s->refcount_table[group] = 0;
        return r;
    }
    qcow2_overlap_add(s, off, s->cluster_size);
    return 0;
}

static bool has_refblock(const Qcow2State *s, uint64_t group)
{
    return group < s->refcount_table_entries &&
           (s->refcount_table[group] & QCOW2_REFT_OFFSET_MASK) != 0;
}

/*
 * Moves the refcount table to the end of the file with room for at
 * least min_entries, creating the refcount blocks that describe the new
 * area itself.  The header switches to the new table in one write.
 */
static int grow_refcount_table(Qcow2State *s, uint64_t min_entries,
                               GError **errp)
{
    uint64_t cs = s->cluster_size;
    uint64_t start = qcow2_align_up(s, s->file_end) >> s->cluster_bits;
    uint64_t want = MAX(min_entries, s->refcount_table_entries * 2);
    uint64_t table_clusters = (want * 8 + cs - 1) / cs;
    uint64_t new_blocks = 0;
    for (int round = 0; round < 64; round++) {
        uint64_t end = start + new_blocks + table_clusters;
        uint64_t last_group = (end - 1) >> s->refblock_bits;
        uint64_t need_entries = MAX(want, last_group + 1);
        uint64_t t = (need_entries * 8 + cs - 1) / cs;
        uint64_t b = 0;
        for (uint64_t g = start >> s->refblock_bits; g <= last_group; g++) {
            b += !has_refblock(s, g);
        }
        if (t == table_clusters && b == new_blocks) {
            break;
        }
        table_clusters = MAX(t, table_clusters);
        new_blocks = MAX(b, new_blocks);
    }
    uint64_t table_bytes = table_clusters * cs;
    if (table_bytes > QCOW2_MAX_REFTABLE_BYTES) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "qcow2 refcount table would exceed %d bytes",
                    QCOW2_MAX_REFTABLE_BYTES);
        return -EFBIG;
    }
    uint64_t area_first = start;
    uint64_t area_end = start + new_blocks + table_clusters;
    uint64_t table_first = start + new_blocks;

    uint64_t new_entries = table_bytes / 8;
    uint64_t *table = g_new0(uint64_t, new_entries);
    memcpy(table, s->refcount_table, s->refcount_table_entries * 8);
    uint8_t *block = g_malloc(cs);
    int r = qcow2_overlap_check(s, area_first << s->cluster_bits,
                                (area_end - area_first) * cs, errp);

    /* Refcount blocks for the groups the new area falls in. */
    uint64_t next_block = start;
    for (uint64_t g = area_first >> s->refblock_bits;
         r == 0 && g <= (area_end - 1) >> s->refblock_bits; g++) {
        uint64_t g_first = g << s->refblock_bits;
        uint64_t g_end = g_first + s->refblock_entries;
        uint64_t lo = MAX(g_first, area_first), hi = MIN(g_end, area_end);
        if (has_refblock(s, g)) {
            r = qcow2_update_refcount(s, lo << s->cluster_bits,
                                      (hi - lo) * cs, 1, errp);
            continue;
        }
        memset(block, 0, cs);
        for (uint64_t c = lo; c < hi; c++) {
            qcow2_refblock_set(block, s->refcount_order, c - g_first, 1);
        }
        uint64_t at = next_block++;
        table[g] = at << s->cluster_bits;
        r = host_file_pwrite(&s->file, at << s->cluster_bits, block, cs, errp);
    }
    g_free(block);
    if (r == 0) {
        r = qcow2_cache_write_dirty(s->refblock_cache, errp);
    }
    if (r == 0) {
        uint64_t *disk = g_new(uint64_t, new_entries);
        for (uint64_t i = 0; i < new_entries; i++) {
            disk[i] = GUINT64_TO_BE(table[i]);
        }
        r = host_file_pwrite(&s->file, table_first << s->cluster_bits, disk,
                             table_bytes, errp);
        g_free(disk);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        /* Offset and cluster count are adjacent: one write switches. */
        uint8_t hdr[12];
        store_be64(hdr, table_first << s->cluster_bits);
        store_be32(hdr + 8, (uint32_t)table_clusters);
        r = host_file_pwrite(&s->file, QCOW2_HDR_REFTABLE_OFFSET, hdr,
                             sizeof(hdr), errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r < 0) {
        g_free(table);
        return r;
    }
    uint64_t old_offset = s->h.refcount_table_offset;
    uint64_t old_bytes = (uint64_t)s->h.refcount_table_clusters << s->cluster_bits;
    g_free(s->refcount_table);
    s->refcount_table = table;
    s->refcount_table_entries = new_entries;
    s->h.refcount_table_offset = table_first << s->cluster_bits;
    s->h.refcount_table_clusters = (uint32_t)table_clusters;
    s->file_end = MAX(s->file_end, area_end << s->cluster_bits);
    for (uint64_t g = 0; g < new_entries; g++) {
        uint64_t off = table[g] & QCOW2_REFT_OFFSET_MASK;
        if (off >= (area_first << s->cluster_bits)) {
            qcow2_overlap_add(s, off, cs);
        }
    }
    qcow2_overlap_remove(s, old_offset, old_bytes);
    qcow2_overlap_add(s, s->h.refcount_table_offset, table_bytes);
    /* Nothing on disk points to the old table any more. */
    return qcow2_update_refcount(s, old_offset, old_bytes, -1, errp);
}

int64_t qcow2_alloc_clusters(Qcow2State *s, uint64_t n, GError **errp)
{
    uint64_t c = s->free_cluster_hint;
    for (;;) {
        uint64_t end_cluster = qcow2_align_up(s, s->file_end) >> s->cluster_bits;
        uint64_t start = c, run = 0;
        while (run < n) {
            uint64_t idx = start + run;
            if (idx >= end_cluster) {
                /* Beyond the used part of the file everything is free. */
                run = n;
                break;
            }
            uint64_t rc;
            int r = qcow2_get_refcount(s, idx, &rc, errp);
            if (r < 0) {
                return r;
            }
            if (rc) {
                start = idx + 1;
                run = 0;
            } else {
                run++;
            }
        }
        if (((start + n) << s->cluster_bits) > QCOW2_MAX_HOST_OFFSET) {
            g_set_error(errp, BLOCK_ERROR, EFBIG,
                        "qcow2 image file would grow beyond 2^56 bytes");
            return -EFBIG;
        }
        /* Every group the run falls in needs a refcount block. */
        bool restart = false;
        for (uint64_t g = start >> s->refblock_bits;
             g <= (start + n - 1) >> s->refblock_bits; g++) {
            if (has_refblock(s, g)) {
                continue;
            }
            int r;
            if (g >= s->refcount_table_entries) {
                r = grow_refcount_table(s, g + 1, errp);
            } else {
                r = create_refblock(s, g, MAX(start, g << s->refblock_bits),
                                    errp);
            }
            if (r < 0) {
                return r;
            }
            restart = true;
            break;
        }
        if (restart) {
            c = start;
            continue;
        }
        int r = qcow2_update_refcount(s, start << s->cluster_bits,
                                      n << s->cluster_bits, 1, errp);
        if (r < 0) {
            return r;
        }
        if (start == s->free_cluster_hint || n == 1) {
            s->free_cluster_hint = start + n;
        }
        s->file_end = MAX(s->file_end, (start + n) << s->cluster_bits);
        return (int64_t)(start << s->cluster_bits);
    }
}

void qcow2_free_later(Qcow2State *s, uint64_t offset, uint64_t length)
{
    Qcow2PendingFree f = { .offset = offset, .length = length };
    g_array_append_val(s->pending_frees, f);
}

static int write_tables_in_order(Qcow2State *s, GError **errp)
{
    int r = qcow2_cache_write_dirty(s->refblock_cache, errp);
    if (r == 0 && qcow2_cache_is_dirty(s->l2_cache)) {
        r = qcow2_barrier(s, errp);
        if (r == 0) {
            r = qcow2_cache_write_dirty(s->l2_cache, errp);
        }
    }
    return r;
}

int qcow2_apply_pending_frees(Qcow2State *s, GError **errp)
{
    if (s->pending_frees->len == 0) {
        return 0;
    }
    /* First, no table on disk may still point at the clusters. */
    int r = write_tables_in_order(s, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    for (guint i = 0; r == 0 && i < s->pending_frees->len; i++) {
        Qcow2PendingFree *f =
            &g_array_index(s->pending_frees, Qcow2PendingFree, i);
        r = qcow2_update_refcount(s, f->offset, f->length, -1, errp);
        if (r == 0 && (s->bs->open_flags & BDRV_O_UNMAP) &&
            f->length >= s->cluster_size &&
            (f->offset & (s->cluster_size - 1)) == 0) {
            uint64_t rc = 1;
            if (qcow2_get_refcount(s, f->offset >> s->cluster_bits, &rc,
                                   NULL) == 0 && rc == 0) {
                host_file_punch_hole(&s->file, f->offset, f->length);
            }
        }
    }
    g_array_set_size(s->pending_frees, 0);
    return r;
}

int qcow2_flush_metadata(Qcow2State *s, GError **errp)
{
    int r = qcow2_apply_pending_frees(s, errp);
    if (r == 0) {
        r = write_tables_in_order(s, errp);
    }
    return r;
}
