/*
 * KVM memory slots kept in step with the machine's memory address space.  A
 * MemoryListener gets every new flat view; each RAM or ROM range of it (page
 * aligned, trimmed inwards) becomes a slot (KVM_SET_USER_MEMORY_REGION), ROM
 * and read-only RAM with KVM_MEM_READONLY so that guest writes exit as MMIO
 * and reach the address space (which ignores them).  Whatever is not in a
 * slot -- MMIO, holes, the sub-page edges of a range -- exits to userspace
 * and is dispatched through the same address space, so a vCPU that runs
 * while slots change only takes a slower path, never a wrong one.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

#define KVM_PAGE_SIZE 4096ull

typedef struct WantedSlot {
    uint64_t gpa, size, hva;
    uint32_t flags;
} WantedSlot;

static bool slot_set(KvmState *s, unsigned id, const KvmSlot *sl, uint64_t size)
{
    struct kvm_userspace_memory_region r = {
        .slot = id,
        .flags = sl->flags,
        .guest_phys_addr = sl->gpa,
        .memory_size = size,
        .userspace_addr = sl->hva,
    };
    return ioctl(s->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) == 0;
}

/* The page-aligned RAM/ROM slots a view asks for. */
static unsigned wanted_slots(KvmState *s, const FlatView *v, WantedSlot *out,
                             unsigned max)
{
    unsigned n = 0;

    for (unsigned i = 0; i < v->nr && n < max; i++) {
        const FlatRange *fr = &v->ranges[i];
        const MemoryRegion *mr = fr->mr;
        if ((mr->kind != MR_RAM && mr->kind != MR_ROM) || !mr->host) {
            continue;
        }
        uint64_t start = (fr->start + KVM_PAGE_SIZE - 1) & ~(KVM_PAGE_SIZE - 1);
        uint64_t end = fr->end == UINT64_MAX ? fr->end
                                             : fr->end + 1; /* exclusive */
        end &= ~(KVM_PAGE_SIZE - 1);
        if (start < fr->start || end <= start) {
            continue;
        }
        uint64_t hva = (uint64_t)(uintptr_t)mr->host + fr->offset +
                       (start - fr->start);
        if (hva & (KVM_PAGE_SIZE - 1)) {
            continue; /* host pointer not page aligned: leave it to MMIO */
        }
        bool ro = mr->kind == MR_ROM || mr->readonly_for_guest;
        if (ro && !s->readonly_mem) {
            /* Without read-only slots a ROM would be writable; keep it out
             * of KVM (reads and fetches from it then exit as MMIO). */
            continue;
        }
        out[n++] = (WantedSlot){ start, end - start, hva,
                                 ro ? KVM_MEM_READONLY : 0 };
    }
    return n;
}

static void kvm_ram_changed(void *opaque, const FlatView *v)
{
    KvmState *s = opaque;
    WantedSlot *want = g_new(WantedSlot, s->nr_slots);

    g_mutex_lock(&s->slots_lock);
    unsigned nr_want = wanted_slots(s, v, want, s->nr_slots);
    bool *keep = g_new0(bool, nr_want);

    /* Drop the slots the view no longer has; keep identical ones. */
    for (unsigned id = 0; id < s->nr_slots; id++) {
        KvmSlot *sl = &s->slots[id];
        if (!sl->used) {
            continue;
        }
        bool found = false;
        for (unsigned w = 0; w < nr_want && !found; w++) {
            if (!keep[w] && want[w].gpa == sl->gpa && want[w].size == sl->size &&
                want[w].hva == sl->hva && want[w].flags == sl->flags) {
                keep[w] = true;
                found = true;
            }
        }
        if (!found) {
            slot_set(s, id, sl, 0);
            sl->used = false;
        }
    }
    /* Add the new ones. */
    unsigned id = 0;
    for (unsigned w = 0; w < nr_want; w++) {
        if (keep[w]) {
            continue;
        }
        while (id < s->nr_slots && s->slots[id].used) {
            id++;
        }
        if (id == s->nr_slots) {
            break; /* out of slots: the rest is served as MMIO */
        }
        KvmSlot sl = { true, want[w].gpa, want[w].size, want[w].hva,
                       want[w].flags };
        if (slot_set(s, id, &sl, sl.size)) {
            s->slots[id] = sl;
        } else {
            g_warning("KVM_SET_USER_MEMORY_REGION 0x%llx+0x%llx: %s",
                      (unsigned long long)sl.gpa, (unsigned long long)sl.size,
                      g_strerror(errno));
        }
    }
    g_mutex_unlock(&s->slots_lock);
    g_free(keep);
    g_free(want);
}

bool kvm_memory_init(KvmState *s, GError **errp)
{
    int nr = kvm_check_extension(s, KVM_CAP_NR_MEMSLOTS);
    s->nr_slots = nr > 0 ? (unsigned)nr : 32;
    if (s->nr_slots > 512) {
        s->nr_slots = 512;
    }
    s->slots = g_new0(KvmSlot, s->nr_slots);
    s->readonly_mem = kvm_check_extension(s, KVM_CAP_READONLY_MEM) > 0;
    g_mutex_init(&s->slots_lock);

    MemoryListener l = { .ram_changed = kvm_ram_changed, .opaque = s };
    address_space_add_listener(s->accel->mem, &l); /* calls it once now */
    for (unsigned id = 0; id < s->nr_slots; id++) {
        if (s->slots[id].used) {
            return true;
        }
    }
    error_setg(errp, "KVM refused every memory slot for guest RAM");
    return false;
}

void kvm_memory_destroy(KvmState *s)
{
    if (s->slots) {
        g_mutex_clear(&s->slots_lock);
    }
    g_free(s->slots);
    s->slots = NULL;
}
