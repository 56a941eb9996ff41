/*
 * Address spaces: mapping regions, flattening them into a sorted view, and
 * dispatching accesses (see memory.h for the model).
 *
 * Flattening: regions are painted in order of increasing priority (ties in
 * mapping order) onto an interval list, so the last painter wins.  The result
 * is sorted and non-overlapping, which makes lookups a binary search.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/memory.h"

void memory_region_init_ram(MemoryRegion *mr, const char *name, uint8_t *host,
                            uint64_t ram_offset, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = name;
    mr->kind = MR_RAM;
    mr->host = host;
    mr->ram_offset = ram_offset;
    mr->size = size;
}

void memory_region_init_rom(MemoryRegion *mr, const char *name, uint8_t *host,
                            uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = name;
    mr->kind = MR_ROM;
    mr->host = host;
    mr->size = size;
}

void memory_region_init_io(MemoryRegion *mr, const char *name,
                           const MemoryRegionOps *ops, void *opaque,
                           uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = name;
    mr->kind = MR_MMIO;
    mr->ops = ops;
    mr->opaque = opaque;
    mr->size = size;
}

/* ---- flattening ---- */

typedef struct RangeList {
    FlatRange *r;
    unsigned nr, cap;
} RangeList;

static void rl_push(RangeList *l, FlatRange fr)
{
    if (l->nr == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->r = g_renew(FlatRange, l->r, l->cap);
    }
    l->r[l->nr++] = fr;
}

/* Paint [start,end] with mr over the sorted list *in, producing *out. */
static void paint(const RangeList *in, RangeList *out, MemoryRegion *mr,
                  uint64_t start, uint64_t end)
{
    bool placed = false;
    out->nr = 0;
    for (unsigned i = 0; i < in->nr; i++) {
        FlatRange fr = in->r[i];
        if (fr.end < start || fr.start > end) {
            if (!placed && fr.start > end) {
                rl_push(out, (FlatRange){ start, end, mr, 0 });
                placed = true;
            }
            rl_push(out, fr);
            continue;
        }
        if (fr.start < start) {
            FlatRange left = fr;
            left.end = start - 1;
            rl_push(out, left);
        }
        if (!placed) {
            rl_push(out, (FlatRange){ start, end, mr, 0 });
            placed = true;
        }
        if (fr.end > end) {
            FlatRange right = fr;
            right.start = end + 1;
            rl_push(out, right);
        }
    }
    if (!placed) {
        rl_push(out, (FlatRange){ start, end, mr, 0 });
    }
}

static int by_priority(const void *a, const void *b)
{
    const MemoryRegion *x = *(MemoryRegion *const *)a;
    const MemoryRegion *y = *(MemoryRegion *const *)b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

static FlatView *build_view(AddressSpace *as)
{
    /* Insertion sort by priority keeps mapping order among equals. */
    MemoryRegion **order = g_new(MemoryRegion *, as->nr_regions + 1);
    if (as->nr_regions) {
        memcpy(order, as->regions, sizeof(*order) * as->nr_regions);
    }
    for (unsigned i = 1; i < as->nr_regions; i++) {
        MemoryRegion *k = order[i];
        unsigned j = i;
        while (j > 0 && by_priority(&order[j - 1], &k) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    RangeList a = { 0 }, b = { 0 };
    for (unsigned i = 0; i < as->nr_regions; i++) {
        MemoryRegion *mr = order[i];
        paint(&a, &b, mr, mr->base, mr->base + mr->size - 1);
        RangeList t = a;
        a = b;
        b = t;
    }
    FlatView *v = g_malloc(sizeof(FlatView) + sizeof(FlatRange) * a.nr);
    v->nr = a.nr;
    v->generation = ++as->generation;
    if (a.nr) {
        memcpy(v->ranges, a.r, sizeof(FlatRange) * a.nr);
    }
    /* A piece may start after its region's base (cut on the left). */
    for (unsigned i = 0; i < v->nr; i++) {
        FlatRange *fr = &v->ranges[i];
        fr->offset = fr->start - fr->mr->base;
    }
    g_free(a.r);
    g_free(b.r);
    g_free(order);
    return v;
}

static void publish(AddressSpace *as)
{
    if (as->batch_depth) {
        as->dirty = true;
        return;
    }
    as->dirty = false;
    FlatView *nv = build_view(as);
    FlatView *old = __atomic_exchange_n(&as->view, nv, __ATOMIC_ACQ_REL);
    if (old) {
        as->retired = g_renew(FlatView *, as->retired, as->nr_retired + 1);
        as->retired[as->nr_retired++] = old;
    }
    for (unsigned i = 0; i < as->nr_listeners; i++) {
        if (as->listeners[i].ram_changed) {
            as->listeners[i].ram_changed(as->listeners[i].opaque, nv);
        }
    }
}

void address_space_init(AddressSpace *as, const char *name, uint64_t size_mask)
{
    memset(as, 0, sizeof(*as));
    as->name = name;
    as->size_mask = size_mask;
    publish(as);
}

void address_space_destroy(AddressSpace *as)
{
    for (unsigned i = 0; i < as->nr_retired; i++) {
        g_free(as->retired[i]);
    }
    g_free(as->retired);
    g_free(as->view);
    g_free(as->regions);
    memset(as, 0, sizeof(*as));
}

bool address_space_map(AddressSpace *as, MemoryRegion *mr, uint64_t base,
                       int priority)
{
    if (mr->size == 0 || mr->as) {
        return false;
    }
    uint64_t last = base + mr->size - 1;
    if (last < base || last > as->size_mask) {
        return false;
    }
    if (as->nr_regions == as->cap_regions) {
        as->cap_regions = as->cap_regions ? as->cap_regions * 2 : 16;
        as->regions = g_renew(MemoryRegion *, as->regions, as->cap_regions);
    }
    mr->as = as;
    mr->base = base;
    mr->priority = priority;
    as->regions[as->nr_regions++] = mr;
    publish(as);
    return true;
}

void address_space_unmap(AddressSpace *as, MemoryRegion *mr)
{
    for (unsigned i = 0; i < as->nr_regions; i++) {
        if (as->regions[i] == mr) {
            memmove(&as->regions[i], &as->regions[i + 1],
                    sizeof(*as->regions) * (as->nr_regions - i - 1));
            as->nr_regions--;
            mr->as = NULL;
            publish(as);
            return;
        }
    }
}

bool address_space_remap(AddressSpace *as, MemoryRegion *mr, uint64_t base)
{
    uint64_t last = base + mr->size - 1;
    if (mr->as != as || last < base || last > as->size_mask) {
        return false;
    }
    if (mr->base != base) {
        mr->base = base;
        publish(as);
    }
    return true;
}

void address_space_begin(AddressSpace *as)
{
    as->batch_depth++;
}

void address_space_commit(AddressSpace *as)
{
    if (as->batch_depth && --as->batch_depth == 0 && as->dirty) {
        publish(as);
    }
}

void address_space_add_listener(AddressSpace *as, const MemoryListener *l)
{
    g_assert(as->nr_listeners < ADDRESS_SPACE_MAX_LISTENERS);
    as->listeners[as->nr_listeners++] = *l;
    if (l->ram_changed) {
        l->ram_changed(l->opaque, address_space_view(as));
    }
}

void address_space_notify_written(AddressSpace *as, uint64_t addr,
                                  uint64_t len)
{
    for (unsigned i = 0; i < as->nr_listeners; i++) {
        if (as->listeners[i].ram_written && len) {
            as->listeners[i].ram_written(as->listeners[i].opaque, addr, len);
        }
    }
}

const FlatRange *flatview_lookup(const FlatView *v, uint64_t addr)
{
    unsigned lo = 0, hi = v->nr;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const FlatRange *fr = &v->ranges[mid];
        if (addr < fr->start) {
            hi = mid;
        } else if (addr > fr->end) {
            lo = mid + 1;
        } else {
            return fr;
        }
    }
    return NULL;
}

/* ---- dispatch ---- */

static uint64_t size_mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint64_t mmio_read(const FlatRange *fr, uint64_t addr, unsigned size)
{
    const MemoryRegionOps *ops = fr->mr->ops;
    uint64_t off = addr - fr->start + fr->offset;
    unsigned min = ops->min_access ? ops->min_access : 1;
    unsigned max = ops->max_access ? ops->max_access : 8;
    if (!ops->read) {
        return size_mask_of(size);
    }
    if (size < min) {
        uint64_t aligned = off & ~(uint64_t)(min - 1);
        uint64_t v = ops->read(fr->mr->opaque, aligned, min);
        return (v >> ((off - aligned) * 8)) & size_mask_of(size);
    }
    if (size > max) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += max) {
            v |= (ops->read(fr->mr->opaque, off + i, max) & size_mask_of(max))
                 << (i * 8);
        }
        return v;
    }
    return ops->read(fr->mr->opaque, off, size) & size_mask_of(size);
}

static void mmio_write(const FlatRange *fr, uint64_t addr, uint64_t val,
                       unsigned size)
{
    const MemoryRegionOps *ops = fr->mr->ops;
    uint64_t off = addr - fr->start + fr->offset;
    unsigned min = ops->min_access ? ops->min_access : 1;
    unsigned max = ops->max_access ? ops->max_access : 8;
    if (!ops->write) {
        return;
    }
    if (size < min) {
        /* Widen with a read-modify-write of the containing unit. */
        uint64_t aligned = off & ~(uint64_t)(min - 1);
        unsigned shift = (off - aligned) * 8;
        uint64_t cur = ops->read ? ops->read(fr->mr->opaque, aligned, min) : 0;
        uint64_t mask = size_mask_of(size) << shift;
        cur = (cur & ~mask) | ((val << shift) & mask);
        ops->write(fr->mr->opaque, aligned, cur, min);
        return;
    }
    if (size > max) {
        for (unsigned i = 0; i < size; i += max) {
            ops->write(fr->mr->opaque, off + i,
                       (val >> (i * 8)) & size_mask_of(max), max);
        }
        return;
    }
    ops->write(fr->mr->opaque, off, val & size_mask_of(size), size);
}

static uint64_t read_small(AddressSpace *as, const FlatView *v, uint64_t addr,
                           unsigned size)
{
    const FlatRange *fr = flatview_lookup(v, addr);
    if (!fr) {
        if (as->unassigned_hook) {
            as->unassigned_hook(as->unassigned_opaque, addr, false);
        }
        return size_mask_of(size);
    }
    if (fr->mr->kind == MR_MMIO) {
        return mmio_read(fr, addr, size);
    }
    uint64_t val = 0;
    memcpy(&val, fr->mr->host + (addr - fr->start + fr->offset), size);
    return val;
}

static void write_small(AddressSpace *as, const FlatView *v, uint64_t addr,
                        uint64_t val, unsigned size)
{
    const FlatRange *fr = flatview_lookup(v, addr);
    if (!fr) {
        if (as->unassigned_hook) {
            as->unassigned_hook(as->unassigned_opaque, addr, true);
        }
        return;
    }
    switch (fr->mr->kind) {
    case MR_MMIO:
        mmio_write(fr, addr, val, size);
        break;
    case MR_RAM:
        if (!fr->mr->readonly_for_guest) {
            memcpy(fr->mr->host + (addr - fr->start + fr->offset), &val, size);
        }
        break;
    case MR_ROM:
        break;
    }
}

/* True if [addr, addr+size) lies in one range of the view. */
static bool within_one(const FlatView *v, uint64_t addr, unsigned size,
                       const FlatRange **out)
{
    const FlatRange *fr = flatview_lookup(v, addr);
    *out = fr;
    uint64_t last = addr + size - 1;
    if (last < addr) {
        return false;
    }
    return fr ? last <= fr->end : flatview_lookup(v, last) == NULL;
}

uint64_t address_space_read_val(AddressSpace *as, uint64_t addr, unsigned size)
{
    const FlatView *v = address_space_view(as);
    const FlatRange *fr;
    addr &= as->size_mask;
    if (within_one(v, addr, size, &fr)) {
        return read_small(as, v, addr, size);
    }
    uint64_t val = 0;
    for (unsigned i = 0; i < size; i++) {
        val |= read_small(as, v, (addr + i) & as->size_mask, 1) << (i * 8);
    }
    return val;
}

void address_space_write_val(AddressSpace *as, uint64_t addr, uint64_t value,
                             unsigned size)
{
    const FlatView *v = address_space_view(as);
    const FlatRange *fr;
    addr &= as->size_mask;
    if (within_one(v, addr, size, &fr)) {
        write_small(as, v, addr, value, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        write_small(as, v, (addr + i) & as->size_mask, (value >> (i * 8)) & 0xff,
                    1);
    }
}

uint64_t address_space_read_val_locked(AddressSpace *as, GMutex *lock,
                                       uint64_t addr, unsigned size)
{
    g_mutex_lock(lock);
    uint64_t v = address_space_read_val(as, addr, size);
    g_mutex_unlock(lock);
    return v;
}

void address_space_write_val_locked(AddressSpace *as, GMutex *lock,
                                    uint64_t addr, uint64_t value,
                                    unsigned size)
{
    g_mutex_lock(lock);
    address_space_write_val(as, addr, value, size);
    g_mutex_unlock(lock);
}

void address_space_read(AddressSpace *as, uint64_t addr, void *buf, size_t len)
{
    const FlatView *v = address_space_view(as);
    uint8_t *out = buf;
    while (len) {
        const FlatRange *fr = flatview_lookup(v, addr);
        size_t chunk = 1;
        if (fr && fr->mr->kind != MR_MMIO) {
            uint64_t avail = fr->end - addr + 1;
            chunk = avail < len ? avail : len;
            memcpy(out, fr->mr->host + (addr - fr->start + fr->offset), chunk);
        } else {
            *out = (uint8_t)read_small(as, v, addr, 1);
        }
        out += chunk;
        addr += chunk;
        len -= chunk;
    }
}

void address_space_write(AddressSpace *as, uint64_t addr, const void *buf,
                         size_t len)
{
    const FlatView *v = address_space_view(as);
    const uint8_t *in = buf;
    while (len) {
        const FlatRange *fr = flatview_lookup(v, addr);
        size_t chunk = 1;
        if (fr && fr->mr->kind == MR_RAM && !fr->mr->readonly_for_guest) {
            uint64_t avail = fr->end - addr + 1;
            chunk = avail < len ? avail : len;
            memcpy(fr->mr->host + (addr - fr->start + fr->offset), in, chunk);
        } else {
            write_small(as, v, addr, *in, 1);
        }
        in += chunk;
        addr += chunk;
        len -= chunk;
    }
}

uint8_t *address_space_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len)
{
    const FlatView *v = address_space_view(as);
    const FlatRange *fr = flatview_lookup(v, addr);
    if (!fr || fr->mr->kind != MR_RAM || len == 0) {
        return NULL;
    }
    uint64_t last = addr + len - 1;
    if (last < addr || last > fr->end) {
        return NULL;
    }
    return fr->mr->host + (addr - fr->start + fr->offset);
}

/* True if [addr, addr+len) is RAM all the way (possibly over several
 * adjacent RAM ranges), and writable by the guest if for_write. */
static bool all_ram(AddressSpace *as, uint64_t addr, size_t len, bool for_write)
{
    const FlatView *v = address_space_view(as);
    uint64_t a = addr;
    size_t left = len;
    while (left) {
        const FlatRange *fr = flatview_lookup(v, a);
        if (!fr || fr->mr->kind != MR_RAM ||
            (for_write && fr->mr->readonly_for_guest)) {
            return false;
        }
        uint64_t avail = fr->end - a + 1;
        left -= avail < left ? avail : left;
        a += avail;
        if (left && a == 0) {
            return false;
        }
    }
    return true;
}

bool dma_read(AddressSpace *as, uint64_t addr, void *buf, size_t len)
{
    uint8_t *p = len ? address_space_ram_ptr(as, addr, len) : NULL;
    if (p) {
        memcpy(buf, p, len);
        return true;
    }
    if (!all_ram(as, addr, len, false)) {
        return false;
    }
    address_space_read(as, addr, buf, len);
    return true;
}

bool dma_write(AddressSpace *as, uint64_t addr, const void *buf, size_t len)
{
    uint8_t *p = len ? address_space_ram_ptr(as, addr, len) : NULL;
    if (p && !flatview_lookup(address_space_view(as), addr)->mr->readonly_for_guest) {
        memcpy(p, buf, len);
        address_space_notify_written(as, addr, len);
        return true;
    }
    if (!all_ram(as, addr, len, true)) {
        return false;
    }
    address_space_write(as, addr, buf, len);
    address_space_notify_written(as, addr, len);
    return true;
}
