/*
 * host-file.c: positioned I/O on a POSIX file or block device, the
 * bottom of every image.  cache=none opens with O_DIRECT and bounces
 * unaligned requests through aligned buffers; cache=unsafe turns
 * flushes into no-ops.
 */
#include "block/host-file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(GError **errp, int err, const char *what, const HostFile *hf)
{
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                "Could not %s '%s': %s", what, hf->filename, g_strerror(err));
    return -err;
}

static size_t probe_direct_alignment(HostFile *hf)
{
    if (hf->is_block_device) {
        int sector = 0;
        if (ioctl(hf->fd, BLKSSZGET, &sector) == 0 && sector > 0) {
            return (size_t)sector;
        }
        return 4096;
    }
    static const size_t candidates[] = { 512, 4096 };
    void *buf = NULL;
    if (posix_memalign(&buf, 4096, 4096) != 0) {
        return 4096;
    }
    size_t chosen = 4096;
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        ssize_t r = pread(hf->fd, buf, candidates[i], 0);
        if (r >= 0) {
            chosen = candidates[i];
            break;
        }
    }
    free(buf);
    return chosen;
}

int host_file_open(HostFile *hf, const char *filename, int flags,
                   GError **errp)
{
    memset(hf, 0, sizeof(*hf));
    hf->fd = -1;
    hf->filename = g_strdup(filename);
    hf->writable = flags & HOST_FILE_RDWR;
    hf->direct = flags & HOST_FILE_DIRECT;
    hf->no_flush = flags & HOST_FILE_NO_FLUSH;
    hf->align = 1;
    g_rw_lock_init(&hf->rmw_lock);

    int oflags = O_CLOEXEC | (hf->writable ? O_RDWR : O_RDONLY);
    if (flags & HOST_FILE_CREATE) {
        oflags |= O_CREAT | O_TRUNC;
    }
    hf->fd = open(filename, oflags, 0644);
    if (hf->fd < 0) {
        int err = errno;
        fail(errp, err, "open", hf);
        host_file_close(hf);
        return -err;
    }
    struct stat st;
    if (fstat(hf->fd, &st) == 0) {
        hf->is_block_device = S_ISBLK(st.st_mode);
        if (S_ISDIR(st.st_mode)) {
            g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_ISDIR,
                        "Could not open '%s': Is a directory", filename);
            host_file_close(hf);
            return -EISDIR;
        }
    }
    if (hf->direct) {
        int fl = fcntl(hf->fd, F_GETFL);
        if (fl < 0 || fcntl(hf->fd, F_SETFL, fl | O_DIRECT) < 0) {
            int err = errno;
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                        "Could not open '%s' with cache=none (O_DIRECT): %s",
                        filename, g_strerror(err));
            host_file_close(hf);
            return -err;
        }
        hf->align = probe_direct_alignment(hf);
    }
    return 0;
}

void host_file_close(HostFile *hf)
{
    if (hf->fd >= 0) {
        close(hf->fd);
    }
    hf->fd = -1;
    g_free(hf->filename);
    hf->filename = NULL;
    g_rw_lock_clear(&hf->rmw_lock);
}

static bool is_aligned(const HostFile *hf, uint64_t offset, const void *buf,
                       size_t len)
{
    uint64_t mask = hf->align - 1;
    return ((offset | (uintptr_t)buf | len) & mask) == 0;
}

/* Plain full-length loops, used directly when no alignment is needed. */
static int raw_read_full(HostFile *hf, uint64_t offset, void *buf, size_t len,
                         GError **errp)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = pread(hf->fd, p, len, (off_t)offset);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(errp, errno, "read", hf);
        }
        if (r == 0) {
            memset(p, 0, len);
            return 0;
        }
        p += r;
        offset += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

static int raw_write_full(HostFile *hf, uint64_t offset, const void *buf,
                          size_t len, GError **errp)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = pwrite(hf->fd, p, len, (off_t)offset);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(errp, errno, "write", hf);
        }
        if (r == 0) {
            return fail(errp, ENOSPC, "write", hf);
        }
        p += r;
        offset += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

static void *bounce_alloc(HostFile *hf, size_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, MAX(hf->align, sizeof(void *)), len) != 0) {
        return NULL;
    }
    return p;
}

int host_file_pread(HostFile *hf, uint64_t offset, void *buf, size_t len,
                    GError **errp)
{
    if (len == 0) {
        return 0;
    }
    if (!hf->direct || is_aligned(hf, offset, buf, len)) {
        if (!hf->direct) {
            return raw_read_full(hf, offset, buf, len, errp);
        }
        g_rw_lock_reader_lock(&hf->rmw_lock);
        int r = raw_read_full(hf, offset, buf, len, errp);
        g_rw_lock_reader_unlock(&hf->rmw_lock);
        return r;
    }
    uint64_t start = offset & ~(uint64_t)(hf->align - 1);
    uint64_t end = (offset + len + hf->align - 1) & ~(uint64_t)(hf->align - 1);
    uint8_t *bounce = bounce_alloc(hf, end - start);
    if (!bounce) {
        return fail(errp, ENOMEM, "read", hf);
    }
    g_rw_lock_reader_lock(&hf->rmw_lock);
    int r = raw_read_full(hf, start, bounce, end - start, errp);
    g_rw_lock_reader_unlock(&hf->rmw_lock);
    if (r == 0) {
        memcpy(buf, bounce + (offset - start), len);
    }
    free(bounce);
    return r;
}

int host_file_pwrite(HostFile *hf, uint64_t offset, const void *buf,
                     size_t len, GError **errp)
{
    if (len == 0) {
        return 0;
    }
    if (!hf->direct) {
        return raw_write_full(hf, offset, buf, len, errp);
    }
    if (is_aligned(hf, offset, buf, len)) {
        g_rw_lock_reader_lock(&hf->rmw_lock);
        int r = raw_write_full(hf, offset, buf, len, errp);
        g_rw_lock_reader_unlock(&hf->rmw_lock);
        return r;
    }
    uint64_t start = offset & ~(uint64_t)(hf->align - 1);
    uint64_t end = (offset + len + hf->align - 1) & ~(uint64_t)(hf->align - 1);
    uint8_t *bounce = bounce_alloc(hf, end - start);
    if (!bounce) {
        return fail(errp, ENOMEM, "write", hf);
    }
    /* Read-modify-write of the partial blocks, exclusive of other I/O. */
    g_rw_lock_writer_lock(&hf->rmw_lock);
    int r = 0;
    if (start != offset) {
        r = raw_read_full(hf, start, bounce, hf->align, errp);
    }
    if (r == 0 && (offset + len) != end &&
        (end - hf->align > start || start == offset)) {
        r = raw_read_full(hf, end - hf->align,
                          bounce + (end - hf->align - start), hf->align, errp);
    }
    if (r == 0) {
        memcpy(bounce + (offset - start), buf, len);
        r = raw_write_full(hf, start, bounce, end - start, errp);
    }
    g_rw_lock_writer_unlock(&hf->rmw_lock);
    free(bounce);
    return r;
}

static size_t iov_total(const struct iovec *iov, int niov)
{
    size_t n = 0;
    for (int i = 0; i < niov; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

static bool iov_aligned(const HostFile *hf, const struct iovec *iov, int niov)
{
    for (int i = 0; i < niov; i++) {
        if (!is_aligned(hf, 0, iov[i].iov_base, iov[i].iov_len)) {
            return false;
        }
    }
    return true;
}

int host_file_preadv(HostFile *hf, uint64_t offset, const struct iovec *iov,
                     int niov, GError **errp)
{
    if (niov == 1) {
        return host_file_pread(hf, offset, iov[0].iov_base, iov[0].iov_len,
                               errp);
    }
    size_t total = iov_total(iov, niov);
    if (!hf->direct || (is_aligned(hf, offset, NULL, total) &&
                        iov_aligned(hf, iov, niov))) {
        /* One system call when it covers the whole request. */
        if (niov <= IOV_MAX) {
            ssize_t r;
            do {
                r = preadv(hf->fd, iov, niov, (off_t)offset);
            } while (r < 0 && errno == EINTR);
            if (r == (ssize_t)total) {
                return 0;
            }
        }
    }
    for (int i = 0; i < niov; i++) {
        int r = host_file_pread(hf, offset, iov[i].iov_base, iov[i].iov_len,
                                errp);
        if (r < 0) {
            return r;
        }
        offset += iov[i].iov_len;
    }
    return 0;
}

int host_file_try_preadv(HostFile *hf, uint64_t offset,
                         const struct iovec *iov, int niov)
{
    if (hf->direct || niov < 1 || niov > IOV_MAX) {
        return -EAGAIN;
    }
    ssize_t r = preadv2(hf->fd, iov, niov, (off_t)offset, RWF_NOWAIT);
    return r >= 0 && (size_t)r == iov_total(iov, niov) ? 0 : -EAGAIN;
}

int host_file_pwritev(HostFile *hf, uint64_t offset, const struct iovec *iov,
                      int niov, GError **errp)
{
    if (niov == 1) {
        return host_file_pwrite(hf, offset, iov[0].iov_base, iov[0].iov_len,
                                errp);
    }
    size_t total = iov_total(iov, niov);
    size_t done = 0; /* bytes already written by a vectored write */
    if (niov <= IOV_MAX &&
        (!hf->direct || (is_aligned(hf, offset, NULL, total) &&
                         iov_aligned(hf, iov, niov)))) {
        ssize_t r;
        do {
            r = pwritev(hf->fd, iov, niov, (off_t)offset);
        } while (r < 0 && errno == EINTR);
        if (r == (ssize_t)total) {
            return 0;
        }
        if (r < 0) {
            return fail(errp, errno, "write", hf);
        }
        done = (size_t)r;
    }
    /* Element by element: what vectored I/O could not do, or the rest of a
     * short vectored write. */
    for (int i = 0; i < niov; i++) {
        size_t len = iov[i].iov_len;
        if (done >= len) {
            done -= len;
            offset += len;
            continue;
        }
        int w = host_file_pwrite(hf, offset + done,
                                 (uint8_t *)iov[i].iov_base + done,
                                 len - done, errp);
        if (w < 0) {
            return w;
        }
        offset += len;
        done = 0;
    }
    return 0;
}

int host_file_flush(HostFile *hf, GError **errp)
{
    if (hf->no_flush || !hf->writable) {
        return 0;
    }
    if (fdatasync(hf->fd) < 0) {
        return fail(errp, errno, "flush", hf);
    }
    return 0;
}

int64_t host_file_size(HostFile *hf, GError **errp)
{
    if (hf->is_block_device) {
        uint64_t bytes = 0;
        if (ioctl(hf->fd, BLKGETSIZE64, &bytes) < 0) {
            return fail(errp, errno, "get the size of", hf);
        }
        return (int64_t)bytes;
    }
    struct stat st;
    if (fstat(hf->fd, &st) < 0) {
        return fail(errp, errno, "stat", hf);
    }
    return st.st_size;
}

int64_t host_file_allocated_bytes(HostFile *hf)
{
    struct stat st;
    if (fstat(hf->fd, &st) < 0) {
        return -errno;
    }
    if (hf->is_block_device) {
        return host_file_size(hf, NULL);
    }
    return (int64_t)st.st_blocks * 512;
}

int host_file_truncate(HostFile *hf, uint64_t size, GError **errp)
{
    if (hf->is_block_device) {
        int64_t cur = host_file_size(hf, errp);
        if (cur < 0) {
            return (int)cur;
        }
        if ((uint64_t)cur < size) {
            g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "Cannot grow block device '%s'", hf->filename);
            return -EINVAL;
        }
        return 0;
    }
    if (ftruncate(hf->fd, (off_t)size) < 0) {
        return fail(errp, errno, "resize", hf);
    }
    return 0;
}

int host_file_punch_hole(HostFile *hf, uint64_t offset, uint64_t len)
{
    if (len == 0) {
        return 0;
    }
    if (hf->is_block_device) {
        uint64_t range[2] = { offset, len };
        return ioctl(hf->fd, BLKDISCARD, range) < 0 ? -errno : 0;
    }
    if (fallocate(hf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)offset, (off_t)len) < 0) {
        return -errno;
    }
    return 0;
}

static int write_zero_buffer(HostFile *hf, uint64_t offset, uint64_t len,
                             GError **errp)
{
    const size_t chunk = 1 << 20;
    void *zeros = bounce_alloc(hf, chunk);
    if (!zeros) {
        return fail(errp, ENOMEM, "write", hf);
    }
    memset(zeros, 0, chunk);
    int r = 0;
    while (len > 0 && r == 0) {
        size_t n = len < chunk ? (size_t)len : chunk;
        r = host_file_pwrite(hf, offset, zeros, n, errp);
        offset += n;
        len -= n;
    }
    free(zeros);
    return r;
}

int host_file_write_zeroes(HostFile *hf, uint64_t offset, uint64_t len,
                           bool may_unmap, GError **errp)
{
    if (len == 0) {
        return 0;
    }
    if (hf->is_block_device) {
        uint64_t range[2] = { offset, len };
        if (ioctl(hf->fd, BLKZEROOUT, range) == 0) {
            return 0;
        }
        return write_zero_buffer(hf, offset, len, errp);
    }
    int64_t size = host_file_size(hf, errp);
    if (size < 0) {
        return (int)size;
    }
    if (may_unmap && offset + len <= (uint64_t)size &&
        fallocate(hf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)offset, (off_t)len) == 0) {
        return 0;
    }
    if (fallocate(hf->fd, FALLOC_FL_ZERO_RANGE, (off_t)offset,
                  (off_t)len) == 0) {
        return 0;
    }
    if (offset >= (uint64_t)size) {
        /* Past the end everything reads as zero already: just extend. */
        return host_file_truncate(hf, offset + len, errp);
    }
    return write_zero_buffer(hf, offset, len, errp);
}

int host_file_fallocate(HostFile *hf, uint64_t offset, uint64_t len,
                        GError **errp)
{
    if (len == 0 || hf->is_block_device) {
        return 0;
    }
    int r = posix_fallocate(hf->fd, (off_t)offset, (off_t)len);
    if (r != 0) {
        return fail(errp, r, "preallocate", hf);
    }
    return 0;
}

int host_file_data_status(HostFile *hf, uint64_t offset, uint64_t len,
                          uint64_t *pnum)
{
    *pnum = len;
    if (hf->is_block_device) {
        return 1;
    }
    off_t data = lseek(hf->fd, (off_t)offset, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {
            /* Only a hole remains up to the end of the file. */
            return 0;
        }
        return 1;
    }
    if ((uint64_t)data > offset) {
        *pnum = MIN(len, (uint64_t)data - offset);
        return 0;
    }
    off_t hole = lseek(hf->fd, (off_t)offset, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole <= offset) {
        return 1;
    }
    *pnum = MIN(len, (uint64_t)hole - offset);
    return 1;
}
