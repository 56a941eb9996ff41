/*
 * Guest memory and address spaces.
 *
 * A machine has two address spaces: memory (physical addresses, 64-bit) and
 * I/O ports (16-bit).  Each is a sorted set of regions mapped at a base
 * address.  A region is RAM (backed by a host pointer into the one guest RAM
 * mapping), ROM (host-backed, writes ignored), or MMIO (read/write callbacks).
 * Overlaps are resolved by priority (higher wins, later mapping wins on ties),
 * and the result is flattened into a sorted array of non-overlapping ranges
 * that lookups binary-search.  Views are immutable once published; a new view
 * replaces the old one atomically, so readers on vCPU threads never lock.
 *
 * Device DMA goes through dma_read()/dma_write()/dma_map(), which check that a
 * guest range lies wholly in RAM before touching host memory.
 */
#ifndef KESTREL_CORE_MEMORY_H
#define KESTREL_CORE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

typedef struct MemoryRegion MemoryRegion;
typedef struct AddressSpace AddressSpace;

/* Callbacks of an MMIO or port-I/O region.  addr is relative to the region
 * start; size is 1, 2, 4 or 8 bytes.  Accesses wider than max_access are split
 * into little-endian pieces; narrower than min_access are widened and masked. */
typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t value, unsigned size);
    unsigned min_access; /* 0 means 1 */
    unsigned max_access; /* 0 means 8 */
} MemoryRegionOps;

typedef enum MemoryRegionKind {
    MR_RAM,
    MR_ROM,
    MR_MMIO,
} MemoryRegionKind;

struct MemoryRegion {
    const char *name;
    MemoryRegionKind kind;
    uint64_t size;
    uint8_t *host;              /* RAM/ROM: host pointer of offset 0 */
    uint64_t ram_offset;        /* RAM: offset of host within the guest RAM block */
    const MemoryRegionOps *ops; /* MMIO */
    void *opaque;               /* MMIO */
    /* Set by address_space_map(); a region is mapped in at most one place. */
    AddressSpace *as;
    uint64_t base;
    int priority;
    bool readonly_for_guest; /* RAM mapped read-only (e.g. shadowed BIOS) */
};

void memory_region_init_ram(MemoryRegion *mr, const char *name, uint8_t *host,
                            uint64_t ram_offset, uint64_t size);
void memory_region_init_rom(MemoryRegion *mr, const char *name, uint8_t *host,
                            uint64_t size);
void memory_region_init_io(MemoryRegion *mr, const char *name,
                           const MemoryRegionOps *ops, void *opaque,
                           uint64_t size);

/* One piece of a flattened view: [start, end] (inclusive end, so a range can
 * reach 2^64 - 1) served by mr at offset. */
typedef struct FlatRange {
    uint64_t start;
    uint64_t end;
    MemoryRegion *mr;
    uint64_t offset; /* offset of start within mr */
} FlatRange;

typedef struct FlatView {
    unsigned nr;
    unsigned generation;
    FlatRange ranges[];
} FlatView;

/* ram_changed is called (with the view already published) when the set of
 * RAM/ROM ranges of a memory address space changes; KVM uses it to keep
 * memslots in step.  ram_written is called, from any thread, after a device
 * wrote guest RAM behind the CPU's back (DMA), so that the software CPU can
 * drop translated code of those pages.  Either may be NULL. */
typedef struct MemoryListener {
    void (*ram_changed)(void *opaque, const FlatView *view);
    void (*ram_written)(void *opaque, uint64_t addr, uint64_t len);
    void *opaque;
} MemoryListener;

#define ADDRESS_SPACE_MAX_LISTENERS 4

struct AddressSpace {
    const char *name;
    uint64_t size_mask;           /* all-ones for memory, 0xffff for ports */
    MemoryRegion **regions;       /* mapped regions, in mapping order */
    unsigned nr_regions;
    unsigned cap_regions;
    FlatView *_Atomic view;       /* current view; never freed while in use */
    FlatView **retired;           /* old views, freed in address_space_destroy */
    unsigned nr_retired;
    MemoryListener listeners[ADDRESS_SPACE_MAX_LISTENERS];
    unsigned nr_listeners;
    unsigned generation;
    unsigned batch_depth;         /* >0 while updates are batched */
    bool dirty;                   /* a batched update is pending */
    /* Handlers for accesses that hit no region (defaults: reads all-ones,
     * writes ignored).  Port 0x80 style devices just map a region instead. */
    void (*unassigned_hook)(void *opaque, uint64_t addr, bool is_write);
    void *unassigned_opaque;
};

void address_space_init(AddressSpace *as, const char *name, uint64_t size_mask);
void address_space_destroy(AddressSpace *as);

/* Map mr at base.  Returns false (and does nothing) if the range wraps or
 * exceeds the space. */
bool address_space_map(AddressSpace *as, MemoryRegion *mr, uint64_t base,
                       int priority);
void address_space_unmap(AddressSpace *as, MemoryRegion *mr);
/* Move an already mapped region (PCI BAR reprogramming). */
bool address_space_remap(AddressSpace *as, MemoryRegion *mr, uint64_t base);

/* Group several map/unmap calls into one new view. */
void address_space_begin(AddressSpace *as);
void address_space_commit(AddressSpace *as);

void address_space_add_listener(AddressSpace *as, const MemoryListener *l);

/* Current view; valid until the address space is destroyed. */
static inline const FlatView *address_space_view(AddressSpace *as)
{
    return __atomic_load_n(&as->view, __ATOMIC_ACQUIRE);
}

/* The range holding addr, or NULL. */
const FlatRange *flatview_lookup(const FlatView *v, uint64_t addr);

/* Dispatch one access of size 1/2/4/8 (CPU loads/stores, port I/O).
 * Unaligned or region-crossing accesses are split into bytes. */
uint64_t address_space_read_val(AddressSpace *as, uint64_t addr, unsigned size);
void address_space_write_val(AddressSpace *as, uint64_t addr, uint64_t value,
                             unsigned size);

/* The same, holding lock (the machine lock) around the dispatch: how vCPU
 * threads reach devices. */
uint64_t address_space_read_val_locked(AddressSpace *as, GMutex *lock,
                                       uint64_t addr, unsigned size);
void address_space_write_val_locked(AddressSpace *as, GMutex *lock,
                                    uint64_t addr, uint64_t value,
                                    unsigned size);

/* Copy a buffer to/from guest physical memory through whatever is mapped
 * there (RAM is copied, MMIO is dispatched, holes read as 0xff). */
void address_space_read(AddressSpace *as, uint64_t addr, void *buf, size_t len);
void address_space_write(AddressSpace *as, uint64_t addr, const void *buf,
                         size_t len);

/* Host pointer for [addr, addr+len) if it lies wholly inside one RAM range,
 * else NULL.  Used by loaders, DMA and the software TLB. */
uint8_t *address_space_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len);

/* DMA helpers for devices: succeed only if the whole range is RAM.  They
 * return false for any other guest address, and touch nothing then. */
bool dma_read(AddressSpace *as, uint64_t addr, void *buf, size_t len);
bool dma_write(AddressSpace *as, uint64_t addr, const void *buf, size_t len);

/* A device wrote [addr, addr+len) of RAM through a pointer it mapped with
 * address_space_ram_ptr() (dma_write() says so itself): tell the listeners. */
void address_space_notify_written(AddressSpace *as, uint64_t addr,
                                  uint64_t len);

/* Load helpers for little-endian values in host buffers. */
static inline uint16_t ld16(const void *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
static inline uint32_t ld32(const void *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline void st16(void *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
static inline void st32(void *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void st64(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }

#endif
