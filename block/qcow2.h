/*
 * qcow2.h: the in-memory state of one open qcow2 image and the functions
 * the qcow2 files share.  Each concern lives in its own file:
 *   qcow2.c           open, close, flush, info, dirty bit, the driver table
 *   qcow2-header.c    header and header extensions (spec: "Header")
 *   qcow2-cache.c     the metadata table cache (L2 tables, refcount blocks)
 *   qcow2-refcount.c  refcounts, cluster allocation ("Host cluster management")
 *   qcow2-cluster.c   L1/L2 lookups and updates ("Cluster mapping")
 *   qcow2-io.c        guest reads, writes, zeroes, discards, block status
 *   qcow2-compress.c  deflate-compressed clusters ("Compressed Clusters")
 *   qcow2-snapshot.c  internal snapshots ("Snapshots")
 *   qcow2-check.c     consistency check and repair
 *   qcow2-resize.c    growing and shrinking the virtual disk
 *   qcow2-create.c    creating images, measuring them
 *   qcow2-overlap.c   the guard that keeps data writes off metadata
 */
#ifndef KESTREL_BLOCK_QCOW2_H
#define KESTREL_BLOCK_QCOW2_H

#include "block/block.h"
#include "block/host-file.h"
#include "block/iov-cursor.h"
#include "block/qcow2-format.h"

#include <zlib.h>

/* Buffers per host readv/writev of a guest request (Linux's IOV_MAX). */
#define QCOW2_IOV_SCRATCH 1024

typedef struct Qcow2Cache Qcow2Cache;

/* A header extension this implementation does not interpret, kept as is. */
typedef struct Qcow2Extension {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
} Qcow2Extension;

typedef struct Qcow2FeatureName {
    uint8_t type;
    uint8_t bit;
    char name[QCOW2_FEATURE_NAME_LEN + 1];
} Qcow2FeatureName;

/* The header fields (spec: "Header"), host byte order. */
typedef struct Qcow2Header {
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
    char *backing_file;            /* NULL when none */
    char *backing_format;          /* from the backing format extension */
    GArray *unknown_extensions;    /* of Qcow2Extension */
    GArray *feature_names;         /* of Qcow2FeatureName, as read */
} Qcow2Header;

typedef struct Qcow2Snapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    char *id_str;
    char *name;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint64_t icount;               /* UINT64_MAX: not recorded */
    uint32_t extra_data_size;      /* as read; rewritten as ours */
} Qcow2Snapshot;

/* A refcount decrement waiting until no written metadata points there. */
typedef struct Qcow2PendingFree {
    uint64_t offset;
    uint64_t length;
} Qcow2PendingFree;

typedef struct Qcow2State {
    BlockDriverState *bs;
    HostFile file;
    bool writable;
    Qcow2Header h;

    /* Geometry derived from the header. */
    uint64_t cluster_size;
    uint32_t cluster_bits;
    uint64_t l2_entries;           /* entries per L2 table */
    uint32_t l2_bits;
    uint32_t refcount_order;
    uint64_t refblock_entries;     /* refcounts per refcount block */
    uint32_t refblock_bits;
    uint32_t csize_shift;          /* compressed descriptor layout */
    uint64_t csize_mask;
    uint64_t coffset_mask;

    uint64_t *l1_table;            /* active L1, host order, h.l1_size long */
    uint64_t *refcount_table;      /* host order */
    uint64_t refcount_table_entries;

    Qcow2Cache *l2_cache;
    Qcow2Cache *refblock_cache;

    uint64_t free_cluster_hint;    /* no free cluster below this index */
    uint64_t file_end;             /* end of the used part of the file */
    GArray *pending_frees;         /* of Qcow2PendingFree */

    Qcow2Snapshot *snapshots;
    int nb_snapshots;

    /* Where the next compressed cluster may start (0: a fresh cluster). */
    uint64_t compressed_cursor;
    uint8_t *cluster_buf;          /* scratch: one decompressed cluster */
    struct iovec *iov_scratch;     /* QCOW2_IOV_SCRATCH entries: sub-vectors
                                      of a request for one host readv/writev */
    uint8_t *cow_head;             /* scratch: old data before a write */
    uint8_t *cow_tail;             /* scratch: old data after a write */
    uint8_t *compressed_buf;       /* scratch: compressed input */
    size_t compressed_buf_size;
    z_stream inflater;
    bool inflater_ready;

    bool sparse_file;              /* file has holes: data clusters may be
                                      preallocated and read as zeroes */
    bool lazy_refcounts;           /* refcounts may lag; dirty bit guards */
    bool dirty_on_disk;
    GHashTable *metadata_clusters; /* overlap guard, built on first write */
    bool check_mode;               /* opened by check: tolerate damage */
} Qcow2State;

/* Kinds of L2 entries (spec: "Standard Cluster Descriptor"). */
typedef enum {
    QCOW2_CLUSTER_UNALLOCATED,     /* read from the backing file */
    QCOW2_CLUSTER_ZERO_PLAIN,      /* zero flag, no host cluster */
    QCOW2_CLUSTER_ZERO_ALLOC,      /* zero flag, host cluster kept */
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterKind;

/* ---- qcow2-header.c ---- */
int qcow2_header_parse(Qcow2Header *h, const uint8_t *buf, size_t len,
                       uint64_t file_size, GError **errp);
void qcow2_header_clear(Qcow2Header *h);
/* Serializes header, extensions and backing name into one cluster. */
int qcow2_header_serialize(const Qcow2Header *h, uint8_t *buf,
                           size_t cluster_size, GError **errp);
int qcow2_header_write(Qcow2State *s, GError **errp);
int qcow2_header_write_u32(Qcow2State *s, size_t field, uint32_t v,
                           GError **errp);
int qcow2_header_write_u64(Qcow2State *s, size_t field, uint64_t v,
                           GError **errp);
int qcow2_header_set_incompat(Qcow2State *s, uint64_t bits, bool set,
                              GError **errp);
char *qcow2_header_feature_list(const Qcow2Header *h, uint64_t bits);

/* ---- qcow2-cache.c ---- */
Qcow2Cache *qcow2_cache_new(HostFile *file, size_t table_size, int nb_tables);
void qcow2_cache_free(Qcow2Cache *c);
void qcow2_cache_set_dependency(Qcow2Cache *c, Qcow2Cache *dep);
int qcow2_cache_get(Qcow2Cache *c, uint64_t offset, void **table,
                    GError **errp);
int qcow2_cache_get_empty(Qcow2Cache *c, uint64_t offset, void **table,
                          GError **errp);
/* Like qcow2_cache_get, only if the table is in the cache already (no I/O):
 * false otherwise. */
bool qcow2_cache_get_cached(Qcow2Cache *c, uint64_t offset, void **table);
void qcow2_cache_put(Qcow2Cache *c, void *table);
void qcow2_cache_mark_dirty(Qcow2Cache *c, void *table);
int qcow2_cache_write_dirty(Qcow2Cache *c, GError **errp);
bool qcow2_cache_is_dirty(const Qcow2Cache *c);
void qcow2_cache_forget(Qcow2Cache *c, uint64_t offset);
void qcow2_cache_forget_all(Qcow2Cache *c);
/* Guest data was written: issue a barrier before the next table write. */
void qcow2_cache_depends_on_flush(Qcow2Cache *c);
int qcow2_cache_capacity(const Qcow2Cache *c);

/* ---- qcow2-refcount.c ---- */
uint64_t qcow2_refblock_get(const void *block, uint32_t order, uint64_t i);
void qcow2_refblock_set(void *block, uint32_t order, uint64_t i, uint64_t v);
int qcow2_refcount_load(Qcow2State *s, GError **errp);
int qcow2_get_refcount(Qcow2State *s, uint64_t cluster, uint64_t *refcount,
                       GError **errp);
/* Adds addend to the refcount of every cluster touching the byte range. */
int qcow2_update_refcount(Qcow2State *s, uint64_t offset, uint64_t length,
                          int64_t addend, GError **errp);
/* Allocates n contiguous clusters with refcount 1; returns the offset. */
int64_t qcow2_alloc_clusters(Qcow2State *s, uint64_t n, GError **errp);
/* Decrements later, once no metadata on disk refers to the range. */
void qcow2_free_later(Qcow2State *s, uint64_t offset, uint64_t length);
int qcow2_apply_pending_frees(Qcow2State *s, GError **errp);
/* Writes all metadata caches in dependency order, then barriers. */
int qcow2_flush_metadata(Qcow2State *s, GError **errp);
int qcow2_barrier(Qcow2State *s, GError **errp);

/* ---- qcow2-cluster.c ---- */
Qcow2ClusterKind qcow2_l2_entry_kind(const Qcow2State *s, uint64_t entry);
void qcow2_compressed_extent(const Qcow2State *s, uint64_t entry,
                             uint64_t *offset, uint64_t *length);
int qcow2_validate_table_offset(Qcow2State *s, uint64_t offset,
                                const char *what, GError **errp);
/* The L2 table covering guest offset; *l2 is NULL if none (lookup only). */
int qcow2_l2_lookup(Qcow2State *s, uint64_t guest_offset, uint64_t **l2,
                    uint64_t *l2_index, GError **errp);
/* Same without I/O: -EAGAIN when the table is not cached or its offset
 * looks wrong (the ordinary lookup then reports it). */
int qcow2_l2_lookup_cached(Qcow2State *s, uint64_t guest_offset,
                           uint64_t **l2, uint64_t *l2_index);
/* Same, but allocates or un-shares the table so that it can be changed. */
int qcow2_l2_for_write(Qcow2State *s, uint64_t guest_offset, uint64_t **l2,
                       uint64_t *l2_index, GError **errp);
int qcow2_l1_write_entry(Qcow2State *s, uint64_t index, uint64_t value,
                         GError **errp);
int qcow2_l1_write_all(Qcow2State *s, GError **errp);
int qcow2_grow_l1(Qcow2State *s, uint64_t min_entries, GError **errp);
uint64_t qcow2_l1_entries_for(const Qcow2State *s, uint64_t size);
static inline uint64_t qcow2_l2_get(const uint64_t *l2, uint64_t i);
static inline void qcow2_l2_set(uint64_t *l2, uint64_t i, uint64_t v);

/* ---- qcow2-io.c ---- */
/* A read done only from cached metadata and the host page cache; -EAGAIN
 * for anything else (backing file, compressed clusters, cache misses). */
int qcow2_try_preadv(BlockDriverState *bs, uint64_t offset,
                     const struct iovec *iov, int niov);
int qcow2_preadv(BlockDriverState *bs, uint64_t offset,
                 const struct iovec *iov, int niov, GError **errp);
int qcow2_pwritev(BlockDriverState *bs, uint64_t offset,
                  const struct iovec *iov, int niov, GError **errp);
int qcow2_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       bool may_unmap, GError **errp);
int qcow2_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                  GError **errp);
int qcow2_make_empty(BlockDriverState *bs, GError **errp);
int qcow2_block_status(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       uint64_t *pnum, uint64_t *map, GError **errp);
/* Queues the release of the host clusters an L2 entry held. */
void qcow2_release_entry(Qcow2State *s, uint64_t entry);
/* Unmaps guest clusters [first, first+n) (full: make them unallocated). */
int qcow2_unmap_clusters(Qcow2State *s, uint64_t first, uint64_t n,
                         bool full, GError **errp);

/* ---- qcow2-compress.c ---- */
int qcow2_read_compressed(Qcow2State *s, uint64_t entry, uint8_t *cluster,
                          GError **errp);
int qcow2_write_compressed(BlockDriverState *bs, uint64_t offset,
                           const void *deflated, size_t deflated_len,
                           GError **errp);
void qcow2_compress_cleanup(Qcow2State *s);

/* ---- qcow2-snapshot.c ---- */
int qcow2_snapshots_load(Qcow2State *s, GError **errp);
void qcow2_snapshots_clear(Qcow2State *s);
uint64_t qcow2_snapshot_table_size(const Qcow2State *s);
int qcow2_snapshot_create(BlockDriverState *bs, const char *name,
                          GError **errp);
int qcow2_snapshot_apply(BlockDriverState *bs, const char *id_or_name,
                         GError **errp);
int qcow2_snapshot_delete(BlockDriverState *bs, const char *id_or_name,
                          GError **errp);
int qcow2_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **list,
                        GError **errp);
int qcow2_fix_copied_flags(Qcow2State *s, GError **errp);

/* ---- qcow2-check.c ---- */
int qcow2_check(BlockDriverState *bs, BlockCheckResult *res, int fix,
                GError **errp);
int qcow2_rebuild_refcounts(Qcow2State *s, GError **errp);

/* ---- qcow2-resize.c ---- */
int qcow2_truncate(BlockDriverState *bs, uint64_t size, bool shrink,
                   BdrvPreallocMode prealloc, GError **errp);
int qcow2_preallocate(Qcow2State *s, uint64_t from, uint64_t to,
                      BdrvPreallocMode mode, GError **errp);

/* ---- qcow2-create.c ---- */
int qcow2_create(const char *filename, const BlockCreateOptions *opts,
                 GError **errp);
int qcow2_measure(const BlockCreateOptions *opts, uint64_t virtual_size,
                  uint64_t allocated_bytes, BlockMeasureInfo *info,
                  GError **errp);
int qcow2_validate_create_options(const BlockCreateOptions *opts,
                                  GError **errp);

/* ---- qcow2-overlap.c ---- */
int qcow2_overlap_build(Qcow2State *s, GError **errp);
void qcow2_overlap_add(Qcow2State *s, uint64_t offset, uint64_t length);
void qcow2_overlap_remove(Qcow2State *s, uint64_t offset, uint64_t length);
int qcow2_overlap_check(Qcow2State *s, uint64_t offset, uint64_t length,
                        GError **errp);
void qcow2_overlap_free(Qcow2State *s);

/* ---- qcow2.c ---- */
int qcow2_mark_dirty(Qcow2State *s, GError **errp);
int qcow2_corrupt(Qcow2State *s, GError **errp, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static inline uint64_t qcow2_l2_get(const uint64_t *l2, uint64_t i)
{
    return GUINT64_FROM_BE(l2[i]);
}

static inline void qcow2_l2_set(uint64_t *l2, uint64_t i, uint64_t v)
{
    l2[i] = GUINT64_TO_BE(v);
}

static inline uint64_t qcow2_offset_to_cluster(const Qcow2State *s,
                                               uint64_t offset)
{
    return offset >> s->cluster_bits;
}

static inline uint64_t qcow2_align_up(const Qcow2State *s, uint64_t v)
{
    return (v + s->cluster_size - 1) & ~(s->cluster_size - 1);
}

#endif
