/*
 * cmd-info.c: "kestrel-img info", what an image is: format, sizes,
 * backing file, snapshots and format details, as human text or as JSON
 * with qemu-img's field names, for one image or its whole backing chain.
 */
#include "tools/kestrel-img/img.h"
#include "tools/kestrel-img/img-snapshot-table.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void json_snapshots(GString *o, const BlockSnapshotInfo *list, int n,
                           const char *ind)
{
    g_string_append_printf(o, "%s\"snapshots\": [\n", ind);
    for (int i = 0; i < n; i++) {
        const BlockSnapshotInfo *sn = &list[i];
        g_string_append_printf(o, "%s    {\n", ind);
        if (sn->icount != UINT64_MAX) {
            g_string_append_printf(o, "%s        \"icount\": %" PRIu64 ",\n",
                                   ind, sn->icount);
        }
        g_string_append_printf(o, "%s        \"vm-clock-nsec\": %" PRIu64 ",\n",
                               ind, sn->vm_clock_nsec % 1000000000);
        g_string_append_printf(o, "%s        \"name\": ", ind);
        img_json_string(o, sn->name);
        g_string_append_printf(o, ",\n%s        \"date-sec\": %u,\n", ind,
                               sn->date_sec);
        g_string_append_printf(o, "%s        \"date-nsec\": %u,\n", ind,
                               sn->date_nsec);
        g_string_append_printf(o, "%s        \"vm-clock-sec\": %" PRIu64 ",\n",
                               ind, sn->vm_clock_nsec / 1000000000);
        g_string_append_printf(o, "%s        \"id\": ", ind);
        img_json_string(o, sn->id);
        g_string_append_printf(o, ",\n%s        \"vm-state-size\": %" PRIu64
                               "\n%s    }%s\n", ind, sn->vm_state_size, ind,
                               i + 1 < n ? "," : "");
    }
    g_string_append_printf(o, "%s],\n", ind);
}

static void describe(GString *o, BlockDriverState *bs, bool json,
                     const char *ind)
{
    BlockImageInfo info;
    bdrv_get_info(bs, &info);
    int64_t actual = bdrv_allocated_file_size(bs);
    BlockSnapshotInfo *snaps = NULL;
    int nsnaps = bdrv_snapshot_list(bs, &snaps, NULL);
    if (nsnaps < 0) {
        nsnaps = 0;
    }
    if (json) {
        g_string_append_printf(o, "%s{\n", ind);
        char *in = g_strconcat(ind, "    ", NULL);
        if (nsnaps) {
            json_snapshots(o, snaps, nsnaps, in);
        }
        if (bs->backing_file && bs->backing_format) {
            g_string_append_printf(o, "%s\"backing-filename-format\": ", in);
            img_json_string(o, bs->backing_format);
            g_string_append(o, ",\n");
        }
        g_string_append_printf(o, "%s\"virtual-size\": %" PRIu64 ",\n", in,
                               info.virtual_size);
        g_string_append_printf(o, "%s\"filename\": ", in);
        img_json_string(o, bs->filename);
        g_string_append(o, ",\n");
        if (info.cluster_size) {
            g_string_append_printf(o, "%s\"cluster-size\": %u,\n", in,
                                   info.cluster_size);
        }
        g_string_append_printf(o, "%s\"format\": \"%s\",\n", in, info.format);
        if (actual >= 0) {
            g_string_append_printf(o, "%s\"actual-size\": %" PRId64 ",\n", in,
                                   actual);
        }
        if (info.is_qcow2) {
            g_string_append_printf(o, "%s\"format-specific\": {\n", in);
            g_string_append_printf(o, "%s    \"type\": \"qcow2\",\n", in);
            g_string_append_printf(o, "%s    \"data\": {\n", in);
            if (info.qcow2_version >= 3) {
                g_string_append_printf(
                    o, "%s        \"compat\": \"1.1\",\n"
                    "%s        \"compression-type\": \"zlib\",\n"
                    "%s        \"lazy-refcounts\": %s,\n"
                    "%s        \"refcount-bits\": %d,\n"
                    "%s        \"corrupt\": %s,\n"
                    "%s        \"extended-l2\": %s\n",
                    in, in, in, info.lazy_refcounts ? "true" : "false", in,
                    info.refcount_bits, in, info.corrupt ? "true" : "false",
                    in, info.extended_l2 ? "true" : "false");
            } else {
                g_string_append_printf(
                    o, "%s        \"compat\": \"0.10\",\n"
                    "%s        \"compression-type\": \"zlib\",\n"
                    "%s        \"refcount-bits\": %d\n",
                    in, in, in, info.refcount_bits);
            }
            g_string_append_printf(o, "%s    }\n%s},\n", in, in);
        }
        if (bs->backing_file) {
            g_string_append_printf(o, "%s\"full-backing-filename\": ", in);
            img_json_string(o, bs->full_backing_filename);
            g_string_append_printf(o, ",\n%s\"backing-filename\": ", in);
            img_json_string(o, bs->backing_file);
            g_string_append(o, ",\n");
        }
        g_string_append_printf(o, "%s\"dirty-flag\": %s\n%s}", in,
                               info.dirty ? "true" : "false", ind);
        g_free(in);
    } else {
        char *vsize = img_human_size(info.virtual_size);
        g_string_append_printf(o, "image: %s\nfile format: %s\n"
                               "virtual size: %s (%" PRIu64 " bytes)\n",
                               bs->filename, info.format, vsize,
                               info.virtual_size);
        g_free(vsize);
        if (actual >= 0) {
            char *dsize = img_human_size((uint64_t)actual);
            g_string_append_printf(o, "disk size: %s\n", dsize);
            g_free(dsize);
        } else {
            g_string_append(o, "disk size: unavailable\n");
        }
        if (info.cluster_size) {
            g_string_append_printf(o, "cluster_size: %u\n", info.cluster_size);
        }
        if (info.dirty) {
            g_string_append(o, "cleanly shut down: no\n");
        }
        if (bs->backing_file) {
            g_string_append_printf(o, "backing file: %s", bs->backing_file);
            if (strcmp(bs->backing_file, bs->full_backing_filename) != 0) {
                g_string_append_printf(o, " (actual path: %s)",
                                       bs->full_backing_filename);
            }
            g_string_append_c(o, '\n');
            if (bs->backing_format) {
                g_string_append_printf(o, "backing file format: %s\n",
                                       bs->backing_format);
            }
        }
        if (nsnaps) {
            img_snapshot_table(o, snaps, nsnaps);
        }
        if (info.is_qcow2) {
            g_string_append(o, "Format specific information:\n");
            if (info.qcow2_version >= 3) {
                g_string_append_printf(o, "    compat: 1.1\n"
                                       "    compression type: zlib\n"
                                       "    lazy refcounts: %s\n"
                                       "    refcount bits: %d\n"
                                       "    corrupt: %s\n"
                                       "    extended l2: %s\n",
                                       info.lazy_refcounts ? "true" : "false",
                                       info.refcount_bits,
                                       info.corrupt ? "true" : "false",
                                       info.extended_l2 ? "true" : "false");
            } else {
                g_string_append_printf(o, "    compat: 0.10\n"
                                       "    compression type: zlib\n"
                                       "    refcount bits: %d\n",
                                       info.refcount_bits);
            }
        }
    }
    block_snapshot_list_free(snaps, nsnaps);
}

static int run(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, chain = false;
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "backing-chain", no_argument, NULL, 'c' },
        { "force-share", no_argument, NULL, 'U' },
        { "image-opts", no_argument, NULL, 'i' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+f:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o':
            if (!img_parse_output_format(optarg, &json)) {
                return 1;
            }
            break;
        case 'c': chain = true; break;
        case 'U': break;
        case 'i':
            img_error("--image-opts is not supported");
            return 1;
        default:
            return img_usage_error("info", "invalid option");
        }
    }
    if (optind != argc - 1) {
        return img_usage_error("info", "Expecting one image file name");
    }
    GString *out = g_string_new(NULL);
    char *filename = g_strdup(argv[optind]);
    char *format = g_strdup(fmt);
    int count = 0, ret = 0;
    GArray *seen = g_array_new(FALSE, FALSE, sizeof(ino_t) * 2);
    while (filename) {
        struct stat st;
        if (stat(filename, &st) == 0) {
            ino_t key[2] = { (ino_t)st.st_dev, st.st_ino };
            for (guint i = 0; i < seen->len; i++) {
                ino_t *k = &((ino_t *)(void *)seen->data)[i * 2];
                if (k[0] == key[0] && k[1] == key[1]) {
                    img_error("Backing file '%s' creates an infinite loop.",
                              filename);
                    ret = 1;
                    break;
                }
            }
            if (ret) {
                break;
            }
            g_array_append_vals(seen, key, 1);
        }
        if (count > BDRV_MAX_BACKING_DEPTH) {
            img_error("Backing chain of '%s' is too deep", argv[optind]);
            ret = 1;
            break;
        }
        GError *err = NULL;
        BlockDriverState *bs = img_open(filename, format, BDRV_O_NO_BACKING,
                                        &err);
        if (!bs) {
            ret = img_fail(err);
            break;
        }
        if (count > 0) {
            g_string_append(out, json ? ",\n" : "\n");
        }
        describe(out, bs, json, json && chain ? "    " : "");
        count++;
        g_free(filename);
        g_free(format);
        filename = NULL;
        format = NULL;
        if (chain && bs->backing_file) {
            filename = g_strdup(bs->full_backing_filename);
            format = g_strdup(bs->backing_format);
        }
        bdrv_close(bs);
    }
    g_free(filename);
    g_free(format);
    g_array_free(seen, TRUE);
    if (ret == 0) {
        if (json && chain) {
            printf("[\n%s\n]\n", out->str);
        } else {
            printf("%s%s", out->str, json ? "\n" : "");
        }
    }
    g_string_free(out, TRUE);
    return ret;
}

const ImgCommand img_cmd_info = {
    .name = "info",
    .run = run,
    .synopsis = "[-f fmt] [--output=human|json] [--backing-chain] [-U] "
                "filename",
    .help =
        "Shows the image's format, virtual size, space used on disk, cluster "
        "size,\nbacking file, internal snapshots and format details.\n\n"
        "  -f fmt            image format (default: detected)\n"
        "  --output=json     machine-readable output with qemu-img's field "
        "names\n"
        "  --backing-chain   also describe every image of the backing chain\n"
        "  -U                accepted for compatibility (images are opened "
        "read-only)\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
