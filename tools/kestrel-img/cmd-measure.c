/*
 * cmd-measure.c: "kestrel-img measure", the file size a new image would
 * need: for a given virtual size, or to hold the data of an existing
 * image converted to the output format.
 */
#include "tools/kestrel-img/img.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* Bytes of whole output clusters that would hold data. */
static int count_data(BlockDriverState *bs, uint64_t cluster, uint64_t *out,
                      GError **errp)
{
    uint64_t size = bdrv_getlength(bs), total = 0, last_counted = UINT64_MAX;
    for (uint64_t off = 0; off < size;) {
        uint64_t n, map;
        int depth;
        int st = bdrv_block_status_above(bs, NULL, off, size - off, &n, &map,
                                         &depth, NULL, errp);
        if (st < 0) {
            return st;
        }
        if ((st & BDRV_BLOCK_DATA) && !(st & BDRV_BLOCK_ZERO)) {
            uint64_t first = off / cluster, last = (off + n - 1) / cluster;
            if (first == last_counted) {
                first++;
            }
            if (last >= first) {
                total += (last - first + 1) * cluster;
            }
            last_counted = last;
        }
        off += n;
    }
    *out = total;
    return 0;
}

static int run(int argc, char **argv)
{
    const char *fmt = NULL, *out_fmt = "raw";
    bool json = false, have_size = false;
    uint64_t size = 0;
    ImgOptions opts;
    img_options_init(&opts);
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'j' },
        { "size", required_argument, NULL, 's' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c, ret = 1;
    while ((c = getopt_long(argc, argv, "+f:O:o:l:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'U': break;
        case 'l':
            img_error("-l (snapshots) is not supported by measure");
            goto out;
        case 'o':
            if (!img_options_parse(&opts, optarg)) {
                goto out;
            }
            break;
        case 'j':
            if (!img_parse_output_format(optarg, &json)) {
                goto out;
            }
            break;
        case 's':
            if (!img_parse_size(optarg, &size)) {
                img_error("Invalid image size specified. You may use k, M, G, "
                          "T, P or E suffixes.");
                goto out;
            }
            have_size = true;
            break;
        default:
            ret = img_usage_error("measure", "invalid option");
            goto out;
        }
    }
    const char *filename = optind < argc ? argv[optind] : NULL;
    if (have_size == (filename != NULL) || (filename && optind != argc - 1)) {
        ret = img_usage_error("measure", "Either --size N or one filename "
                              "must be specified.");
        goto out;
    }
    if (!bdrv_find_format(out_fmt)) {
        img_error("Unknown file format '%s'", out_fmt);
        goto out;
    }
    BlockCreateOptions co = { 0 };
    if (!img_create_options_from(&opts, out_fmt, &co)) {
        goto out;
    }
    bool qcow2 = strcmp(out_fmt, "qcow2") == 0;
    uint64_t data = 0;
    bool bitmaps = false;
    GError *err = NULL;
    if (filename) {
        BlockDriverState *bs = img_open(filename, fmt, 0, &err);
        if (!bs) {
            ret = img_fail(err);
            goto out;
        }
        size = bdrv_getlength(bs);
        bitmaps = qcow2 && strcmp(bs->drv->format_name, "qcow2") == 0;
        int r = count_data(bs, co.cluster_size ? co.cluster_size : 65536,
                           &data, &err);
        bdrv_close(bs);
        if (r < 0) {
            ret = img_fail(err);
            goto out;
        }
    }
    BlockMeasureInfo info;
    if (!qcow2) {
        data = size;
    }
    if (bdrv_measure(out_fmt, &co, size, data, &info, &err) < 0) {
        ret = img_fail(err);
        goto out;
    }
    if (json) {
        printf("{\n");
        if (bitmaps) {
            printf("    \"bitmaps\": 0,\n");
        }
        printf("    \"required\": %" PRIu64 ",\n    \"fully-allocated\": %"
               PRIu64 "\n}\n", info.required, info.fully_allocated);
    } else {
        printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64
               "\n", info.required, info.fully_allocated);
        if (bitmaps) {
            printf("bitmaps size: 0\n");
        }
    }
    ret = 0;
out:
    img_options_free(&opts);
    return ret;
}

const ImgCommand img_cmd_measure = {
    .name = "measure",
    .run = run,
    .synopsis = "[--output=human|json] [-O output_fmt] [-o options] "
                "[--size N | [-f fmt] filename]",
    .help =
        "Calculates the file size an image of format OUTPUT_FMT needs: "
        "\"required size\"\nto hold FILENAME's data (or an empty disk of "
        "--size N), and \"fully allocated\nsize\" when every cluster is "
        "written.\n\n"
        "  -O output_fmt   raw (default) or qcow2\n"
        "  -o options      creation options, e.g. cluster_size=, "
        "refcount_bits=\n"
        "  --size N        measure an empty image of N bytes\n"
        "  -f fmt          format of FILENAME (default: detected)\n"
        "  --output=json   machine-readable output\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
