/*
 * convert-pipe.c: a writer thread fed through two queues of slots (free
 * and full).  The first error is kept and later writes are skipped.
 */
#include "tools/kestrel-img/convert-pipe.h"

#include <stdlib.h>

struct ConvertPipe {
    BlockDriverState *dst;
    GAsyncQueue *free_slots, *full_slots;
    PipeSlot *slots;
    int nslots;
    GThread *thread;
    gint failed;
    int error_code;
    GError *error;
};

static PipeSlot stop_marker;

static gpointer writer(gpointer data)
{
    ConvertPipe *p = data;
    for (;;) {
        PipeSlot *s = g_async_queue_pop(p->full_slots);
        if (s == &stop_marker) {
            break;
        }
        for (guint i = 0; i < s->writes->len && !p->error; i++) {
            PipeWrite *w = &g_array_index(s->writes, PipeWrite, i);
            int r = w->zero
                ? bdrv_write_zeroes(p->dst, w->offset, w->length, true,
                                    &p->error)
                : bdrv_pwrite(p->dst, w->offset, s->buf + w->buf_offset,
                              w->length, &p->error);
            if (r < 0) {
                p->error_code = r;
                g_atomic_int_set(&p->failed, 1);
            }
        }
        g_array_set_size(s->writes, 0);
        g_async_queue_push(p->free_slots, s);
    }
    return NULL;
}

ConvertPipe *convert_pipe_new(BlockDriverState *dst, int slots,
                              size_t slot_size)
{
    ConvertPipe *p = g_new0(ConvertPipe, 1);
    p->dst = dst;
    p->free_slots = g_async_queue_new();
    p->full_slots = g_async_queue_new();
    p->nslots = slots;
    p->slots = g_new0(PipeSlot, slots);
    for (int i = 0; i < slots; i++) {
        void *buf = NULL;
        if (posix_memalign(&buf, 4096, slot_size) != 0) {
            buf = NULL;
        }
        p->slots[i].buf = buf;
        p->slots[i].size = slot_size;
        p->slots[i].writes = g_array_new(FALSE, FALSE, sizeof(PipeWrite));
        g_async_queue_push(p->free_slots, &p->slots[i]);
    }
    p->thread = g_thread_new("convert-writer", writer, p);
    return p;
}

PipeSlot *convert_pipe_slot(ConvertPipe *p)
{
    return g_async_queue_pop(p->free_slots);
}

void convert_pipe_submit(ConvertPipe *p, PipeSlot *slot)
{
    g_async_queue_push(p->full_slots, slot);
}

bool convert_pipe_failed(ConvertPipe *p)
{
    return g_atomic_int_get(&p->failed);
}

int convert_pipe_finish(ConvertPipe *p, GError **errp)
{
    g_async_queue_push(p->full_slots, &stop_marker);
    g_thread_join(p->thread);
    int r = p->error_code;
    if (p->error) {
        g_propagate_error(errp, p->error);
    }
    for (int i = 0; i < p->nslots; i++) {
        free(p->slots[i].buf);
        g_array_free(p->slots[i].writes, TRUE);
    }
    g_free(p->slots);
    g_async_queue_unref(p->free_slots);
    g_async_queue_unref(p->full_slots);
    g_free(p);
    return r;
}
