/*
 * cmd-convert.c: "kestrel-img convert", copying one or more images (read
 * one after another) into a new image of any format, as qemu-img
 * convert: zero detection keeps the output sparse (-S), -c writes
 * deflate-compressed qcow2 clusters using all CPUs, -B leaves what the
 * source's top image does not hold to a backing file, -p shows progress.
 */
#include "tools/kestrel-img/img.h"
#include "tools/kestrel-img/convert-compress.h"
#include "tools/kestrel-img/convert-pipe.h"
#include "tools/kestrel-img/img-zero.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_BYTES (2u << 20)

typedef struct Source {
    BlockDriverState *bs;
    uint64_t start;                /* offset of this source in the output */
    uint64_t size;
} Source;

typedef struct Convert {
    Source *src;
    int nsrc;
    uint64_t total;
    BlockDriverState *dst;
    bool zero_init;                /* the target reads as zeroes already */
    bool top_only;                 /* -B: only the sources' top layers */
    uint64_t granule;              /* zero detection unit; 0: none */
    uint32_t cluster_size;         /* of the target; 0 for raw */
    bool compress;
    ImgProgress progress;
} Convert;

enum { REGION_DATA, REGION_ZERO, REGION_SKIP };

/* What the output holds at offset, and for how many bytes. */
static int region_at(Convert *cv, uint64_t offset, uint64_t len,
                     uint64_t *pnum, GError **errp)
{
    Source *s = cv->src;
    while (offset >= s->start + s->size) {
        s++;
    }
    uint64_t in = offset - s->start;
    uint64_t n = MIN(len, s->size - in);
    uint64_t map;
    int r, depth;
    if (cv->top_only) {
        r = bdrv_block_status(s->bs, in, n, pnum, &map, errp);
        if (r >= 0 && !(r & BDRV_BLOCK_ALLOCATED)) {
            return REGION_SKIP;
        }
    } else {
        r = bdrv_block_status_above(s->bs, NULL, in, n, pnum, &map, &depth,
                                    NULL, errp);
    }
    if (r < 0) {
        return r;
    }
    return (r & BDRV_BLOCK_ZERO) ? REGION_ZERO
                                                           : REGION_DATA;
}

static int read_output(Convert *cv, uint64_t offset, uint8_t *buf,
                       uint64_t len, GError **errp)
{
    while (len > 0) {
        if (offset >= cv->total) {
            memset(buf, 0, len);
            return 0;
        }
        Source *s = cv->src;
        while (offset >= s->start + s->size) {
            s++;
        }
        uint64_t n = MIN(len, s->start + s->size - offset);
        int r = bdrv_pread(s->bs, offset - s->start, buf, n, errp);
        if (r < 0) {
            return r;
        }
        offset += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static int write_zeroes(Convert *cv, uint64_t offset, uint64_t len,
                        GError **errp)
{
    if (cv->zero_init || len == 0) {
        return 0;
    }
    return bdrv_write_zeroes(cv->dst, offset, len, true, errp);
}

static void queue_write(PipeSlot *slot, uint64_t offset, uint64_t len,
                        size_t buf_offset, bool zero)
{
    PipeWrite w = { .offset = offset, .length = len,
                    .buf_offset = buf_offset, .zero = zero };
    g_array_append_val(slot->writes, w);
}

/* Queues the writes for data read into the slot, leaving out zero runs. */
static void queue_sparse(Convert *cv, PipeSlot *slot, uint64_t offset,
                         uint64_t len)
{
    const uint8_t *buf = slot->buf;
    if (!cv->granule) {
        queue_write(slot, offset, len, 0, false);
        return;
    }
    uint64_t pos = 0;
    while (pos < len) {
        uint64_t g_end = MIN(len, ((offset + pos) / cv->granule + 1) *
                                      cv->granule - offset);
        bool zero = img_is_zero(buf + pos, g_end - pos);
        uint64_t run_end = g_end;
        while (run_end < len) {
            uint64_t next = MIN(len, run_end + cv->granule);
            if (img_is_zero(buf + run_end, next - run_end) != zero) {
                break;
            }
            run_end = next;
        }
        if (!zero || !cv->zero_init) {
            queue_write(slot, offset + pos, run_end - pos, pos, zero);
        }
        pos = run_end;
    }
}

static void *aligned(size_t len)
{
    void *p = NULL;
    return posix_memalign(&p, 4096, len) == 0 ? p : NULL;
}

/* Reads on this thread, writes on the pipe's thread. */
static int copy_plain(Convert *cv, GError **errp)
{
    ConvertPipe *pipe = convert_pipe_new(cv->dst, 4, CHUNK_BYTES);
    uint64_t off = 0;
    int r = 0;
    while (off < cv->total && r >= 0 && !convert_pipe_failed(pipe)) {
        uint64_t want = MIN(CHUNK_BYTES, cv->total - off);
        uint64_t n = 0;
        int kind = region_at(cv, off, want, &n, errp);
        if (kind < 0) {
            r = kind;
            break;
        }
        PipeSlot *slot = convert_pipe_slot(pipe);
        if (kind == REGION_ZERO && cv->granule) {
            if (!cv->zero_init) {
                queue_write(slot, off, n, 0, true);
            }
        } else if (kind == REGION_DATA || kind == REGION_ZERO) {
            r = read_output(cv, off, slot->buf, n, errp);
            if (r == 0) {
                queue_sparse(cv, slot, off, n);
            }
        }
        convert_pipe_submit(pipe, slot);
        off += n;
        img_progress_update(&cv->progress, (double)off, (double)cv->total);
    }
    GError *werr = NULL;
    int w = convert_pipe_finish(pipe, &werr);
    if (w < 0 && r >= 0) {
        g_propagate_error(errp, werr);
        return w;
    }
    g_clear_error(&werr);
    return r;
}

static int copy_compressed(Convert *cv, GError **errp)
{
    size_t cs = cv->cluster_size;
    size_t batch_clusters = MAX(1, (16u << 20) / cs);
    uint8_t *in = aligned(batch_clusters * cs);
    uint8_t **out = g_new(uint8_t *, batch_clusters);
    size_t *len = g_new(size_t, batch_clusters);
    for (size_t i = 0; i < batch_clusters; i++) {
        out[i] = g_malloc(cs);
    }
    CompressCrew *crew = compress_crew_new((int)g_get_num_processors());
    uint64_t off = 0;
    int r = 0;
    while (off < cv->total && r >= 0) {
        uint64_t want = MIN(batch_clusters * cs, cv->total - off);
        uint64_t n = 0;
        int kind = region_at(cv, off, want, &n, errp);
        if (kind < 0) {
            r = kind;
            break;
        }
        /* Whole clusters only: a partial cluster is compressed as data. */
        uint64_t end = off + n;
        if (end < cv->total && (end % cs)) {
            end = end - (end % cs);
            if (end == off) {
                end = MIN(cv->total, off + cs);
                kind = REGION_DATA;
            }
        }
        n = end - off;
        if (kind == REGION_SKIP) {
            off += n;
            continue;
        }
        if (kind == REGION_ZERO) {
            r = write_zeroes(cv, off, n, errp);
            off += n;
            continue;
        }
        size_t clusters = (n + cs - 1) / cs;
        r = read_output(cv, off, in, clusters * cs, errp);
        if (r < 0) {
            break;
        }
        CompressBatch b = { .in = in, .n = clusters, .cluster_size = cs,
                            .out = out, .len = len };
        compress_crew_run(crew, &b);
        for (size_t i = 0; i < clusters && r >= 0; i++) {
            uint64_t at = off + i * cs;
            uint64_t this_len = MIN(cs, cv->total - at);
            if (len[i] == 0) {
                r = write_zeroes(cv, at, this_len, errp);
            } else if (len[i] == SIZE_MAX || this_len < cs) {
                r = bdrv_pwrite(cv->dst, at, in + i * cs, this_len, errp);
            } else {
                r = bdrv_write_compressed(cv->dst, at, out[i], len[i], errp);
            }
        }
        off += n;
        img_progress_update(&cv->progress, (double)off, (double)cv->total);
    }
    compress_crew_free(crew);
    for (size_t i = 0; i < batch_clusters; i++) {
        g_free(out[i]);
    }
    g_free(out);
    g_free(len);
    free(in);
    return r;
}

static int run(int argc, char **argv)
{
    const char *src_fmt = NULL, *out_fmt = "raw", *cache = "unsafe";
    const char *src_cache = "writeback";
    const char *backing = NULL, *backing_fmt = NULL;
    bool compress = false, progress = false, no_create = false;
    uint64_t sparse = 4096;
    ImgOptions opts;
    img_options_init(&opts);
    Convert cv = { 0 };
    int ret = 1, c;
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { "target-is-zero", no_argument, NULL, 'z' },
        { NULL, 0, NULL, 0 },
    };
    bool target_is_zero = false;
    while ((c = getopt_long(argc, argv, "+f:O:o:B:F:cpqnS:t:T:m:WUC", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'f': src_fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'B': backing = optarg; break;
        case 'F': backing_fmt = optarg; break;
        case 'c': compress = true; break;
        case 'p': progress = true; break;
        case 'q': progress = false; break;
        case 'n': no_create = true; break;
        case 't': cache = optarg; break;
        case 'T': src_cache = optarg; break;
        case 'z': target_is_zero = true; break;
        case 'm': case 'W': case 'U': case 'C': break;
        case 'S':
            if (!img_parse_size(optarg, &sparse) || (sparse && sparse < 512) ||
                sparse % 512) {
                img_error("Invalid buffer size for sparse output specified. "
                          "Valid sizes are multiples of 512 up to %u. Select 0 "
                          "to disable sparse detection (fully allocates "
                          "output).", 2u << 30);
                goto out;
            }
            break;
        case 'o':
            if (!img_options_parse(&opts, optarg)) {
                goto out;
            }
            break;
        default:
            ret = img_usage_error("convert", "invalid option");
            goto out;
        }
    }
    if (argc - optind < 2) {
        ret = img_usage_error("convert", "Expecting source and target "
                              "file names");
        goto out;
    }
    if (!bdrv_find_format(out_fmt)) {
        img_error("Unknown file format '%s'", out_fmt);
        goto out;
    }
    if (img_options_get(&opts, "help")) {
        img_print_create_options_help(out_fmt);
        ret = 0;
        goto out;
    }
    if (compress && strcmp(out_fmt, "qcow2") != 0) {
        img_error("Compression not supported for this file format");
        goto out;
    }
    const char *target = argv[argc - 1];
    int src_flags = 0, dst_flags = BDRV_O_RDWR | BDRV_O_NO_BACKING;
    GError *err = NULL;
    if (!bdrv_parse_cache_mode(src_cache, &src_flags, &err) ||
        !bdrv_parse_cache_mode(cache, &dst_flags, &err)) {
        ret = img_fail(err);
        goto out;
    }
    cv.nsrc = argc - optind - 1;
    cv.src = g_new0(Source, cv.nsrc);
    for (int i = 0; i < cv.nsrc; i++) {
        cv.src[i].bs = img_open(argv[optind + i], src_fmt, src_flags, &err);
        if (!cv.src[i].bs) {
            ret = img_fail(err);
            goto out;
        }
        cv.src[i].start = cv.total;
        cv.src[i].size = bdrv_getlength(cv.src[i].bs);
        cv.total += cv.src[i].size;
    }
    if (!no_create) {
        BlockCreateOptions co = { 0 };
        if (!img_create_options_from(&opts, out_fmt, &co)) {
            goto out;
        }
        co.size = cv.total;
        if (backing) {
            co.backing_file = backing;
            co.backing_format = backing_fmt;
        }
        if (co.backing_file && !co.backing_format) {
            img_error("Backing file specified without backing format (use -F)");
            goto out;
        }
        if (strcmp(out_fmt, "qcow2") == 0 && (cv.total % 512)) {
            co.size = (cv.total + 511) & ~UINT64_C(511);
        }
        if (bdrv_create(out_fmt, target, &co, &err) < 0) {
            img_error("%s: error while converting %s: %s", target, out_fmt,
                      err->message);
            g_error_free(err);
            goto out;
        }
        cv.zero_init = !co.backing_file;
    } else {
        cv.zero_init = target_is_zero;
    }
    cv.dst = img_open(target, no_create ? NULL : out_fmt, dst_flags, &err);
    if (!cv.dst) {
        ret = img_fail(err);
        goto out;
    }
    if (bdrv_getlength(cv.dst) < cv.total) {
        img_error("Target image is too small (%" PRIu64 " bytes) for the "
                  "source (%" PRIu64 " bytes)", bdrv_getlength(cv.dst),
                  cv.total);
        goto out;
    }
    BlockImageInfo dinfo;
    bdrv_get_info(cv.dst, &dinfo);
    cv.cluster_size = dinfo.cluster_size;
    cv.compress = compress;
    cv.top_only = backing != NULL;
    cv.granule = sparse;
    if (cv.granule && cv.cluster_size > cv.granule) {
        /* A cluster is allocated whole anyway: detect zeroes per cluster. */
        cv.granule = cv.cluster_size;
    }
    cv.progress = (ImgProgress){ .enabled = progress, .last_shown = -1 };
    img_progress_update(&cv.progress, 0, (double)cv.total);
    int r = compress ? copy_compressed(&cv, &err) : copy_plain(&cv, &err);
    if (r == 0) {
        r = bdrv_flush(cv.dst, &err);
    }
    if (r < 0) {
        img_error("error while converting: %s", err->message);
        g_error_free(err);
        goto out;
    }
    img_progress_finish(&cv.progress);
    ret = 0;
out:
    if (cv.dst) {
        bdrv_close(cv.dst);
    }
    for (int i = 0; cv.src && i < cv.nsrc; i++) {
        bdrv_close(cv.src[i].bs);
    }
    g_free(cv.src);
    img_options_free(&opts);
    return ret;
}

const ImgCommand img_cmd_convert = {
    .name = "convert",
    .run = run,
    .synopsis = "[-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] "
                "[-O output_fmt] [-B backing_file [-F backing_fmt]] "
                "[-o options] [-S sparse_size] [-U] filename [filename2 "
                "[...]] output_filename",
    .help =
        "Copies the guest-visible contents of FILENAME (several sources are "
        "joined one\nafter another) into a new image OUTPUT_FILENAME.\n\n"
        "  -f fmt           source format (default: detected)\n"
        "  -O output_fmt    output format: raw (default) or qcow2\n"
        "  -o options       creation options of the output, as for create\n"
        "  -c               compress the output's clusters (qcow2 only), "
        "using all CPUs\n"
        "  -S sparse_size   zero runs of at least this size (default 4k) are "
        "not\n"
        "                   written; 0 writes everything\n"
        "  -B backing_file  the output gets this backing file; only data the "
        "source's\n"
        "                   top image holds is copied (-F gives its format)\n"
        "  -n               do not create the output: write into an existing "
        "image\n"
        "  --target-is-zero with -n: the existing output reads as zeroes\n"
        "  -t cache         output cache mode (default unsafe: no flushes)\n"
        "  -T src_cache     source cache mode (default writeback)\n"
        "  -p               show progress; -q quiet\n"
        "  -m, -W, -U, -C   accepted for compatibility; no effect\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
