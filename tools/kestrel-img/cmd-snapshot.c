/*
 * cmd-snapshot.c: "kestrel-img snapshot", internal snapshots of a qcow2
 * image: list (-l, the default), create (-c), apply (-a), delete (-d).
 */
#include "tools/kestrel-img/img.h"
#include "tools/kestrel-img/img-snapshot-table.h"

#include <getopt.h>
#include <stdio.h>

enum { LIST, CREATE, APPLY, DELETE };

static int run(int argc, char **argv)
{
    const char *fmt = NULL, *name = NULL;
    int action = -1, c;
    bool quiet = false;
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    while ((c = getopt_long(argc, argv, "+la:c:d:f:qU", longopts, NULL)) != -1) {
        int a = -1;
        switch (c) {
        case 'l': a = LIST; break;
        case 'c': a = CREATE; name = optarg; break;
        case 'a': a = APPLY; name = optarg; break;
        case 'd': a = DELETE; name = optarg; break;
        case 'f': fmt = optarg; continue;
        case 'q': quiet = true; continue;
        case 'U': continue;
        default:
            return img_usage_error("snapshot", "invalid option");
        }
        if (action != -1) {
            return img_usage_error("snapshot", "Cannot mix '-l', '-a', '-c', "
                                   "'-d'");
        }
        action = a;
    }
    if (action == -1) {
        action = LIST;
    }
    if (optind != argc - 1) {
        return img_usage_error("snapshot", "Expecting one image file name");
    }
    const char *filename = argv[optind];
    GError *err = NULL;
    int flags = BDRV_O_NO_BACKING | (action == LIST ? 0 : BDRV_O_RDWR);
    BlockDriverState *bs = img_open(filename, fmt, flags, &err);
    if (!bs) {
        return img_fail(err);
    }
    int r = 0;
    switch (action) {
    case LIST: {
        BlockSnapshotInfo *list = NULL;
        int n = bdrv_snapshot_list(bs, &list, &err);
        if (n < 0) {
            r = n;
            break;
        }
        if (!quiet) {
            GString *out = g_string_new(NULL);
            img_snapshot_table(out, list, n);
            fputs(out->str, stdout);
            g_string_free(out, TRUE);
        }
        block_snapshot_list_free(list, n);
        break;
    }
    case CREATE:
        r = bdrv_snapshot_create(bs, name, &err);
        if (r < 0) {
            img_error("Could not create snapshot '%s': %s", name, err->message);
            g_clear_error(&err);
        }
        break;
    case APPLY:
        r = bdrv_snapshot_apply(bs, name, &err);
        if (r < 0) {
            img_error("Could not apply snapshot '%s': %s", name, err->message);
            g_clear_error(&err);
        }
        break;
    case DELETE:
        r = bdrv_snapshot_delete(bs, name, &err);
        if (r < 0) {
            img_error("Could not delete snapshot '%s': %s", name, err->message);
            g_clear_error(&err);
        }
        break;
    }
    if (r == 0 && action != LIST) {
        r = bdrv_flush(bs, &err);
    }
    bdrv_close(bs);
    if (err) {
        return img_fail(err);
    }
    return r < 0 ? 1 : 0;
}

const ImgCommand img_cmd_snapshot = {
    .name = "snapshot",
    .run = run,
    .synopsis = "[-q] [-f fmt] [-l | -a snapshot | -c snapshot | -d snapshot] "
                "[-U] filename",
    .help =
        "Lists or changes the internal snapshots of a qcow2 image.\n\n"
        "  -l            list the snapshots (the default)\n"
        "  -c snapshot   create a snapshot named SNAPSHOT of the current "
        "contents\n"
        "  -a snapshot   apply (revert to) the snapshot with this ID or name\n"
        "  -d snapshot   delete the snapshot with this ID or name\n"
        "  -f fmt        image format (default: detected)\n"
        "  -q            quiet\n\n"
        "Exit status: 0 on success, 1 on error.\n",
};
