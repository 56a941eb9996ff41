/*
 * Machine.accel_io over the accelerator's AccelEventOps (see accel-io.h).
 */
#include "system/accel-io.h"

static bool add_ioeventfd(void *opaque, uint64_t addr, unsigned len, int fd)
{
    Accel *a = opaque;
    return a->ops->events->add_ioeventfd(a, addr, len, fd);
}

static void del_ioeventfd(void *opaque, uint64_t addr, unsigned len, int fd)
{
    Accel *a = opaque;
    a->ops->events->del_ioeventfd(a, addr, len, fd);
}

static int add_msi_route(void *opaque, uint64_t addr, uint32_t data)
{
    Accel *a = opaque;
    return a->ops->events->add_msi_route(a, addr, data);
}

static bool update_msi_route(void *opaque, int route, uint64_t addr,
                             uint32_t data)
{
    Accel *a = opaque;
    return a->ops->events->update_msi_route(a, route, addr, data);
}

static void del_msi_route(void *opaque, int route)
{
    Accel *a = opaque;
    a->ops->events->del_msi_route(a, route);
}

static bool add_irqfd(void *opaque, int fd, int route)
{
    Accel *a = opaque;
    return a->ops->events->add_irqfd(a, fd, route);
}

static void del_irqfd(void *opaque, int fd, int route)
{
    Accel *a = opaque;
    a->ops->events->del_irqfd(a, fd, route);
}

void accel_io_connect(Machine *m, Accel *a)
{
    const AccelEventOps *ev = a->ops->events;
    m->accel_io = (MachineAccelIo){ .opaque = a };
    if (!ev) {
        return;
    }
    if (ev->add_ioeventfd && ev->del_ioeventfd) {
        m->accel_io.add_ioeventfd = add_ioeventfd;
        m->accel_io.del_ioeventfd = del_ioeventfd;
    }
    if (a->irqchip_in_kernel && ev->add_msi_route && ev->update_msi_route &&
        ev->del_msi_route && ev->add_irqfd && ev->del_irqfd) {
        m->accel_io.add_msi_route = add_msi_route;
        m->accel_io.update_msi_route = update_msi_route;
        m->accel_io.del_msi_route = del_msi_route;
        m->accel_io.add_irqfd = add_irqfd;
        m->accel_io.del_irqfd = del_irqfd;
    }
}
