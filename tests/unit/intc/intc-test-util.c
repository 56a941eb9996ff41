/*
 * Test machine for the interrupt-controller tests.  machine_plug_device is
 * provided here (same contract as hw/machine.c) so that the tests link only
 * the devices under test, not the whole hw library.
 */
#include "core/error.h"
#include "intc-test-util.h"

bool machine_plug_device(Machine *m, Device *dev, GError **errp)
{
    if (m->nr_devices == MACHINE_MAX_DEVICES) {
        error_setg(errp, "too many devices");
        device_free(dev);
        return false;
    }
    if (!device_realize(dev, errp)) {
        device_free(dev);
        return false;
    }
    m->devices[m->nr_devices++] = dev;
    return true;
}

Machine *test_machine_new(void)
{
    Machine *m = g_new0(Machine, 1);
    g_mutex_init(&m->lock);
    address_space_init(&m->mem, "memory", UINT64_MAX);
    address_space_init(&m->io, "io", 0xffff);
    m->timers = timerlist_new(NULL, &m->lock);
    return m;
}

void test_machine_free(Machine *m)
{
    for (unsigned i = m->nr_devices; i-- > 0;) {
        device_free(m->devices[i]);
    }
    address_space_destroy(&m->mem);
    address_space_destroy(&m->io);
    timerlist_free(m->timers);
    g_mutex_clear(&m->lock);
    g_free(m);
}

static void probe_set(void *opaque, int n, int level)
{
    IrqProbe *p = opaque;
    if (level && !p->level) {
        p->rises++;
    }
    p->level = level;
}

void irq_probe_init(IrqProbe *p)
{
    p->level = 0;
    p->rises = 0;
    irq_connect(&p->line, probe_set, p, 0);
}
