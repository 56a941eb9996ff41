/*
 * cmd-commit.c: "kestrel-img commit", writing the data an overlay holds
 * into its backing file (or a deeper base with -b), then emptying the
 * overlay unless -d is given.
 */
#include "tools/kestrel-img/img.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHUNK (4u << 20)

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int copy_down(BlockDriverState *top, BlockDriverState *base_in_chain,
                     BlockDriverState *base, ImgProgress *progress,
                     GError **errp)
{
    uint64_t size = bdrv_getlength(top);
    uint8_t *buf = g_malloc(CHUNK);
    uint64_t off = 0;
    int r = 0;
    while (off < size && r == 0) {
        uint64_t n, map;
        int depth;
        int st = bdrv_block_status_above(top, base_in_chain, off,
                                         MIN(CHUNK, size - off), &n, &map,
                                         &depth, NULL, errp);
        if (st < 0) {
            r = st;
            break;
        }
        if (st & BDRV_BLOCK_ALLOCATED) {
            if (st & BDRV_BLOCK_ZERO) {
                r = bdrv_write_zeroes(base, off, n, false, errp);
            } else {
                r = bdrv_pread(top, off, buf, n, errp);
                if (r == 0) {
                    r = bdrv_pwrite(base, off, buf, n, errp);
                }
            }
        }
        off += n;
        img_progress_update(progress, (double)off, (double)size);
    }
    g_free(buf);
    return r;
}

static int run(int argc, char **argv)
{
    const char *fmt = NULL, *base_name = NULL, *cache = "writeback";
    bool drop = false, progress = false, quiet = false;
    int c;
    while ((c = getopt(argc, argv, "+f:t:b:dpqr:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 't': cache = optarg; break;
        case 'b': base_name = optarg; break;
        case 'd': drop = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'r': break;
        default:
            return img_usage_error("commit", "invalid option");
        }
    }
    if (optind != argc - 1) {
        return img_usage_error("commit", "Expecting one image file name");
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_RDWR;
    GError *err = NULL;
    if (!bdrv_parse_cache_mode(cache, &flags, &err)) {
        return img_fail(err);
    }
    BlockDriverState *top = img_open(filename, fmt, flags, &err);
    if (!top) {
        return img_fail(err);
    }
    if (!top->backing) {
        img_error("Image does not have a backing file");
        bdrv_close(top);
        return 1;
    }
    BlockDriverState *base_in_chain = top->backing;
    if (base_name) {
        base_in_chain = NULL;
        for (BlockDriverState *l = top->backing; l; l = l->backing) {
            if (same_file(l->filename, base_name)) {
                base_in_chain = l;
                break;
            }
        }
        if (!base_in_chain) {
            img_error("Did not find '%s' in the backing chain of '%s'",
                      base_name, filename);
            bdrv_close(top);
            return 1;
        }
    }
    /* The base is opened a second time, writable. */
    BlockDriverState *base = img_open(base_in_chain->filename,
                                      base_in_chain->drv->format_name,
                                      flags, &err);
    if (!base) {
        bdrv_close(top);
        return img_fail(err);
    }
    ImgProgress p = { .enabled = progress && !quiet, .last_shown = -1 };
    img_progress_update(&p, 0, 1);
    int r = 0;
    if (bdrv_getlength(base) < bdrv_getlength(top)) {
        r = bdrv_truncate(base, bdrv_getlength(top), false, BDRV_PREALLOC_OFF,
                          &err);
    }
    if (r == 0) {
        r = copy_down(top, base_in_chain, base, &p, &err);
    }
    if (r == 0) {
        r = bdrv_flush(base, &err);
    }
    bdrv_close(base);
    if (r == 0 && !drop) {
        r = bdrv_make_empty(top, &err);
    }
    if (r == 0) {
        r = bdrv_flush(top, &err);
    }
    bdrv_close(top);
    if (r < 0) {
        return img_fail(err);
    }
    img_progress_finish(&p);
    if (!quiet) {
        printf("Image committed.\n");
    }
    return 0;
}

const ImgCommand img_cmd_commit = {
    .name = "commit",
    .run = run,
    .synopsis = "[-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename",
    .help =
        "Writes everything FILENAME holds itself into its backing file, so "
        "that the\nbacking file shows what FILENAME showed; then empties "
        "FILENAME.\n\n"
        "  -b base    commit into this image further down the backing chain "
        "(data of\n"
        "             the images in between is committed too)\n"
        "  -d         do not empty FILENAME afterwards\n"
        "  -t cache   cache mode (default writeback)\n"
        "  -f fmt     image format (default: detected)\n"
        "  -p         show progress; -q quiet\n"
        "  -r         accepted for compatibility; no effect\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
