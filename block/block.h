/*
 * block.h: the block layer's core API.  A BlockDriverState is one open
 * image (raw or qcow2) with its backing chain; a BlockDriver implements a
 * format.  Tools use the synchronous calls here; devices use
 * block-backend.h, which adds asynchronous completion on a main loop.
 *
 * Errors: calls return 0 (or a non-negative value) on success and a
 * negative errno on failure, and set *errp to a message a user can read.
 */
#ifndef KESTREL_BLOCK_BLOCK_H
#define KESTREL_BLOCK_BLOCK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

#define BLOCK_ERROR (block_error_quark())
GQuark block_error_quark(void);

/* Longest backing chain accepted when opening an image. */
#define BDRV_MAX_BACKING_DEPTH 64
/* Largest virtual disk size accepted anywhere: 64 TiB... times 16. */
#define BDRV_MAX_VIRTUAL_SIZE (UINT64_C(1) << 50)

typedef struct BlockDriverState BlockDriverState;
typedef struct BlockDriver BlockDriver;

/* Open flags. */
enum {
    BDRV_O_RDWR = 1 << 0,
    BDRV_O_NOCACHE = 1 << 1,       /* O_DIRECT on image files */
    BDRV_O_NO_FLUSH = 1 << 2,      /* cache=unsafe: flushes do nothing */
    BDRV_O_WRITETHROUGH = 1 << 3,  /* every write is followed by a flush */
    BDRV_O_NO_BACKING = 1 << 4,    /* do not open the backing chain */
    BDRV_O_CHECK = 1 << 5,         /* opened to check: no automatic repair */
    BDRV_O_UNMAP = 1 << 6,         /* discards are passed to the host */
};

/* Parses a cache mode (none, writeback, writethrough, directsync, unsafe). */
bool bdrv_parse_cache_mode(const char *mode, int *flags, GError **errp);

typedef struct BlockOpenOptions {
    const char *format;            /* NULL: probe the contents */
    int flags;                     /* BDRV_O_* */
    uint64_t l2_cache_size;        /* qcow2 L2 cache in bytes; 0: default */
} BlockOpenOptions;

typedef enum {
    BDRV_PREALLOC_OFF,
    BDRV_PREALLOC_METADATA,
    BDRV_PREALLOC_FALLOC,
    BDRV_PREALLOC_FULL,
} BdrvPreallocMode;

typedef struct BlockCreateOptions {
    uint64_t size;
    uint32_t cluster_size;         /* 0: 64 KiB */
    int version;                   /* qcow2: 2 or 3; 0: 3 */
    const char *backing_file;
    const char *backing_format;
    bool lazy_refcounts;
    int refcount_bits;             /* 0: 16 */
    bool extended_l2;
    BdrvPreallocMode preallocation;
} BlockCreateOptions;

/* Block status flags, as returned by bdrv_block_status(). */
enum {
    BDRV_BLOCK_DATA = 1 << 0,          /* reads return stored data */
    BDRV_BLOCK_ZERO = 1 << 1,          /* reads return zeroes */
    BDRV_BLOCK_OFFSET_VALID = 1 << 2,  /* *map is the host file offset */
    BDRV_BLOCK_ALLOCATED = 1 << 3,     /* this layer decides the content */
    BDRV_BLOCK_COMPRESSED = 1 << 4,
};

typedef struct BlockSnapshotInfo {
    char *id;
    char *name;
    uint64_t vm_state_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;               /* UINT64_MAX when not recorded */
    uint64_t disk_size;
} BlockSnapshotInfo;

void block_snapshot_list_free(BlockSnapshotInfo *list, int count);

typedef struct BlockImageInfo {
    const char *format;
    uint64_t virtual_size;
    uint32_t cluster_size;         /* 0 for formats without clusters */
    bool dirty;
    bool is_qcow2;
    int qcow2_version;
    bool lazy_refcounts;
    int refcount_bits;
    bool corrupt;
    bool extended_l2;
} BlockImageInfo;

typedef struct BlockCheckResult {
    int64_t corruptions;
    int64_t leaks;
    int64_t check_errors;
    int64_t corruptions_fixed;
    int64_t leaks_fixed;
    uint64_t image_end_offset;
    uint64_t total_clusters;
    uint64_t allocated_clusters;
    uint64_t fragmented_clusters;
    uint64_t compressed_clusters;
    bool rebuilt_refcounts;
    /* Set by the caller: receives one line per problem found or fixed. */
    void (*log)(void *opaque, const char *line);
    void *log_opaque;
} BlockCheckResult;

enum {
    BDRV_FIX_LEAKS = 1 << 0,
    BDRV_FIX_ERRORS = 1 << 1,
};

/*
 * The driver interface.  Offsets and lengths are in bytes and already
 * checked against the virtual size by the generic layer.  Drivers that
 * are not thread_safe are serialized by the generic layer.
 */
struct BlockDriver {
    const char *format_name;
    bool thread_safe;
    /* Confidence (0..100) that the first bytes of a file are this format. */
    int (*probe)(const uint8_t *buf, size_t len);
    int (*open)(BlockDriverState *bs, const BlockOpenOptions *opts,
                GError **errp);
    void (*close)(BlockDriverState *bs);
    int (*create)(const char *filename, const BlockCreateOptions *opts,
                  GError **errp);

    int (*preadv)(BlockDriverState *bs, uint64_t offset,
                  const struct iovec *iov, int niov, GError **errp);
    int (*pwritev)(BlockDriverState *bs, uint64_t offset,
                   const struct iovec *iov, int niov, GError **errp);
    /* Optional: preadv if it can finish without waiting for the disk
     * (metadata cached, data in the host page cache), else -EAGAIN (the
     * buffers may then hold part of the data; the caller reads again the
     * ordinary way).  Called on device (vCPU) threads, under bs->lock for
     * drivers that are not thread_safe (skipped when that lock is busy). */
    int (*try_preadv)(BlockDriverState *bs, uint64_t offset,
                      const struct iovec *iov, int niov);
    int (*write_zeroes)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                        bool may_unmap, GError **errp);
    int (*discard)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                   GError **errp);
    /* Stores one cluster already deflated (see block_compress_cluster). */
    int (*write_compressed)(BlockDriverState *bs, uint64_t offset,
                            const void *deflated, size_t deflated_len,
                            GError **errp);
    int (*flush)(BlockDriverState *bs, GError **errp);
    int (*truncate)(BlockDriverState *bs, uint64_t size, bool shrink,
                    BdrvPreallocMode prealloc, GError **errp);
    /* Returns BDRV_BLOCK_* flags for a run of *pnum bytes at offset. */
    int (*block_status)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                        uint64_t *pnum, uint64_t *map, GError **errp);
    void (*get_info)(BlockDriverState *bs, BlockImageInfo *info);
    int (*check)(BlockDriverState *bs, BlockCheckResult *res, int fix,
                 GError **errp);
    int (*make_empty)(BlockDriverState *bs, GError **errp);
    int (*change_backing_file)(BlockDriverState *bs, const char *file,
                               const char *format, GError **errp);
    int (*snapshot_create)(BlockDriverState *bs, const char *name,
                           GError **errp);
    int (*snapshot_apply)(BlockDriverState *bs, const char *id_or_name,
                          GError **errp);
    int (*snapshot_delete)(BlockDriverState *bs, const char *id_or_name,
                           GError **errp);
    int (*snapshot_list)(BlockDriverState *bs, BlockSnapshotInfo **list,
                         GError **errp);
    int64_t (*allocated_file_size)(BlockDriverState *bs);
};

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;                  /* the driver's per-image state */
    char *filename;
    int open_flags;
    bool read_only;
    uint64_t total_size;           /* virtual size, kept by the driver */
    uint32_t request_alignment;    /* 1, or the O_DIRECT block size */

    char *backing_file;            /* as recorded in the image, or NULL */
    char *backing_format;          /* as recorded, or NULL */
    char *full_backing_filename;   /* resolved against the image's folder */
    BlockDriverState *backing;     /* opened backing image, or NULL */

    GMutex lock;                   /* serializes non-thread-safe drivers */
};

const BlockDriver *bdrv_find_format(const char *name);
/* Names of all formats, NULL terminated. */
const char *const *bdrv_format_names(void);

BlockDriverState *bdrv_open(const char *filename,
                            const BlockOpenOptions *opts, GError **errp);
void bdrv_close(BlockDriverState *bs);

int bdrv_create(const char *format, const char *filename,
                const BlockCreateOptions *opts, GError **errp);

int bdrv_pread(BlockDriverState *bs, uint64_t offset, void *buf, size_t bytes,
               GError **errp);
int bdrv_pwrite(BlockDriverState *bs, uint64_t offset, const void *buf,
                size_t bytes, GError **errp);
int bdrv_preadv(BlockDriverState *bs, uint64_t offset,
                const struct iovec *iov, int niov, GError **errp);
/* 0 when the read was done without waiting, -EAGAIN when it needs the
 * ordinary (blocking) bdrv_preadv. */
int bdrv_try_preadv(BlockDriverState *bs, uint64_t offset,
                    const struct iovec *iov, int niov);
int bdrv_pwritev(BlockDriverState *bs, uint64_t offset,
                 const struct iovec *iov, int niov, GError **errp);
int bdrv_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                      bool may_unmap, GError **errp);
int bdrv_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                 GError **errp);
int bdrv_write_compressed(BlockDriverState *bs, uint64_t offset,
                          const void *deflated, size_t deflated_len,
                          GError **errp);
bool bdrv_supports_compression(BlockDriverState *bs);
int bdrv_flush(BlockDriverState *bs, GError **errp);
int bdrv_truncate(BlockDriverState *bs, uint64_t size, bool shrink,
                  BdrvPreallocMode prealloc, GError **errp);

uint64_t bdrv_getlength(BlockDriverState *bs);
int64_t bdrv_allocated_file_size(BlockDriverState *bs);
void bdrv_get_info(BlockDriverState *bs, BlockImageInfo *info);
int bdrv_check(BlockDriverState *bs, BlockCheckResult *res, int fix,
               GError **errp);
int bdrv_make_empty(BlockDriverState *bs, GError **errp);
int bdrv_change_backing_file(BlockDriverState *bs, const char *file,
                             const char *format, GError **errp);

int bdrv_snapshot_create(BlockDriverState *bs, const char *name,
                         GError **errp);
int bdrv_snapshot_apply(BlockDriverState *bs, const char *id_or_name,
                        GError **errp);
int bdrv_snapshot_delete(BlockDriverState *bs, const char *id_or_name,
                         GError **errp);
/* Returns the number of snapshots and stores a list to free with
 * block_snapshot_list_free(). */
int bdrv_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **list,
                       GError **errp);

/* Status of one layer: BDRV_BLOCK_* flags for the next *pnum bytes. */
int bdrv_block_status(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                      uint64_t *pnum, uint64_t *map, GError **errp);
/*
 * Status through the backing chain down to (not including) base.
 * *depth receives the index of the layer that decides the content
 * (0 = bs); when no layer does, the range reads as zeroes and *depth is
 * the index of the bottom layer searched.  *file_bs receives the deciding
 * layer, or NULL.
 */
int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base,
                            uint64_t offset, uint64_t bytes, uint64_t *pnum,
                            uint64_t *map, int *depth,
                            BlockDriverState **file_bs, GError **errp);

/*
 * Resolves a backing file name recorded in an image against the image's
 * own location, as every reader of the image must.
 */
char *bdrv_resolve_backing_path(const char *image_filename,
                                const char *backing);

/*
 * Deflates clusters the way qcow2 stores them (raw deflate, 4 KiB
 * window).  One compressor per thread; it keeps its zlib state.
 */
typedef struct BlockCompressor BlockCompressor;
BlockCompressor *block_compressor_new(void);
void block_compressor_free(BlockCompressor *c);
/* Returns the compressed length, or 0 if it does not fit in dst_cap. */
size_t block_compressor_deflate(BlockCompressor *c, const void *src,
                                size_t len, void *dst, size_t dst_cap);
/*
 * A cheap test that skips deflating data which would not shrink: true
 * when the byte histogram is nearly uniform and a fast deflate of a
 * sample gains almost nothing (random or already compressed data).
 */
bool block_compressor_hopeless(BlockCompressor *c, const void *src,
                               size_t len);

/* The size qemu-img measure would report for a new image. */
typedef struct BlockMeasureInfo {
    uint64_t required;
    uint64_t fully_allocated;
    uint64_t bitmaps;
    bool has_bitmaps;
} BlockMeasureInfo;
int bdrv_measure(const char *format, const BlockCreateOptions *opts,
                 uint64_t virtual_size, uint64_t allocated_bytes,
                 BlockMeasureInfo *info, GError **errp);

#endif
