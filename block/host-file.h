/*
 * host-file.h: access to one host file or block device holding image
 * data.  Full-length positioned reads and writes, O_DIRECT with aligned
 * bounce buffers (cache=none), flushes that can be switched off
 * (cache=unsafe), hole punching and SEEK_DATA/SEEK_HOLE queries.
 */
#ifndef KESTREL_BLOCK_HOST_FILE_H
#define KESTREL_BLOCK_HOST_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

enum {
    HOST_FILE_RDWR = 1 << 0,
    HOST_FILE_DIRECT = 1 << 1,     /* O_DIRECT */
    HOST_FILE_NO_FLUSH = 1 << 2,   /* flushes are no-ops */
    HOST_FILE_CREATE = 1 << 3,     /* create, truncating an existing file */
};

typedef struct HostFile {
    int fd;
    char *filename;
    bool writable;
    bool direct;
    bool no_flush;
    bool is_block_device;
    size_t align;                  /* O_DIRECT alignment; 1 when buffered */
    GRWLock rmw_lock;              /* unaligned O_DIRECT writes are exclusive */
} HostFile;

int host_file_open(HostFile *hf, const char *filename, int flags,
                   GError **errp);
void host_file_close(HostFile *hf);

/* Reads past the end of the file return zeroes. */
int host_file_pread(HostFile *hf, uint64_t offset, void *buf, size_t len,
                    GError **errp);
int host_file_pwrite(HostFile *hf, uint64_t offset, const void *buf,
                     size_t len, GError **errp);
int host_file_preadv(HostFile *hf, uint64_t offset, const struct iovec *iov,
                     int niov, GError **errp);
int host_file_pwritev(HostFile *hf, uint64_t offset, const struct iovec *iov,
                      int niov, GError **errp);
int host_file_flush(HostFile *hf, GError **errp);
/* A read that is done only if it needs no waiting for the disk: buffered
 * files whose range is in the host page cache (preadv2 with RWF_NOWAIT).
 * 0 when every byte was read; -EAGAIN otherwise, buffers possibly partly
 * filled (the caller reads the ordinary way, which reports real errors). */
int host_file_try_preadv(HostFile *hf, uint64_t offset,
                         const struct iovec *iov, int niov);

int64_t host_file_size(HostFile *hf, GError **errp);
int64_t host_file_allocated_bytes(HostFile *hf);
int host_file_truncate(HostFile *hf, uint64_t size, GError **errp);

/* Deallocates a range; 0, or -errno when the host cannot (not an error). */
int host_file_punch_hole(HostFile *hf, uint64_t offset, uint64_t len);
int host_file_write_zeroes(HostFile *hf, uint64_t offset, uint64_t len,
                           bool may_unmap, GError **errp);
int host_file_fallocate(HostFile *hf, uint64_t offset, uint64_t len,
                        GError **errp);

/*
 * Is [offset, offset+len) data (1) or a hole (0)?  *pnum receives the
 * length of the run with that answer, at least 1 byte.
 */
int host_file_data_status(HostFile *hf, uint64_t offset, uint64_t len,
                          uint64_t *pnum);

#endif
