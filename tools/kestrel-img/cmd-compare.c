/*
 * cmd-compare.c: "kestrel-img compare", whether two images show the same
 * guest data, whatever their formats; exit 0 identical, 1 different,
 * 2 error, like qemu-img compare.
 */
#include "tools/kestrel-img/img.h"
#include "tools/kestrel-img/img-zero.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define CHUNK (1u << 20)

static bool is_zero_region(int st)
{
    return st & BDRV_BLOCK_ZERO;
}

static uint64_t first_difference(const uint8_t *a, const uint8_t *b,
                                 uint64_t n)
{
    uint64_t pos = 0;
    while (pos < n) {
        uint64_t len = MIN(512, n - pos);
        if (memcmp(a + pos, b + pos, len) != 0) {
            return pos;
        }
        pos += len;
    }
    return n;
}

/* Is the tail of the longer image all zeroes?  Returns offset or size. */
static int64_t check_tail(BlockDriverState *bs, uint64_t from, uint8_t *buf,
                          GError **errp)
{
    uint64_t size = bdrv_getlength(bs);
    for (uint64_t off = from; off < size;) {
        uint64_t n, map;
        int depth;
        int st = bdrv_block_status_above(bs, NULL, off, MIN(CHUNK, size - off),
                                         &n, &map, &depth, NULL, errp);
        if (st < 0) {
            return st;
        }
        if (!is_zero_region(st)) {
            int r = bdrv_pread(bs, off, buf, n, errp);
            if (r < 0) {
                return r;
            }
            for (uint64_t pos = 0; pos < n; pos += 512) {
                if (!img_is_zero(buf + pos, MIN(512, n - pos))) {
                    return (int64_t)(off + pos);
                }
            }
        }
        off += n;
    }
    return (int64_t)size;
}

static int run(int argc, char **argv)
{
    const char *fmt1 = NULL, *fmt2 = NULL;
    bool strict = false, quiet = false, progress = false;
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+f:F:T:pqsU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 's': strict = true; break;
        case 'q': quiet = true; break;
        case 'p': progress = true; break;
        case 'T': case 'U': break;
        default:
            img_usage_error("compare", "invalid option");
            return 2;
        }
    }
    if (optind != argc - 2) {
        img_usage_error("compare", "Expecting two image file names");
        return 2;
    }
    GError *err = NULL;
    BlockDriverState *a = img_open(argv[optind], fmt1, 0, &err);
    if (!a) {
        img_fail(err);
        return 2;
    }
    BlockDriverState *b = img_open(argv[optind + 1], fmt2, 0, &err);
    if (!b) {
        img_fail(err);
        bdrv_close(a);
        return 2;
    }
    uint64_t sa = bdrv_getlength(a), sb = bdrv_getlength(b);
    uint64_t common = MIN(sa, sb);
    uint8_t *ba = g_malloc(CHUNK), *bb = g_malloc(CHUNK);
    ImgProgress p = { .enabled = progress && !quiet, .last_shown = -1 };
    int ret = 0;
    if (strict && sa != sb) {
        if (!quiet) {
            printf("Strict mode: Image size mismatch!\n");
        }
        ret = 1;
        goto done;
    }
    for (uint64_t off = 0; off < common && ret == 0;) {
        uint64_t na, nb, map;
        int depth;
        uint64_t want = MIN(CHUNK, common - off);
        int st_a = bdrv_block_status_above(a, NULL, off, want, &na, &map,
                                           &depth, NULL, &err);
        int st_b = st_a < 0 ? st_a
                 : bdrv_block_status_above(b, NULL, off, want, &nb, &map,
                                           &depth, NULL, &err);
        if (st_a < 0 || st_b < 0) {
            img_error("Error while reading offset %" PRIu64 ": %s", off,
                      err->message);
            g_clear_error(&err);
            ret = 2;
            break;
        }
        uint64_t n = MIN(na, nb);
        if (strict && (st_a & BDRV_BLOCK_ALLOCATED) !=
                          (st_b & BDRV_BLOCK_ALLOCATED)) {
            if (!quiet) {
                printf("Strict mode: Offset %" PRIu64 " block status "
                       "mismatch!\n", off);
            }
            ret = 1;
            break;
        }
        if (!(is_zero_region(st_a) && is_zero_region(st_b))) {
            if (bdrv_pread(a, off, ba, n, &err) < 0 ||
                bdrv_pread(b, off, bb, n, &err) < 0) {
                img_error("Error while reading offset %" PRIu64 ": %s", off,
                          err->message);
                g_clear_error(&err);
                ret = 2;
                break;
            }
            uint64_t d = first_difference(ba, bb, n);
            if (d < n) {
                if (!quiet) {
                    printf("Content mismatch at offset %" PRIu64 "!\n",
                           off + d);
                }
                ret = 1;
                break;
            }
        }
        off += n;
        img_progress_update(&p, (double)off, (double)MAX(sa, sb));
    }
    if (ret == 0 && sa != sb) {
        if (!quiet) {
            printf("Warning: Image size mismatch!\n");
        }
        int64_t at = check_tail(sa > sb ? a : b, common, ba, &err);
        if (at < 0) {
            img_error("Error while reading: %s", err->message);
            g_clear_error(&err);
            ret = 2;
        } else if ((uint64_t)at < MAX(sa, sb)) {
            if (!quiet) {
                printf("Content mismatch at offset %" PRId64 "!\n", at);
            }
            ret = 1;
        }
    }
    if (ret == 0 && !quiet) {
        img_progress_finish(&p);
        printf("Images are identical.\n");
    }
done:
    g_free(ba);
    g_free(bb);
    bdrv_close(a);
    bdrv_close(b);
    return ret;
}

const ImgCommand img_cmd_compare = {
    .name = "compare",
    .run = run,
    .synopsis = "[-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] "
                "filename1 filename2",
    .help =
        "Compares the guest-visible contents of two images of any formats.\n"
        "Images of different sizes are equal when the extra part reads as "
        "zeroes.\n\n"
        "  -f fmt    format of FILENAME1; -F fmt: of FILENAME2 (default: "
        "detected)\n"
        "  -s        strict: sizes and allocation status must match too\n"
        "  -p        show progress; -q quiet\n"
        "  -T, -U    accepted for compatibility\n\n"
        "Exit status: 0 identical, 1 different, 2 error.\n",
};
