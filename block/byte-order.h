/*
 * byte-order.h: loads and stores of big-endian integers in on-disk
 * structures.  qcow2 stores every multi-byte number big-endian
 * (qcow2 specification, "General"), whatever the host.
 */
#ifndef KESTREL_BLOCK_BYTE_ORDER_H
#define KESTREL_BLOCK_BYTE_ORDER_H

#include <stdint.h>
#include <string.h>

static inline uint16_t load_be16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)((b[0] << 8) | b[1]);
}

static inline uint32_t load_be32(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
           ((uint32_t)b[2] << 8) | b[3];
}

static inline uint64_t load_be64(const void *p)
{
    const uint8_t *b = p;
    return ((uint64_t)load_be32(b) << 32) | load_be32(b + 4);
}

static inline void store_be16(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static inline void store_be32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static inline void store_be64(void *p, uint64_t v)
{
    store_be32(p, (uint32_t)(v >> 32));
    store_be32((uint8_t *)p + 4, (uint32_t)v);
}

#endif
