/*
 * Port 0x80, the POST diagnostic port ("port80"): firmware and kernels
 * write progress codes (and Linux uses it as an I/O delay).  Writes are
 * kept as the last POST code; reads return 0.
 */
#include "hw/misc/misc.h"

#include "core/error.h"
#include "hw/machine.h"

#define POST_PORT 0x80

typedef struct Port80State {
    Device parent;
    uint8_t post_code;
    MemoryRegion io;
} Port80State;

static uint64_t port80_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void port80_write(void *opaque, uint64_t addr, uint64_t value,
                         unsigned size)
{
    Port80State *s = opaque;

    s->post_code = (uint8_t)value;
}

static const MemoryRegionOps port80_ops = {
    .read = port80_read,
    .write = port80_write,
    .min_access = 1,
    .max_access = 1,
};

static void port80_reset(Device *d)
{
    ((Port80State *)d)->post_code = 0;
}

static bool port80_realize(Device *d, GError **errp)
{
    Port80State *s = (Port80State *)d;

    memory_region_init_io(&s->io, "port80", &port80_ops, s, 1);
    if (!address_space_map(&d->machine->io, &s->io, POST_PORT, 0)) {
        error_setg(errp, "port80: cannot map port 0x80");
        return false;
    }
    return true;
}

static void port80_unrealize(Device *d)
{
    address_space_unmap(&d->machine->io, &((Port80State *)d)->io);
}

static const VMStateField port80_fields[] = {
    VMSTATE_U8(Port80State, post_code),
    VMSTATE_END,
};

static const VMStateDescription port80_vmsd = {
    .name = "port80",
    .version = 1,
    .fields = port80_fields,
};

const DeviceClass port80_class = {
    .name = "port80",
    .description = "POST code port 0x80",
    .instance_size = sizeof(Port80State),
    .realize = port80_realize,
    .unrealize = port80_unrealize,
    .reset = port80_reset,
    .vmsd = &port80_vmsd,
};
