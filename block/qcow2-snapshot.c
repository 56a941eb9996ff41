/*
 * qcow2-snapshot.c: internal snapshots (qcow2 specification:
 * "Snapshots").  A snapshot is a copy of the active L1 table plus a
 * refcount increment for every L2 table and data cluster reachable from
 * it; the active image then copies shared clusters before writing.
 * The snapshot table is rewritten to new clusters and switched in the
 * header with one write.
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define MAX_SNAPSHOT_TABLE_BYTES (64u * 1024 * 1024)

static uint64_t entry_size(const Qcow2Snapshot *sn)
{
    uint64_t n = QCOW2_SN_FIXED_SIZE + QCOW2_SN_EXTRA_FULL +
                 strlen(sn->id_str) + strlen(sn->name);
    return (n + 7) & ~UINT64_C(7);
}

uint64_t qcow2_snapshot_table_size(const Qcow2State *s)
{
    uint64_t total = 0;
    for (int i = 0; i < s->nb_snapshots; i++) {
        total += entry_size(&s->snapshots[i]);
    }
    return total;
}

void qcow2_snapshots_clear(Qcow2State *s)
{
    for (int i = 0; i < s->nb_snapshots; i++) {
        g_free(s->snapshots[i].id_str);
        g_free(s->snapshots[i].name);
    }
    g_free(s->snapshots);
    s->snapshots = NULL;
    s->nb_snapshots = 0;
}

int qcow2_snapshots_load(Qcow2State *s, GError **errp)
{
    uint32_t n = s->h.nb_snapshots;
    if (n == 0) {
        return 0;
    }
    uint64_t avail = s->file_end - s->h.snapshots_offset;
    uint64_t cap = MIN(avail, MAX_SNAPSHOT_TABLE_BYTES);
    /* Read in pieces: the table length is only known once parsed. */
    GByteArray *table = g_byte_array_new();
    uint64_t pos = 0;
    int r = 0;
    s->snapshots = g_new0(Qcow2Snapshot, n);
    for (uint32_t i = 0; i < n && r == 0; i++) {
        uint8_t fixed[QCOW2_SN_FIXED_SIZE];
        if (pos + sizeof(fixed) > cap) {
            r = qcow2_corrupt(s, errp, "snapshot table is truncated");
            break;
        }
        r = host_file_pread(&s->file, s->h.snapshots_offset + pos, fixed,
                            sizeof(fixed), errp);
        if (r < 0) {
            break;
        }
        Qcow2Snapshot *sn = &s->snapshots[i];
        s->nb_snapshots = (int)i + 1;
        sn->l1_table_offset = load_be64(fixed + QCOW2_SN_L1_OFFSET);
        sn->l1_size = load_be32(fixed + QCOW2_SN_L1_SIZE);
        uint16_t id_len = load_be16(fixed + QCOW2_SN_ID_SIZE);
        uint16_t name_len = load_be16(fixed + QCOW2_SN_NAME_SIZE);
        sn->date_sec = load_be32(fixed + QCOW2_SN_DATE_SEC);
        sn->date_nsec = load_be32(fixed + QCOW2_SN_DATE_NSEC);
        sn->vm_clock_nsec = load_be64(fixed + QCOW2_SN_VM_CLOCK);
        sn->vm_state_size = load_be32(fixed + QCOW2_SN_VM_STATE_SIZE);
        sn->extra_data_size = load_be32(fixed + QCOW2_SN_EXTRA_SIZE);
        if (sn->extra_data_size > QCOW2_MAX_SNAPSHOT_EXTRA) {
            r = qcow2_corrupt(s, errp, "snapshot %u has too much extra data "
                              "(%u bytes)", i, sn->extra_data_size);
            break;
        }
        uint64_t var = (uint64_t)sn->extra_data_size + id_len + name_len;
        uint64_t whole = (QCOW2_SN_FIXED_SIZE + var + 7) & ~UINT64_C(7);
        if (pos + whole > cap) {
            r = qcow2_corrupt(s, errp, "snapshot table is truncated");
            break;
        }
        g_byte_array_set_size(table, (guint)var);
        r = host_file_pread(&s->file,
                            s->h.snapshots_offset + pos + QCOW2_SN_FIXED_SIZE,
                            table->data, var, errp);
        if (r < 0) {
            break;
        }
        const uint8_t *extra = table->data;
        sn->disk_size = s->bs->total_size;
        sn->icount = UINT64_MAX;
        if (sn->extra_data_size >= 8) {
            sn->vm_state_size = load_be64(extra + QCOW2_SN_EXTRA_VM_STATE_LARGE);
        }
        if (sn->extra_data_size >= 16) {
            sn->disk_size = load_be64(extra + QCOW2_SN_EXTRA_DISK_SIZE);
        }
        if (sn->extra_data_size >= 24) {
            sn->icount = load_be64(extra + QCOW2_SN_EXTRA_ICOUNT);
        }
        sn->id_str = g_strndup((const char *)extra + sn->extra_data_size,
                               id_len);
        sn->name = g_strndup((const char *)extra + sn->extra_data_size + id_len,
                             name_len);
        pos += whole;

        uint64_t l1_bytes = (uint64_t)sn->l1_size * 8;
        if (s->check_mode) {
            continue;
        }
        if (l1_bytes > QCOW2_MAX_L1_BYTES || sn->disk_size > BDRV_MAX_VIRTUAL_SIZE) {
            r = qcow2_corrupt(s, errp, "snapshot %s is too large", sn->id_str);
        } else if (sn->l1_size &&
                   ((sn->l1_table_offset & (s->cluster_size - 1)) ||
                    sn->l1_table_offset < s->cluster_size ||
                    sn->l1_table_offset + l1_bytes > s->file_end)) {
            r = qcow2_corrupt(s, errp, "snapshot %s has an invalid L1 table "
                              "offset 0x%" PRIx64, sn->id_str,
                              sn->l1_table_offset);
        } else if (sn->l1_size < qcow2_l1_entries_for(s, sn->disk_size)) {
            r = qcow2_corrupt(s, errp, "snapshot %s has an L1 table too small "
                              "for its disk size", sn->id_str);
        }
    }
    g_byte_array_free(table, TRUE);
    return r;
}

static void serialize_entry(const Qcow2Snapshot *sn, uint8_t *p)
{
    size_t id_len = strlen(sn->id_str), name_len = strlen(sn->name);
    memset(p, 0, entry_size(sn));
    store_be64(p + QCOW2_SN_L1_OFFSET, sn->l1_table_offset);
    store_be32(p + QCOW2_SN_L1_SIZE, sn->l1_size);
    store_be16(p + QCOW2_SN_ID_SIZE, (uint16_t)id_len);
    store_be16(p + QCOW2_SN_NAME_SIZE, (uint16_t)name_len);
    store_be32(p + QCOW2_SN_DATE_SEC, sn->date_sec);
    store_be32(p + QCOW2_SN_DATE_NSEC, sn->date_nsec);
    store_be64(p + QCOW2_SN_VM_CLOCK, sn->vm_clock_nsec);
    store_be32(p + QCOW2_SN_VM_STATE_SIZE,
               sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
    store_be32(p + QCOW2_SN_EXTRA_SIZE, QCOW2_SN_EXTRA_FULL);
    uint8_t *extra = p + QCOW2_SN_FIXED_SIZE;
    store_be64(extra + QCOW2_SN_EXTRA_VM_STATE_LARGE, sn->vm_state_size);
    store_be64(extra + QCOW2_SN_EXTRA_DISK_SIZE, sn->disk_size);
    store_be64(extra + QCOW2_SN_EXTRA_ICOUNT, sn->icount);
    memcpy(extra + QCOW2_SN_EXTRA_FULL, sn->id_str, id_len);
    memcpy(extra + QCOW2_SN_EXTRA_FULL + id_len, sn->name, name_len);
}

/* Writes a new table for `list`, switches the header to it, frees the old. */
static int write_snapshot_table(Qcow2State *s, Qcow2Snapshot *list, int count,
                                GError **errp)
{
    uint64_t bytes = 0;
    for (int i = 0; i < count; i++) {
        bytes += entry_size(&list[i]);
    }
    if (bytes > MAX_SNAPSHOT_TABLE_BYTES) {
        g_set_error(errp, BLOCK_ERROR, EFBIG, "Snapshot table is too large");
        return -EFBIG;
    }
    int64_t off = 0;
    int r = 0;
    if (count) {
        off = qcow2_alloc_clusters(s, qcow2_align_up(s, bytes) >> s->cluster_bits,
                                   errp);
        if (off < 0) {
            return (int)off;
        }
        uint8_t *buf = g_malloc0(bytes);
        uint64_t pos = 0;
        for (int i = 0; i < count; i++) {
            serialize_entry(&list[i], buf + pos);
            pos += entry_size(&list[i]);
        }
        r = qcow2_overlap_check(s, (uint64_t)off, bytes, errp);
        if (r == 0) {
            r = host_file_pwrite(&s->file, (uint64_t)off, buf, bytes, errp);
        }
        g_free(buf);
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        uint8_t hdr[12];
        store_be32(hdr, (uint32_t)count);
        store_be64(hdr + 4, (uint64_t)off);
        r = host_file_pwrite(&s->file, QCOW2_HDR_NB_SNAPSHOTS, hdr, sizeof(hdr),
                             errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r < 0) {
        return r;
    }
    uint64_t old_off = s->h.snapshots_offset;
    uint64_t old_bytes = qcow2_snapshot_table_size(s);
    bool had_table = s->h.nb_snapshots != 0;
    qcow2_overlap_remove(s, old_off, had_table ? old_bytes : 0);
    s->h.nb_snapshots = (uint32_t)count;
    s->h.snapshots_offset = (uint64_t)off;
    if (had_table && old_bytes) {
        r = qcow2_update_refcount(s, old_off, qcow2_align_up(s, old_bytes), -1,
                                  errp);
    }
    return r;
}

/* Adds addend to the refcount of every cluster reachable from an L1 table. */
static int update_tree_refcounts(Qcow2State *s, const uint64_t *l1,
                                 uint32_t l1_size, int addend, GError **errp)
{
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2_off = l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        int r = qcow2_validate_table_offset(s, l2_off, "L2 table", errp);
        if (r < 0) {
            return r;
        }
        uint64_t *l2;
        r = qcow2_cache_get(s->l2_cache, l2_off, (void **)&l2, errp);
        if (r < 0) {
            return r;
        }
        for (uint64_t j = 0; j < s->l2_entries && r == 0; j++) {
            uint64_t e = qcow2_l2_get(l2, j);
            uint64_t off, len;
            switch (qcow2_l2_entry_kind(s, e)) {
            case QCOW2_CLUSTER_NORMAL:
            case QCOW2_CLUSTER_ZERO_ALLOC:
                r = qcow2_update_refcount(s, e & QCOW2_L2E_OFFSET_MASK,
                                          s->cluster_size, addend, errp);
                break;
            case QCOW2_CLUSTER_COMPRESSED:
                qcow2_compressed_extent(s, e, &off, &len);
                r = qcow2_update_refcount(s, off, len, addend, errp);
                break;
            default:
                break;
            }
        }
        qcow2_cache_put(s->l2_cache, l2);
        if (r == 0) {
            r = qcow2_update_refcount(s, l2_off, s->cluster_size, addend, errp);
        }
        if (r == 0 && addend < 0) {
            uint64_t rc;
            r = qcow2_get_refcount(s, l2_off >> s->cluster_bits, &rc, errp);
            if (r == 0 && rc == 0) {
                qcow2_cache_forget(s->l2_cache, l2_off);
                qcow2_overlap_remove(s, l2_off, s->cluster_size);
            }
        }
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static bool refcount_is_one(Qcow2State *s, uint64_t off, int *err,
                            GError **errp)
{
    uint64_t rc = 0;
    int r = qcow2_get_refcount(s, off >> s->cluster_bits, &rc, errp);
    if (r < 0) {
        *err = r;
    }
    return rc == 1;
}

int qcow2_fix_copied_flags(Qcow2State *s, GError **errp)
{
    /* Refcounts first: a COPIED flag must never precede its refcount. */
    int r = qcow2_flush_metadata(s, errp);
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    bool l1_changed = false;
    for (uint32_t i = 0; r == 0 && i < s->h.l1_size; i++) {
        uint64_t l2_off = s->l1_table[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        uint64_t want = l2_off | (refcount_is_one(s, l2_off, &r, errp)
                                      ? QCOW2_OFLAG_COPIED : 0);
        if (r < 0) {
            break;
        }
        if (want != s->l1_table[i]) {
            s->l1_table[i] = want;
            l1_changed = true;
        }
        uint64_t *l2 = NULL;
        r = qcow2_cache_get(s->l2_cache, l2_off, (void **)&l2, errp);
        for (uint64_t j = 0; r == 0 && j < s->l2_entries; j++) {
            uint64_t e = qcow2_l2_get(l2, j);
            Qcow2ClusterKind k = qcow2_l2_entry_kind(s, e);
            if (k != QCOW2_CLUSTER_NORMAL && k != QCOW2_CLUSTER_ZERO_ALLOC) {
                continue;
            }
            bool one = refcount_is_one(s, e & QCOW2_L2E_OFFSET_MASK, &r, errp);
            uint64_t ne = one ? (e | QCOW2_OFLAG_COPIED)
                              : (e & ~QCOW2_OFLAG_COPIED);
            if (ne != e) {
                qcow2_l2_set(l2, j, ne);
                qcow2_cache_mark_dirty(s->l2_cache, l2);
            }
        }
        if (l2) {
            qcow2_cache_put(s->l2_cache, l2);
        }
    }
    if (r == 0 && l1_changed) {
        r = qcow2_l1_write_all(s, errp);
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    return r;
}

static Qcow2Snapshot *find_snapshot(Qcow2State *s, const char *id_or_name)
{
    for (int i = 0; i < s->nb_snapshots; i++) {
        if (strcmp(s->snapshots[i].id_str, id_or_name) == 0) {
            return &s->snapshots[i];
        }
    }
    for (int i = 0; i < s->nb_snapshots; i++) {
        if (strcmp(s->snapshots[i].name, id_or_name) == 0) {
            return &s->snapshots[i];
        }
    }
    return NULL;
}

static int not_found(const char *id_or_name, GError **errp)
{
    g_set_error(errp, BLOCK_ERROR, ENOENT,
                "Can't find the snapshot with ID or name '%s'", id_or_name);
    return -ENOENT;
}

static int read_l1(Qcow2State *s, uint64_t offset, uint32_t size,
                   uint64_t **out, GError **errp)
{
    uint64_t *l1 = g_new0(uint64_t, MAX(size, 1));
    int r = host_file_pread(&s->file, offset, l1, (size_t)size * 8, errp);
    if (r < 0) {
        g_free(l1);
        return r;
    }
    for (uint32_t i = 0; i < size; i++) {
        l1[i] = GUINT64_FROM_BE(l1[i]);
    }
    *out = l1;
    return 0;
}

static int prepare(Qcow2State *s, GError **errp)
{
    int r = qcow2_mark_dirty(s, errp);
    if (r == 0 && !s->metadata_clusters) {
        r = qcow2_overlap_build(s, errp);
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    return r;
}

int qcow2_snapshot_create(BlockDriverState *bs, const char *name,
                          GError **errp)
{
    Qcow2State *s = bs->opaque;
    if (strlen(name) > 65535 || !*name) {
        g_set_error(errp, BLOCK_ERROR, EINVAL, "Invalid snapshot name '%s'",
                    name);
        return -EINVAL;
    }
    for (int i = 0; i < s->nb_snapshots; i++) {
        if (strcmp(s->snapshots[i].name, name) == 0) {
            g_set_error(errp, BLOCK_ERROR, EEXIST,
                        "A snapshot named '%s' already exists", name);
            return -EEXIST;
        }
    }
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        g_set_error(errp, BLOCK_ERROR, EFBIG, "Too many snapshots");
        return -EFBIG;
    }
    int r = prepare(s, errp);
    if (r < 0) {
        return r;
    }
    uint64_t max_id = 0;
    for (int i = 0; i < s->nb_snapshots; i++) {
        max_id = MAX(max_id, g_ascii_strtoull(s->snapshots[i].id_str, NULL, 10));
    }
    uint32_t l1_size = s->h.l1_size;
    uint64_t l1_bytes = (uint64_t)l1_size * 8;
    int64_t l1_off = 0;
    if (l1_size) {
        l1_off = qcow2_alloc_clusters(s, qcow2_align_up(s, l1_bytes) >>
                                             s->cluster_bits, errp);
        if (l1_off < 0) {
            return (int)l1_off;
        }
        uint64_t *disk = g_new(uint64_t, l1_size);
        for (uint32_t i = 0; i < l1_size; i++) {
            disk[i] = GUINT64_TO_BE(s->l1_table[i] & ~QCOW2_OFLAG_COPIED);
        }
        r = qcow2_overlap_check(s, (uint64_t)l1_off, l1_bytes, errp);
        if (r == 0) {
            r = host_file_pwrite(&s->file, (uint64_t)l1_off, disk, l1_bytes,
                                 errp);
        }
        g_free(disk);
        if (r < 0) {
            return r;
        }
        qcow2_overlap_add(s, (uint64_t)l1_off, l1_bytes);
    }
    /* Everything the active image reaches is now shared. */
    r = update_tree_refcounts(s, s->l1_table, l1_size, 1, errp);
    if (r == 0) {
        r = qcow2_fix_copied_flags(s, errp);
    }
    if (r < 0) {
        return r;
    }
    gint64 now = g_get_real_time();
    Qcow2Snapshot sn = {
        .l1_table_offset = (uint64_t)l1_off,
        .l1_size = l1_size,
        .id_str = g_strdup_printf("%" PRIu64, max_id + 1),
        .name = g_strdup(name),
        .date_sec = (uint32_t)(now / G_USEC_PER_SEC),
        .date_nsec = (uint32_t)((now % G_USEC_PER_SEC) * 1000),
        .vm_clock_nsec = 0,
        .vm_state_size = 0,
        .disk_size = bs->total_size,
        .icount = 0,
        .extra_data_size = QCOW2_SN_EXTRA_FULL,
    };
    Qcow2Snapshot *list = g_new(Qcow2Snapshot, s->nb_snapshots + 1);
    memcpy(list, s->snapshots, sizeof(Qcow2Snapshot) * s->nb_snapshots);
    list[s->nb_snapshots] = sn;
    r = write_snapshot_table(s, list, s->nb_snapshots + 1, errp);
    if (r < 0) {
        g_free(sn.id_str);
        g_free(sn.name);
        g_free(list);
        return r;
    }
    g_free(s->snapshots);
    s->snapshots = list;
    s->nb_snapshots++;
    qcow2_overlap_add(s, s->h.snapshots_offset, qcow2_snapshot_table_size(s));
    return 0;
}

int qcow2_snapshot_apply(BlockDriverState *bs, const char *id_or_name,
                         GError **errp)
{
    Qcow2State *s = bs->opaque;
    Qcow2Snapshot *sn = find_snapshot(s, id_or_name);
    if (!sn) {
        return not_found(id_or_name, errp);
    }
    int r = prepare(s, errp);
    if (r < 0) {
        return r;
    }
    uint32_t sn_l1_size = sn->l1_size;
    uint64_t sn_disk_size = sn->disk_size;
    if (sn_l1_size > s->h.l1_size) {
        r = qcow2_grow_l1(s, sn_l1_size, errp);
        if (r < 0) {
            return r;
        }
    }
    uint64_t *sn_l1;
    r = read_l1(s, sn->l1_table_offset, sn_l1_size, &sn_l1, errp);
    if (r < 0) {
        return r;
    }
    /* Take references on the snapshot's tree before it becomes active. */
    r = update_tree_refcounts(s, sn_l1, sn_l1_size, 1, errp);
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    uint64_t *old_l1 = g_memdup2(s->l1_table, (size_t)MAX(s->h.l1_size, 1) * 8);
    uint32_t old_size = s->h.l1_size;
    if (r == 0) {
        for (uint32_t i = 0; i < s->h.l1_size; i++) {
            s->l1_table[i] = i < sn_l1_size ? (sn_l1[i] & ~QCOW2_OFLAG_COPIED)
                                            : 0;
        }
        r = qcow2_l1_write_all(s, errp);
    }
    if (r == 0) {
        r = qcow2_barrier(s, errp);
    }
    if (r == 0) {
        for (uint32_t i = 0; i < old_size; i++) {
            uint64_t off = old_l1[i] & QCOW2_L1E_OFFSET_MASK;
            bool still = false;
            for (uint32_t j = 0; j < s->h.l1_size && !still; j++) {
                still = (s->l1_table[j] & QCOW2_L1E_OFFSET_MASK) == off;
            }
            if (off && !still) {
                qcow2_overlap_remove(s, off, s->cluster_size);
            }
        }
        r = update_tree_refcounts(s, old_l1, old_size, -1, errp);
    }
    for (uint32_t i = 0; r == 0 && i < s->h.l1_size; i++) {
        uint64_t off = s->l1_table[i] & QCOW2_L1E_OFFSET_MASK;
        if (off) {
            qcow2_overlap_add(s, off, s->cluster_size);
        }
    }
    g_free(old_l1);
    g_free(sn_l1);
    if (r == 0 && sn_disk_size != bs->total_size) {
        r = qcow2_header_write_u64(s, QCOW2_HDR_SIZE, sn_disk_size, errp);
        if (r == 0) {
            s->h.size = sn_disk_size;
            bs->total_size = sn_disk_size;
        }
    }
    if (r == 0) {
        r = qcow2_fix_copied_flags(s, errp);
    }
    return r;
}

int qcow2_snapshot_delete(BlockDriverState *bs, const char *id_or_name,
                          GError **errp)
{
    Qcow2State *s = bs->opaque;
    Qcow2Snapshot *sn = find_snapshot(s, id_or_name);
    if (!sn) {
        return not_found(id_or_name, errp);
    }
    int r = prepare(s, errp);
    if (r < 0) {
        return r;
    }
    int index = (int)(sn - s->snapshots);
    Qcow2Snapshot gone = *sn;
    uint64_t *sn_l1;
    r = read_l1(s, gone.l1_table_offset, gone.l1_size, &sn_l1, errp);
    if (r < 0) {
        return r;
    }
    Qcow2Snapshot *list = g_new(Qcow2Snapshot, MAX(s->nb_snapshots - 1, 1));
    int n = 0;
    for (int i = 0; i < s->nb_snapshots; i++) {
        if (i != index) {
            list[n++] = s->snapshots[i];
        }
    }
    r = write_snapshot_table(s, list, n, errp);
    if (r < 0) {
        g_free(list);
        g_free(sn_l1);
        return r;
    }
    g_free(s->snapshots);
    s->snapshots = list;
    s->nb_snapshots = n;
    qcow2_overlap_add(s, s->h.snapshots_offset, qcow2_snapshot_table_size(s));
    qcow2_overlap_remove(s, gone.l1_table_offset, (uint64_t)gone.l1_size * 8);
    /* The header no longer names the snapshot: drop its references. */
    r = update_tree_refcounts(s, sn_l1, gone.l1_size, -1, errp);
    if (r == 0 && gone.l1_size) {
        r = qcow2_update_refcount(s, gone.l1_table_offset,
                                  qcow2_align_up(s, (uint64_t)gone.l1_size * 8),
                                  -1, errp);
    }
    g_free(sn_l1);
    g_free(gone.id_str);
    g_free(gone.name);
    if (r == 0) {
        r = qcow2_fix_copied_flags(s, errp);
    }
    return r;
}

int qcow2_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **list,
                        GError **errp)
{
    Qcow2State *s = bs->opaque;
    if (s->nb_snapshots == 0) {
        *list = NULL;
        return 0;
    }
    BlockSnapshotInfo *out = g_new0(BlockSnapshotInfo, s->nb_snapshots);
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        out[i] = (BlockSnapshotInfo){
            .id = g_strdup(sn->id_str),
            .name = g_strdup(sn->name),
            .vm_state_size = sn->vm_state_size,
            .date_sec = sn->date_sec,
            .date_nsec = sn->date_nsec,
            .vm_clock_nsec = sn->vm_clock_nsec,
            .icount = sn->icount,
            .disk_size = sn->disk_size,
        };
    }
    *list = out;
    return s->nb_snapshots;
}
