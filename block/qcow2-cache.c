/*
 * qcow2-cache.c: a write-back cache of cluster-sized metadata tables (L2
 * tables and refcount blocks), least recently used first out.  Tables
 * stay in on-disk byte order.  A cache may depend on another: before any
 * of its dirty tables is written, the other cache is written and a
 * barrier issued, which is how allocations reach the disk before the
 * tables that point to them (qcow2 crash consistency).
 */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct CacheEntry {
    uint64_t offset;               /* 0: empty slot */
    uint64_t last_use;
    int pins;
    bool dirty;
} CacheEntry;

struct Qcow2Cache {
    HostFile *file;
    size_t table_size;
    int nb_tables;
    uint8_t *tables;
    CacheEntry *entries;
    uint64_t use_counter;
    int last_hit;
    int dirty_count;
    Qcow2Cache *depends_on;
    bool barrier_before_write;
};

Qcow2Cache *qcow2_cache_new(HostFile *file, size_t table_size, int nb_tables)
{
    Qcow2Cache *c = g_new0(Qcow2Cache, 1);
    c->file = file;
    c->table_size = table_size;
    c->nb_tables = MAX(nb_tables, 4);
    void *mem = NULL;
    if (posix_memalign(&mem, 4096, table_size * (size_t)c->nb_tables) != 0) {
        g_free(c);
        return NULL;
    }
    c->tables = mem;
    c->entries = g_new0(CacheEntry, c->nb_tables);
    return c;
}

void qcow2_cache_free(Qcow2Cache *c)
{
    if (!c) {
        return;
    }
    free(c->tables);
    g_free(c->entries);
    g_free(c);
}

int qcow2_cache_capacity(const Qcow2Cache *c)
{
    return c->nb_tables;
}

void qcow2_cache_depends_on_flush(Qcow2Cache *c)
{
    c->barrier_before_write = true;
}

void qcow2_cache_set_dependency(Qcow2Cache *c, Qcow2Cache *dep)
{
    c->depends_on = dep;
}

bool qcow2_cache_is_dirty(const Qcow2Cache *c)
{
    return c->dirty_count > 0;
}

static uint8_t *table_of(Qcow2Cache *c, int i)
{
    return c->tables + (size_t)i * c->table_size;
}

static int index_of(Qcow2Cache *c, const void *table)
{
    ptrdiff_t d = (const uint8_t *)table - c->tables;
    return (int)(d / (ptrdiff_t)c->table_size);
}

static int write_entry(Qcow2Cache *c, int i, GError **errp)
{
    CacheEntry *e = &c->entries[i];
    if (!e->dirty) {
        return 0;
    }
    if (c->depends_on && qcow2_cache_is_dirty(c->depends_on)) {
        int r = qcow2_cache_write_dirty(c->depends_on, errp);
        if (r == 0) {
            r = host_file_flush(c->file, errp);
        }
        if (r < 0) {
            return r;
        }
        c->barrier_before_write = false;
    }
    if (c->barrier_before_write) {
        int r = host_file_flush(c->file, errp);
        if (r < 0) {
            return r;
        }
        c->barrier_before_write = false;
    }
    int r = host_file_pwrite(c->file, e->offset, table_of(c, i),
                             c->table_size, errp);
    if (r < 0) {
        return r;
    }
    e->dirty = false;
    c->dirty_count--;
    return 0;
}

static int compare_offsets(const void *a, const void *b, void *data)
{
    const CacheEntry *entries = data;
    uint64_t x = entries[*(const int *)a].offset;
    uint64_t y = entries[*(const int *)b].offset;
    return x < y ? -1 : x > y;
}

int qcow2_cache_write_dirty(Qcow2Cache *c, GError **errp)
{
    if (c->dirty_count == 0) {
        return 0;
    }
    /* Write in file order: metadata tends to sit together. */
    int *order = g_new(int, c->nb_tables);
    int n = 0;
    for (int i = 0; i < c->nb_tables; i++) {
        if (c->entries[i].dirty) {
            order[n++] = i;
        }
    }
    g_qsort_with_data(order, n, sizeof(int), compare_offsets, c->entries);
    int r = 0;
    for (int k = 0; k < n && r == 0; k++) {
        r = write_entry(c, order[k], errp);
    }
    g_free(order);
    return r;
}

static int find(Qcow2Cache *c, uint64_t offset)
{
    if (c->entries[c->last_hit].offset == offset) {
        return c->last_hit;
    }
    for (int i = 0; i < c->nb_tables; i++) {
        if (c->entries[i].offset == offset) {
            c->last_hit = i;
            return i;
        }
    }
    return -1;
}

static int choose_victim(Qcow2Cache *c, GError **errp)
{
    int victim = -1;
    for (int i = 0; i < c->nb_tables; i++) {
        CacheEntry *e = &c->entries[i];
        if (e->pins) {
            continue;
        }
        if (e->offset == 0) {
            return i;
        }
        if (victim < 0 || e->last_use < c->entries[victim].last_use) {
            victim = i;
        }
    }
    if (victim < 0) {
        g_set_error(errp, BLOCK_ERROR, ENOMEM,
                    "qcow2 metadata cache is full of tables in use");
        return -ENOMEM;
    }
    int r = write_entry(c, victim, errp);
    if (r < 0) {
        return r;
    }
    c->entries[victim].offset = 0;
    return victim;
}

static int get(Qcow2Cache *c, uint64_t offset, void **table, bool read,
               GError **errp)
{
    if (offset == 0 || (offset % c->table_size) != 0) {
        g_set_error(errp, BLOCK_ERROR, EIO,
                    "qcow2 metadata table offset 0x%" PRIx64 " is invalid",
                    offset);
        return -EIO;
    }
    int i = find(c, offset);
    if (i < 0) {
        i = choose_victim(c, errp);
        if (i < 0) {
            return i;
        }
        if (read) {
            int r = host_file_pread(c->file, offset, table_of(c, i),
                                    c->table_size, errp);
            if (r < 0) {
                return r;
            }
        }
        c->entries[i].offset = offset;
        c->last_hit = i;
    }
    CacheEntry *e = &c->entries[i];
    e->pins++;
    e->last_use = ++c->use_counter;
    *table = table_of(c, i);
    return 0;
}

int qcow2_cache_get(Qcow2Cache *c, uint64_t offset, void **table,
                    GError **errp)
{
    return get(c, offset, table, true, errp);
}

bool qcow2_cache_get_cached(Qcow2Cache *c, uint64_t offset, void **table)
{
    int i = offset && offset % c->table_size == 0 ? find(c, offset) : -1;
    if (i < 0) {
        return false;
    }
    CacheEntry *e = &c->entries[i];
    e->pins++;
    e->last_use = ++c->use_counter;
    *table = table_of(c, i);
    return true;
}

int qcow2_cache_get_empty(Qcow2Cache *c, uint64_t offset, void **table,
                          GError **errp)
{
    return get(c, offset, table, false, errp);
}

void qcow2_cache_put(Qcow2Cache *c, void *table)
{
    int i = index_of(c, table);
    g_assert(i >= 0 && i < c->nb_tables && c->entries[i].pins > 0);
    c->entries[i].pins--;
}

void qcow2_cache_mark_dirty(Qcow2Cache *c, void *table)
{
    int i = index_of(c, table);
    g_assert(i >= 0 && i < c->nb_tables);
    if (!c->entries[i].dirty) {
        c->entries[i].dirty = true;
        c->dirty_count++;
    }
}

void qcow2_cache_forget(Qcow2Cache *c, uint64_t offset)
{
    int i = find(c, offset);
    if (i < 0) {
        return;
    }
    CacheEntry *e = &c->entries[i];
    if (e->dirty) {
        c->dirty_count--;
    }
    e->dirty = false;
    e->offset = 0;
}

void qcow2_cache_forget_all(Qcow2Cache *c)
{
    for (int i = 0; i < c->nb_tables; i++) {
        c->entries[i].offset = 0;
        c->entries[i].dirty = false;
    }
    c->dirty_count = 0;
}
