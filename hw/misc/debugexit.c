/*
 * isa-debug-exit: a test device, compatible with QEMU's: a guest write of
 * value V to any of its ports ends the emulator with exit status
 * (V << 1) | 1, so a test kernel can report pass/fail without a power-off
 * path.  Props: iobase (0x501), iosize (2; 1, 2 or 4).  Reads return 0.
 */
#include "hw/misc/misc.h"

#include "core/error.h"
#include "hw/machine.h"

typedef struct DebugExitState {
    Device parent;
    uint16_t iobase;
    uint8_t iosize;
    MemoryRegion io;
} DebugExitState;

static uint64_t debugexit_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void debugexit_write(void *opaque, uint64_t addr, uint64_t value,
                            unsigned size)
{
    DebugExitState *s = opaque;
    /* Only the bytes the guest wrote count; exit statuses are ints. */
    uint32_t v = size >= 4 ? (uint32_t)value : (uint32_t)value & ((1u << (8 * size)) - 1);

    machine_request_exit(s->parent.machine, (int)((v << 1) | 1));
}

static const MemoryRegionOps debugexit_ops = {
    .read = debugexit_read,
    .write = debugexit_write,
    .min_access = 1,
    .max_access = 4,
};

static bool debugexit_realize(Device *d, GError **errp)
{
    DebugExitState *s = (DebugExitState *)d;

    if (s->iosize != 1 && s->iosize != 2 && s->iosize != 4) {
        error_setg(errp, "isa-debug-exit: iosize must be 1, 2 or 4, not %u",
                   s->iosize);
        return false;
    }
    if ((uint32_t)s->iobase + s->iosize > 0x10000) {
        error_setg(errp, "isa-debug-exit: ports 0x%x+%u exceed the I/O space",
                   s->iobase, s->iosize);
        return false;
    }
    memory_region_init_io(&s->io, "isa-debug-exit", &debugexit_ops, s, s->iosize);
    if (!address_space_map(&d->machine->io, &s->io, s->iobase, 0)) {
        error_setg(errp, "isa-debug-exit: cannot map ports at 0x%x", s->iobase);
        return false;
    }
    return true;
}

static void debugexit_unrealize(Device *d)
{
    address_space_unmap(&d->machine->io, &((DebugExitState *)d)->io);
}

static const VMStateField debugexit_fields[] = {
    VMSTATE_END,
};

static const VMStateDescription debugexit_vmsd = {
    .name = "isa-debug-exit",
    .version = 1,
    .fields = debugexit_fields,
};

static const Property debugexit_props[] = {
    DEFINE_PROP_U16(DebugExitState, "iobase", iobase, "0x501", "I/O base"),
    DEFINE_PROP_U8(DebugExitState, "iosize", iosize, "2", "number of ports (1, 2, 4)"),
    DEFINE_PROP_END,
};

const DeviceClass debugexit_class = {
    .name = "isa-debug-exit",
    .description = "exit the emulator with status (V << 1) | 1 on a guest write",
    .instance_size = sizeof(DebugExitState),
    .props = debugexit_props,
    .user_creatable = true,
    .realize = debugexit_realize,
    .unrealize = debugexit_unrealize,
    .vmsd = &debugexit_vmsd,
};
