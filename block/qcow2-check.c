/*
 * qcow2-check.c: consistency check and repair.  Counts the references
 * to every host cluster by walking the header, the L1/L2 tables of the
 * active image and of each snapshot, the snapshot table and the refcount
 * structures, then compares with the stored refcounts (qcow2
 * specification: "Host cluster management") and the COPIED flags.
 * Repairs: leaks are lowered in place; refcount errors rebuild the whole
 * refcount structure at the end of the file from the counted references.
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <errno.h>
#include <string.h>

typedef struct CheckCtx {
    Qcow2State *s;
    BlockCheckResult *res;
    uint32_t *refs;                /* references counted per host cluster */
    uint64_t nb_clusters;
    uint64_t file_size;
    bool repair;                   /* clear bad entries in active tables */
    uint64_t *l2buf;
    uint64_t prev_data;            /* for the fragmentation count */
} CheckCtx;

static void report(CheckCtx *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void report(CheckCtx *c, const char *fmt, ...)
{
    if (!c->res->log) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    c->res->log(c->res->log_opaque, line);
    g_free(line);
}

static void count(CheckCtx *c, uint64_t offset, uint64_t length)
{
    if (length == 0) {
        return;
    }
    uint64_t first = offset >> c->s->cluster_bits;
    uint64_t last = (offset + length - 1) >> c->s->cluster_bits;
    for (uint64_t k = first; k <= last; k++) {
        if (k >= c->nb_clusters) {
            report(c, "ERROR: cluster %" PRIu64 " is referenced but lies "
                   "beyond the end of the image file", k);
            c->res->corruptions++;
            return;
        }
        if (c->refs[k] < UINT32_MAX) {
            c->refs[k]++;
        }
    }
}

static bool in_file(CheckCtx *c, uint64_t offset, uint64_t length)
{
    return offset + length <= c->nb_clusters << c->s->cluster_bits;
}

/* Walks one L2 table; returns true if the caller must write it back. */
static bool walk_l2(CheckCtx *c, uint64_t *l2, bool active)
{
    Qcow2State *s = c->s;
    bool changed = false;
    for (uint64_t j = 0; j < s->l2_entries; j++) {
        uint64_t e = qcow2_l2_get(l2, j);
        uint64_t off, len;
        bool bad = false;
        switch (qcow2_l2_entry_kind(s, e)) {
        case QCOW2_CLUSTER_COMPRESSED:
            qcow2_compressed_extent(s, e, &off, &len);
            if (off < s->cluster_size || !in_file(c, off, 1)) {
                report(c, "ERROR: compressed cluster at 0x%" PRIx64
                       " lies outside the image file", off);
                bad = true;
                break;
            }
            count(c, off & ~UINT64_C(511), len + (off & 511));
            if (active) {
                /* Counted as fragmented, as qemu-img does: they share
                 * sectors and are read whole. */
                c->res->allocated_clusters++;
                c->res->compressed_clusters++;
                c->res->fragmented_clusters++;
            }
            break;
        case QCOW2_CLUSTER_NORMAL:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            off = e & QCOW2_L2E_OFFSET_MASK;
            if (off & (s->cluster_size - 1)) {
                report(c, "ERROR offset=%" PRIx64 ": Cluster is not properly "
                       "aligned; L2 entry corrupted.", off);
                bad = true;
                break;
            }
            if (!in_file(c, off, s->cluster_size)) {
                report(c, "ERROR: data cluster at 0x%" PRIx64 " lies beyond "
                       "the end of the image file", off);
                bad = true;
                break;
            }
            count(c, off, s->cluster_size);
            if (active) {
                c->res->allocated_clusters++;
                if (c->prev_data && off != c->prev_data + s->cluster_size) {
                    c->res->fragmented_clusters++;
                }
                c->prev_data = off;
            }
            break;
        default:
            break;
        }
        if (bad) {
            c->res->corruptions++;
            if (c->repair && active) {
                qcow2_l2_set(l2, j, 0);
                c->res->corruptions_fixed++;
                changed = true;
            }
        }
    }
    return changed;
}

static int walk_l1(CheckCtx *c, uint64_t *l1, uint32_t l1_size, bool active,
                   GError **errp)
{
    Qcow2State *s = c->s;
    bool l1_changed = false;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2_off = l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        if ((l2_off & (s->cluster_size - 1)) ||
            !in_file(c, l2_off, s->cluster_size) || l2_off < s->cluster_size) {
            report(c, "ERROR: L2 table at 0x%" PRIx64 " (L1 index %u) is "
                   "unaligned or outside the image file", l2_off, i);
            c->res->corruptions++;
            if (c->repair && active) {
                l1[i] = 0;
                l1_changed = true;
                c->res->corruptions_fixed++;
            }
            continue;
        }
        count(c, l2_off, s->cluster_size);
        c->prev_data = 0;
        int r = host_file_pread(&s->file, l2_off, c->l2buf, s->cluster_size,
                                errp);
        if (r < 0) {
            return r;
        }
        if (walk_l2(c, c->l2buf, active)) {
            qcow2_cache_forget(s->l2_cache, l2_off);
            r = host_file_pwrite(&s->file, l2_off, c->l2buf, s->cluster_size,
                                 errp);
            if (r < 0) {
                return r;
            }
        }
    }
    if (l1_changed) {
        return qcow2_l1_write_all(s, errp);
    }
    return 0;
}

static int read_l1_table(Qcow2State *s, uint64_t offset, uint32_t size,
                         uint64_t **out, GError **errp)
{
    uint64_t *l1 = g_new0(uint64_t, MAX(size, 1));
    int r = host_file_pread(&s->file, offset, l1, (size_t)size * 8, errp);
    for (uint32_t i = 0; i < size; i++) {
        l1[i] = GUINT64_FROM_BE(l1[i]);
    }
    if (r < 0) {
        g_free(l1);
        return r;
    }
    *out = l1;
    return 0;
}

/* Counts all references except those of the refcount structures. */
static int count_references(CheckCtx *c, GError **errp)
{
    Qcow2State *s = c->s;
    count(c, 0, s->cluster_size);
    if (s->h.l1_size) {
        if (!in_file(c, s->h.l1_table_offset, (uint64_t)s->h.l1_size * 8)) {
            report(c, "ERROR: the active L1 table lies outside the file");
            c->res->corruptions++;
        } else {
            count(c, s->h.l1_table_offset, (uint64_t)s->h.l1_size * 8);
        }
    }
    int r = walk_l1(c, s->l1_table, s->h.l1_size, true, errp);
    if (r < 0) {
        return r;
    }
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        uint64_t bytes = (uint64_t)sn->l1_size * 8;
        if (!sn->l1_size) {
            continue;
        }
        if ((sn->l1_table_offset & (s->cluster_size - 1)) ||
            !in_file(c, sn->l1_table_offset, bytes) ||
            bytes > QCOW2_MAX_L1_BYTES) {
            report(c, "ERROR: the L1 table of snapshot %s lies outside the "
                   "file", sn->id_str);
            c->res->corruptions++;
            continue;
        }
        count(c, sn->l1_table_offset, bytes);
        uint64_t *l1;
        r = read_l1_table(s, sn->l1_table_offset, sn->l1_size, &l1, errp);
        if (r < 0) {
            return r;
        }
        r = walk_l1(c, l1, sn->l1_size, false, errp);
        g_free(l1);
        if (r < 0) {
            return r;
        }
    }
    if (s->nb_snapshots) {
        count(c, s->h.snapshots_offset, qcow2_snapshot_table_size(s));
    }
    return 0;
}

static void count_refcount_structures(CheckCtx *c)
{
    Qcow2State *s = c->s;
    count(c, s->h.refcount_table_offset,
          (uint64_t)s->h.refcount_table_clusters << s->cluster_bits);
    for (uint64_t i = 0; i < s->refcount_table_entries; i++) {
        uint64_t off = s->refcount_table[i] & QCOW2_REFT_OFFSET_MASK;
        if (!off) {
            continue;
        }
        if ((off & (s->cluster_size - 1)) || !in_file(c, off, s->cluster_size)) {
            report(c, "ERROR refcount block %" PRIu64 " is not cluster "
                   "aligned or lies outside the image file", i);
            c->res->corruptions++;
            continue;
        }
        count(c, off, s->cluster_size);
    }
}

/* Stored refcount, or 0 with *broken set when the structure is damaged. */
static uint64_t stored_refcount(CheckCtx *c, uint64_t cluster, bool *broken)
{
    Qcow2State *s = c->s;
    uint64_t g = cluster >> s->refblock_bits;
    if (g >= s->refcount_table_entries) {
        return 0;
    }
    uint64_t off = s->refcount_table[g] & QCOW2_REFT_OFFSET_MASK;
    if (!off) {
        return 0;
    }
    if ((off & (s->cluster_size - 1)) || !in_file(c, off, s->cluster_size)) {
        *broken = true;
        return 0;
    }
    uint64_t rc = 0;
    GError *err = NULL;
    if (qcow2_get_refcount(s, cluster, &rc, &err) < 0) {
        g_error_free(err);
        *broken = true;
        return 0;
    }
    return rc;
}

/* Builds a fresh refcount table and blocks from c->refs at the file end. */
static int rebuild_from_refs(CheckCtx *c, GError **errp)
{
    Qcow2State *s = c->s;
    uint64_t cs = s->cluster_size;
    uint64_t start = c->nb_clusters;
    uint64_t blocks = 0, table = 1;
    for (int round = 0; round < 64; round++) {
        uint64_t end = start + blocks + table;
        uint64_t groups = (end + s->refblock_entries - 1) >> s->refblock_bits;
        uint64_t nb = 0;
        for (uint64_t g = 0; g < groups; g++) {
            uint64_t lo = g << s->refblock_bits;
            uint64_t hi = MIN(lo + s->refblock_entries, end);
            bool used = false;
            for (uint64_t k = lo; k < hi && !used; k++) {
                used = k >= start || (k < c->nb_clusters && c->refs[k]);
            }
            nb += used;
        }
        uint64_t t = (groups * 8 + cs - 1) / cs;
        if (nb == blocks && t == table) {
            break;
        }
        blocks = MAX(nb, blocks);
        table = MAX(t, table);
    }
    uint64_t end = start + blocks + table;
    if (table * cs > QCOW2_MAX_REFTABLE_BYTES) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "Refcount table would be too large to rebuild");
        return -EFBIG;
    }
    uint64_t entries = table * cs / 8;
    uint64_t *reft = g_new0(uint64_t, entries);
    uint8_t *block = g_malloc(cs);
    uint64_t next = start;
    int r = 0;
    uint64_t groups = (end + s->refblock_entries - 1) >> s->refblock_bits;
    for (uint64_t g = 0; g < groups && r == 0; g++) {
        uint64_t lo = g << s->refblock_bits;
        uint64_t hi = MIN(lo + s->refblock_entries, end);
        memset(block, 0, cs);
        bool used = false;
        for (uint64_t k = lo; k < hi; k++) {
            uint64_t v = k >= start ? 1 : (k < c->nb_clusters ? c->refs[k] : 0);
            if (v) {
                qcow2_refblock_set(block, s->refcount_order, k - lo, v);
                used = true;
            }
        }
        if (!used) {
            continue;
        }
        reft[g] = next << s->cluster_bits;
        r = host_file_pwrite(&s->file, next << s->cluster_bits, block, cs,
                             errp);
        next++;
    }
    g_free(block);
    if (r == 0) {
        uint64_t *disk = g_new(uint64_t, entries);
        for (uint64_t i = 0; i < entries; i++) {
            disk[i] = GUINT64_TO_BE(reft[i]);
        }
        r = host_file_pwrite(&s->file, (start + blocks) << s->cluster_bits,
                             disk, table * cs, errp);
        g_free(disk);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        uint8_t hdr[12];
        store_be64(hdr, (start + blocks) << s->cluster_bits);
        store_be32(hdr + 8, (uint32_t)table);
        r = host_file_pwrite(&s->file, QCOW2_HDR_REFTABLE_OFFSET, hdr,
                             sizeof(hdr), errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r < 0) {
        g_free(reft);
        return r;
    }
    qcow2_cache_forget_all(s->refblock_cache);
    g_free(s->refcount_table);
    s->refcount_table = reft;
    s->refcount_table_entries = entries;
    s->h.refcount_table_offset = (start + blocks) << s->cluster_bits;
    s->h.refcount_table_clusters = (uint32_t)table;
    s->file_end = MAX(s->file_end, end << s->cluster_bits);
    s->free_cluster_hint = 0;
    s->compressed_cursor = 0;
    qcow2_overlap_free(s);
    return 0;
}

static int setup(CheckCtx *c, Qcow2State *s, BlockCheckResult *res,
                 GError **errp)
{
    memset(c, 0, sizeof(*c));
    c->s = s;
    c->res = res;
    int64_t size = host_file_size(&s->file, errp);
    if (size < 0) {
        return (int)size;
    }
    c->file_size = (uint64_t)size;
    c->nb_clusters = qcow2_align_up(s, c->file_size) >> s->cluster_bits;
    if (c->nb_clusters > (UINT64_C(1) << 32)) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "Image file is too large to check");
        return -EFBIG;
    }
    c->refs = g_try_new0(uint32_t, MAX(c->nb_clusters, 1));
    if (!c->refs) {
        g_set_error(errp, BLOCK_ERROR, ENOMEM, "Out of memory for the check");
        return -ENOMEM;
    }
    c->l2buf = g_malloc(s->cluster_size);
    return 0;
}

static void teardown(CheckCtx *c)
{
    g_free(c->refs);
    g_free(c->l2buf);
}

int qcow2_rebuild_refcounts(Qcow2State *s, GError **errp)
{
    BlockCheckResult res = { 0 };
    CheckCtx c;
    int r = setup(&c, s, &res, errp);
    if (r == 0) {
        r = count_references(&c, errp);
    }
    if (r == 0) {
        r = rebuild_from_refs(&c, errp);
    }
    teardown(&c);
    if (r == 0) {
        r = qcow2_fix_copied_flags(s, errp);
    }
    return r;
}

/* One pass: count, compare, optionally repair.  Sets *need_rebuild. */
static int check_pass(Qcow2State *s, BlockCheckResult *res, int fix,
                      bool *need_rebuild, GError **errp)
{
    CheckCtx c;
    int r = setup(&c, s, res, errp);
    if (r < 0) {
        return r;
    }
    c.repair = fix & BDRV_FIX_ERRORS;
    r = count_references(&c, errp);
    if (r == 0) {
        count_refcount_structures(&c);
    }
    bool broken = false;
    uint64_t last_used = 0;
    for (uint64_t k = 0; r == 0 && k < c.nb_clusters; k++) {
        uint64_t stored = stored_refcount(&c, k, &broken);
        uint64_t refs = c.refs[k];
        if (refs) {
            last_used = k + 1;
        }
        if (stored == refs) {
            continue;
        }
        bool leak = stored > refs;
        if (leak && (fix & BDRV_FIX_LEAKS)) {
            report(&c, "Repairing cluster %" PRIu64 " refcount=%" PRIu64
                   " reference=%" PRIu64, k, stored, refs);
            r = qcow2_update_refcount(s, k << s->cluster_bits, 1,
                                      (int64_t)refs - (int64_t)stored, errp);
            res->leaks_fixed++;
            continue;
        }
        report(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%"
               PRIu64, leak ? "Leaked" : "ERROR", k, stored, refs);
        if (leak) {
            res->leaks++;
        } else {
            res->corruptions++;
            *need_rebuild = true;
        }
    }
    if (broken) {
        *need_rebuild = true;
    }
    /* COPIED flags of the active tables against the stored refcounts. */
    for (uint32_t i = 0; r == 0 && i < s->h.l1_size; i++) {
        uint64_t l1e = s->l1_table[i];
        uint64_t l2_off = l1e & QCOW2_L1E_OFFSET_MASK;
        if (!l2_off || (l2_off & (s->cluster_size - 1)) ||
            !in_file(&c, l2_off, s->cluster_size)) {
            continue;
        }
        bool b = false;
        uint64_t rc = stored_refcount(&c, l2_off >> s->cluster_bits, &b);
        if ((rc == 1) != !!(l1e & QCOW2_OFLAG_COPIED)) {
            report(&c, "ERROR OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%"
                   PRIx64 " refcount=%" PRIu64, i, l1e, rc);
            res->corruptions++;
            *need_rebuild = true;
        }
        r = host_file_pread(&s->file, l2_off, c.l2buf, s->cluster_size, errp);
        for (uint64_t j = 0; r == 0 && j < s->l2_entries; j++) {
            uint64_t e = qcow2_l2_get(c.l2buf, j);
            Qcow2ClusterKind k = qcow2_l2_entry_kind(s, e);
            uint64_t off = e & QCOW2_L2E_OFFSET_MASK;
            if ((k != QCOW2_CLUSTER_NORMAL && k != QCOW2_CLUSTER_ZERO_ALLOC) ||
                (off & (s->cluster_size - 1)) ||
                !in_file(&c, off, s->cluster_size)) {
                continue;
            }
            rc = stored_refcount(&c, off >> s->cluster_bits, &b);
            if ((rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
                report(&c, "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64
                       " refcount=%" PRIu64, e, rc);
                res->corruptions++;
                *need_rebuild = true;
            }
        }
    }
    res->image_end_offset = last_used << s->cluster_bits;
    res->total_clusters = (s->bs->total_size + s->cluster_size - 1) >>
                          s->cluster_bits;
    if (r == 0 && *need_rebuild && (fix & BDRV_FIX_ERRORS)) {
        /* Recount without the old refcount structures and rebuild. */
        teardown(&c);
        BlockCheckResult scratch = { 0 };
        r = setup(&c, s, &scratch, errp);
        if (r == 0) {
            r = count_references(&c, errp);
        }
        if (r == 0) {
            report(&c, "Rebuilding refcount structure");
            r = rebuild_from_refs(&c, errp);
        }
        if (r == 0) {
            r = qcow2_fix_copied_flags(s, errp);
        }
        res->rebuilt_refcounts = true;
    }
    teardown(&c);
    return r;
}

int qcow2_check(BlockDriverState *bs, BlockCheckResult *res, int fix,
                GError **errp)
{
    Qcow2State *s = bs->opaque;
    if (s->writable) {
        int r = qcow2_flush_metadata(s, errp);
        if (r < 0) {
            return r;
        }
    }
    bool rebuild = false;
    int r = check_pass(s, res, fix, &rebuild, errp);
    if (r < 0 || !fix) {
        return r;
    }
    r = qcow2_flush_metadata(s, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r < 0) {
        return r;
    }
    /* Double check the repaired image; fixed counts are what went away. */
    BlockCheckResult first = *res;
    BlockCheckResult again = { .log = res->log, .log_opaque = res->log_opaque };
    bool rebuild_again = false;
    r = check_pass(s, &again, 0, &rebuild_again, errp);
    if (r < 0) {
        return r;
    }
    again.leaks_fixed = first.leaks_fixed + (first.leaks - again.leaks);
    if (again.leaks_fixed < 0) {
        again.leaks_fixed = 0;
    }
    int64_t fixed = first.corruptions - again.corruptions;
    again.corruptions_fixed = fixed > 0 ? fixed : 0;
    if (first.rebuilt_refcounts) {
        again.leaks_fixed = first.leaks_fixed + first.leaks;
    }
    again.rebuilt_refcounts = first.rebuilt_refcounts;
    *res = again;
    if (s->h.incompatible_features & QCOW2_INCOMPAT_CORRUPT &&
        again.corruptions == 0) {
        r = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_CORRUPT, false, errp);
    }
    return r;
}
