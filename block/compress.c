/*
 * compress.c: deflate as qcow2 stores compressed clusters (qcow2
 * specification: "Compressed Clusters": raw deflate streams without a
 * zlib header, 4 KiB window, as written by QEMU).
 */
#include "block/block.h"

#include <zlib.h>

#define QCOW2_DEFLATE_WINDOW_BITS (-12)

struct BlockCompressor {
    z_stream zs;
    bool ready;
};

BlockCompressor *block_compressor_new(void)
{
    BlockCompressor *c = g_new0(BlockCompressor, 1);
    if (deflateInit2(&c->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                     QCOW2_DEFLATE_WINDOW_BITS, 9, Z_DEFAULT_STRATEGY) ==
        Z_OK) {
        c->ready = true;
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
