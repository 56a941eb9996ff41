/*
 * Interrupt routing and eventfd shortcuts of the KVM accelerator (Linux KVM
 * API documentation: KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD).
 *
 * The GSI routing table holds the board's wiring of GSIs 0..23 to the
 * in-kernel 8259 pair and IOAPIC (see kvm_irq_routing_init) and, on GSIs
 * from KVM_NR_GSI up, one MSI route per MSI-X vector a device delivers
 * through an irqfd.  KVM takes the whole table at once, so every change
 * rewrites it.
 *
 * ioeventfd: a guest write of the registered length at a registered MMIO
 * address completes inside KVM, which signals the eventfd; the vCPU goes on
 * without an exit to user space, and the device's handler runs when the
 * main loop sees the eventfd.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm-int.h"
#include "core/error.h"

/* Room for the board's routes (24 I/O APIC + 16 8259 pins) and the MSI
 * routes; KVM allows at least 1024 (KVM_CAP_IRQ_ROUTING says how many). */
#define BOARD_ROUTES 48
#define MAX_ROUTES (BOARD_ROUTES + KVM_MAX_MSI_ROUTES)

static bool commit_routes(KvmState *s)
{
    if (ioctl(s->vm_fd, KVM_SET_GSI_ROUTING, s->routes) < 0) {
        warn_report("KVM_SET_GSI_ROUTING: %s", g_strerror(errno));
        return false;
    }
    return true;
}

static void add_irqchip_route(KvmState *s, unsigned gsi, unsigned chip,
                              unsigned pin)
{
    struct kvm_irq_routing_entry *e = &s->routes->entries[s->routes->nr++];
    memset(e, 0, sizeof(*e));
    e->gsi = gsi;
    e->type = KVM_IRQ_ROUTING_IRQCHIP;
    e->u.irqchip.irqchip = chip;
    e->u.irqchip.pin = pin;
}

/*
 * Kestrel's GSI numbers are those of the board (Machine.gsi[n]): GSI n < 16
 * is ISA IRQ n and reaches 8259 pin n and I/O APIC pin n; GSIs 16..23 reach
 * only the I/O APIC.  The 8254 is the exception: its output is ISA IRQ 0,
 * wired (as on every PC, and as the MADT interrupt source override says) to
 * 8259 pin 0 and I/O APIC pin 2.  The in-kernel 8254 raises GSI 0 and a
 * userspace one raises GSI 2, so both GSIs get that wiring.  8259 pin 2 is
 * the cascade and gets nothing.
 */
bool kvm_irq_routing_init(KvmState *s, GError **errp)
{
    g_mutex_init(&s->routes_lock);
    s->routes = g_malloc0(sizeof(*s->routes) +
                          MAX_ROUTES * sizeof(s->routes->entries[0]));
    for (unsigned gsi = 0; gsi < KVM_NR_GSI; gsi++) {
        unsigned ioapic_pin = gsi;
        int pic_pin = gsi < 16 ? (int)gsi : -1;
        if (gsi == 0 || gsi == 2) {
            ioapic_pin = 2;
            pic_pin = 0;
        }
        if (pic_pin >= 0) {
            add_irqchip_route(s, gsi, pic_pin < 8 ? KVM_IRQCHIP_PIC_MASTER
                                                  : KVM_IRQCHIP_PIC_SLAVE,
                              (unsigned)pic_pin & 7);
        }
        add_irqchip_route(s, gsi, KVM_IRQCHIP_IOAPIC, ioapic_pin);
    }
    if (ioctl(s->vm_fd, KVM_SET_GSI_ROUTING, s->routes) < 0) {
        error_setg(errp, "KVM_SET_GSI_ROUTING: %s", g_strerror(errno));
        return false;
    }
    s->has_irqfd = kvm_check_extension(s, KVM_CAP_IRQFD) > 0;
    return true;
}

void kvm_irq_routing_destroy(KvmState *s)
{
    if (s->routes) {
        g_free(s->routes);
        s->routes = NULL;
        g_mutex_clear(&s->routes_lock);
    }
}

static struct kvm_irq_routing_entry *find_msi_route(KvmState *s, int route)
{
    for (unsigned i = 0; i < s->routes->nr; i++) {
        struct kvm_irq_routing_entry *e = &s->routes->entries[i];
        if (e->type == KVM_IRQ_ROUTING_MSI && e->gsi == (unsigned)route) {
            return e;
        }
    }
    return NULL;
}

static void set_msi(struct kvm_irq_routing_entry *e, uint64_t addr,
                    uint32_t data)
{
    e->u.msi.address_lo = (uint32_t)addr;
    e->u.msi.address_hi = (uint32_t)(addr >> 32);
    e->u.msi.data = data;
}

static int kvm_add_msi_route(Accel *a, uint64_t addr, uint32_t data)
{
    KvmState *s = kvm_state(a);
    if (!s->routes || !s->has_irqfd) {
        return -1;
    }
    g_mutex_lock(&s->routes_lock);
    int route = -1;
    for (unsigned i = 0; i < KVM_MAX_MSI_ROUTES; i++) {
        if (!(s->msi_routes_used[i / 8] & (1u << (i % 8)))) {
            route = (int)(KVM_NR_GSI + i);
            s->msi_routes_used[i / 8] |= (uint8_t)(1u << (i % 8));
            break;
        }
    }
    if (route >= 0) {
        struct kvm_irq_routing_entry *e = &s->routes->entries[s->routes->nr++];
        memset(e, 0, sizeof(*e));
        e->gsi = (unsigned)route;
        e->type = KVM_IRQ_ROUTING_MSI;
        set_msi(e, addr, data);
        if (!commit_routes(s)) {
            s->routes->nr--;
            unsigned i = (unsigned)route - KVM_NR_GSI;
            s->msi_routes_used[i / 8] &= (uint8_t)~(1u << (i % 8));
            route = -1;
        }
    }
    g_mutex_unlock(&s->routes_lock);
    return route;
}

static bool kvm_update_msi_route(Accel *a, int route, uint64_t addr,
                                 uint32_t data)
{
    KvmState *s = kvm_state(a);
    bool ok = false;
    g_mutex_lock(&s->routes_lock);
    struct kvm_irq_routing_entry *e = find_msi_route(s, route);
    if (e) {
        if (e->u.msi.address_lo == (uint32_t)addr &&
            e->u.msi.address_hi == (uint32_t)(addr >> 32) &&
            e->u.msi.data == data) {
            ok = true;
        } else {
            set_msi(e, addr, data);
            ok = commit_routes(s);
        }
    }
    g_mutex_unlock(&s->routes_lock);
    return ok;
}

static void kvm_del_msi_route(Accel *a, int route)
{
    KvmState *s = kvm_state(a);
    g_mutex_lock(&s->routes_lock);
    struct kvm_irq_routing_entry *e = find_msi_route(s, route);
    if (e) {
        *e = s->routes->entries[--s->routes->nr];
        unsigned i = (unsigned)route - KVM_NR_GSI;
        s->msi_routes_used[i / 8] &= (uint8_t)~(1u << (i % 8));
        commit_routes(s);
    }
    g_mutex_unlock(&s->routes_lock);
}

static bool irqfd(KvmState *s, int fd, int route, bool assign)
{
    struct kvm_irqfd req = {
        .fd = (uint32_t)fd,
        .gsi = (uint32_t)route,
        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };
    if (ioctl(s->vm_fd, KVM_IRQFD, &req) < 0) {
        warn_report("KVM_IRQFD (%s GSI %d): %s",
                    assign ? "assign" : "deassign", route, g_strerror(errno));
        return false;
    }
    return true;
}

static bool kvm_add_irqfd(Accel *a, int fd, int route)
{
    KvmState *s = kvm_state(a);
    return s->has_irqfd && irqfd(s, fd, route, true);
}

static void kvm_del_irqfd(Accel *a, int fd, int route)
{
    irqfd(kvm_state(a), fd, route, false);
}

static bool ioeventfd(KvmState *s, uint64_t addr, unsigned len, int fd,
                      bool assign)
{
    struct kvm_ioeventfd req = {
        .addr = addr,
        .len = len,
        .fd = fd,
        .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
    };
    if (ioctl(s->vm_fd, KVM_IOEVENTFD, &req) < 0) {
        warn_report("KVM_IOEVENTFD (%s 0x%" G_GINT64_MODIFIER "x): %s",
                    assign ? "assign" : "deassign", addr, g_strerror(errno));
        return false;
    }
    return true;
}

static bool kvm_add_ioeventfd(Accel *a, uint64_t addr, unsigned len, int fd)
{
    KvmState *s = kvm_state(a);
    return kvm_check_extension(s, KVM_CAP_IOEVENTFD) > 0 &&
           ioeventfd(s, addr, len, fd, true);
}

static void kvm_del_ioeventfd(Accel *a, uint64_t addr, unsigned len, int fd)
{
    ioeventfd(kvm_state(a), addr, len, fd, false);
}

const AccelEventOps kvm_event_ops = {
    .add_ioeventfd = kvm_add_ioeventfd,
    .del_ioeventfd = kvm_del_ioeventfd,
    .add_msi_route = kvm_add_msi_route,
    .update_msi_route = kvm_update_msi_route,
    .del_msi_route = kvm_del_msi_route,
    .add_irqfd = kvm_add_irqfd,
    .del_irqfd = kvm_del_irqfd,
};
