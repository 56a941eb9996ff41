/*
 * cmd-resize.c: "kestrel-img resize", changing the virtual size to SIZE
 * or by +SIZE/-SIZE; shrinking needs --shrink, as with qemu-img.
 */
#include "tools/kestrel-img/img.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int run(int argc, char **argv)
{
    const char *fmt = NULL;
    bool shrink = false, quiet = false;
    BdrvPreallocMode prealloc = BDRV_PREALLOC_OFF;
    if (argc < 3) {
        return img_usage_error("resize", "Expecting image file name and size");
    }
    /* The size may start with '-': take it out before option parsing. */
    const char *size_arg = argv[argc - 1];
    argc--;
    static const struct option longopts[] = {
        { "shrink", no_argument, NULL, 's' },
        { "preallocation", required_argument, NULL, 'P' },
        { "image-opts", no_argument, NULL, 'i' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+f:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 's': shrink = true; break;
        case 'P':
            if (strcmp(optarg, "off") == 0) {
                prealloc = BDRV_PREALLOC_OFF;
            } else if (strcmp(optarg, "metadata") == 0) {
                prealloc = BDRV_PREALLOC_METADATA;
            } else if (strcmp(optarg, "falloc") == 0) {
                prealloc = BDRV_PREALLOC_FALLOC;
            } else if (strcmp(optarg, "full") == 0) {
                prealloc = BDRV_PREALLOC_FULL;
            } else {
                img_error("Invalid preallocation mode '%s'", optarg);
                return 1;
            }
            break;
        case 'i':
            img_error("--image-opts is not supported");
            return 1;
        default:
            return img_usage_error("resize", "invalid option");
        }
    }
    if (optind != argc - 1) {
        return img_usage_error("resize", "Expecting image file name and size");
    }
    const char *filename = argv[optind];
    int sign = 0;
    if (size_arg[0] == '+' || size_arg[0] == '-') {
        sign = size_arg[0] == '+' ? 1 : -1;
        size_arg++;
    }
    uint64_t n;
    if (!img_parse_size(size_arg, &n)) {
        img_error("Invalid image size specified. You may use k, M, G, T, P or "
                  "E suffixes for");
        img_error("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                  "exabytes.");
        return 1;
    }
    GError *err = NULL;
    BlockDriverState *bs = img_open(filename, fmt,
                                    BDRV_O_RDWR | BDRV_O_NO_BACKING, &err);
    if (!bs) {
        return img_fail(err);
    }
    uint64_t cur = bdrv_getlength(bs);
    uint64_t size;
    if (sign < 0) {
        if (n > cur) {
            img_error("New image size must be positive");
            bdrv_close(bs);
            return 1;
        }
        size = cur - n;
    } else if (sign > 0) {
        size = cur + n;
        if (size < cur) {
            img_error("Image size is too large");
            bdrv_close(bs);
            return 1;
        }
    } else {
        size = n;
    }
    if (size < cur && !shrink) {
        img_error("Use the --shrink option to perform a shrink operation.");
        fprintf(stderr, "kestrel-img: warning: Shrinking an image will delete "
                "all data beyond the shrunken image's end. Before performing "
                "such an operation, make sure there is no important data "
                "there.\n");
        bdrv_close(bs);
        return 1;
    }
    int r = bdrv_truncate(bs, size, shrink, prealloc, &err);
    if (r == 0) {
        r = bdrv_flush(bs, &err);
    }
    bdrv_close(bs);
    if (r < 0) {
        return img_fail(err);
    }
    if (!quiet) {
        printf("Image resized.\n");
    }
    return 0;
}

const ImgCommand img_cmd_resize = {
    .name = "resize",
    .run = run,
    .synopsis = "[-f fmt] [--preallocation=prealloc] [-q] [--shrink] "
                "filename [+ | -]size",
    .help =
        "Sets the virtual size to SIZE, or grows (+SIZE) or shrinks (-SIZE) "
        "it.\nGrown space reads as zeroes.  qcow2 images with internal "
        "snapshots can grow\nbut not shrink.\n\n"
        "  --shrink                 allow making the image smaller (data "
        "past the new\n"
        "                           end is lost)\n"
        "  --preallocation=mode     off, metadata (qcow2), falloc or full "
        "for the new area\n"
        "  -f fmt                   image format (default: detected)\n"
        "  -q                       quiet\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
