/*
 * State descriptions for snapshots and migration: a device describes its
 * state as a table of fields (name, type, offset, count) instead of writing
 * save/load code.  vmstate_save() appends a self-checking record (name,
 * version, field bytes); vmstate_load() verifies name, version and length
 * before it writes a single field.
 */
#ifndef KESTREL_CORE_VMSTATE_H
#define KESTREL_CORE_VMSTATE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum VMStateType {
    VMS_END = 0,
    VMS_BOOL,
    VMS_U8,
    VMS_U16,
    VMS_U32,
    VMS_U64,
    VMS_I32,
    VMS_I64,
    VMS_BUFFER, /* raw bytes: size is the byte count */
    VMS_STRUCT, /* nested description: sub, size is the element size */
} VMStateType;

typedef struct VMStateDescription VMStateDescription;

typedef struct VMStateField {
    const char *name;
    VMStateType type;
    size_t offset;
    size_t size;    /* element size in bytes */
    unsigned count; /* array length; 1 for a scalar */
    const VMStateDescription *sub;
} VMStateField;

struct VMStateDescription {
    const char *name;
    uint32_t version;
    const VMStateField *fields; /* ends with VMSTATE_END */
    /* Called after a successful load, to recompute derived state. */
    bool (*post_load)(void *opaque, GError **errp);
    /* Called by vmstate_save() before it reads the fields (top-level
     * descriptions only): a device settles what is still under way (e.g.
     * finishes disk requests in flight) so that its fields say it all.
     * vmstate_save() runs on the main thread, with the vCPUs stopped and
     * the machine lock held. */
    void (*pre_save)(void *opaque);
};

#define VMSTATE_SCALAR_(st, f, t, n)                                           \
    { .name = #f, .type = (t), .offset = offsetof(st, f),                      \
      .size = sizeof(((st *)0)->f), .count = (n) }
#define VMSTATE_BOOL(st, f) VMSTATE_SCALAR_(st, f, VMS_BOOL, 1)
#define VMSTATE_U8(st, f) VMSTATE_SCALAR_(st, f, VMS_U8, 1)
#define VMSTATE_U16(st, f) VMSTATE_SCALAR_(st, f, VMS_U16, 1)
#define VMSTATE_U32(st, f) VMSTATE_SCALAR_(st, f, VMS_U32, 1)
#define VMSTATE_U64(st, f) VMSTATE_SCALAR_(st, f, VMS_U64, 1)
#define VMSTATE_I32(st, f) VMSTATE_SCALAR_(st, f, VMS_I32, 1)
#define VMSTATE_I64(st, f) VMSTATE_SCALAR_(st, f, VMS_I64, 1)
#define VMSTATE_ARRAY_(st, f, t)                                               \
    { .name = #f, .type = (t), .offset = offsetof(st, f),                      \
      .size = sizeof(((st *)0)->f[0]),                                         \
      .count = sizeof(((st *)0)->f) / sizeof(((st *)0)->f[0]) }
#define VMSTATE_U8_ARRAY(st, f) VMSTATE_ARRAY_(st, f, VMS_U8)
#define VMSTATE_U16_ARRAY(st, f) VMSTATE_ARRAY_(st, f, VMS_U16)
#define VMSTATE_U32_ARRAY(st, f) VMSTATE_ARRAY_(st, f, VMS_U32)
#define VMSTATE_U64_ARRAY(st, f) VMSTATE_ARRAY_(st, f, VMS_U64)
#define VMSTATE_BUFFER(st, f)                                                  \
    { .name = #f, .type = VMS_BUFFER, .offset = offsetof(st, f),               \
      .size = sizeof(((st *)0)->f), .count = 1 }
#define VMSTATE_STRUCT_ARRAY(st, f, desc)                                      \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f),               \
      .size = sizeof(((st *)0)->f[0]),                                         \
      .count = sizeof(((st *)0)->f) / sizeof(((st *)0)->f[0]), .sub = (desc) }
#define VMSTATE_END { .name = NULL, .type = VMS_END }

void vmstate_save(const VMStateDescription *d, const void *opaque,
                  GByteArray *out);
/* Load one record from buf; on success *consumed is its length. */
bool vmstate_load(const VMStateDescription *d, void *opaque, const uint8_t *buf,
                  size_t len, size_t *consumed, GError **errp);

#endif
