/*
 * The null backend: output is discarded, no input ever arrives.
 */
#include "chardev/chardev-internal.h"

static size_t null_write(Chardev *c, const uint8_t *buf, size_t len)
{
    return len;
}

static const ChardevClass null_class = {
    .name = "null",
    .write = null_write,
};

Chardev *chr_null_new(const ChardevOpts *o, const ChardevHost *h, GError **errp)
{
    Chardev *c = chr_alloc(sizeof(Chardev), &null_class, o->id, h);

    c->desc = g_strdup("null");
    return c;
}
