/*
 * convert-compress.c: a fork-join crew of threads deflating the clusters
 * of one batch.  Clusters are handed out by an atomic counter; the
 * calling thread works too, then waits for the others.
 */
#include "tools/kestrel-img/convert-compress.h"
#include "tools/kestrel-img/img-zero.h"
#include "block/block.h"

#include <glib.h>

struct CompressCrew {
    GMutex lock;
    GCond start, finished;
    GThread **threads;
    BlockCompressor **compressors;  /* one per thread, caller's is last */
    int nthreads;
    CompressBatch *batch;
    uint64_t generation;
    gint next;
    int busy;
    bool stopping;
};

static void work(CompressCrew *crew, CompressBatch *b, BlockCompressor *zc)
{
    for (;;) {
        gint i = g_atomic_int_add(&crew->next, 1);
        if ((size_t)i >= b->n) {
            return;
        }
        const uint8_t *src = b->in + (size_t)i * b->cluster_size;
        if (img_is_zero(src, b->cluster_size)) {
            b->len[i] = 0;
            continue;
        }
        if (block_compressor_hopeless(zc, src, b->cluster_size)) {
            b->len[i] = SIZE_MAX;
            continue;
        }
        size_t n = block_compressor_deflate(zc, src, b->cluster_size,
                                            b->out[i], b->cluster_size - 1);
        b->len[i] = n ? n : SIZE_MAX;
    }
}

typedef struct WorkerArg {
    CompressCrew *crew;
    int index;
} WorkerArg;

static gpointer worker(gpointer data)
{
    WorkerArg *arg = data;
    CompressCrew *crew = arg->crew;
    BlockCompressor *zc = crew->compressors[arg->index];
    g_free(arg);
    uint64_t seen = 0;
    g_mutex_lock(&crew->lock);
    for (;;) {
        while (!crew->stopping && crew->generation == seen) {
            g_cond_wait(&crew->start, &crew->lock);
        }
        if (crew->stopping) {
            break;
        }
        seen = crew->generation;
        CompressBatch *b = crew->batch;
        g_mutex_unlock(&crew->lock);
        work(crew, b, zc);
        g_mutex_lock(&crew->lock);
        if (--crew->busy == 0) {
            g_cond_signal(&crew->finished);
        }
    }
    g_mutex_unlock(&crew->lock);
    return NULL;
}

CompressCrew *compress_crew_new(int threads)
{
    CompressCrew *crew = g_new0(CompressCrew, 1);
    g_mutex_init(&crew->lock);
    g_cond_init(&crew->start);
    g_cond_init(&crew->finished);
    crew->nthreads = threads > 1 ? threads - 1 : 0;
    crew->compressors = g_new0(BlockCompressor *, crew->nthreads + 1);
    for (int i = 0; i <= crew->nthreads; i++) {
        crew->compressors[i] = block_compressor_new();
    }
    crew->threads = g_new0(GThread *, MAX(crew->nthreads, 1));
    for (int i = 0; i < crew->nthreads; i++) {
        WorkerArg *arg = g_new(WorkerArg, 1);
        arg->crew = crew;
        arg->index = i;
        crew->threads[i] = g_thread_new("deflate", worker, arg);
    }
    return crew;
}

void compress_crew_free(CompressCrew *crew)
{
    g_mutex_lock(&crew->lock);
    crew->stopping = true;
    g_cond_broadcast(&crew->start);
    g_mutex_unlock(&crew->lock);
    for (int i = 0; i < crew->nthreads; i++) {
        g_thread_join(crew->threads[i]);
    }
    for (int i = 0; i <= crew->nthreads; i++) {
        block_compressor_free(crew->compressors[i]);
    }
    g_free(crew->compressors);
    g_free(crew->threads);
    g_cond_clear(&crew->start);
    g_cond_clear(&crew->finished);
    g_mutex_clear(&crew->lock);
    g_free(crew);
}

void compress_crew_run(CompressCrew *crew, CompressBatch *batch)
{
    g_mutex_lock(&crew->lock);
    crew->batch = batch;
    g_atomic_int_set(&crew->next, 0);
    crew->busy = crew->nthreads;
    crew->generation++;
    g_cond_broadcast(&crew->start);
    g_mutex_unlock(&crew->lock);
    work(crew, batch, crew->compressors[crew->nthreads]);
    g_mutex_lock(&crew->lock);
    while (crew->busy > 0) {
        g_cond_wait(&crew->finished, &crew->lock);
    }
    g_mutex_unlock(&crew->lock);
}
