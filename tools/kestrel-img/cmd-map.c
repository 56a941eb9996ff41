/*
 * cmd-map.c: "kestrel-img map", where each part of the virtual disk
 * comes from: which image of the backing chain, whether it is data or
 * zeroes, and its offset in the host file; human or JSON like qemu-img.
 */
#include "tools/kestrel-img/img.h"

#include <getopt.h>
#include <stdio.h>

typedef struct MapEntry {
    uint64_t start, length;
    int depth;
    bool present, zero, data, has_offset;
    uint64_t offset;
    const char *file;
} MapEntry;

static bool can_merge(const MapEntry *a, const MapEntry *b)
{
    if (a->depth != b->depth || a->present != b->present ||
        a->zero != b->zero || a->data != b->data ||
        a->has_offset != b->has_offset || a->file != b->file) {
        return false;
    }
    return !a->has_offset || a->offset + a->length == b->offset;
}

static int print_entry(const MapEntry *e, bool json, bool first)
{
    if (json) {
        printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", "
               "\"depth\": %d, \"present\": %s, \"zero\": %s, \"data\": %s",
               first ? "" : ",\n", e->start, e->length, e->depth,
               e->present ? "true" : "false", e->zero ? "true" : "false",
               e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRIu64, e->offset);
        }
        printf("}");
        return 0;
    }
    if (e->data && !e->has_offset) {
        img_error("File contains external, encrypted or compressed clusters.");
        return -1;
    }
    if (e->data) {
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start,
               e->length, e->offset, e->file ? e->file : "");
    }
    return 0;
}

static int run(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false;
    uint64_t start = 0, max_len = UINT64_MAX;
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "start-offset", required_argument, NULL, 's' },
        { "max-length", required_argument, NULL, 'l' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+f:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case 'o':
            if (!img_parse_output_format(optarg, &json)) {
                return 1;
            }
            break;
        case 's':
            if (!img_parse_size(optarg, &start)) {
                img_error("Invalid start offset specified");
                return 1;
            }
            break;
        case 'l':
            if (!img_parse_size(optarg, &max_len)) {
                img_error("Invalid length specified");
                return 1;
            }
            break;
        default:
            return img_usage_error("map", "invalid option");
        }
    }
    if (optind != argc - 1) {
        return img_usage_error("map", "Expecting one image file name");
    }
    GError *err = NULL;
    BlockDriverState *bs = img_open(argv[optind], fmt, 0, &err);
    if (!bs) {
        return img_fail(err);
    }
    uint64_t size = bdrv_getlength(bs);
    uint64_t end = start >= size ? start
                 : (max_len > size - start ? size : start + max_len);
    if (json) {
        printf("[");
    } else {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    MapEntry cur = { 0 };
    bool have = false, first = true;
    int ret = 0;
    for (uint64_t off = start; off < end;) {
        uint64_t n, map;
        int depth;
        BlockDriverState *file = NULL;
        int st = bdrv_block_status_above(bs, NULL, off, end - off, &n, &map,
                                         &depth, &file, &err);
        if (st < 0) {
            ret = img_fail(err);
            break;
        }
        MapEntry e = {
            .start = off, .length = n, .depth = depth,
            .present = st & BDRV_BLOCK_ALLOCATED,
            .zero = st & BDRV_BLOCK_ZERO, .data = st & BDRV_BLOCK_DATA,
            .has_offset = st & BDRV_BLOCK_OFFSET_VALID, .offset = map,
            .file = file ? file->filename : NULL,
        };
        if (have && can_merge(&cur, &e)) {
            cur.length += e.length;
        } else {
            if (have && print_entry(&cur, json, first) < 0) {
                ret = 1;
                break;
            }
            first = first && !have;
            cur = e;
            have = true;
        }
        off += n;
    }
    if (ret == 0 && have && print_entry(&cur, json, first) < 0) {
        ret = 1;
    }
    if (json) {
        printf("]\n");
    }
    bdrv_close(bs);
    return ret;
}

const ImgCommand img_cmd_map = {
    .name = "map",
    .run = run,
    .synopsis = "[-f fmt] [--start-offset=offset] [--max-length=len] "
                "[--output=human|json] [-U] filename",
    .help =
        "Shows which image of the backing chain provides each range of the "
        "virtual\ndisk and where it lies in that image's file.  Human output "
        "lists the ranges\nthat hold data; JSON lists all ranges with depth "
        "(0 = FILENAME), present,\nzero, data and offset.\n\n"
        "  -f fmt                 image format (default: detected)\n"
        "  --start-offset=offset  start here (default 0)\n"
        "  --max-length=len       stop after this many bytes\n"
        "  --output=json          machine-readable output\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
