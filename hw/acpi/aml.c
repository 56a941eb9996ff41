/*
 * AML encoder (ACPI 6.x, 20.2 AML grammar; 6.4 resource descriptors).
 */
#include <stdbool.h>
#include <string.h>

#include "hw/acpi/aml.h"

#define ZERO_OP 0x00
#define ONE_OP 0x01
#define NAME_OP 0x08
#define BYTE_PREFIX 0x0a
#define WORD_PREFIX 0x0b
#define DWORD_PREFIX 0x0c
#define STRING_PREFIX 0x0d
#define QWORD_PREFIX 0x0e
#define SCOPE_OP 0x10
#define BUFFER_OP 0x11
#define PACKAGE_OP 0x12
#define METHOD_OP 0x14
#define DUAL_NAME_PREFIX 0x2e
#define MULTI_NAME_PREFIX 0x2f
#define EXT_OP_PREFIX 0x5b
#define DEVICE_OP 0x82 /* after EXT_OP_PREFIX */
#define ROOT_CHAR '\\'
#define PARENT_PREFIX '^'

static void put8(GByteArray *out, uint8_t v)
{
    g_byte_array_append(out, &v, 1);
}

static void put16(GByteArray *out, uint16_t v)
{
    put8(out, (uint8_t)v);
    put8(out, (uint8_t)(v >> 8));
}

static void put32(GByteArray *out, uint32_t v)
{
    put16(out, (uint16_t)v);
    put16(out, (uint16_t)(v >> 16));
}

static void put64(GByteArray *out, uint64_t v)
{
    put32(out, (uint32_t)v);
    put32(out, (uint32_t)(v >> 32));
}

/* PkgLength counts its own bytes plus the body that follows. */
static void put_pkglen_and_body(GByteArray *out, const GByteArray *body)
{
    size_t len = body->len;

    if (len + 1 <= 0x3f) {
        put8(out, (uint8_t)(len + 1));
    } else {
        unsigned extra = len + 2 < (1u << 12) ? 1 : len + 3 < (1u << 20) ? 2 : 3;
        size_t total = len + 1 + extra;

        g_assert(total < (1u << 28));
        put8(out, (uint8_t)((extra << 6) | (total & 0x0f)));
        for (unsigned i = 0; i < extra; i++) {
            put8(out, (uint8_t)(total >> (4 + 8 * i)));
        }
    }
    g_byte_array_append(out, body->data, body->len);
}

static void put_name_seg(GByteArray *out, const char *seg, size_t n)
{
    char buf[4] = { '_', '_', '_', '_' };

    g_assert(n >= 1 && n <= 4);
    memcpy(buf, seg, n);
    g_byte_array_append(out, (const guint8 *)buf, 4);
}

void aml_name_string(GByteArray *out, const char *path)
{
    const char *p = path;
    unsigned nsegs = 0;

    while (*p == ROOT_CHAR || *p == PARENT_PREFIX) {
        put8(out, (uint8_t)*p++);
    }
    if (!*p) {
        put8(out, 0x00); /* NullName */
        return;
    }
    nsegs = 1;
    for (const char *q = p; *q; q++) {
        nsegs += *q == '.';
    }
    if (nsegs == 2) {
        put8(out, DUAL_NAME_PREFIX);
    } else if (nsegs > 2) {
        put8(out, MULTI_NAME_PREFIX);
        put8(out, (uint8_t)nsegs);
    }
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        put_name_seg(out, p, n);
        p += n;
        if (*p == '.') {
            p++;
        }
    }
}

void aml_integer(GByteArray *out, uint64_t v)
{
    if (v == 0) {
        put8(out, ZERO_OP);
    } else if (v == 1) {
        put8(out, ONE_OP);
    } else if (v <= 0xff) {
        put8(out, BYTE_PREFIX);
        put8(out, (uint8_t)v);
    } else if (v <= 0xffff) {
        put8(out, WORD_PREFIX);
        put16(out, (uint16_t)v);
    } else if (v <= 0xffffffffu) {
        put8(out, DWORD_PREFIX);
        put32(out, (uint32_t)v);
    } else {
        put8(out, QWORD_PREFIX);
        put64(out, v);
    }
}

void aml_string(GByteArray *out, const char *s)
{
    put8(out, STRING_PREFIX);
    g_byte_array_append(out, (const guint8 *)s, strlen(s) + 1);
}

void aml_eisaid(GByteArray *out, const char *id)
{
    uint32_t v;

    g_assert(strlen(id) == 7);
    /* Three letters of 5 bits each, then four hex digits, big-endian. */
    v = ((uint32_t)(id[0] - 0x40) << 26) | ((uint32_t)(id[1] - 0x40) << 21) |
        ((uint32_t)(id[2] - 0x40) << 16) |
        (uint32_t)g_ascii_xdigit_value(id[3]) << 12 |
        (uint32_t)g_ascii_xdigit_value(id[4]) << 8 |
        (uint32_t)g_ascii_xdigit_value(id[5]) << 4 |
        (uint32_t)g_ascii_xdigit_value(id[6]);
    put8(out, DWORD_PREFIX);
    put32(out, GUINT32_SWAP_LE_BE(v));
}

void aml_package(GByteArray *out, unsigned nr_elements, const GByteArray *elements)
{
    GByteArray *body = g_byte_array_new();

    g_assert(nr_elements <= 0xff);
    put8(body, (uint8_t)nr_elements);
    g_byte_array_append(body, elements->data, elements->len);
    put8(out, PACKAGE_OP);
    put_pkglen_and_body(out, body);
    g_byte_array_unref(body);
}

void aml_buffer(GByteArray *out, const GByteArray *bytes)
{
    GByteArray *body = g_byte_array_new();

    aml_integer(body, bytes->len);
    g_byte_array_append(body, bytes->data, bytes->len);
    put8(out, BUFFER_OP);
    put_pkglen_and_body(out, body);
    g_byte_array_unref(body);
}

void aml_name(GByteArray *out, const char *name, const GByteArray *value)
{
    put8(out, NAME_OP);
    aml_name_string(out, name);
    g_byte_array_append(out, value->data, value->len);
}

void aml_name_int(GByteArray *out, const char *name, uint64_t v)
{
    put8(out, NAME_OP);
    aml_name_string(out, name);
    aml_integer(out, v);
}

static void named_block(GByteArray *out, const char *name,
                        const GByteArray *prefix_body, const GByteArray *body)
{
    GByteArray *b = g_byte_array_new();

    aml_name_string(b, name);
    if (prefix_body) {
        g_byte_array_append(b, prefix_body->data, prefix_body->len);
    }
    g_byte_array_append(b, body->data, body->len);
    put_pkglen_and_body(out, b);
    g_byte_array_unref(b);
}

void aml_scope(GByteArray *out, const char *path, const GByteArray *body)
{
    put8(out, SCOPE_OP);
    named_block(out, path, NULL, body);
}

void aml_device(GByteArray *out, const char *name, const GByteArray *body)
{
    put8(out, EXT_OP_PREFIX);
    put8(out, DEVICE_OP);
    named_block(out, name, NULL, body);
}

void aml_method(GByteArray *out, const char *name, unsigned nr_args,
                const GByteArray *body)
{
    GByteArray *flags = g_byte_array_new();

    g_assert(nr_args <= 7);
    put8(flags, (uint8_t)nr_args); /* not serialized, sync level 0 */
    put8(out, METHOD_OP);
    named_block(out, name, flags, body);
    g_byte_array_unref(flags);
}

/* ---- resource descriptors ---- */

#define RES_GENERAL_FIXED 0x0c /* MinFixed, MaxFixed, PosDecode, producer */

void aml_res_io(GByteArray *res, uint16_t base, uint8_t len)
{
    put8(res, 0x47); /* small item: I/O port, 7 bytes */
    put8(res, 0x01); /* 16-bit decode */
    put16(res, base);
    put16(res, base);
    put8(res, 1);
    put8(res, len);
}

void aml_res_irq_noflags(GByteArray *res, unsigned irq)
{
    g_assert(irq < 16);
    put8(res, 0x22); /* small item: IRQ, 2 bytes */
    put16(res, (uint16_t)(1u << irq));
}

void aml_res_ext_irq(GByteArray *res, uint32_t gsi, bool level, bool active_low,
                     bool shared)
{
    put8(res, 0x89); /* large item: extended interrupt */
    put16(res, 6);
    put8(res, (uint8_t)(0x01 /* consumer */ | (level ? 0 : 0x02) |
                        (active_low ? 0x04 : 0) | (shared ? 0x08 : 0)));
    put8(res, 1);
    put32(res, gsi);
}

void aml_res_mem32_fixed(GByteArray *res, uint32_t base, uint32_t len)
{
    put8(res, 0x86); /* large item: 32-bit fixed memory range */
    put16(res, 9);
    put8(res, 0x01); /* read/write */
    put32(res, base);
    put32(res, len);
}

static void word_addr(GByteArray *res, uint8_t type, uint8_t type_flags,
                      uint16_t min, uint16_t max)
{
    put8(res, 0x88); /* large item: word address space */
    put16(res, 13);
    put8(res, type);
    put8(res, RES_GENERAL_FIXED);
    put8(res, type_flags);
    put16(res, 0); /* granularity */
    put16(res, min);
    put16(res, max);
    put16(res, 0); /* translation */
    put16(res, (uint16_t)(max - min + 1));
}

void aml_res_word_bus(GByteArray *res, uint16_t min, uint16_t max)
{
    word_addr(res, 2, 0, min, max);
}

void aml_res_word_io(GByteArray *res, uint16_t min, uint16_t max)
{
    word_addr(res, 1, 0x03 /* entire range */, min, max);
}

static uint8_t mem_flags(bool cacheable)
{
    return (uint8_t)(0x01 /* read/write */ | (cacheable ? 0x02 : 0));
}

void aml_res_dword_mem(GByteArray *res, uint32_t min, uint32_t max, bool cacheable)
{
    put8(res, 0x87); /* large item: dword address space */
    put16(res, 23);
    put8(res, 0); /* memory */
    put8(res, RES_GENERAL_FIXED);
    put8(res, mem_flags(cacheable));
    put32(res, 0);
    put32(res, min);
    put32(res, max);
    put32(res, 0);
    put32(res, max - min + 1);
}

void aml_res_qword_mem(GByteArray *res, uint64_t min, uint64_t max, bool cacheable)
{
    put8(res, 0x8a); /* large item: qword address space */
    put16(res, 43);
    put8(res, 0);
    put8(res, RES_GENERAL_FIXED);
    put8(res, mem_flags(cacheable));
    put64(res, 0);
    put64(res, min);
    put64(res, max);
    put64(res, 0);
    put64(res, max - min + 1);
}

void aml_res_end(GByteArray *res)
{
    put8(res, 0x79); /* end tag */
    put8(res, 0x00); /* checksum 0: treat as valid */
}
