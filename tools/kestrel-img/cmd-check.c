/*
 * cmd-check.c: "kestrel-img check", consistency check and repair with
 * qemu-img's output and exit statuses: 0 clean, 1 check not completed,
 * 2 corruptions, 3 leaks only, 63 format without checks.
 */
#include "tools/kestrel-img/img.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void log_line(void *opaque, const char *line)
{
    fprintf(stderr, "%s\n", line);
}

static void print_human(const BlockCheckResult *r)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0) {
        printf("No errors were found on the image.\n");
    } else {
        if (r->corruptions) {
            printf("\n%" PRId64 " errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image "
                   "may corrupt it.\n", r->corruptions);
        }
        if (r->leaks) {
            printf("\n%" PRId64 " leaked clusters were found on the image.\n"
                   "This means waste of disk space, but no harm to data.\n",
                   r->leaks);
        }
        if (r->check_errors) {
            printf("\n%" PRId64 " internal errors have occurred during the "
                   "check.\n", r->check_errors);
        }
    }
    if (r->total_clusters && r->allocated_clusters) {
        double alloc = r->allocated_clusters * 100.0 / r->total_clusters;
        double frag = r->fragmented_clusters * 100.0 / r->allocated_clusters;
        double comp = r->compressed_clusters * 100.0 / r->allocated_clusters;
        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% "
               "fragmented, %0.2f%% compressed clusters\n",
               r->allocated_clusters, r->total_clusters, alloc, frag, comp);
    } else if (r->total_clusters) {
        printf("0/%" PRIu64 " = 0.00%% allocated, 0.00%% fragmented, 0.00%% "
               "compressed clusters\n", r->total_clusters);
    }
    if (r->image_end_offset) {
        printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
    }
}

/* Fields in the order qemu-img prints them. */
static void print_json(const BlockCheckResult *r, const char *filename,
                       const char *format)
{
    GString *o = g_string_new("{\n");
    g_string_append_printf(o, "    \"image-end-offset\": %" PRIu64 ",\n",
                           r->image_end_offset);
    if (r->compressed_clusters) {
        g_string_append_printf(o, "    \"compressed-clusters\": %" PRIu64
                               ",\n", r->compressed_clusters);
    }
    g_string_append_printf(o, "    \"total-clusters\": %" PRIu64 ",\n",
                           r->total_clusters);
    if (r->corruptions) {
        g_string_append_printf(o, "    \"corruptions\": %" PRId64 ",\n",
                               r->corruptions);
    }
    if (r->corruptions_fixed) {
        g_string_append_printf(o, "    \"corruptions-fixed\": %" PRId64 ",\n",
                               r->corruptions_fixed);
    }
    g_string_append_printf(o, "    \"check-errors\": %" PRId64 ",\n",
                           r->check_errors);
    if (r->leaks) {
        g_string_append_printf(o, "    \"leaks\": %" PRId64 ",\n", r->leaks);
    }
    if (r->leaks_fixed) {
        g_string_append_printf(o, "    \"leaks-fixed\": %" PRId64 ",\n",
                               r->leaks_fixed);
    }
    g_string_append_printf(o, "    \"allocated-clusters\": %" PRIu64 ",\n",
                           r->allocated_clusters);
    g_string_append(o, "    \"filename\": ");
    img_json_string(o, filename);
    g_string_append_printf(o, ",\n    \"format\": \"%s\"", format);
    if (r->fragmented_clusters) {
        g_string_append_printf(o, ",\n    \"fragmented-clusters\": %" PRIu64,
                               r->fragmented_clusters);
    }
    g_string_append(o, "\n}\n");
    fputs(o->str, stdout);
    g_string_free(o, TRUE);
}

static int run(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, quiet = false;
    int fix = 0;
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "force-share", no_argument, NULL, 'U' },
        { "repair", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+f:r:T:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'U': case 'T': break;
        case 'o':
            if (!img_parse_output_format(optarg, &json)) {
                return 1;
            }
            break;
        case 'r':
            if (strcmp(optarg, "leaks") == 0) {
                fix = BDRV_FIX_LEAKS;
            } else if (strcmp(optarg, "all") == 0) {
                fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
            } else {
                return img_usage_error("check", "Unknown option value for -r "
                                       "(expecting 'leaks' or 'all'): %s",
                                       optarg);
            }
            break;
        default:
            return img_usage_error("check", "invalid option");
        }
    }
    if (optind != argc - 1) {
        return img_usage_error("check", "Expecting one image file name");
    }
    const char *filename = argv[optind];
    GError *err = NULL;
    int flags = BDRV_O_CHECK | BDRV_O_NO_BACKING | (fix ? BDRV_O_RDWR : 0);
    BlockDriverState *bs = img_open(filename, fmt, flags, &err);
    if (!bs) {
        return img_fail(err);
    }
    BlockCheckResult res = { .log = log_line };
    int r = bdrv_check(bs, &res, fix, &err);
    if (r == -ENOTSUP) {
        img_error("This image format does not support checks");
        g_error_free(err);
        bdrv_close(bs);
        return 63;
    }
    if (r < 0) {
        img_error("Check failed: %s", err->message);
        g_error_free(err);
        bdrv_close(bs);
        return 1;
    }
    if (!quiet) {
        if (!json && (res.leaks_fixed || res.corruptions_fixed)) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRId64 " leaked clusters\n"
                   "    %" PRId64 " corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   res.leaks_fixed, res.corruptions_fixed);
        }
        if (json) {
            print_json(&res, filename, bs->drv->format_name);
        } else {
            print_human(&res);
        }
    }
    bdrv_close(bs);
    if (res.check_errors) {
        return 1;
    }
    if (res.corruptions) {
        return 2;
    }
    if (res.leaks) {
        return 3;
    }
    return 0;
}

const ImgCommand img_cmd_check = {
    .name = "check",
    .run = run,
    .synopsis = "[-q] [-f fmt] [--output=human|json] [-r leaks|all] "
                "[-T src_cache] [-U] filename",
    .help =
        "Checks the image for consistency: every cluster's reference count "
        "against\nthe references found in the L1/L2 tables, snapshots and "
        "metadata, and the\nCOPIED flags of the active tables.  Problems are "
        "listed on stderr.\n\n"
        "  -f fmt            image format (default: detected)\n"
        "  -r leaks          repair leaked clusters only\n"
        "  -r all            repair leaks and errors (rebuilds refcounts if "
        "needed)\n"
        "  --output=json     machine-readable result\n"
        "  -q                quiet: print nothing on stdout\n"
        "  -T, -U            accepted for compatibility\n\n"
        "Exit status: 0 no problems, 1 the check could not be completed, "
        "2 corruptions\nfound, 3 only leaks found, 63 the format has no "
        "check.\n",
};
