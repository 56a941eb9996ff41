/*
 * The machine core: run-state requests from devices, and the list of
 * devices the machine owns (created, reset and freed together).
 */
#include <string.h>

#include "core/error.h"
#include "hw/machine.h"

void machine_request(Machine *m, MachineRequest req)
{
    __atomic_or_fetch(&m->requests, (uint32_t)req, __ATOMIC_SEQ_CST);
    if (m->notify) {
        m->notify(m->notify_opaque);
    }
}

void machine_request_exit(Machine *m, int status)
{
    __atomic_store_n(&m->exit_status, status, __ATOMIC_SEQ_CST);
    machine_request(m, MACHINE_REQ_EXIT);
}

uint32_t machine_take_requests(Machine *m)
{
    return __atomic_exchange_n(&m->requests, 0, __ATOMIC_SEQ_CST);
}

bool machine_plug_device(Machine *m, Device *dev, GError **errp)
{
    if (m->nr_devices == MACHINE_MAX_DEVICES) {
        error_setg(errp, "too many devices (at most %d)", MACHINE_MAX_DEVICES);
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

Device *machine_add_device(Machine *m, const char *type, const char *id,
                           const char *props, GError **errp)
{
    const DeviceClass *cls = device_class_find(machine_device_types, type);
    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name (try -device help)",
                   type);
        return NULL;
    }
    Device *dev = device_new(cls, m, id);
    if (!device_set_props(dev, props, errp)) {
        device_free(dev);
        return NULL;
    }
    return machine_plug_device(m, dev, errp) ? dev : NULL;
}

void machine_reset_devices(Machine *m)
{
    for (unsigned i = 0; i < m->nr_devices; i++) {
        device_reset(m->devices[i]);
    }
}
