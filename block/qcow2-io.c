/*
 * qcow2-io.c: guest requests on a qcow2 image (qcow2 specification:
 * "Cluster mapping", "Standard Cluster Descriptor").  Reads walk L2
 * tables and merge runs of contiguous host clusters into single reads;
 * writes go in place to clusters the image owns alone and otherwise to
 * freshly allocated clusters, copying the untouched head and tail of the
 * old content (copy-on-write), then repoint the L2 entries.
 */
#include "block/qcow2.h"

#include <errno.h>
#include <string.h>

/* Upper bound on clusters handled by one allocation. */
#define MAX_ALLOC_RUN 512

static uint64_t bytes_left_in_table(const Qcow2State *s, uint64_t offset)
{
    uint64_t span = s->l2_entries << s->cluster_bits;
    return span - (offset & (span - 1));
}

/* Guest data below the image's own clusters: backing file or zeroes. */
static int read_unallocated(Qcow2State *s, uint64_t offset, uint8_t *buf,
                            uint64_t len, GError **errp)
{
    BlockDriverState *backing = s->bs->backing;
    uint64_t from_backing = 0;
    if (backing && offset < backing->total_size) {
        from_backing = MIN(len, backing->total_size - offset);
        int r = bdrv_pread(backing, offset, buf, from_backing, errp);
        if (r < 0) {
            return r;
        }
    }
    memset(buf + from_backing, 0, len - from_backing);
    return 0;
}

static int normal_host_offset(Qcow2State *s, uint64_t entry, uint64_t *host,
                              GError **errp)
{
    uint64_t off = entry & QCOW2_L2E_OFFSET_MASK;
    if (off & (s->cluster_size - 1)) {
        return qcow2_corrupt(s, errp, "data cluster offset 0x%" PRIx64
                             " is not aligned to a cluster", off);
    }
    if (off >= s->file_end || off < s->cluster_size) {
        return qcow2_corrupt(s, errp, "data cluster offset 0x%" PRIx64
                             " is outside the image file", off);
    }
    *host = off;
    return 0;
}

/* Reads part of one guest cluster whose L2 entry is `entry`. */
static int read_cluster_part(Qcow2State *s, uint64_t entry,
                             uint64_t guest_cluster, uint64_t in_off,
                             uint8_t *buf, uint64_t len, GError **errp)
{
    uint64_t host;
    int r;
    switch (qcow2_l2_entry_kind(s, entry)) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return read_unallocated(s, guest_cluster + in_off, buf, len, errp);
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        memset(buf, 0, len);
        return 0;
    case QCOW2_CLUSTER_COMPRESSED:
        r = qcow2_read_compressed(s, entry, s->cluster_buf, errp);
        if (r == 0) {
            memcpy(buf, s->cluster_buf + in_off, len);
        }
        return r;
    case QCOW2_CLUSTER_NORMAL:
    default:
        r = normal_host_offset(s, entry, &host, errp);
        if (r < 0) {
            return r;
        }
        return host_file_pread(&s->file, host + in_off, buf, len, errp);
    }
}

static int short_vector(Qcow2State *s, GError **errp)
{
    g_set_error(errp, BLOCK_ERROR, EINVAL, "request on '%s': the buffers "
                "are shorter than the request", s->bs->filename);
    return -EINVAL;
}

/* Reads len bytes at a host offset into the cursor's next buffers: one
 * vectored read per QCOW2_IOV_SCRATCH buffers. */
static int read_host_run(Qcow2State *s, uint64_t host, IovCursor *c,
                         uint64_t len, GError **errp)
{
    while (len > 0) {
        uint64_t got;
        int n = iov_cursor_take(c, s->iov_scratch, QCOW2_IOV_SCRATCH, len,
                                &got);
        if (got == 0) {
            return short_vector(s, errp);
        }
        int r = host_file_preadv(&s->file, host, s->iov_scratch, n, errp);
        if (r < 0) {
            return r;
        }
        host += got;
        len -= got;
    }
    return 0;
}

/* Copies len bytes from src into the cursor's next buffers. */
static int copy_to_cursor(Qcow2State *s, IovCursor *c, const uint8_t *src,
                          uint64_t len, GError **errp)
{
    while (len > 0) {
        struct iovec piece;
        uint64_t got;
        iov_cursor_take(c, &piece, 1, len, &got);
        if (got == 0) {
            return short_vector(s, errp);
        }
        memcpy(piece.iov_base, src, got);
        src += got;
        len -= got;
    }
    return 0;
}

/* A run of entries of one kind that reads without a host run (zeroes,
 * backing file, compressed), buffer by buffer. */
static int read_parts(Qcow2State *s, uint64_t entry, uint64_t guest_cluster,
                      uint64_t in_off, IovCursor *c, uint64_t len,
                      GError **errp)
{
    if (qcow2_l2_entry_kind(s, entry) == QCOW2_CLUSTER_COMPRESSED) {
        int r = qcow2_read_compressed(s, entry, s->cluster_buf, errp);
        return r < 0 ? r : copy_to_cursor(s, c, s->cluster_buf + in_off, len,
                                          errp);
    }
    while (len > 0) {
        struct iovec piece;
        uint64_t got;
        iov_cursor_take(c, &piece, 1, len, &got);
        if (got == 0) {
            return short_vector(s, errp);
        }
        int r = read_cluster_part(s, entry, guest_cluster, in_off,
                                  piece.iov_base, got, errp);
        if (r < 0) {
            return r;
        }
        in_off += got;
        len -= got;
    }
    return 0;
}

static int read_vec(Qcow2State *s, uint64_t offset, IovCursor *c,
                    uint64_t len, GError **errp)
{
    while (len > 0) {
        uint64_t *l2;
        uint64_t idx;
        int r = qcow2_l2_lookup(s, offset, &l2, &idx, errp);
        if (r < 0) {
            return r;
        }
        uint64_t chunk = MIN(len, bytes_left_in_table(s, offset));
        if (!l2) {
            r = read_parts(s, 0, offset, 0, c, chunk, errp);
            if (r < 0) {
                return r;
            }
            offset += chunk;
            len -= chunk;
            continue;
        }
        while (chunk > 0 && r == 0) {
            uint64_t in_off = offset & (s->cluster_size - 1);
            uint64_t entry = qcow2_l2_get(l2, idx);
            Qcow2ClusterKind kind = qcow2_l2_entry_kind(s, entry);
            uint64_t run = MIN(chunk, s->cluster_size - in_off);
            uint64_t n = 1;
            if (kind != QCOW2_CLUSTER_COMPRESSED) {
                /* Extend over following entries that read the same way. */
                uint64_t host0 = entry & QCOW2_L2E_OFFSET_MASK;
                while (run < chunk) {
                    uint64_t next = qcow2_l2_get(l2, idx + n);
                    Qcow2ClusterKind nk = qcow2_l2_entry_kind(s, next);
                    bool same = kind == QCOW2_CLUSTER_NORMAL
                        ? (nk == kind && (next & QCOW2_L2E_OFFSET_MASK) ==
                                             host0 + (n << s->cluster_bits))
                        : (nk == kind ||
                           (kind != QCOW2_CLUSTER_UNALLOCATED &&
                            nk != QCOW2_CLUSTER_UNALLOCATED &&
                            nk != QCOW2_CLUSTER_NORMAL &&
                            nk != QCOW2_CLUSTER_COMPRESSED));
                    if (!same) {
                        break;
                    }
                    run = MIN(chunk, run + s->cluster_size);
                    n++;
                }
            }
            if (kind == QCOW2_CLUSTER_NORMAL) {
                uint64_t host;
                r = normal_host_offset(s, entry, &host, errp);
                if (r == 0 && host + in_off + run >
                                  s->file_end + s->cluster_size) {
                    r = qcow2_corrupt(s, errp, "data clusters at 0x%"
                                      PRIx64 " extend past the end of "
                                      "the image file", host);
                }
                if (r == 0) {
                    r = read_host_run(s, host + in_off, c, run, errp);
                }
            } else {
                r = read_parts(s, entry, offset - in_off, in_off, c, run,
                               errp);
            }
            offset += run;
            len -= run;
            chunk -= run;
            idx += n;
        }
        qcow2_cache_put(s->l2_cache, l2);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

int qcow2_preadv(BlockDriverState *bs, uint64_t offset,
                 const struct iovec *iov, int niov, GError **errp)
{
    Qcow2State *s = bs->opaque;
    IovCursor c;
    uint64_t len = 0;
    for (int i = 0; i < niov; i++) {
        len += iov[i].iov_len;
    }
    iov_cursor_init(&c, iov, niov);
    return read_vec(s, offset, &c, len, errp);
}

/* ---- reads that must not wait (qcow2_try_preadv) ---- */

static int try_host_run(Qcow2State *s, uint64_t host, IovCursor *c,
                        uint64_t len)
{
    while (len > 0) {
        uint64_t got;
        int n = iov_cursor_take(c, s->iov_scratch, QCOW2_IOV_SCRATCH, len,
                                &got);
        if (got == 0 || host_file_try_preadv(&s->file, host, s->iov_scratch,
                                             n) < 0) {
            return -EAGAIN;
        }
        host += got;
        len -= got;
    }
    return 0;
}

/* Zeroes for entries that read as such without the backing file. */
static int try_zeroes(Qcow2State *s, Qcow2ClusterKind kind, uint64_t guest,
                      IovCursor *c, uint64_t len)
{
    BlockDriverState *backing = s->bs->backing;
    if (kind != QCOW2_CLUSTER_ZERO_PLAIN && kind != QCOW2_CLUSTER_ZERO_ALLOC &&
        (kind != QCOW2_CLUSTER_UNALLOCATED ||
         (backing && guest < backing->total_size))) {
        return -EAGAIN;
    }
    while (len > 0) {
        struct iovec piece;
        uint64_t got;
        iov_cursor_take(c, &piece, 1, len, &got);
        if (got == 0) {
            return -EAGAIN;
        }
        memset(piece.iov_base, 0, got);
        len -= got;
    }
    return 0;
}

/* One L2 table's part of the request, from the cached table l2. */
static int try_read_in_table(Qcow2State *s, uint64_t *l2, uint64_t idx,
                             uint64_t offset, IovCursor *c, uint64_t chunk)
{
    uint64_t cs = s->cluster_size;
    while (chunk > 0) {
        uint64_t in_off = offset & (cs - 1);
        uint64_t entry = qcow2_l2_get(l2, idx);
        Qcow2ClusterKind kind = qcow2_l2_entry_kind(s, entry);
        uint64_t run = MIN(chunk, cs - in_off), n = 1;
        int r;
        if (kind == QCOW2_CLUSTER_NORMAL) {
            uint64_t host = entry & QCOW2_L2E_OFFSET_MASK;
            while (run < chunk) {
                uint64_t next = qcow2_l2_get(l2, idx + n);
                if (qcow2_l2_entry_kind(s, next) != QCOW2_CLUSTER_NORMAL ||
                    (next & QCOW2_L2E_OFFSET_MASK) != host + n * cs) {
                    break;
                }
                run = MIN(chunk, run + cs);
                n++;
            }
            /* what normal_host_offset and read_vec would call corrupt */
            if ((host & (cs - 1)) || host < cs || host >= s->file_end ||
                host + in_off + run > s->file_end + cs) {
                return -EAGAIN;
            }
            r = try_host_run(s, host + in_off, c, run);
        } else {
            r = try_zeroes(s, kind, offset, c, run);
        }
        if (r < 0) {
            return r;
        }
        offset += run;
        chunk -= run;
        idx += n;
    }
    return 0;
}

int qcow2_try_preadv(BlockDriverState *bs, uint64_t offset,
                     const struct iovec *iov, int niov)
{
    Qcow2State *s = bs->opaque;
    IovCursor c;
    uint64_t len = 0;
    for (int i = 0; i < niov; i++) {
        len += iov[i].iov_len;
    }
    iov_cursor_init(&c, iov, niov);
    while (len > 0) {
        uint64_t *l2;
        uint64_t idx;
        if (qcow2_l2_lookup_cached(s, offset, &l2, &idx) < 0) {
            return -EAGAIN;
        }
        uint64_t chunk = MIN(len, bytes_left_in_table(s, offset));
        int r;
        if (l2) {
            r = try_read_in_table(s, l2, idx, offset, &c, chunk);
            qcow2_cache_put(s->l2_cache, l2);
        } else {
            r = try_zeroes(s, QCOW2_CLUSTER_UNALLOCATED, offset, &c, chunk);
        }
        if (r < 0) {
            return r;
        }
        offset += chunk;
        len -= chunk;
    }
    return 0;
}

static int prepare_write(Qcow2State *s, GError **errp)
{
    int r = qcow2_mark_dirty(s, errp);
    if (r == 0 && !s->metadata_clusters) {
        r = qcow2_overlap_build(s, errp);
    }
    return r;
}

/* The host clusters an entry held, to release once it is replaced. */
void qcow2_release_entry(Qcow2State *s, uint64_t entry)
{
    uint64_t off, len;
    switch (qcow2_l2_entry_kind(s, entry)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        qcow2_free_later(s, entry & QCOW2_L2E_OFFSET_MASK, s->cluster_size);
        break;
    case QCOW2_CLUSTER_COMPRESSED:
        qcow2_compressed_extent(s, entry, &off, &len);
        qcow2_free_later(s, off & ~UINT64_C(511), (len + (off & 511) + 511) &
                                                   ~UINT64_C(511));
        break;
    default:
        break;
    }
}

static bool writable_in_place(const Qcow2State *s, uint64_t entry)
{
    return qcow2_l2_entry_kind(s, entry) == QCOW2_CLUSTER_NORMAL &&
           (entry & QCOW2_OFLAG_COPIED);
}

static int maybe_apply_frees(Qcow2State *s, GError **errp)
{
    if (s->pending_frees->len < 4096) {
        return 0;
    }
    return qcow2_apply_pending_frees(s, errp);
}

/* Writes head, then len bytes from the cursor, then tail, contiguously
 * at a host offset: one vectored write per QCOW2_IOV_SCRATCH buffers. */
static int write_host_run(Qcow2State *s, uint64_t host, uint8_t *head,
                          size_t head_len, IovCursor *c, uint64_t len,
                          uint8_t *tail, size_t tail_len, GError **errp)
{
    struct iovec *v = s->iov_scratch;
    for (;;) {
        int n = 0;
        uint64_t bytes = 0, got;
        if (head_len) {
            v[n++] = (struct iovec){ head, head_len };
            bytes += head_len;
            head_len = 0;
        }
        n += iov_cursor_take(c, v + n, QCOW2_IOV_SCRATCH - 1 - n, len, &got);
        if (got == 0 && len > 0) {
            return short_vector(s, errp);
        }
        len -= got;
        bytes += got;
        if (len == 0 && tail_len) {
            v[n++] = (struct iovec){ tail, tail_len };
        }
        int r = host_file_pwritev(&s->file, host, v, n, errp);
        if (r < 0 || len == 0) {
            return r;
        }
        host += bytes;
    }
}

/* Writes into one L2 table's range from the cursor; returns the bytes
 * consumed. */
static int64_t write_in_table(Qcow2State *s, uint64_t *l2, uint64_t idx,
                              uint64_t offset, IovCursor *c,
                              uint64_t len, GError **errp)
{
    uint64_t cs = s->cluster_size;
    uint64_t in_off = offset & (cs - 1);
    uint64_t entry = qcow2_l2_get(l2, idx);
    uint64_t room = MIN(len, (s->l2_entries - idx) * cs - in_off);
    int r;

    if (writable_in_place(s, entry)) {
        uint64_t host;
        r = normal_host_offset(s, entry, &host, errp);
        if (r < 0) {
            return r;
        }
        uint64_t run = MIN(room, cs - in_off), n = 1;
        while (run < room) {
            uint64_t next = qcow2_l2_get(l2, idx + n);
            if (!writable_in_place(s, next) ||
                (next & QCOW2_L2E_OFFSET_MASK) != host + (n << s->cluster_bits)) {
                break;
            }
            run = MIN(room, run + cs);
            n++;
        }
        r = qcow2_overlap_check(s, host + in_off, run, errp);
        if (r == 0) {
            r = write_host_run(s, host + in_off, NULL, 0, c, run, NULL, 0,
                               errp);
        }
        return r < 0 ? r : (int64_t)run;
    }

    /* A run of clusters that all need new host clusters. */
    uint64_t run = MIN(room, cs - in_off), n = 1;
    while (run < room && n < MAX_ALLOC_RUN &&
           !writable_in_place(s, qcow2_l2_get(l2, idx + n))) {
        run = MIN(room, run + cs);
        n++;
    }
    int64_t host = qcow2_alloc_clusters(s, n, errp);
    if (host < 0) {
        return host;
    }
    r = qcow2_overlap_check(s, (uint64_t)host, n * cs, errp);
    if (r < 0) {
        return r;
    }
    uint64_t guest_first = offset - in_off;
    uint64_t tail_start = (in_off + run) & (cs - 1);
    if (in_off) {
        r = read_cluster_part(s, entry, guest_first, 0, s->cow_head, in_off,
                              errp);
        if (r < 0) {
            return r;
        }
    }
    if (tail_start) {
        uint64_t last = n - 1;
        r = read_cluster_part(s, qcow2_l2_get(l2, idx + last),
                              guest_first + (last << s->cluster_bits),
                              tail_start, s->cow_tail, cs - tail_start, errp);
        if (r < 0) {
            return r;
        }
    }
    r = write_host_run(s, (uint64_t)host, s->cow_head, in_off, c, run,
                       s->cow_tail, tail_start ? cs - tail_start : 0, errp);
    if (r < 0) {
        return r;
    }
    /* The data must be stable before an L2 table points to it. */
    qcow2_cache_depends_on_flush(s->l2_cache);
    for (uint64_t j = 0; j < n; j++) {
        uint64_t old = qcow2_l2_get(l2, idx + j);
        qcow2_l2_set(l2, idx + j,
                     ((uint64_t)host + (j << s->cluster_bits)) |
                         QCOW2_OFLAG_COPIED);
        qcow2_release_entry(s, old);
    }
    qcow2_cache_mark_dirty(s->l2_cache, l2);
    return (int64_t)run;
}

static int write_vec(Qcow2State *s, uint64_t offset, IovCursor *c,
                     uint64_t len, GError **errp)
{
    while (len > 0) {
        uint64_t *l2;
        uint64_t idx;
        int r = qcow2_l2_for_write(s, offset, &l2, &idx, errp);
        if (r < 0) {
            return r;
        }
        int64_t done = write_in_table(s, l2, idx, offset, c, len, errp);
        qcow2_cache_put(s->l2_cache, l2);
        if (done < 0) {
            return (int)done;
        }
        offset += (uint64_t)done;
        len -= (uint64_t)done;
    }
    return maybe_apply_frees(s, errp);
}

static int write_linear(Qcow2State *s, uint64_t offset, const uint8_t *buf,
                        uint64_t len, GError **errp)
{
    struct iovec v = { (void *)buf, len };
    IovCursor c;
    iov_cursor_init(&c, &v, 1);
    return write_vec(s, offset, &c, len, errp);
}

int qcow2_pwritev(BlockDriverState *bs, uint64_t offset,
                  const struct iovec *iov, int niov, GError **errp)
{
    Qcow2State *s = bs->opaque;
    int r = prepare_write(s, errp);
    if (r < 0) {
        return r;
    }
    IovCursor c;
    uint64_t len = 0;
    for (int i = 0; i < niov; i++) {
        len += iov[i].iov_len;
    }
    iov_cursor_init(&c, iov, niov);
    return write_vec(s, offset, &c, len, errp);
}

/* Does guest cluster data currently read as zeroes without any work? */
static bool reads_as_zero(Qcow2State *s, uint64_t entry, uint64_t guest)
{
    Qcow2ClusterKind k = qcow2_l2_entry_kind(s, entry);
    if (k == QCOW2_CLUSTER_ZERO_PLAIN || k == QCOW2_CLUSTER_ZERO_ALLOC) {
        return true;
    }
    return k == QCOW2_CLUSTER_UNALLOCATED &&
           (!s->bs->backing || guest >= s->bs->backing->total_size);
}

int qcow2_unmap_clusters(Qcow2State *s, uint64_t first, uint64_t n, bool full,
                         GError **errp)
{
    bool has_backing = s->bs->backing_file != NULL;
    if (!full && has_backing && s->h.version < 3) {
        /* v2 has no zero flag: the old data has to stay visible. */
        return 0;
    }
    while (n > 0) {
        uint64_t guest = first << s->cluster_bits;
        uint64_t *l2;
        uint64_t idx;
        int r = qcow2_l2_lookup(s, guest, &l2, &idx, errp);
        if (r < 0) {
            return r;
        }
        uint64_t count = MIN(n, s->l2_entries - idx);
        if (!l2) {
            if (full || !has_backing) {
                first += count;
                n -= count;
                continue;
            }
        }
        if (l2) {
            qcow2_cache_put(s->l2_cache, l2);
        }
        r = qcow2_l2_for_write(s, guest, &l2, &idx, errp);
        if (r < 0) {
            return r;
        }
        for (uint64_t j = 0; j < count; j++) {
            uint64_t old = qcow2_l2_get(l2, idx + j);
            uint64_t new_entry = (full || !has_backing) ? 0 : QCOW2_OFLAG_ZERO;
            if (old == new_entry) {
                continue;
            }
            qcow2_l2_set(l2, idx + j, new_entry);
            qcow2_release_entry(s, old);
            qcow2_cache_mark_dirty(s->l2_cache, l2);
        }
        qcow2_cache_put(s->l2_cache, l2);
        first += count;
        n -= count;
    }
    return 0;
}

int qcow2_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                  GError **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    uint64_t start = (offset + cs - 1) & ~(cs - 1);
    uint64_t end = offset + bytes;
    if (end != bs->total_size) {
        end &= ~(cs - 1);
    }
    if (end <= start) {
        return 0;
    }
    int r = prepare_write(s, errp);
    if (r == 0) {
        r = qcow2_unmap_clusters(s, start >> s->cluster_bits,
                                 (end - start + cs - 1) >> s->cluster_bits,
                                 false, errp);
    }
    if (r == 0) {
        r = maybe_apply_frees(s, errp);
    }
    return r;
}

static int write_zero_bytes(Qcow2State *s, uint64_t offset, uint64_t len,
                            GError **errp)
{
    /* Only part of a cluster: skip it if it is zero already. */
    uint64_t *l2;
    uint64_t idx;
    int r = qcow2_l2_lookup(s, offset, &l2, &idx, errp);
    if (r < 0) {
        return r;
    }
    uint64_t entry = l2 ? qcow2_l2_get(l2, idx) : 0;
    if (l2) {
        qcow2_cache_put(s->l2_cache, l2);
    }
    if (reads_as_zero(s, entry, offset & ~(s->cluster_size - 1))) {
        return 0;
    }
    uint8_t *zeros = g_malloc0(len);
    r = write_linear(s, offset, zeros, len, errp);
    g_free(zeros);
    return r;
}

int qcow2_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       bool may_unmap, GError **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    int r = prepare_write(s, errp);
    if (r < 0) {
        return r;
    }
    uint64_t end = offset + bytes;
    uint64_t head_end = MIN(end, (offset + cs - 1) & ~(cs - 1));
    if (offset & (cs - 1)) {
        r = write_zero_bytes(s, offset, head_end - offset, errp);
        if (r < 0) {
            return r;
        }
        offset = head_end;
    }
    uint64_t body_end = end == bs->total_size ? end : (end & ~(cs - 1));
    if (body_end < offset) {
        body_end = offset;
    }
    while (offset < body_end) {
        uint64_t *l2;
        uint64_t idx;
        r = qcow2_l2_lookup(s, offset, &l2, &idx, errp);
        if (r < 0) {
            return r;
        }
        uint64_t count = MIN((body_end - offset + cs - 1) >> s->cluster_bits,
                             s->l2_entries - idx);
        bool all_zero = true;
        for (uint64_t j = 0; j < count && all_zero; j++) {
            uint64_t e = l2 ? qcow2_l2_get(l2, idx + j) : 0;
            all_zero = reads_as_zero(s, e, offset + (j << s->cluster_bits));
        }
        if (l2) {
            qcow2_cache_put(s->l2_cache, l2);
        }
        uint64_t span = MIN(body_end - offset, count << s->cluster_bits);
        if (!all_zero) {
            if (s->h.version >= 3) {
                r = qcow2_l2_for_write(s, offset, &l2, &idx, errp);
                if (r < 0) {
                    return r;
                }
                for (uint64_t j = 0; j < count; j++) {
                    uint64_t old = qcow2_l2_get(l2, idx + j);
                    uint64_t nz;
                    if (!may_unmap && writable_in_place(s, old)) {
                        nz = old | QCOW2_OFLAG_ZERO;
                    } else {
                        nz = QCOW2_OFLAG_ZERO;
                        qcow2_release_entry(s, old);
                    }
                    qcow2_l2_set(l2, idx + j, nz);
                }
                qcow2_cache_mark_dirty(s->l2_cache, l2);
                qcow2_cache_put(s->l2_cache, l2);
            } else if (!bs->backing_file) {
                r = qcow2_unmap_clusters(s, offset >> s->cluster_bits, count,
                                         true, errp);
            } else {
                /* v2 over a backing file: real zeroes must be stored. */
                uint64_t done = 0;
                uint8_t *zeros = g_malloc0(MIN(span, 1 << 20));
                while (r == 0 && done < span) {
                    uint64_t n = MIN(span - done, 1 << 20);
                    r = write_linear(s, offset + done, zeros, n, errp);
                    done += n;
                }
                g_free(zeros);
            }
            if (r < 0) {
                return r;
            }
        }
        offset += span;
    }
    if (offset < end) {
        r = write_zero_bytes(s, offset, end - offset, errp);
    }
    if (r == 0) {
        r = maybe_apply_frees(s, errp);
    }
    return r;
}

int qcow2_make_empty(BlockDriverState *bs, GError **errp)
{
    Qcow2State *s = bs->opaque;
    int r = prepare_write(s, errp);
    if (r == 0) {
        r = qcow2_unmap_clusters(s, 0, (bs->total_size + s->cluster_size - 1) >>
                                           s->cluster_bits, true, errp);
    }
    if (r == 0) {
        r = qcow2_flush_metadata(s, errp);
    }
    return r;
}

int qcow2_block_status(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       uint64_t *pnum, uint64_t *map, GError **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2;
    uint64_t idx;
    int r = qcow2_l2_lookup(s, offset, &l2, &idx, errp);
    if (r < 0) {
        return r;
    }
    uint64_t chunk = MIN(bytes, bytes_left_in_table(s, offset));
    if (!l2) {
        *pnum = chunk;
        return 0;
    }
    uint64_t in_off = offset & (s->cluster_size - 1);
    uint64_t entry = qcow2_l2_get(l2, idx);
    Qcow2ClusterKind kind = qcow2_l2_entry_kind(s, entry);
    uint64_t host0 = entry & QCOW2_L2E_OFFSET_MASK;
    uint64_t run = MIN(chunk, s->cluster_size - in_off), n = 1;
    while (run < chunk) {
        uint64_t next = qcow2_l2_get(l2, idx + n);
        Qcow2ClusterKind nk = qcow2_l2_entry_kind(s, next);
        bool mapped = kind == QCOW2_CLUSTER_NORMAL ||
                      kind == QCOW2_CLUSTER_ZERO_ALLOC;
        bool same = nk == kind &&
                    (!mapped || (next & QCOW2_L2E_OFFSET_MASK) ==
                                    host0 + (n << s->cluster_bits));
        if (!same) {
            break;
        }
        run = MIN(chunk, run + s->cluster_size);
        n++;
    }
    qcow2_cache_put(s->l2_cache, l2);
    *pnum = run;
    if (kind == QCOW2_CLUSTER_NORMAL || kind == QCOW2_CLUSTER_ZERO_ALLOC) {
        uint64_t host;
        r = normal_host_offset(s, entry, &host, errp);
        if (r < 0) {
            return r;
        }
    }
    switch (kind) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return 0;
    case QCOW2_CLUSTER_ZERO_PLAIN:
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED;
    case QCOW2_CLUSTER_ZERO_ALLOC:
        *map = host0 + in_off;
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
    case QCOW2_CLUSTER_COMPRESSED:
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_COMPRESSED;
    case QCOW2_CLUSTER_NORMAL:
    default: {
        /* Preallocated clusters may still be holes in the file. */
        uint64_t same = run;
        int data = s->sparse_file
                   ? host_file_data_status(&s->file, host0 + in_off, run, &same)
                   : 1;
        *pnum = MIN(run, same);
        *map = host0 + in_off;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
               BDRV_BLOCK_OFFSET_VALID | (data ? 0 : BDRV_BLOCK_ZERO);
    }
    }
}
