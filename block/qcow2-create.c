/*
 * qcow2-create.c: creating new qcow2 images and measuring the space an
 * image would need (qcow2 specification: "Header", "Host cluster
 * management").  A new image holds the header, the refcount table, the
 * refcount blocks describing the metadata, and an empty L1 table.
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <errno.h>
#include <string.h>

static bool is_power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

static uint32_t log2_of(uint64_t v)
{
    uint32_t n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

int qcow2_validate_create_options(const BlockCreateOptions *opts,
                                  GError **errp)
{
    uint64_t cs = opts->cluster_size ? opts->cluster_size : 65536;
    int version = opts->version ? opts->version : 3;
    int refcount_bits = opts->refcount_bits ? opts->refcount_bits : 16;
    const char *msg = NULL;
    if (!is_power_of_two(cs) || cs < 512 || cs > 2 * 1024 * 1024) {
        msg = "Cluster size must be a power of two between 512 and 2048k";
    } else if (version != 2 && version != 3) {
        msg = "Invalid compatibility level (use 0.10 or 1.1)";
    } else if (!is_power_of_two((uint64_t)refcount_bits) ||
               refcount_bits > 64) {
        msg = "Refcount width must be a power of two and may not exceed 64 "
              "bits";
    } else if (version == 2 && refcount_bits != 16) {
        msg = "Different refcount widths than 16 bits require compatibility "
              "level 1.1 or above (use compat=1.1 or greater)";
    } else if (version == 2 && opts->lazy_refcounts) {
        msg = "Lazy refcounts only supported with compatibility level 1.1 and "
              "above (use compat=1.1 or greater)";
    } else if (opts->extended_l2) {
        msg = "Extended L2 entries are not supported by Kestrel yet";
    } else if (opts->backing_file &&
               opts->preallocation != BDRV_PREALLOC_OFF) {
        msg = "Backing file and preallocation can not be used at the same "
              "time";
    } else if (opts->backing_file &&
               strlen(opts->backing_file) > QCOW2_MAX_BACKING_NAME) {
        msg = "Backing file name is too long";
    } else if (opts->backing_format && strlen(opts->backing_format) > 32) {
        msg = "Backing format name is too long";
    } else if (opts->size > BDRV_MAX_VIRTUAL_SIZE) {
        msg = "Image size is too large";
    }
    if (msg) {
        g_set_error_literal(errp, BLOCK_ERROR, EINVAL, msg);
        return -EINVAL;
    }
    uint64_t per_l1 = (cs / 8) * cs;
    if ((opts->size + per_l1 - 1) / per_l1 * 8 > QCOW2_MAX_L1_BYTES) {
        g_set_error(errp, BLOCK_ERROR, EFBIG,
                    "Image size is too large for this cluster size");
        return -EFBIG;
    }
    return 0;
}

int qcow2_create(const char *filename, const BlockCreateOptions *opts,
                 GError **errp)
{
    int r = qcow2_validate_create_options(opts, errp);
    if (r < 0) {
        return r;
    }
    uint64_t cs = opts->cluster_size ? opts->cluster_size : 65536;
    uint32_t cluster_bits = log2_of(cs);
    uint32_t refcount_order = log2_of(opts->refcount_bits ?
                                      (uint64_t)opts->refcount_bits : 16);
    uint64_t size = (opts->size + 511) & ~UINT64_C(511);
    uint64_t per_l1 = (cs / 8) * cs;
    uint64_t l1_entries = (size + per_l1 - 1) / per_l1;
    uint64_t l1_clusters = MAX(1, (l1_entries * 8 + cs - 1) / cs);
    uint64_t refblock_entries = cs * 8 >> refcount_order;

    /* Refcount blocks and table large enough to describe themselves. */
    uint64_t table = 1, blocks = 1;
    for (;;) {
        uint64_t meta = 1 + table + blocks + l1_clusters;
        uint64_t b = (meta + refblock_entries - 1) / refblock_entries;
        uint64_t t = (b * 8 + cs - 1) / cs;
        if (b == blocks && t == table) {
            break;
        }
        blocks = MAX(b, blocks);
        table = MAX(t, table);
    }
    uint64_t meta = 1 + table + blocks + l1_clusters;
    uint64_t table_off = cs;
    uint64_t blocks_off = table_off + table * cs;
    uint64_t l1_off = blocks_off + blocks * cs;

    Qcow2Header h = {
        .version = (uint32_t)(opts->version ? opts->version : 3),
        .cluster_bits = cluster_bits,
        .size = size,
        .l1_size = (uint32_t)l1_entries,
        .l1_table_offset = l1_off,
        .refcount_table_offset = table_off,
        .refcount_table_clusters = (uint32_t)table,
        .compatible_features = opts->lazy_refcounts ?
                               QCOW2_COMPAT_LAZY_REFCOUNTS : 0,
        .refcount_order = refcount_order,
        .backing_file = (char *)opts->backing_file,
        .backing_format = (char *)opts->backing_format,
    };
    uint8_t *buf = g_malloc0(meta * cs);
    r = qcow2_header_serialize(&h, buf, cs, errp);
    if (r < 0) {
        g_free(buf);
        return r;
    }
    for (uint64_t i = 0; i < blocks; i++) {
        store_be64(buf + table_off + i * 8, blocks_off + i * cs);
    }
    for (uint64_t c = 0; c < meta; c++) {
        qcow2_refblock_set(buf + blocks_off + (c / refblock_entries) * cs,
                           refcount_order, c % refblock_entries, 1);
    }
    HostFile hf;
    r = host_file_open(&hf, filename, HOST_FILE_RDWR | HOST_FILE_CREATE, errp);
    if (r < 0) {
        g_free(buf);
        return r;
    }
    r = host_file_pwrite(&hf, 0, buf, meta * cs, errp);
    if (r == 0) {
        r = host_file_flush(&hf, errp);
    }
    host_file_close(&hf);
    g_free(buf);
    if (r < 0 || opts->preallocation == BDRV_PREALLOC_OFF) {
        return r;
    }
    BlockOpenOptions oo = { .format = "qcow2",
                            .flags = BDRV_O_RDWR | BDRV_O_NO_BACKING };
    BlockDriverState *bs = bdrv_open(filename, &oo, errp);
    if (!bs) {
        return -EIO;
    }
    r = qcow2_preallocate(bs->opaque, 0, size, opts->preallocation, errp);
    bdrv_close(bs);
    return r;
}

int qcow2_measure(const BlockCreateOptions *opts, uint64_t virtual_size,
                  uint64_t allocated_bytes, BlockMeasureInfo *info,
                  GError **errp)
{
    BlockCreateOptions o = *opts;
    o.size = virtual_size;
    int r = qcow2_validate_create_options(&o, errp);
    if (r < 0) {
        return r;
    }
    uint64_t cs = opts->cluster_size ? opts->cluster_size : 65536;
    uint64_t refcount_bits = opts->refcount_bits ? (uint64_t)opts->refcount_bits
                                                 : 16;
    uint64_t entries_per_table = cs / 8;
    uint64_t data = (virtual_size + cs - 1) / cs * cs;
    uint64_t data_clusters = data / cs;
    uint64_t l2_tables = (data_clusters + entries_per_table - 1) /
                         entries_per_table;
    uint64_t l1_clusters = (l2_tables + entries_per_table - 1) /
                           entries_per_table;
    uint64_t meta_clusters = 1 + l2_tables + l1_clusters;
    uint64_t per_block = cs * 8 / refcount_bits;
    uint64_t blocks = 0, table = 0;
    for (;;) {
        uint64_t b = (meta_clusters + data_clusters + blocks + table +
                      per_block - 1) / per_block;
        uint64_t t = (b + entries_per_table - 1) / entries_per_table;
        if (b == blocks && t == table) {
            break;
        }
        blocks = b;
        table = t;
    }
    uint64_t meta = (meta_clusters + blocks + table) * cs;
    info->fully_allocated = meta + data;
    info->required = meta + MIN(allocated_bytes, data);
    return 0;
}
