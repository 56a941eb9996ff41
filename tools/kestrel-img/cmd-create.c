/*
 * cmd-create.c: "kestrel-img create", a new raw or qcow2 image, as
 * qemu-img create: -f, -o, -b/-F for a backing file, -u to skip opening
 * the backing file, size taken from the backing file when omitted.
 */
#include "tools/kestrel-img/img.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int run(int argc, char **argv)
{
    const char *fmt = "raw";
    const char *backing = NULL, *backing_fmt = NULL;
    bool unsafe = false, quiet = false;
    ImgOptions opts;
    img_options_init(&opts);
    int c, ret = 1;
    static const struct option longopts[] = {
        { "object", required_argument, NULL, 'O' },
        { NULL, 0, NULL, 0 },
    };
    while ((c = getopt_long(argc, argv, "+f:b:F:o:uq", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': backing = optarg; break;
        case 'F': backing_fmt = optarg; break;
        case 'u': unsafe = true; break;
        case 'q': quiet = true; break;
        case 'o':
            if (!img_options_parse(&opts, optarg)) {
                goto out;
            }
            break;
        case 'O':
            img_error("--object is not supported");
            goto out;
        default:
            ret = img_usage_error("create", "invalid option");
            goto out;
        }
    }
    if (!bdrv_find_format(fmt)) {
        img_error("Unknown file format '%s'", fmt);
        goto out;
    }
    if (img_options_get(&opts, "help")) {
        img_print_create_options_help(fmt);
        ret = 0;
        goto out;
    }
    if (optind >= argc) {
        ret = img_usage_error("create", "Expecting image file name");
        goto out;
    }
    const char *filename = argv[optind++];
    BlockCreateOptions co = { 0 };
    bool have_size = false;
    if (!img_create_options_from(&opts, fmt, &co)) {
        goto out;
    }
    if (img_options_get(&opts, "size")) {
        have_size = true;
    }
    if (optind < argc) {
        if (!img_parse_size(argv[optind], &co.size)) {
            img_error("Invalid image size specified. You may use k, M, G, T, "
                      "P or E suffixes for");
            img_error("kilobytes, megabytes, gigabytes, terabytes, "
                      "petabytes and exabytes.");
            goto out;
        }
        have_size = true;
        optind++;
    }
    if (optind < argc) {
        ret = img_usage_error("create", "Unexpected argument: %s",
                              argv[optind]);
        goto out;
    }
    if (backing) {
        co.backing_file = backing;
    }
    if (backing_fmt) {
        co.backing_format = backing_fmt;
    }
    if (co.backing_file && !co.backing_format) {
        img_error("%s: Backing file specified without backing format",
                  filename);
        char *path = bdrv_resolve_backing_path(filename, co.backing_file);
        BlockOpenOptions oo = { .flags = BDRV_O_NO_BACKING };
        BlockDriverState *probe = bdrv_open(path, &oo, NULL);
        if (probe) {
            fprintf(stderr, "Detected format of %s.\n",
                    probe->drv->format_name);
            bdrv_close(probe);
        }
        g_free(path);
        goto out;
    }
    if (co.backing_file && !unsafe) {
        /* The backing file must open; it also gives the default size. */
        char *path = bdrv_resolve_backing_path(filename, co.backing_file);
        BlockOpenOptions oo = { .format = co.backing_format, .flags = 0 };
        GError *err = NULL;
        BlockDriverState *bbs = bdrv_open(path, &oo, &err);
        g_free(path);
        if (!bbs) {
            img_error("%s: Could not open backing image: %s", filename,
                      err->message);
            g_error_free(err);
            goto out;
        }
        if (!have_size) {
            co.size = bdrv_getlength(bbs);
            have_size = true;
        }
        bdrv_close(bbs);
    }
    if (!have_size) {
        img_error("%s: Image creation needs a size parameter", filename);
        goto out;
    }
    if (strcmp(fmt, "qcow2") == 0) {
        co.size = (co.size + 511) & ~UINT64_C(511);
    }
    if (!quiet) {
        GString *line = g_string_new(NULL);
        g_string_append_printf(line, "Formatting '%s', fmt=%s ", filename, fmt);
        static const char *const modes[] = { "off", "metadata", "falloc",
                                             "full" };
        bool qcow2 = strcmp(fmt, "qcow2") == 0;
        if (qcow2) {
            g_string_append_printf(line, "cluster_size=%u extended_l2=%s ",
                                   co.cluster_size ? co.cluster_size : 65536,
                                   co.extended_l2 ? "on" : "off");
            if (co.preallocation != BDRV_PREALLOC_OFF) {
                g_string_append_printf(line, "preallocation=%s ",
                                       modes[co.preallocation]);
            }
            g_string_append(line, "compression_type=zlib ");
        }
        g_string_append_printf(line, "size=%" PRIu64, co.size);
        if (co.version == 2) {
            g_string_append(line, " compat=0.10");
        }
        if (co.backing_file) {
            g_string_append_printf(line, " backing_file=%s", co.backing_file);
        }
        if (co.backing_format) {
            g_string_append_printf(line, " backing_fmt=%s", co.backing_format);
        }
        if (!qcow2 && co.preallocation != BDRV_PREALLOC_OFF) {
            g_string_append_printf(line, " preallocation=%s",
                                   modes[co.preallocation]);
        }
        if (qcow2) {
            g_string_append_printf(line, " lazy_refcounts=%s refcount_bits=%d",
                                   co.lazy_refcounts ? "on" : "off",
                                   co.refcount_bits ? co.refcount_bits : 16);
        }
        printf("%s\n", line->str);
        g_string_free(line, TRUE);
    }
    GError *err = NULL;
    if (bdrv_create(fmt, filename, &co, &err) < 0) {
        img_error("%s: %s", filename, err->message);
        g_error_free(err);
        goto out;
    }
    ret = 0;
out:
    img_options_free(&opts);
    return ret;
}

const ImgCommand img_cmd_create = {
    .name = "create",
    .run = run,
    .synopsis = "[-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] "
                "[-o options] filename [size]",
    .help =
        "Creates a new disk image FILENAME of SIZE bytes (suffixes k, M, G, "
        "T, P, E).\n\n"
        "  -f fmt            image format: raw (default) or qcow2\n"
        "  -b backing_file   qcow2 only: reads of unwritten clusters come "
        "from this\n"
        "                    image; a relative name is relative to FILENAME's "
        "folder.\n"
        "                    Without SIZE, the backing image's size is used\n"
        "  -F backing_fmt    format of the backing file (required with -b)\n"
        "  -u                do not open the backing file (SIZE is then "
        "required)\n"
        "  -o options        comma-separated key=value list; '-o help' lists "
        "them:\n"
        "                    cluster_size, compat (0.10|1.1), lazy_refcounts, "
        "refcount_bits,\n"
        "                    preallocation (off|metadata|falloc|full), "
        "backing_file,\n"
        "                    backing_fmt, compression_type (zlib), size\n"
        "  -q                quiet: do not print the 'Formatting' line\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
