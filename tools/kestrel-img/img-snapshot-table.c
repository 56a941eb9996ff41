/*
 * img-snapshot-table.c: the snapshot list as qemu-img prints it, shared
 * by "info" and "snapshot -l".
 */
#include "tools/kestrel-img/img-snapshot-table.h"

#include <stdio.h>
#include <time.h>

static void row(GString *out, const char *id, const char *tag,
                const char *vm_size, const char *date, const char *clock,
                const char *icount)
{
    g_string_append_printf(out, "%-9s %-16s %8s %19s %12s %10s\n", id, tag,
                           vm_size, date, clock, icount);
}

void img_snapshot_table(GString *out, const BlockSnapshotInfo *list, int n)
{
    g_string_append(out, "Snapshot list:\n");
    row(out, "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    for (int i = 0; i < n; i++) {
        const BlockSnapshotInfo *sn = &list[i];
        char date[64] = "";
        time_t t = (time_t)sn->date_sec;
        struct tm tm;
        if (localtime_r(&t, &tm)) {
            strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        }
        uint64_t ms = sn->vm_clock_nsec / 1000000;
        char *clock = g_strdup_printf("%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
                                      ".%03" PRIu64, ms / 3600000,
                                      (ms / 60000) % 60, (ms / 1000) % 60,
                                      ms % 1000);
        char *size = img_human_size(sn->vm_state_size);
        char *icount = sn->icount == UINT64_MAX
                       ? g_strdup("")
                       : g_strdup_printf("%" PRIu64, sn->icount);
        row(out, sn->id, sn->name, size, date, clock, icount);
        g_free(clock);
        g_free(size);
        g_free(icount);
    }
}
