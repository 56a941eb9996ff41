/*
 * aio-pool.h: a pool of worker threads that run blocking I/O and hand
 * the results back on a glib main context.  Tasks are embedded in the
 * caller's own request structures: submitting allocates nothing.
 */
#ifndef KESTREL_BLOCK_AIO_POOL_H
#define KESTREL_BLOCK_AIO_POOL_H

#include <glib.h>

typedef struct AioTask AioTask;
struct AioTask {
    AioTask *next;
    int (*work)(AioTask *task);            /* runs on a worker thread */
    void (*done)(AioTask *task, int ret);  /* runs on the main context */
    int ret;
};

typedef struct AioPool AioPool;

AioPool *aio_pool_new(GMainContext *context, int threads);
/* Waits for every submitted task to complete (callbacks included). */
void aio_pool_free(AioPool *pool);
void aio_pool_submit(AioPool *pool, AioTask *task);
/* Runs completions until nothing is in flight.  Main context only. */
void aio_pool_drain(AioPool *pool);
unsigned aio_pool_in_flight(AioPool *pool);
/* Waits until no task is queued or running on a worker thread (their
 * buffers are no longer touched); the callbacks of finished tasks still
 * run later on the main context.  Any thread. */
void aio_pool_wait_idle(AioPool *pool);

#endif
