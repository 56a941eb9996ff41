/*
 * img-snapshot-table.h: printing a snapshot list like qemu-img.
 */
#ifndef KESTREL_IMG_SNAPSHOT_TABLE_H
#define KESTREL_IMG_SNAPSHOT_TABLE_H

#include "tools/kestrel-img/img.h"

void img_snapshot_table(GString *out, const BlockSnapshotInfo *list, int n);

#endif
