/*
 * block-backend.c: the device-facing side of the block layer.  Requests
 * are recycled from a per-backend free list, run on the aio pool's
 * worker threads against the BlockDriverState and completed on the main
 * context.  cache=... maps to open flags; snapshot=on writes to a
 * temporary qcow2 overlay that is deleted as soon as it is open.
 */
#include "block/block-backend.h"
#include "block/aio-pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INLINE_IOV 16

typedef enum {
    REQ_READ,
    REQ_WRITE,
    REQ_ZEROES,
    REQ_DISCARD,
    REQ_FLUSH,
} RequestType;

typedef struct BlockRequest BlockRequest;
struct BlockRequest {
    AioTask task;                  /* first: requests are AioTasks */
    BlockBackend *blk;
    RequestType type;
    uint64_t offset;
    uint64_t bytes;
    bool may_unmap;
    struct iovec inline_iov[INLINE_IOV];
    struct iovec *iov;
    int niov;
    BlockCompletionFunc *cb;
    void *opaque;
    BlockRequest *next_free;
};

struct BlockBackend {
    BlockDriverState *bs;
    AioPool *pool;
    /* Devices submit on vCPU threads (holding the machine lock) and the
     * main loop completes (without it): the free list has its own lock. */
    GMutex free_lock;
    BlockRequest *free_list;
    GPtrArray *all_requests;
    GMutex error_lock;
    char *last_error;
};

static char *make_overlay(const char *filename, const BlockBackendOptions *o,
                          GError **errp)
{
    BlockOpenOptions bo = { .format = o->format, .flags = 0 };
    BlockDriverState *base = bdrv_open(filename, &bo, errp);
    if (!base) {
        return NULL;
    }
    char *abs = realpath(filename, NULL);
    char *path = g_build_filename(g_get_tmp_dir(), "kestrel-snapshot-XXXXXX",
                                  NULL);
    int fd = g_mkstemp(path);
    int r = -EIO;
    if (fd < 0) {
        g_set_error(errp, BLOCK_ERROR, errno,
                    "Could not create a temporary overlay: %s",
                    g_strerror(errno));
    } else {
        close(fd);
        BlockCreateOptions co = {
            .size = bdrv_getlength(base),
            .backing_file = abs ? abs : filename,
            .backing_format = base->drv->format_name,
        };
        r = bdrv_create("qcow2", path, &co, errp);
        if (r < 0) {
            unlink(path);
        }
    }
    free(abs);
    bdrv_close(base);
    if (r < 0) {
        g_free(path);
        return NULL;
    }
    return path;
}

BlockBackend *blk_open(const char *filename, const BlockBackendOptions *opts,
                       GError **errp)
{
    BlockBackendOptions defaults = { 0 };
    const BlockBackendOptions *o = opts ? opts : &defaults;
    int flags = o->read_only && !o->snapshot ? 0 : BDRV_O_RDWR;
    if (!bdrv_parse_cache_mode(o->cache ? o->cache : "writeback", &flags,
                               errp)) {
        return NULL;
    }
    if (o->discard_unmap) {
        flags |= BDRV_O_UNMAP;
    }
    BlockOpenOptions bo = { .format = o->format, .flags = flags,
                            .l2_cache_size = o->l2_cache_size };
    BlockDriverState *bs;
    if (o->snapshot) {
        char *overlay = make_overlay(filename, o, errp);
        if (!overlay) {
            return NULL;
        }
        bo.format = "qcow2";
        bs = bdrv_open(overlay, &bo, errp);
        unlink(overlay);
        g_free(overlay);
    } else {
        bs = bdrv_open(filename, &bo, errp);
    }
    if (!bs) {
        return NULL;
    }
    BlockBackend *blk = g_new0(BlockBackend, 1);
    blk->bs = bs;
    blk->pool = aio_pool_new(o->context, o->io_threads ? o->io_threads : 4);
    blk->all_requests = g_ptr_array_new_with_free_func(g_free);
    g_mutex_init(&blk->error_lock);
    g_mutex_init(&blk->free_lock);
    if (!blk->pool) {
        g_set_error(errp, BLOCK_ERROR, ENOMEM, "Could not start I/O threads");
        blk_close(blk);
        return NULL;
    }
    return blk;
}

void blk_close(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    aio_pool_free(blk->pool);
    if (!blk->bs->read_only) {
        GError *err = NULL;
        if (bdrv_flush(blk->bs, &err) < 0) {
            g_printerr("Warning: flushing '%s' failed: %s\n",
                       blk->bs->filename, err->message);
            g_error_free(err);
        }
    }
    bdrv_close(blk->bs);
    g_ptr_array_free(blk->all_requests, TRUE);
    g_mutex_clear(&blk->error_lock);
    g_mutex_clear(&blk->free_lock);
    g_free(blk->last_error);
    g_free(blk);
}

BlockDriverState *blk_bs(BlockBackend *blk)
{
    return blk->bs;
}

uint64_t blk_getlength(BlockBackend *blk)
{
    return bdrv_getlength(blk->bs);
}

bool blk_is_read_only(BlockBackend *blk)
{
    return blk->bs->read_only;
}

char *blk_last_error(BlockBackend *blk)
{
    g_mutex_lock(&blk->error_lock);
    char *msg = g_strdup(blk->last_error);
    g_mutex_unlock(&blk->error_lock);
    return msg;
}

static void remember_error(BlockBackend *blk, GError *err)
{
    if (!err) {
        return;
    }
    g_mutex_lock(&blk->error_lock);
    g_free(blk->last_error);
    blk->last_error = g_strdup(err->message);
    g_mutex_unlock(&blk->error_lock);
    g_error_free(err);
}

static int run_request(AioTask *task)
{
    BlockRequest *req = (BlockRequest *)task;
    BlockDriverState *bs = req->blk->bs;
    GError *err = NULL;
    int r;
    switch (req->type) {
    case REQ_READ:
        r = bdrv_preadv(bs, req->offset, req->iov, req->niov, &err);
        break;
    case REQ_WRITE:
        r = bdrv_pwritev(bs, req->offset, req->iov, req->niov, &err);
        break;
    case REQ_ZEROES:
        r = bdrv_write_zeroes(bs, req->offset, req->bytes, req->may_unmap,
                              &err);
        break;
    case REQ_DISCARD:
        r = bdrv_discard(bs, req->offset, req->bytes, &err);
        break;
    case REQ_FLUSH:
    default:
        r = bdrv_flush(bs, &err);
        break;
    }
    remember_error(req->blk, err);
    return r;
}

static void complete_request(AioTask *task, int ret)
{
    BlockRequest *req = (BlockRequest *)task;
    BlockBackend *blk = req->blk;
    BlockCompletionFunc *cb = req->cb;
    void *opaque = req->opaque;
    if (req->iov != req->inline_iov) {
        g_free(req->iov);
    }
    g_mutex_lock(&blk->free_lock);
    req->next_free = blk->free_list;
    blk->free_list = req;
    g_mutex_unlock(&blk->free_lock);
    cb(opaque, ret);
}

static BlockRequest *get_request(BlockBackend *blk, RequestType type,
                                 uint64_t offset, BlockCompletionFunc *cb,
                                 void *opaque)
{
    g_mutex_lock(&blk->free_lock);
    BlockRequest *req = blk->free_list;
    if (req) {
        blk->free_list = req->next_free;
    } else {
        req = g_new0(BlockRequest, 1);
        g_ptr_array_add(blk->all_requests, req);
    }
    g_mutex_unlock(&blk->free_lock);
    req->task.work = run_request;
    req->task.done = complete_request;
    req->blk = blk;
    req->type = type;
    req->offset = offset;
    req->bytes = 0;
    req->iov = req->inline_iov;
    req->niov = 0;
    req->cb = cb;
    req->opaque = opaque;
    return req;
}

static void set_iov(BlockRequest *req, const struct iovec *iov, int niov)
{
    if (niov > INLINE_IOV) {
        req->iov = g_new(struct iovec, niov);
    }
    memcpy(req->iov, iov, sizeof(*iov) * (size_t)niov);
    req->niov = niov;
}

int blk_try_preadv(BlockBackend *blk, uint64_t offset,
                   const struct iovec *iov, int niov)
{
    return bdrv_try_preadv(blk->bs, offset, iov, niov);
}

void blk_aio_preadv(BlockBackend *blk, uint64_t offset,
                    const struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque)
{
    BlockRequest *req = get_request(blk, REQ_READ, offset, cb, opaque);
    set_iov(req, iov, niov);
    aio_pool_submit(blk->pool, &req->task);
}

void blk_aio_pwritev(BlockBackend *blk, uint64_t offset,
                     const struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque)
{
    BlockRequest *req = get_request(blk, REQ_WRITE, offset, cb, opaque);
    set_iov(req, iov, niov);
    aio_pool_submit(blk->pool, &req->task);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                           bool may_unmap, BlockCompletionFunc *cb,
                           void *opaque)
{
    BlockRequest *req = get_request(blk, REQ_ZEROES, offset, cb, opaque);
    req->bytes = bytes;
    req->may_unmap = may_unmap;
    aio_pool_submit(blk->pool, &req->task);
}

void blk_aio_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    BlockRequest *req = get_request(blk, REQ_DISCARD, offset, cb, opaque);
    req->bytes = bytes;
    aio_pool_submit(blk->pool, &req->task);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    BlockRequest *req = get_request(blk, REQ_FLUSH, 0, cb, opaque);
    aio_pool_submit(blk->pool, &req->task);
}

void blk_drain(BlockBackend *blk)
{
    aio_pool_drain(blk->pool);
}

void blk_wait_io(BlockBackend *blk)
{
    aio_pool_wait_idle(blk->pool);
}

int blk_pread(BlockBackend *blk, uint64_t offset, void *buf, size_t bytes,
              GError **errp)
{
    return bdrv_pread(blk->bs, offset, buf, bytes, errp);
}

int blk_pwrite(BlockBackend *blk, uint64_t offset, const void *buf,
               size_t bytes, GError **errp)
{
    return bdrv_pwrite(blk->bs, offset, buf, bytes, errp);
}

int blk_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      bool may_unmap, GError **errp)
{
    return bdrv_write_zeroes(blk->bs, offset, bytes, may_unmap, errp);
}

int blk_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                 GError **errp)
{
    return bdrv_discard(blk->bs, offset, bytes, errp);
}

int blk_flush(BlockBackend *blk, GError **errp)
{
    return bdrv_flush(blk->bs, errp);
}
