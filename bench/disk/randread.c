/*
 * randread: N random 4 KiB O_DIRECT reads from a block device, for the
 * bench/disk guest.  usage: randread DEVICE COUNT SPAN_BYTES
 * Offsets come from a fixed-seed xorshift, so both emulators do the same
 * reads.  Prints "randread COUNT done" or an error.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: randread DEVICE COUNT SPAN_BYTES\n");
        return 2;
    }
    long count = atol(argv[2]);
    uint64_t blocks = strtoull(argv[3], NULL, 0) / 4096;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    void *buf;
    if (fd < 0 || blocks == 0 || posix_memalign(&buf, 4096, 4096) != 0) {
        perror("randread");
        return 1;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (long i = 0; i < count; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096) {
            perror("randread: pread");
            return 1;
        }
    }
    printf("randread %ld done\n", count);
    return 0;
}
