/*
 * The device core: instances, properties parsed from "-device" strings,
 * realize/reset/free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/error.h"

const DeviceClass *device_class_find(const DeviceClass *const *table,
                                     const char *name)
{
    for (; *table; table++) {
        if (strcmp((*table)->name, name) == 0) {
            return *table;
        }
    }
    return NULL;
}

static const Property *find_prop(const DeviceClass *cls, const char *name)
{
    for (const Property *p = cls->props; p && p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "1", NULL };
    static const char *const no[] = { "off", "no", "false", "0", NULL };
    for (int i = 0; yes[i]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool set_prop(Device *dev, const Property *p, const char *value,
                     GError **errp)
{
    uint8_t *field = (uint8_t *)dev + p->offset;
    if (p->type == PROP_STRING) {
        char **sp = (char **)field;
        g_free(*sp);
        *sp = value ? g_strdup(value) : NULL;
        return true;
    }
    if (!value) {
        memset(field, 0, p->type == PROP_BOOL ? sizeof(bool)
                         : p->type == PROP_U8 ? 1
                         : p->type == PROP_U16 ? 2
                         : p->type == PROP_U32 ? 4 : 8);
        return true;
    }
    if (p->type == PROP_BOOL) {
        bool b;
        if (!parse_bool(value, &b)) {
            error_setg(errp, "property '%s' of '%s' expects on or off, not '%s'",
                       p->name, dev->cls->name, value);
            return false;
        }
        *(bool *)field = b;
        return true;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 0);
    uint64_t max = p->type == PROP_U8 ? 0xff
                   : p->type == PROP_U16 ? 0xffff
                   : p->type == PROP_U32 ? 0xffffffffu : ~0ull;
    if (errno || end == value || *end || value[0] == '-' || v > max) {
        error_setg(errp, "property '%s' of '%s' expects a number up to %llu, "
                   "not '%s'", p->name, dev->cls->name,
                   (unsigned long long)max, value);
        return false;
    }
    switch (p->type) {
    case PROP_U8: *(uint8_t *)field = (uint8_t)v; break;
    case PROP_U16: *(uint16_t *)field = (uint16_t)v; break;
    case PROP_U32: *(uint32_t *)field = (uint32_t)v; break;
    default: *(uint64_t *)field = (uint64_t)v; break;
    }
    return true;
}

Device *device_new(const DeviceClass *cls, Machine *machine, const char *id)
{
    g_assert(cls->instance_size >= sizeof(Device));
    Device *dev = g_malloc0(cls->instance_size);
    dev->cls = cls;
    dev->machine = machine;
    dev->id = id ? g_strdup(id) : NULL;
    for (const Property *p = cls->props; p && p->name; p++) {
        GError *err = NULL;
        if (!set_prop(dev, p, p->default_value, &err)) {
            g_error("bad default for %s.%s: %s", cls->name, p->name,
                    err->message);
        }
    }
    return dev;
}

bool device_set_prop(Device *dev, const char *name, const char *value,
                     GError **errp)
{
    if (strcmp(name, "id") == 0) {
        g_free(dev->id);
        dev->id = g_strdup(value);
        return true;
    }
    const Property *p = find_prop(dev->cls, name);
    if (!p) {
        error_setg(errp, "device '%s' has no property '%s' (try -device %s,help)",
                   dev->cls->name, name, dev->cls->name);
        return false;
    }
    return set_prop(dev, p, value, errp);
}

bool device_set_props(Device *dev, const char *opts, GError **errp)
{
    if (!opts || !*opts) {
        return true;
    }
    bool ok = true;
    char **items = g_strsplit(opts, ",", -1);
    for (char **it = items; *it && ok; it++) {
        if (!**it) {
            continue;
        }
        char *eq = strchr(*it, '=');
        if (!eq) {
            const Property *p = find_prop(dev->cls, *it);
            if (p && p->type == PROP_BOOL) {
                ok = set_prop(dev, p, "on", errp);
                continue;
            }
            error_setg(errp, "'%s' for device '%s' needs a value: %s=VALUE",
                       *it, dev->cls->name, *it);
            ok = false;
            break;
        }
        *eq = '\0';
        ok = device_set_prop(dev, *it, eq + 1, errp);
    }
    g_strfreev(items);
    return ok;
}

bool device_realize(Device *dev, GError **errp)
{
    if (dev->realized) {
        return true;
    }
    if (dev->cls->realize && !dev->cls->realize(dev, errp)) {
        return false;
    }
    dev->realized = true;
    device_reset(dev);
    return true;
}

void device_reset(Device *dev)
{
    if (dev->cls->reset) {
        dev->cls->reset(dev);
    }
}

void device_free(Device *dev)
{
    if (!dev) {
        return;
    }
    if (dev->realized && dev->cls->unrealize) {
        dev->cls->unrealize(dev);
    }
    for (const Property *p = dev->cls->props; p && p->name; p++) {
        if (p->type == PROP_STRING) {
            g_free(*(char **)((uint8_t *)dev + p->offset));
        }
    }
    g_free(dev->id);
    g_free(dev);
}

static const char *type_name(PropType t)
{
    switch (t) {
    case PROP_BOOL: return "bool";
    case PROP_U8: return "uint8";
    case PROP_U16: return "uint16";
    case PROP_U32: return "uint32";
    case PROP_U64: return "uint64";
    case PROP_STRING: return "str";
    default: return "?";
    }
}

void device_class_print_help(const DeviceClass *cls, FILE *out)
{
    fprintf(out, "%s options:\n", cls->name);
    for (const Property *p = cls->props; p && p->name; p++) {
        fprintf(out, "  %s=<%s>", p->name, type_name(p->type));
        if (p->description) {
            fprintf(out, " - %s", p->description);
        }
        if (p->default_value) {
            fprintf(out, " (default: %s)", p->default_value);
        }
        fputc('\n', out);
    }
}
