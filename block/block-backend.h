/*
 * block-backend.h: what devices use to reach a disk image.  A
 * BlockBackend opens an image by file name, format and options (cache
 * mode, read-only, snapshot, discard), runs requests on worker threads
 * and calls the completion callback on the main loop.  Synchronous
 * variants serve tools and tests.
 */
#ifndef KESTREL_BLOCK_BLOCK_BACKEND_H
#define KESTREL_BLOCK_BLOCK_BACKEND_H

#include "block/block.h"

typedef struct BlockBackend BlockBackend;

/* Called on the main context with 0 or a negative errno. */
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef struct BlockBackendOptions {
    const char *format;            /* "raw", "qcow2"; NULL: probe */
    const char *cache;             /* none, writeback (default), writethrough,
                                      directsync, unsafe */
    bool read_only;
    bool snapshot;                 /* writes go to a throw-away overlay */
    bool discard_unmap;            /* discard=unmap: pass discards down */
    uint64_t l2_cache_size;        /* qcow2 L2 cache bytes; 0: default */
    GMainContext *context;         /* completions run here; NULL: default */
    int io_threads;                /* worker threads; 0: 4 */
} BlockBackendOptions;

BlockBackend *blk_open(const char *filename, const BlockBackendOptions *opts,
                       GError **errp);
/* Waits for requests in flight, flushes and closes. */
void blk_close(BlockBackend *blk);

BlockDriverState *blk_bs(BlockBackend *blk);
uint64_t blk_getlength(BlockBackend *blk);
bool blk_is_read_only(BlockBackend *blk);
/* The message of the most recent failed request, or NULL. Caller frees. */
char *blk_last_error(BlockBackend *blk);

/* A read done now on the calling thread if it needs no waiting for the
 * disk (see bdrv_try_preadv): 0, or -EAGAIN (read with blk_aio_preadv). */
int blk_try_preadv(BlockBackend *blk, uint64_t offset,
                   const struct iovec *iov, int niov);
void blk_aio_preadv(BlockBackend *blk, uint64_t offset,
                    const struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, uint64_t offset,
                     const struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                           bool may_unmap, BlockCompletionFunc *cb,
                           void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
/* Runs completions until no request is in flight.  Main context only. */
void blk_drain(BlockBackend *blk);
/* Waits until no request is queued or running on a worker thread: the
 * buffers given to blk_aio_* are no longer read or written.  Callbacks of
 * the requests that finished still run later on the main context.  Any
 * thread (a device reset on a vCPU thread holding the machine lock). */
void blk_wait_io(BlockBackend *blk);

int blk_pread(BlockBackend *blk, uint64_t offset, void *buf, size_t bytes,
              GError **errp);
int blk_pwrite(BlockBackend *blk, uint64_t offset, const void *buf,
               size_t bytes, GError **errp);
int blk_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      bool may_unmap, GError **errp);
int blk_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                 GError **errp);
int blk_flush(BlockBackend *blk, GError **errp);

#endif
