/*
 * cmd-rebase.c: "kestrel-img rebase", changing an image's backing file.
 * Safe mode copies into the image every part the old and new backing
 * files disagree on (where the image holds nothing itself), so the guest
 * sees the same data; -u only rewrites the name.
 */
#include "tools/kestrel-img/img.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define CHUNK (1u << 20)

static int read_layer(BlockDriverState *bs, uint64_t off, uint8_t *buf,
                      uint64_t n, GError **errp)
{
    uint64_t have = 0;
    if (bs && off < bdrv_getlength(bs)) {
        have = MIN(n, bdrv_getlength(bs) - off);
        int r = bdrv_pread(bs, off, buf, have, errp);
        if (r < 0) {
            return r;
        }
    }
    memset(buf + have, 0, n - have);
    return 0;
}

static int copy_differences(BlockDriverState *bs, BlockDriverState *old_b,
                            BlockDriverState *new_b, ImgProgress *p,
                            GError **errp)
{
    BlockImageInfo info;
    bdrv_get_info(bs, &info);
    uint64_t unit = info.cluster_size ? info.cluster_size : 65536;
    uint64_t size = bdrv_getlength(bs);
    uint8_t *a = g_malloc(CHUNK), *b = g_malloc(CHUNK);
    uint64_t off = 0;
    int r = 0;
    while (off < size && r == 0) {
        uint64_t n, map;
        int st = bdrv_block_status(bs, off, MIN(CHUNK, size - off), &n, &map,
                                   errp);
        if (st < 0) {
            r = st;
            break;
        }
        if (!(st & BDRV_BLOCK_ALLOCATED)) {
            r = read_layer(old_b, off, a, n, errp);
            if (r == 0) {
                r = read_layer(new_b, off, b, n, errp);
            }
            for (uint64_t pos = 0; r == 0 && pos < n;) {
                uint64_t end = MIN(n, ((off + pos) / unit + 1) * unit - off);
                if (memcmp(a + pos, b + pos, end - pos) != 0) {
                    r = bdrv_pwrite(bs, off + pos, a + pos, end - pos, errp);
                }
                pos = end;
            }
        }
        off += n;
        img_progress_update(p, (double)off, (double)size);
    }
    g_free(a);
    g_free(b);
    return r;
}

static int run(int argc, char **argv)
{
    const char *fmt = NULL, *backing = NULL, *backing_fmt = NULL;
    const char *cache = "writeback";
    bool unsafe = false, progress = false, quiet = false;
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+f:t:T:b:F:upqU", longopts, NULL)) !=
           -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 't': cache = optarg; break;
        case 'b': backing = optarg; break;
        case 'F': backing_fmt = optarg; break;
        case 'u': unsafe = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'T': case 'U': break;
        default:
            return img_usage_error("rebase", "invalid option");
        }
    }
    if (optind != argc - 1) {
        return img_usage_error("rebase", "Expecting one image file name");
    }
    if (!backing) {
        return img_usage_error("rebase", "Must specify backing file (-b)");
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_RDWR | (unsafe ? BDRV_O_NO_BACKING : 0);
    GError *err = NULL;
    if (!bdrv_parse_cache_mode(cache, &flags, &err)) {
        return img_fail(err);
    }
    BlockDriverState *bs = img_open(filename, fmt, flags, &err);
    if (!bs) {
        return img_fail(err);
    }
    bool remove = backing[0] == '\0';
    BlockDriverState *new_b = NULL;
    int r = 0;
    if (!remove && (!unsafe || !backing_fmt)) {
        char *path = bdrv_resolve_backing_path(filename, backing);
        BlockOpenOptions o = { .format = backing_fmt, .flags = 0 };
        new_b = bdrv_open(path, &o, &err);
        g_free(path);
        if (!new_b) {
            img_error("Could not open new backing file '%s': %s", backing,
                      err->message);
            g_error_free(err);
            bdrv_close(bs);
            return 1;
        }
        if (!backing_fmt) {
            backing_fmt = new_b->drv->format_name;
        }
    }
    ImgProgress p = { .enabled = progress && !quiet, .last_shown = -1 };
    if (!unsafe) {
        img_progress_update(&p, 0, 1);
        r = copy_differences(bs, bs->backing, new_b, &p, &err);
    }
    if (r == 0) {
        r = bdrv_change_backing_file(bs, remove ? NULL : backing,
                                     remove ? NULL : backing_fmt, &err);
    }
    if (r == 0) {
        r = bdrv_flush(bs, &err);
    }
    bdrv_close(new_b);
    bdrv_close(bs);
    if (r < 0) {
        return img_fail(err);
    }
    if (!unsafe) {
        img_progress_finish(&p);
    }
    return 0;
}

const ImgCommand img_cmd_rebase = {
    .name = "rebase",
    .run = run,
    .synopsis = "[-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] "
                "-b backing_file [-F backing_fmt] filename",
    .help =
        "Changes the backing file of FILENAME to BACKING_FILE (\"\" removes "
        "it).\n\n"
        "  -b backing_file  the new backing file; a relative name is relative "
        "to\n"
        "                   FILENAME's folder\n"
        "  -F backing_fmt   its format (default: detected)\n"
        "  -u               unsafe: only rewrite the name; the old and new "
        "backing files\n"
        "                   must hold the same data.  Without -u, every "
        "cluster FILENAME\n"
        "                   does not hold itself and where the old and new "
        "backing files\n"
        "                   differ is copied into FILENAME first\n"
        "  -t cache         cache mode (default writeback); -T accepted\n"
        "  -f fmt           image format (default: detected)\n"
        "  -p               show progress; -q quiet\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
