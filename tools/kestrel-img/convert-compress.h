/*
 * convert-compress.h: the worker threads that deflate clusters in
 * parallel for "convert -c".
 */
#ifndef KESTREL_IMG_CONVERT_COMPRESS_H
#define KESTREL_IMG_CONVERT_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct CompressCrew CompressCrew;

/* Results of one batch: for each cluster, 0 = all zero,
 * SIZE_MAX = incompressible, else the deflated length in out[i]. */
typedef struct CompressBatch {
    const uint8_t *in;             /* n clusters, back to back */
    size_t n;
    size_t cluster_size;
    uint8_t **out;                 /* n buffers of cluster_size bytes */
    size_t *len;
} CompressBatch;

CompressCrew *compress_crew_new(int threads);
void compress_crew_free(CompressCrew *crew);
/* Compresses a batch using all threads, the caller's included. */
void compress_crew_run(CompressCrew *crew, CompressBatch *batch);

#endif
