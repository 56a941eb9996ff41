/*
 * The device core.  A device type (DeviceClass) has a name, properties that
 * `-device name,prop=value` sets, realize/reset/unrealize hooks and a state
 * description for snapshots.  A device instance is a state struct whose first
 * member is a Device.  Types are listed in constant tables (no registration at
 * run time, so no global mutable state).
 */
#ifndef KESTREL_CORE_DEVICE_H
#define KESTREL_CORE_DEVICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/vmstate.h"

typedef struct Machine Machine; /* defined by hw/machine.h */
typedef struct Device Device;

typedef enum PropType {
    PROP_END = 0,
    PROP_BOOL,
    PROP_U8,
    PROP_U16,
    PROP_U32,
    PROP_U64,
    PROP_STRING, /* char *, owned by the device (g_free on device_free) */
} PropType;

typedef struct Property {
    const char *name;
    PropType type;
    size_t offset;
    const char *default_value; /* parsed like user input; NULL: zero/NULL */
    const char *description;
} Property;

#define PROP_(st, n, f, t, def, desc)                                          \
    { .name = (n), .type = (t), .offset = offsetof(st, f),                     \
      .default_value = (def), .description = (desc) }
#define DEFINE_PROP_BOOL(st, n, f, def, desc) PROP_(st, n, f, PROP_BOOL, def, desc)
#define DEFINE_PROP_U8(st, n, f, def, desc) PROP_(st, n, f, PROP_U8, def, desc)
#define DEFINE_PROP_U16(st, n, f, def, desc) PROP_(st, n, f, PROP_U16, def, desc)
#define DEFINE_PROP_U32(st, n, f, def, desc) PROP_(st, n, f, PROP_U32, def, desc)
#define DEFINE_PROP_U64(st, n, f, def, desc) PROP_(st, n, f, PROP_U64, def, desc)
#define DEFINE_PROP_STRING(st, n, f, def, desc) PROP_(st, n, f, PROP_STRING, def, desc)
#define DEFINE_PROP_END { .name = NULL, .type = PROP_END }

typedef struct DeviceClass {
    const char *name;
    const char *description;
    size_t instance_size;
    const Property *props; /* ends with DEFINE_PROP_END; may be NULL */
    bool user_creatable;   /* may be created with -device */
    bool (*realize)(Device *dev, GError **errp);
    void (*reset)(Device *dev);
    void (*unrealize)(Device *dev);
    const VMStateDescription *vmsd;
} DeviceClass;

struct Device {
    const DeviceClass *cls;
    char *id;
    Machine *machine;
    bool realized;
};

/* Find a class by name in a NULL-terminated table. */
const DeviceClass *device_class_find(const DeviceClass *const *table,
                                     const char *name);

/* Allocate an instance (zeroed, properties at their defaults). */
Device *device_new(const DeviceClass *cls, Machine *machine, const char *id);
bool device_set_prop(Device *dev, const char *name, const char *value,
                     GError **errp);
/* Apply "a=1,b=on,..." (the part after "name," in -device). "id=" sets the id. */
bool device_set_props(Device *dev, const char *opts, GError **errp);
bool device_realize(Device *dev, GError **errp);
void device_reset(Device *dev);
void device_free(Device *dev);

/* -device NAME,help: list properties with defaults and descriptions. */
void device_class_print_help(const DeviceClass *cls, FILE *out);

#define DEVICE_STATE(ptr) ((Device *)(ptr))

#endif
