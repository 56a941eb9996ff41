/*
 * In-guest disk benchmark for bench/disk: sequential 1 MiB reads of the
 * first N MiB of a block device, sequential 1 MiB writes of the next N MiB
 * (then fsync), and 4 KiB reads at random aligned offsets, all with
 * O_DIRECT so the guest's page cache is out of the picture.  Each phase is
 * framed by "<name> start" / "<name> end" lines that the host times.
 *
 *   diskbench DEVICE MIB RANDOM_READS
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static void mark(const char *what)
{
    printf("%s\n", what);
    fflush(stdout);
}

static int fail(const char *what)
{
    printf("diskbench: %s failed\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: diskbench DEVICE MIB RANDOM_READS\n");
        return 2;
    }
    long mib = atol(argv[2]), reads = atol(argv[3]);
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    void *buf;
    unsigned long long sum = 0;
    unsigned state = 12345;

    if (fd < 0 || posix_memalign(&buf, 4096, CHUNK)) {
        return fail("open");
    }
    mark("seqread start");
    for (long i = 0; i < mib; i++) {
        if (pread(fd, buf, CHUNK, (off_t)i * CHUNK) != CHUNK) {
            return fail("read");
        }
        sum += ((unsigned char *)buf)[i % CHUNK];
    }
    mark("seqread end");
    memset(buf, 0xa5, CHUNK);
    mark("seqwrite start");
    for (long i = 0; i < mib; i++) {
        if (pwrite(fd, buf, CHUNK, (off_t)(mib + i) * CHUNK) != CHUNK) {
            return fail("write");
        }
    }
    if (fsync(fd)) {
        return fail("fsync");
    }
    mark("seqwrite end");
    mark("randread start");
    for (long i = 0; i < reads; i++) {
        state = state * 1103515245u + 12345u;
        off_t blk = (off_t)((state >> 8) % (unsigned)(mib * 256));
        if (pread(fd, buf, 4096, blk * 4096) != 4096) {
            return fail("random read");
        }
    }
    mark("randread end");
    printf("checksum %llu\n", sum);
    return 0;
}
