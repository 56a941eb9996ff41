/*
 * aio-pool.c: worker threads for blocking block I/O, completing on a
 * glib main context through an eventfd-backed GSource.  Pending and
 * finished tasks are intrusive singly linked lists under one mutex.
 */
#include "block/aio-pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct CompletionSource {
    GSource source;
    AioPool *pool;
    gpointer tag;
} CompletionSource;

struct AioPool {
    GMutex lock;
    GCond work_ready;
    AioTask *queue_head, *queue_tail;
    AioTask *done_head, *done_tail;
    GThread **threads;
    int nthreads;
    bool stopping;
    unsigned in_flight;            /* submitted, callback not yet run */
    unsigned busy;                 /* queued or running on a worker */
    GCond idle;                    /* busy dropped to 0 */
    int event_fd;
    GMainContext *context;
    CompletionSource *source;
};

static void push(AioTask **head, AioTask **tail, AioTask *t)
{
    t->next = NULL;
    if (*tail) {
        (*tail)->next = t;
    } else {
        *head = t;
    }
    *tail = t;
}

static gpointer worker(gpointer data)
{
    AioPool *pool = data;
    g_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->queue_head && !pool->stopping) {
            g_cond_wait(&pool->work_ready, &pool->lock);
        }
        if (!pool->queue_head) {
            break;
        }
        AioTask *t = pool->queue_head;
        pool->queue_head = t->next;
        if (!pool->queue_head) {
            pool->queue_tail = NULL;
        }
        g_mutex_unlock(&pool->lock);
        t->ret = t->work(t);
        g_mutex_lock(&pool->lock);
        push(&pool->done_head, &pool->done_tail, t);
        if (--pool->busy == 0) {
            g_cond_broadcast(&pool->idle);
        }
        uint64_t one = 1;
        ssize_t n = write(pool->event_fd, &one, sizeof(one));
        (void)n;
    }
    g_mutex_unlock(&pool->lock);
    return NULL;
}

/* Runs the callbacks of finished tasks; returns how many ran. */
static unsigned run_completions(AioPool *pool)
{
    uint64_t count;
    ssize_t n = read(pool->event_fd, &count, sizeof(count));
    (void)n;
    g_mutex_lock(&pool->lock);
    AioTask *list = pool->done_head;
    pool->done_head = pool->done_tail = NULL;
    g_mutex_unlock(&pool->lock);
    unsigned ran = 0;
    while (list) {
        AioTask *t = list;
        list = t->next;
        g_mutex_lock(&pool->lock);
        pool->in_flight--;
        g_mutex_unlock(&pool->lock);
        t->done(t, t->ret);
        ran++;
    }
    return ran;
}

static gboolean source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    CompletionSource *cs = (CompletionSource *)source;
    if (g_source_query_unix_fd(source, cs->tag) & G_IO_IN) {
        run_completions(cs->pool);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = {
    .dispatch = source_dispatch,
};

AioPool *aio_pool_new(GMainContext *context, int threads)
{
    AioPool *pool = g_new0(AioPool, 1);
    g_mutex_init(&pool->lock);
    g_cond_init(&pool->work_ready);
    g_cond_init(&pool->idle);
    pool->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (pool->event_fd < 0) {
        g_free(pool);
        return NULL;
    }
    pool->context = context ? g_main_context_ref(context)
                            : g_main_context_ref_thread_default();
    pool->source = (CompletionSource *)g_source_new(&source_funcs,
                                                    sizeof(CompletionSource));
    pool->source->pool = pool;
    pool->source->tag = g_source_add_unix_fd(&pool->source->source,
                                             pool->event_fd, G_IO_IN);
    g_source_attach(&pool->source->source, pool->context);
    pool->nthreads = threads > 0 ? threads : 4;
    pool->threads = g_new0(GThread *, pool->nthreads);
    for (int i = 0; i < pool->nthreads; i++) {
        pool->threads[i] = g_thread_new("block-io", worker, pool);
    }
    return pool;
}

void aio_pool_submit(AioPool *pool, AioTask *task)
{
    g_mutex_lock(&pool->lock);
    pool->in_flight++;
    pool->busy++;
    push(&pool->queue_head, &pool->queue_tail, task);
    g_cond_signal(&pool->work_ready);
    g_mutex_unlock(&pool->lock);
}

unsigned aio_pool_in_flight(AioPool *pool)
{
    g_mutex_lock(&pool->lock);
    unsigned n = pool->in_flight;
    g_mutex_unlock(&pool->lock);
    return n;
}

void aio_pool_wait_idle(AioPool *pool)
{
    g_mutex_lock(&pool->lock);
    while (pool->busy > 0) {
        g_cond_wait(&pool->idle, &pool->lock);
    }
    g_mutex_unlock(&pool->lock);
}

void aio_pool_drain(AioPool *pool)
{
    while (aio_pool_in_flight(pool) > 0) {
        GPollFD pfd = { .fd = pool->event_fd, .events = G_IO_IN };
        g_poll(&pfd, 1, 100);
        run_completions(pool);
    }
}

void aio_pool_free(AioPool *pool)
{
    if (!pool) {
        return;
    }
    aio_pool_drain(pool);
    g_mutex_lock(&pool->lock);
    pool->stopping = true;
    g_cond_broadcast(&pool->work_ready);
    g_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads; i++) {
        g_thread_join(pool->threads[i]);
    }
    g_free(pool->threads);
    g_source_destroy(&pool->source->source);
    g_source_unref(&pool->source->source);
    g_main_context_unref(pool->context);
    close(pool->event_fd);
    g_cond_clear(&pool->work_ready);
    g_cond_clear(&pool->idle);
    g_mutex_clear(&pool->lock);
    g_free(pool);
}
