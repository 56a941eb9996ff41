/*
 * drivers.h: the format drivers compiled into the block layer.  Only
 * block-core.c looks them up; everything else goes through block.h.
 */
#ifndef KESTREL_BLOCK_DRIVERS_H
#define KESTREL_BLOCK_DRIVERS_H

#include "block/block.h"

extern const BlockDriver bdrv_raw;
extern const BlockDriver bdrv_qcow2;

int qcow2_measure(const BlockCreateOptions *opts, uint64_t virtual_size,
                  uint64_t allocated_bytes, BlockMeasureInfo *info,
                  GError **errp);

#endif
