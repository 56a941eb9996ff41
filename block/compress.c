/*
 * compress.c: deflate as qcow2 stores compressed clusters (qcow2
 * specification: "Compressed Clusters": raw deflate streams without a
 * zlib header, 4 KiB window, as written by QEMU).
 */
#include "block/block.h"

#include <zlib.h>

#include <math.h>
#include <stdint.h>

#define QCOW2_DEFLATE_WINDOW_BITS (-12)
#define SAMPLE_BYTES 8192

struct BlockCompressor {
    z_stream zs;
    bool ready;
    z_stream quick;                /* level 1, for samples */
    bool quick_ready;
    uint8_t sample_out[SAMPLE_BYTES + 1024];
};

BlockCompressor *block_compressor_new(void)
{
    BlockCompressor *c = g_new0(BlockCompressor, 1);
    if (deflateInit2(&c->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                     QCOW2_DEFLATE_WINDOW_BITS, 9, Z_DEFAULT_STRATEGY) ==
        Z_OK) {
        c->ready = true;
    }
    if (deflateInit2(&c->quick, 1, Z_DEFLATED, QCOW2_DEFLATE_WINDOW_BITS, 8,
                     Z_DEFAULT_STRATEGY) == Z_OK) {
        c->quick_ready = true;
    }
    return c;
}

void block_compressor_free(BlockCompressor *c)
{
    if (!c) {
        return;
    }
    if (c->ready) {
        deflateEnd(&c->zs);
    }
    if (c->quick_ready) {
        deflateEnd(&c->quick);
    }
    g_free(c);
}

size_t block_compressor_deflate(BlockCompressor *c, const void *src,
                                size_t len, void *dst, size_t dst_cap)
{
    if (!c->ready || deflateReset(&c->zs) != Z_OK) {
        return 0;
    }
    c->zs.next_in = (Bytef *)src;
    c->zs.avail_in = (uInt)len;
    c->zs.next_out = dst;
    c->zs.avail_out = (uInt)dst_cap;
    int r = deflate(&c->zs, Z_FINISH);
    if (r != Z_STREAM_END) {
        return 0;
    }
    return dst_cap - c->zs.avail_out;
}

bool block_compressor_hopeless(BlockCompressor *c, const void *src,
                               size_t len)
{
    if (!c->quick_ready || len < 4 * SAMPLE_BYTES) {
        return false;
    }
    /* Order-0 entropy of the whole buffer, in bits per byte. */
    uint32_t hist[256] = { 0 };
    const uint8_t *p = src;
    for (size_t i = 0; i < len; i++) {
        hist[p[i]]++;
    }
    double bits = 0;
    for (int i = 0; i < 256; i++) {
        if (hist[i]) {
            double f = (double)hist[i] / (double)len;
            bits -= f * log2(f);
        }
    }
    if (bits < 7.9) {
        return false;
    }
    /* Repeats (which entropy cannot see) would show in a quick deflate. */
    if (deflateReset(&c->quick) != Z_OK) {
        return false;
    }
    c->quick.next_in = (Bytef *)src;
    c->quick.avail_in = SAMPLE_BYTES;
    c->quick.next_out = c->sample_out;
    c->quick.avail_out = sizeof(c->sample_out);
    if (deflate(&c->quick, Z_FINISH) != Z_STREAM_END) {
        return true;
    }
    size_t out = sizeof(c->sample_out) - c->quick.avail_out;
    return out * 100 >= (size_t)SAMPLE_BYTES * 97;
}
