/*
 * qcow2-overlap.c: the metadata overlap guard.  Before guest data is
 * written to a host cluster, make sure no header, L1 table, refcount
 * table or block, active L2 table, snapshot table or snapshot L1 table
 * lives there, so that a damaged image is refused rather than made worse.
 */
#include "block/qcow2.h"

#include <errno.h>

static gpointer key(uint64_t cluster)
{
    return GSIZE_TO_POINTER((gsize)cluster + 1);
}

void qcow2_overlap_add(Qcow2State *s, uint64_t offset, uint64_t length)
{
    if (!s->metadata_clusters || length == 0) {
        return;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        g_hash_table_add(s->metadata_clusters, key(c));
    }
}

void qcow2_overlap_remove(Qcow2State *s, uint64_t offset, uint64_t length)
{
    if (!s->metadata_clusters || length == 0) {
        return;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        g_hash_table_remove(s->metadata_clusters, key(c));
    }
}

int qcow2_overlap_check(Qcow2State *s, uint64_t offset, uint64_t length,
                        GError **errp)
{
    if (!s->metadata_clusters || length == 0) {
        return 0;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (g_hash_table_contains(s->metadata_clusters, key(c))) {
            return qcow2_corrupt(s, errp, "writing to host cluster 0x%" PRIx64
                                 " would overwrite metadata; write refused",
                                 c << s->cluster_bits);
        }
    }
    return 0;
}

/* Adds a range that must not already be metadata. */
static int add_unique(Qcow2State *s, uint64_t offset, uint64_t length,
                      const char *what, GError **errp)
{
    if (length == 0) {
        return 0;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (!g_hash_table_add(s->metadata_clusters, key(c))) {
            return qcow2_corrupt(s, errp, "%s at 0x%" PRIx64 " overlaps other "
                                 "metadata", what, c << s->cluster_bits);
        }
    }
    return 0;
}

int qcow2_overlap_build(Qcow2State *s, GError **errp)
{
    qcow2_overlap_free(s);
    s->metadata_clusters = g_hash_table_new(g_direct_hash, g_direct_equal);
    uint64_t cs = s->cluster_size;
    int r = add_unique(s, 0, cs, "the header", errp);
    if (r == 0) {
        r = add_unique(s, s->h.l1_table_offset, (uint64_t)s->h.l1_size * 8,
                       "the active L1 table", errp);
    }
    if (r == 0) {
        r = add_unique(s, s->h.refcount_table_offset,
                       (uint64_t)s->h.refcount_table_clusters << s->cluster_bits,
                       "the refcount table", errp);
    }
    for (uint64_t i = 0; r == 0 && i < s->refcount_table_entries; i++) {
        uint64_t off = s->refcount_table[i] & QCOW2_REFT_OFFSET_MASK;
        if (off) {
            r = qcow2_validate_table_offset(s, off, "refcount block", errp);
            if (r == 0) {
                r = add_unique(s, off, cs, "a refcount block", errp);
            }
        }
    }
    for (uint64_t i = 0; r == 0 && i < s->h.l1_size; i++) {
        uint64_t off = s->l1_table[i] & QCOW2_L1E_OFFSET_MASK;
        if (off) {
            r = qcow2_validate_table_offset(s, off, "L2 table", errp);
            if (r == 0) {
                r = add_unique(s, off, cs, "an L2 table", errp);
            }
        }
    }
    if (r == 0 && s->nb_snapshots) {
        r = add_unique(s, s->h.snapshots_offset, qcow2_snapshot_table_size(s),
                       "the snapshot table", errp);
    }
    for (int i = 0; r == 0 && i < s->nb_snapshots; i++) {
        r = add_unique(s, s->snapshots[i].l1_table_offset,
                       (uint64_t)s->snapshots[i].l1_size * 8,
                       "a snapshot L1 table", errp);
    }
    if (r < 0) {
        qcow2_overlap_free(s);
    }
    return r;
}

void qcow2_overlap_free(Qcow2State *s)
{
    if (s->metadata_clusters) {
        g_hash_table_destroy(s->metadata_clusters);
        s->metadata_clusters = NULL;
    }
}
