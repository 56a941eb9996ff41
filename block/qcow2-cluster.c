/*
 * qcow2-cluster.c: the two-level map from guest clusters to host
 * clusters (qcow2 specification: "Cluster mapping").  The active L1
 * table lives in memory and is written through; L2 tables go through the
 * metadata cache.  An L2 table shared with a snapshot (L1 entry without
 * the COPIED flag) is copied before it is changed.
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <errno.h>
#include <string.h>

Qcow2ClusterKind qcow2_l2_entry_kind(const Qcow2State *s, uint64_t entry)
{
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        return QCOW2_CLUSTER_COMPRESSED;
    }
    uint64_t off = entry & QCOW2_L2E_OFFSET_MASK;
    if ((entry & QCOW2_OFLAG_ZERO) && s->h.version >= 3) {
        return off ? QCOW2_CLUSTER_ZERO_ALLOC : QCOW2_CLUSTER_ZERO_PLAIN;
    }
    return off ? QCOW2_CLUSTER_NORMAL : QCOW2_CLUSTER_UNALLOCATED;
}

void qcow2_compressed_extent(const Qcow2State *s, uint64_t entry,
                             uint64_t *offset, uint64_t *length)
{
    uint64_t off = entry & s->coffset_mask;
    uint64_t sectors = ((entry >> s->csize_shift) & s->csize_mask) + 1;
    *offset = off;
    *length = sectors * 512 - (off & 511);
}

int qcow2_validate_table_offset(Qcow2State *s, uint64_t offset,
                                const char *what, GError **errp)
{
    if ((offset & (s->cluster_size - 1)) != 0) {
        return qcow2_corrupt(s, errp, "%s offset 0x%" PRIx64
                             " is not aligned to a cluster", what, offset);
    }
    if (offset < s->cluster_size || offset + s->cluster_size > s->file_end) {
        return qcow2_corrupt(s, errp, "%s offset 0x%" PRIx64
                             " is outside the image file", what, offset);
    }
    return 0;
}

uint64_t qcow2_l1_entries_for(const Qcow2State *s, uint64_t size)
{
    uint64_t per_entry = s->l2_entries << s->cluster_bits;
    return (size + per_entry - 1) / per_entry;
}

static uint64_t l1_index_of(const Qcow2State *s, uint64_t guest_offset)
{
    return guest_offset >> (s->l2_bits + s->cluster_bits);
}

static uint64_t l2_index_of(const Qcow2State *s, uint64_t guest_offset)
{
    return (guest_offset >> s->cluster_bits) & (s->l2_entries - 1);
}

int qcow2_l2_lookup(Qcow2State *s, uint64_t guest_offset, uint64_t **l2,
                    uint64_t *l2_index, GError **errp)
{
    uint64_t i1 = l1_index_of(s, guest_offset);
    *l2 = NULL;
    *l2_index = l2_index_of(s, guest_offset);
    if (i1 >= s->h.l1_size) {
        return 0;
    }
    uint64_t l2_off = s->l1_table[i1] & QCOW2_L1E_OFFSET_MASK;
    if (l2_off == 0) {
        return 0;
    }
    int r = qcow2_validate_table_offset(s, l2_off, "L2 table", errp);
    if (r < 0) {
        return r;
    }
    return qcow2_cache_get(s->l2_cache, l2_off, (void **)l2, errp);
}

int qcow2_l2_lookup_cached(Qcow2State *s, uint64_t guest_offset,
                           uint64_t **l2, uint64_t *l2_index)
{
    uint64_t i1 = l1_index_of(s, guest_offset);
    *l2 = NULL;
    *l2_index = l2_index_of(s, guest_offset);
    if (i1 >= s->h.l1_size) {
        return 0;
    }
    uint64_t l2_off = s->l1_table[i1] & QCOW2_L1E_OFFSET_MASK;
    if (l2_off == 0) {
        return 0;
    }
    if ((l2_off & (s->cluster_size - 1)) || l2_off >= s->file_end ||
        !qcow2_cache_get_cached(s->l2_cache, l2_off, (void **)l2)) {
        return -EAGAIN;
    }
    return 0;
}

int qcow2_l1_write_entry(Qcow2State *s, uint64_t index, uint64_t value,
                         GError **errp)
{
    uint8_t b[8];
    store_be64(b, value);
    int r = host_file_pwrite(&s->file, s->h.l1_table_offset + index * 8, b,
                             sizeof(b), errp);
    if (r == 0) {
        s->l1_table[index] = value;
    }
    return r;
}

int qcow2_l1_write_all(Qcow2State *s, GError **errp)
{
    uint64_t *disk = g_new(uint64_t, MAX(s->h.l1_size, 1));
    for (uint64_t i = 0; i < s->h.l1_size; i++) {
        disk[i] = GUINT64_TO_BE(s->l1_table[i]);
    }
    int r = host_file_pwrite(&s->file, s->h.l1_table_offset, disk,
                             (size_t)s->h.l1_size * 8, errp);
    g_free(disk);
    return r;
}

int qcow2_l2_for_write(Qcow2State *s, uint64_t guest_offset, uint64_t **l2,
                       uint64_t *l2_index, GError **errp)
{
    uint64_t i1 = l1_index_of(s, guest_offset);
    *l2 = NULL;
    *l2_index = l2_index_of(s, guest_offset);
    if (i1 >= s->h.l1_size) {
        return qcow2_corrupt(s, errp, "guest offset 0x%" PRIx64
                             " is beyond the L1 table", guest_offset);
    }
    uint64_t l1e = s->l1_table[i1];
    uint64_t old_off = l1e & QCOW2_L1E_OFFSET_MASK;
    if (old_off && (l1e & QCOW2_OFLAG_COPIED)) {
        return qcow2_l2_lookup(s, guest_offset, l2, l2_index, errp);
    }
    if (old_off) {
        int r = qcow2_validate_table_offset(s, old_off, "L2 table", errp);
        if (r < 0) {
            return r;
        }
    }
    int64_t new_off = qcow2_alloc_clusters(s, 1, errp);
    if (new_off < 0) {
        return (int)new_off;
    }
    int r = qcow2_overlap_check(s, (uint64_t)new_off, s->cluster_size, errp);
    if (r < 0) {
        return r;
    }
    uint64_t *table;
    r = qcow2_cache_get_empty(s->l2_cache, (uint64_t)new_off, (void **)&table,
                              errp);
    if (r < 0) {
        return r;
    }
    if (old_off) {
        /* Shared with a snapshot: copy it; the data refcounts stay. */
        uint64_t *old;
        r = qcow2_cache_get(s->l2_cache, old_off, (void **)&old, errp);
        if (r < 0) {
            qcow2_cache_forget(s->l2_cache, (uint64_t)new_off);
            qcow2_cache_put(s->l2_cache, table);
            return r;
        }
        memcpy(table, old, s->cluster_size);
        qcow2_cache_put(s->l2_cache, old);
    } else {
        memset(table, 0, s->cluster_size);
    }
    qcow2_cache_mark_dirty(s->l2_cache, table);
    qcow2_overlap_add(s, (uint64_t)new_off, s->cluster_size);

    /* Refcounts, then the table, then the L1 entry that points to it. */
    r = qcow2_cache_write_dirty(s->refblock_cache, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        r = qcow2_cache_write_dirty(s->l2_cache, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        r = qcow2_l1_write_entry(s, i1, (uint64_t)new_off | QCOW2_OFLAG_COPIED,
                                 errp);
    }
    if (r < 0) {
        qcow2_cache_put(s->l2_cache, table);
        return r;
    }
    if (old_off) {
        qcow2_free_later(s, old_off, s->cluster_size);
    }
    *l2 = table;
    return 0;
}

int qcow2_grow_l1(Qcow2State *s, uint64_t min_entries, GError **errp)
{
    if (min_entries <= s->h.l1_size) {
        return 0;
    }
    if (min_entries * 8 > QCOW2_MAX_L1_BYTES) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "qcow2 L1 table would exceed %d bytes",
                    QCOW2_MAX_L1_BYTES);
        return -EFBIG;
    }
    uint64_t bytes = qcow2_align_up(s, min_entries * 8);
    int64_t off = qcow2_alloc_clusters(s, bytes >> s->cluster_bits, errp);
    if (off < 0) {
        return (int)off;
    }
    int r = qcow2_overlap_check(s, (uint64_t)off, bytes, errp);
    if (r < 0) {
        return r;
    }
    uint64_t *disk = g_new0(uint64_t, bytes / 8);
    for (uint64_t i = 0; i < s->h.l1_size; i++) {
        disk[i] = GUINT64_TO_BE(s->l1_table[i]);
    }
    r = host_file_pwrite(&s->file, (uint64_t)off, disk, bytes, errp);
    g_free(disk);
    if (r == 0) {
        r = qcow2_cache_write_dirty(s->refblock_cache, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        /* L1 size and offset are adjacent: one write switches. */
        uint8_t hdr[12];
        store_be32(hdr, (uint32_t)min_entries);
        store_be64(hdr + 4, (uint64_t)off);
        r = host_file_pwrite(&s->file, QCOW2_HDR_L1_SIZE, hdr, sizeof(hdr),
                             errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r < 0) {
        return r;
    }
    uint64_t old_off = s->h.l1_table_offset;
    uint64_t old_bytes = qcow2_align_up(s, (uint64_t)s->h.l1_size * 8);
    uint64_t *table = g_new0(uint64_t, min_entries);
    memcpy(table, s->l1_table, (size_t)s->h.l1_size * 8);
    g_free(s->l1_table);
    s->l1_table = table;
    s->h.l1_size = (uint32_t)min_entries;
    s->h.l1_table_offset = (uint64_t)off;
    qcow2_overlap_remove(s, old_off, old_bytes);
    qcow2_overlap_add(s, (uint64_t)off, bytes);
    if (old_off && old_bytes) {
        return qcow2_update_refcount(s, old_off, old_bytes, -1, errp);
    }
    return 0;
}
