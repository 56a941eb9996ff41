/*
 * convert-pipe.h: the writing half of "convert" on its own thread, so
 * that reading the source and writing the target overlap.  The reader
 * fills slots (a buffer plus a list of writes into the target) and hands
 * them over; the writer thread performs them in order.
 */
#ifndef KESTREL_IMG_CONVERT_PIPE_H
#define KESTREL_IMG_CONVERT_PIPE_H

#include "block/block.h"

typedef struct PipeWrite {
    uint64_t offset;               /* in the target */
    uint64_t length;
    size_t buf_offset;             /* in the slot's buffer */
    bool zero;                     /* write zeroes instead */
} PipeWrite;

typedef struct PipeSlot {
    uint8_t *buf;
    size_t size;
    GArray *writes;                /* of PipeWrite */
} PipeSlot;

typedef struct ConvertPipe ConvertPipe;

ConvertPipe *convert_pipe_new(BlockDriverState *dst, int slots,
                              size_t slot_size);
/* Waits for a free slot; its list of writes is empty. */
PipeSlot *convert_pipe_slot(ConvertPipe *p);
void convert_pipe_submit(ConvertPipe *p, PipeSlot *slot);
/* True once a write failed: the reader may stop early. */
bool convert_pipe_failed(ConvertPipe *p);
/* Finishes the queued writes, stops the thread; 0 or the first error. */
int convert_pipe_finish(ConvertPipe *p, GError **errp);

#endif
