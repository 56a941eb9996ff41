/*
 * fuzz-qcow2.c: a libFuzzer-style target for the qcow2 driver.  The input
 * is taken as an image file (in memory, through memfd): open it read-only
 * and read it (info, snapshots, block status, reads, check), then open it
 * read-write and write, flush and close.  Backing files are never opened.
 * Build with clang -fsanitize=fuzzer (see docs/kestrel-img.md) or run
 * over a corpus with fuzz-replay.
 */
#include "block/block.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t input_u64(const uint8_t *data, size_t size, size_t at)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && at + i < size; i++) {
        v = v << 8 | data[at + i];
    }
    return v;
}

static void exercise_reads(BlockDriverState *bs, const uint8_t *data,
                           size_t size)
{
    BlockImageInfo info;
    bdrv_get_info(bs, &info);
    BlockSnapshotInfo *snaps = NULL;
    int n = bdrv_snapshot_list(bs, &snaps, NULL);
    block_snapshot_list_free(snaps, n > 0 ? n : 0);
    uint64_t len = bdrv_getlength(bs);
    uint64_t off = 0;
    for (int i = 0; i < 64 && off < len; i++) {
        uint64_t pnum = 0, map;
        int depth;
        if (bdrv_block_status_above(bs, NULL, off, len - off, &pnum, &map,
                                    &depth, NULL, NULL) < 0 || pnum == 0) {
            break;
        }
        off += pnum;
    }
    static uint8_t buf[1 << 20];
    for (uint64_t pos = 0; pos < MIN(len, 4u << 20); pos += sizeof(buf)) {
        bdrv_pread(bs, pos, buf, MIN(sizeof(buf), len - pos), NULL);
    }
    if (len) {
        uint64_t at = input_u64(data, size, 24) % len;
        bdrv_pread(bs, at, buf, MIN(sizeof(buf), len - at), NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("kestrel-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    BlockOpenOptions ro = { .format = "qcow2",
                            .flags = BDRV_O_NO_BACKING | BDRV_O_NO_FLUSH };
    BlockDriverState *bs = bdrv_open(path, &ro, NULL);
    if (bs) {
        exercise_reads(bs, data, size);
        BlockCheckResult res = { 0 };
        bdrv_check(bs, &res, 0, NULL);
        bdrv_close(bs);
    }

    BlockOpenOptions rw = { .format = "qcow2",
                            .flags = BDRV_O_RDWR | BDRV_O_NO_BACKING |
                                     BDRV_O_NO_FLUSH };
    bs = bdrv_open(path, &rw, NULL);
    if (bs) {
        static uint8_t pattern[70000];
        memset(pattern, 0x5a, sizeof(pattern));
        uint64_t len = bdrv_getlength(bs);
        if (len > sizeof(pattern)) {
            uint64_t at = input_u64(data, size, 40) % (len - sizeof(pattern));
            bdrv_pwrite(bs, at, pattern, sizeof(pattern), NULL);
            bdrv_pwrite(bs, 0, pattern, 512, NULL);
            bdrv_write_zeroes(bs, at, 4096, true, NULL);
            bdrv_discard(bs, 0, MIN(len, 1u << 20), NULL);
        }
        bdrv_flush(bs, NULL);
        bdrv_close(bs);
    }
    close(fd);
    return 0;
}
