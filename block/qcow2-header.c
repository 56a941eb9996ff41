/*
 * qcow2-header.c: reading, validating and writing the qcow2 header and
 * its extensions (qcow2 specification: "Header", "Header extensions",
 * "Feature name table", "Bitmaps extension" is kept but not interpreted).
 */
#include "block/qcow2.h"
#include "block/byte-order.h"

#include <errno.h>
#include <string.h>

static const struct {
    uint8_t type;
    uint8_t bit;
    const char *name;
} known_features[] = {
    { QCOW2_FEATURE_INCOMPAT, 0, "dirty bit" },
    { QCOW2_FEATURE_INCOMPAT, 1, "corrupt bit" },
    { QCOW2_FEATURE_INCOMPAT, 2, "external data file" },
    { QCOW2_FEATURE_INCOMPAT, 3, "compression type" },
    { QCOW2_FEATURE_INCOMPAT, 4, "extended L2 entries" },
    { QCOW2_FEATURE_COMPAT, 0, "lazy refcounts" },
    { QCOW2_FEATURE_AUTOCLEAR, 0, "bitmaps" },
    { QCOW2_FEATURE_AUTOCLEAR, 1, "raw external data" },
};

static int bad(GError **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int bad(GError **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(errp, BLOCK_ERROR, EINVAL, msg);
    g_free(msg);
    return -EINVAL;
}

void qcow2_header_clear(Qcow2Header *h)
{
    g_free(h->backing_file);
    g_free(h->backing_format);
    if (h->unknown_extensions) {
        for (guint i = 0; i < h->unknown_extensions->len; i++) {
            g_free(g_array_index(h->unknown_extensions, Qcow2Extension, i)
                       .data);
        }
        g_array_free(h->unknown_extensions, TRUE);
    }
    if (h->feature_names) {
        g_array_free(h->feature_names, TRUE);
    }
    memset(h, 0, sizeof(*h));
}

char *qcow2_header_feature_list(const Qcow2Header *h, uint64_t bits)
{
    GString *out = g_string_new(NULL);
    for (int bit = 0; bit < 64; bit++) {
        if (!(bits & (UINT64_C(1) << bit))) {
            continue;
        }
        const char *name = NULL;
        for (guint i = 0; h->feature_names && i < h->feature_names->len; i++) {
            Qcow2FeatureName *f =
                &g_array_index(h->feature_names, Qcow2FeatureName, i);
            if (f->type == QCOW2_FEATURE_INCOMPAT && f->bit == bit) {
                name = f->name;
            }
        }
        for (size_t i = 0; !name && i < G_N_ELEMENTS(known_features); i++) {
            if (known_features[i].type == QCOW2_FEATURE_INCOMPAT &&
                known_features[i].bit == bit) {
                name = known_features[i].name;
            }
        }
        if (out->len) {
            g_string_append(out, ", ");
        }
        if (name) {
            g_string_append(out, name);
        } else {
            g_string_append_printf(out, "unknown incompatible feature %d",
                                   bit);
        }
    }
    return g_string_free(out, FALSE);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
                           uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int parse_extensions(Qcow2Header *h, const uint8_t *buf,
                            uint64_t start, uint64_t end, GError **errp)
{
    uint64_t off = start;
    while (off + 8 <= end) {
        uint32_t type = load_be32(buf + off);
        uint32_t len = load_be32(buf + off + 4);
        off += 8;
        if (type == QCOW2_EXT_END) {
            return 0;
        }
        if (len > end - off) {
            return bad(errp, "qcow2 header extension 0x%08x is too long "
                       "(%u bytes)", type, len);
        }
        const uint8_t *data = buf + off;
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
            if (len == 0 || len > 32) {
                return bad(errp, "qcow2 backing format extension has an "
                           "invalid length (%u)", len);
            }
            g_free(h->backing_format);
            h->backing_format = g_strndup((const char *)data, len);
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            for (uint32_t i = 0; i + QCOW2_FEATURE_ENTRY_SIZE <= len;
                 i += QCOW2_FEATURE_ENTRY_SIZE) {
                Qcow2FeatureName f = { .type = data[i], .bit = data[i + 1] };
                memcpy(f.name, data + i + 2, QCOW2_FEATURE_NAME_LEN);
                f.name[QCOW2_FEATURE_NAME_LEN] = '\0';
                g_array_append_val(h->feature_names, f);
            }
            break;
        default: {
            Qcow2Extension e = { .type = type, .len = len,
                                 .data = g_memdup2(data, len) };
            g_array_append_val(h->unknown_extensions, e);
            break;
        }
        }
        uint64_t padded = ((uint64_t)len + 7) & ~UINT64_C(7);
        if (padded > end - off) {
            return 0;
        }
        off += padded;
    }
    return 0;
}

static int check_incompatible(Qcow2Header *h, GError **errp)
{
    uint64_t unknown = h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN;
    if (h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION) {
        if (h->compression_type != QCOW2_COMPRESSION_ZLIB) {
            return bad(errp, "Unsupported qcow2 compression type %u (only "
                       "zlib is supported)", h->compression_type);
        }
        unknown &= ~QCOW2_INCOMPAT_COMPRESSION;
    } else if (h->compression_type != QCOW2_COMPRESSION_ZLIB) {
        return bad(errp, "qcow2 compression type %u is set without the "
                   "compression type feature bit", h->compression_type);
    }
    if (unknown) {
        char *names = qcow2_header_feature_list(h, unknown);
        bad(errp, "Unsupported qcow2 feature(s): %s", names);
        g_free(names);
        return -ENOTSUP;
    }
    return 0;
}

int qcow2_header_parse(Qcow2Header *h, const uint8_t *buf, size_t len,
                       uint64_t file_size, GError **errp)
{
    memset(h, 0, sizeof(*h));
    h->unknown_extensions = g_array_new(FALSE, TRUE, sizeof(Qcow2Extension));
    h->feature_names = g_array_new(FALSE, TRUE, sizeof(Qcow2FeatureName));

    if (file_size < QCOW2_V2_HEADER_LENGTH || len < QCOW2_V2_HEADER_LENGTH) {
        return bad(errp, "qcow2 header too short (file is %" PRIu64
                   " bytes)", file_size);
    }
    if (load_be32(buf + QCOW2_HDR_MAGIC) != QCOW2_MAGIC) {
        return bad(errp, "Image is not in qcow2 format");
    }
    h->version = load_be32(buf + QCOW2_HDR_VERSION);
    if (h->version != 2 && h->version != 3) {
        return bad(errp, "Unsupported qcow2 version %u", h->version);
    }
    h->backing_file_offset = load_be64(buf + QCOW2_HDR_BACKING_OFFSET);
    h->backing_file_size = load_be32(buf + QCOW2_HDR_BACKING_SIZE);
    h->cluster_bits = load_be32(buf + QCOW2_HDR_CLUSTER_BITS);
    h->size = load_be64(buf + QCOW2_HDR_SIZE);
    h->crypt_method = load_be32(buf + QCOW2_HDR_CRYPT_METHOD);
    h->l1_size = load_be32(buf + QCOW2_HDR_L1_SIZE);
    h->l1_table_offset = load_be64(buf + QCOW2_HDR_L1_OFFSET);
    h->refcount_table_offset = load_be64(buf + QCOW2_HDR_REFTABLE_OFFSET);
    h->refcount_table_clusters = load_be32(buf + QCOW2_HDR_REFTABLE_CLUSTERS);
    h->nb_snapshots = load_be32(buf + QCOW2_HDR_NB_SNAPSHOTS);
    h->snapshots_offset = load_be64(buf + QCOW2_HDR_SNAPSHOTS_OFFSET);

    if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
        h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        return bad(errp, "Unsupported qcow2 cluster size: 2^%u bytes "
                   "(must be 512 bytes to 2 MiB)", h->cluster_bits);
    }
    uint64_t cs = UINT64_C(1) << h->cluster_bits;
    if (len < cs && len < file_size) {
        return bad(errp, "qcow2 header cluster could not be read whole");
    }

    if (h->version == 2) {
        h->refcount_order = 4;
        h->header_length = QCOW2_V2_HEADER_LENGTH;
    } else {
        if (file_size < QCOW2_V3_MIN_HEADER_LENGTH) {
            return bad(errp, "qcow2 header too short (file is %" PRIu64
                       " bytes)", file_size);
        }
        h->incompatible_features = load_be64(buf + QCOW2_HDR_INCOMPAT);
        h->compatible_features = load_be64(buf + QCOW2_HDR_COMPAT);
        h->autoclear_features = load_be64(buf + QCOW2_HDR_AUTOCLEAR);
        h->refcount_order = load_be32(buf + QCOW2_HDR_REFCOUNT_ORDER);
        h->header_length = load_be32(buf + QCOW2_HDR_HEADER_LENGTH);
        if (h->header_length < QCOW2_V3_MIN_HEADER_LENGTH) {
            return bad(errp, "qcow2 header length %u is too small",
                       h->header_length);
        }
        if (h->header_length > cs || h->header_length > file_size) {
            return bad(errp, "qcow2 header length %u exceeds the first "
                       "cluster or the file", h->header_length);
        }
        if (h->header_length % 8) {
            return bad(errp, "qcow2 header length %u is not a multiple of 8",
                       h->header_length);
        }
        if (h->header_length > QCOW2_HDR_COMPRESSION_TYPE) {
            h->compression_type = buf[QCOW2_HDR_COMPRESSION_TYPE];
        }
    }
    if (h->refcount_order > 6) {
        return bad(errp, "qcow2 refcount order %u is invalid (must be 0..6)",
                   h->refcount_order);
    }
    if (h->crypt_method != 0) {
        return bad(errp, "Encrypted qcow2 images are not supported");
    }

    /* Extensions end where the backing file name starts, if it is later. */
    uint64_t ext_end = MIN(cs, len);
    if (h->backing_file_offset) {
        if (h->backing_file_size > QCOW2_MAX_BACKING_NAME ||
            h->backing_file_size == 0) {
            return bad(errp, "qcow2 backing file name length %u is invalid",
                       h->backing_file_size);
        }
        if (h->backing_file_offset > cs ||
            h->backing_file_offset + h->backing_file_size > MIN(cs, len) ||
            h->backing_file_offset < h->header_length) {
            return bad(errp, "qcow2 backing file name at offset %" PRIu64
                       " lies outside the header cluster",
                       h->backing_file_offset);
        }
        h->backing_file = g_strndup((const char *)buf + h->backing_file_offset,
                                    h->backing_file_size);
        if (strlen(h->backing_file) != h->backing_file_size) {
            return bad(errp, "qcow2 backing file name contains a NUL byte");
        }
        if (h->backing_file_offset > h->header_length) {
            ext_end = h->backing_file_offset;
        }
    }
    int r = parse_extensions(h, buf, h->header_length, ext_end, errp);
    if (r < 0) {
        return r;
    }
    r = check_incompatible(h, errp);
    if (r < 0) {
        return r;
    }

    /* Sizes and table locations. */
    if (h->size > BDRV_MAX_VIRTUAL_SIZE) {
        return bad(errp, "qcow2 virtual size %" PRIu64 " is too large",
                   h->size);
    }
    uint64_t l2_entries = cs / 8;
    uint64_t per_l1 = l2_entries * cs;
    uint64_t need_l1 = (h->size + per_l1 - 1) / per_l1;
    if ((uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        return bad(errp, "Active L1 table too large (%u entries)",
                   h->l1_size);
    }
    if (h->l1_size < need_l1) {
        return bad(errp, "qcow2 L1 table (%u entries) is too small for the "
                   "virtual size", h->l1_size);
    }
    if (h->l1_size && ((h->l1_table_offset & (cs - 1)) ||
                       h->l1_table_offset == 0 ||
                       h->l1_table_offset >= QCOW2_MAX_HOST_OFFSET ||
                       h->l1_table_offset + (uint64_t)h->l1_size * 8 >
                           file_size)) {
        return bad(errp, "Active L1 table offset 0x%" PRIx64 " is invalid "
                   "or beyond the end of the file", h->l1_table_offset);
    }
    uint64_t reft_bytes = (uint64_t)h->refcount_table_clusters << h->cluster_bits;
    if (h->refcount_table_clusters == 0 ||
        reft_bytes > QCOW2_MAX_REFTABLE_BYTES) {
        return bad(errp, "qcow2 refcount table size (%u clusters) is invalid",
                   h->refcount_table_clusters);
    }
    if ((h->refcount_table_offset & (cs - 1)) ||
        h->refcount_table_offset == 0 ||
        h->refcount_table_offset >= QCOW2_MAX_HOST_OFFSET ||
        h->refcount_table_offset + reft_bytes > file_size) {
        return bad(errp, "qcow2 refcount table offset 0x%" PRIx64
                   " is invalid or beyond the end of the file",
                   h->refcount_table_offset);
    }
    if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        return bad(errp, "qcow2 image has too many snapshots (%u)",
                   h->nb_snapshots);
    }
    if (h->nb_snapshots &&
        ((h->snapshots_offset & (cs - 1)) || h->snapshots_offset == 0 ||
         h->snapshots_offset >= file_size)) {
        return bad(errp, "qcow2 snapshot table offset 0x%" PRIx64
                   " is invalid or beyond the end of the file",
                   h->snapshots_offset);
    }
    if (ranges_overlap(0, cs, h->l1_table_offset, (uint64_t)h->l1_size * 8) ||
        ranges_overlap(0, cs, h->refcount_table_offset, reft_bytes) ||
        ranges_overlap(h->l1_table_offset, (uint64_t)h->l1_size * 8,
                       h->refcount_table_offset, reft_bytes)) {
        return bad(errp, "qcow2 metadata overlaps: the header, L1 table and "
                   "refcount table must not share clusters");
    }
    return 0;
}

static size_t put_extension(uint8_t *buf, size_t off, uint32_t type,
                            const void *data, uint32_t len)
{
    store_be32(buf + off, type);
    store_be32(buf + off + 4, len);
    memcpy(buf + off + 8, data, len);
    return off + 8 + (((size_t)len + 7) & ~(size_t)7);
}

int qcow2_header_serialize(const Qcow2Header *h, uint8_t *buf,
                           size_t cluster_size, GError **errp)
{
    memset(buf, 0, cluster_size);
    size_t need = (h->version == 3 ? QCOW2_V3_HEADER_LENGTH
                                   : QCOW2_V2_HEADER_LENGTH) + 8;
    if (h->backing_format) {
        need += 8 + ((strlen(h->backing_format) + 7) & ~(size_t)7);
    }
    if (h->version == 3) {
        need += 8 + G_N_ELEMENTS(known_features) * QCOW2_FEATURE_ENTRY_SIZE;
    }
    for (guint i = 0; h->unknown_extensions && i < h->unknown_extensions->len;
         i++) {
        need += 8 + ((g_array_index(h->unknown_extensions, Qcow2Extension, i)
                          .len + 7) & ~(size_t)7);
    }
    size_t backing_len = h->backing_file ? strlen(h->backing_file) : 0;
    if (need + backing_len > cluster_size ||
        backing_len > QCOW2_MAX_BACKING_NAME) {
        g_set_error(errp, BLOCK_ERROR, ENOSPC,
                    "qcow2 header, extensions and backing file name do not "
                    "fit in one cluster");
        return -ENOSPC;
    }

    store_be32(buf + QCOW2_HDR_MAGIC, QCOW2_MAGIC);
    store_be32(buf + QCOW2_HDR_VERSION, h->version);
    store_be32(buf + QCOW2_HDR_CLUSTER_BITS, h->cluster_bits);
    store_be64(buf + QCOW2_HDR_SIZE, h->size);
    store_be32(buf + QCOW2_HDR_CRYPT_METHOD, 0);
    store_be32(buf + QCOW2_HDR_L1_SIZE, h->l1_size);
    store_be64(buf + QCOW2_HDR_L1_OFFSET, h->l1_table_offset);
    store_be64(buf + QCOW2_HDR_REFTABLE_OFFSET, h->refcount_table_offset);
    store_be32(buf + QCOW2_HDR_REFTABLE_CLUSTERS, h->refcount_table_clusters);
    store_be32(buf + QCOW2_HDR_NB_SNAPSHOTS, h->nb_snapshots);
    store_be64(buf + QCOW2_HDR_SNAPSHOTS_OFFSET, h->snapshots_offset);
    size_t off = QCOW2_V2_HEADER_LENGTH;
    if (h->version == 3) {
        store_be64(buf + QCOW2_HDR_INCOMPAT, h->incompatible_features);
        store_be64(buf + QCOW2_HDR_COMPAT, h->compatible_features);
        store_be64(buf + QCOW2_HDR_AUTOCLEAR, h->autoclear_features);
        store_be32(buf + QCOW2_HDR_REFCOUNT_ORDER, h->refcount_order);
        store_be32(buf + QCOW2_HDR_HEADER_LENGTH, QCOW2_V3_HEADER_LENGTH);
        buf[QCOW2_HDR_COMPRESSION_TYPE] = h->compression_type;
        off = QCOW2_V3_HEADER_LENGTH;
    }
    if (h->backing_format) {
        off = put_extension(buf, off, QCOW2_EXT_BACKING_FORMAT,
                            h->backing_format,
                            (uint32_t)strlen(h->backing_format));
    }
    if (h->version == 3) {
        uint8_t table[G_N_ELEMENTS(known_features) * QCOW2_FEATURE_ENTRY_SIZE];
        memset(table, 0, sizeof(table));
        for (size_t i = 0; i < G_N_ELEMENTS(known_features); i++) {
            uint8_t *e = table + i * QCOW2_FEATURE_ENTRY_SIZE;
            e[0] = known_features[i].type;
            e[1] = known_features[i].bit;
            memcpy(e + 2, known_features[i].name,
                   strlen(known_features[i].name));
        }
        off = put_extension(buf, off, QCOW2_EXT_FEATURE_TABLE, table,
                            sizeof(table));
    }
    for (guint i = 0; h->unknown_extensions && i < h->unknown_extensions->len;
         i++) {
        Qcow2Extension *e =
            &g_array_index(h->unknown_extensions, Qcow2Extension, i);
        off = put_extension(buf, off, e->type, e->data, e->len);
    }
    off += 8;                      /* end-of-extensions marker (zeroes) */
    if (h->backing_file) {
        store_be64(buf + QCOW2_HDR_BACKING_OFFSET, off);
        store_be32(buf + QCOW2_HDR_BACKING_SIZE, (uint32_t)backing_len);
        memcpy(buf + off, h->backing_file, backing_len);
        off += backing_len;
    }
    return (int)off;
}

int qcow2_header_write(Qcow2State *s, GError **errp)
{
    uint8_t *buf = g_malloc(s->cluster_size);
    int used = qcow2_header_serialize(&s->h, buf, s->cluster_size, errp);
    int r = used;
    if (used >= 0) {
        size_t len = MIN(s->cluster_size, ((size_t)used + 511) & ~(size_t)511);
        r = host_file_pwrite(&s->file, 0, buf, len, errp);
        if (r == 0) {
            s->h.header_length = s->h.version == 3 ? QCOW2_V3_HEADER_LENGTH
                                                   : QCOW2_V2_HEADER_LENGTH;
            s->h.backing_file_offset = load_be64(buf + QCOW2_HDR_BACKING_OFFSET);
            s->h.backing_file_size = load_be32(buf + QCOW2_HDR_BACKING_SIZE);
        }
    }
    g_free(buf);
    return r;
}

int qcow2_header_write_u32(Qcow2State *s, size_t field, uint32_t v,
                           GError **errp)
{
    uint8_t b[4];
    store_be32(b, v);
    return host_file_pwrite(&s->file, field, b, sizeof(b), errp);
}

int qcow2_header_write_u64(Qcow2State *s, size_t field, uint64_t v,
                           GError **errp)
{
    uint8_t b[8];
    store_be64(b, v);
    return host_file_pwrite(&s->file, field, b, sizeof(b), errp);
}

int qcow2_header_set_incompat(Qcow2State *s, uint64_t bits, bool set,
                              GError **errp)
{
    if (s->h.version < 3) {
        return 0;
    }
    uint64_t v = set ? (s->h.incompatible_features | bits)
                     : (s->h.incompatible_features & ~bits);
    if (v == s->h.incompatible_features) {
        return 0;
    }
    int r = qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, v, errp);
    if (r == 0) {
        s->h.incompatible_features = v;
    }
    return r;
}
