/*
 * Saving and loading device state from field tables.
 *
 * Record layout (little-endian): u16 name length, name bytes, u32 version,
 * u32 payload length, payload.  The payload is the fields in table order,
 * each element stored at its natural size; nested structs recurse without
 * their own header.
 */
#include <string.h>

#include "core/error.h"
#include "core/vmstate.h"

static size_t payload_size(const VMStateDescription *d)
{
    size_t n = 0;
    for (const VMStateField *f = d->fields; f->type != VMS_END; f++) {
        if (f->type == VMS_STRUCT) {
            n += payload_size(f->sub) * f->count;
        } else {
            n += f->size * f->count;
        }
    }
    return n;
}

static void save_fields(const VMStateDescription *d, const uint8_t *base,
                        GByteArray *out)
{
    for (const VMStateField *f = d->fields; f->type != VMS_END; f++) {
        for (unsigned i = 0; i < f->count; i++) {
            const uint8_t *p = base + f->offset + (size_t)i * f->size;
            if (f->type == VMS_STRUCT) {
                save_fields(f->sub, p, out);
            } else {
                g_byte_array_append(out, p, f->size);
            }
        }
    }
}

static void load_fields(const VMStateDescription *d, uint8_t *base,
                        const uint8_t **in)
{
    for (const VMStateField *f = d->fields; f->type != VMS_END; f++) {
        for (unsigned i = 0; i < f->count; i++) {
            uint8_t *p = base + f->offset + (size_t)i * f->size;
            if (f->type == VMS_STRUCT) {
                load_fields(f->sub, p, in);
            } else if (f->type == VMS_BOOL) {
                bool b = **in != 0;
                memcpy(p, &b, sizeof(b));
                *in += f->size;
            } else {
                memcpy(p, *in, f->size);
                *in += f->size;
            }
        }
    }
}

void vmstate_save(const VMStateDescription *d, const void *opaque,
                  GByteArray *out)
{
    if (d->pre_save) {
        d->pre_save((void *)opaque);
    }
    uint16_t nlen = (uint16_t)strlen(d->name);
    uint32_t ver = d->version;
    uint32_t plen = (uint32_t)payload_size(d);
    g_byte_array_append(out, (const uint8_t *)&nlen, 2);
    g_byte_array_append(out, (const uint8_t *)d->name, nlen);
    g_byte_array_append(out, (const uint8_t *)&ver, 4);
    g_byte_array_append(out, (const uint8_t *)&plen, 4);
    save_fields(d, opaque, out);
}

bool vmstate_load(const VMStateDescription *d, void *opaque, const uint8_t *buf,
                  size_t len, size_t *consumed, GError **errp)
{
    uint16_t nlen;
    uint32_t ver, plen;
    if (len < 2) {
        goto truncated;
    }
    memcpy(&nlen, buf, 2);
    if (len < 2u + nlen + 8u) {
        goto truncated;
    }
    if (nlen != strlen(d->name) || memcmp(buf + 2, d->name, nlen) != 0) {
        error_setg(errp, "state record is for '%.*s', expected '%s'", nlen,
                   (const char *)buf + 2, d->name);
        return false;
    }
    memcpy(&ver, buf + 2 + nlen, 4);
    memcpy(&plen, buf + 6 + nlen, 4);
    if (ver != d->version) {
        error_setg(errp, "state of '%s' has version %u, expected %u", d->name,
                   ver, d->version);
        return false;
    }
    if (plen != payload_size(d)) {
        error_setg(errp, "state of '%s' has %u bytes, expected %zu", d->name,
                   plen, payload_size(d));
        return false;
    }
    if (len - (10u + nlen) < plen) {
        goto truncated;
    }
    const uint8_t *in = buf + 10 + nlen;
    load_fields(d, opaque, &in);
    *consumed = 10u + nlen + plen;
    if (d->post_load) {
        return d->post_load(opaque, errp);
    }
    return true;
truncated:
    error_setg(errp, "state of '%s' is truncated", d->name);
    return false;
}
