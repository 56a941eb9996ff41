/*
 * img-common.c: helpers shared by the kestrel-img subcommands: errors,
 * sizes with qemu-img's suffixes, -o option lists, opening images,
 * progress lines and JSON string escaping.
 */
#include "tools/kestrel-img/img.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void img_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kestrel-img: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int img_fail(GError *err)
{
    img_error("%s", err ? err->message : "unknown error");
    if (err) {
        g_error_free(err);
    }
    return 1;
}

int img_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    img_error("%s", msg);
    fprintf(stderr, "Try 'kestrel-img %s --help' for more information\n",
            command);
    g_free(msg);
    return 1;
}

bool img_parse_size(const char *text, uint64_t *bytes)
{
    if (!text || !*text || *text == '-' || *text == '+') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || value < 0 || isnan(value)) {
        return false;
    }
    uint64_t unit = 1;
    switch (*end) {
    case 'k': case 'K': unit = UINT64_C(1) << 10; end++; break;
    case 'm': case 'M': unit = UINT64_C(1) << 20; end++; break;
    case 'g': case 'G': unit = UINT64_C(1) << 30; end++; break;
    case 't': case 'T': unit = UINT64_C(1) << 40; end++; break;
    case 'p': case 'P': unit = UINT64_C(1) << 50; end++; break;
    case 'e': case 'E': unit = UINT64_C(1) << 60; end++; break;
    default: break;
    }
    if (*end == 'b' || *end == 'B') {
        end++;
    }
    if (*end != '\0') {
        return false;
    }
    double total = value * (double)unit;
    if (total >= 18446744073709551616.0) {
        return false;
    }
    /* Fractions are fine with a unit ("1.5G") but not for plain bytes. */
    if (unit == 1 && value != floor(value)) {
        return false;
    }
    *bytes = (uint64_t)total;
    return true;
}

char *img_human_size(uint64_t bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
                                         "PiB", "EiB" };
    int i = 0;
    double v = (double)bytes;
    /* Move to the next unit once the number would reach 1000. */
    while (i < 6 && v >= 1000.0) {
        v /= 1024.0;
        i++;
    }
    return g_strdup_printf("%0.3g %s", v, units[i]);
}

void img_options_init(ImgOptions *o)
{
    o->keys = g_ptr_array_new_with_free_func(g_free);
    o->values = g_ptr_array_new_with_free_func(g_free);
}

void img_options_free(ImgOptions *o)
{
    g_ptr_array_free(o->keys, TRUE);
    g_ptr_array_free(o->values, TRUE);
}

bool img_options_parse(ImgOptions *o, const char *text)
{
    char **parts = g_strsplit(text, ",", -1);
    bool ok = true;
    for (char **p = parts; *p; p++) {
        if (!**p) {
            continue;
        }
        char *eq = strchr(*p, '=');
        if (strcmp(*p, "help") == 0 || strcmp(*p, "?") == 0) {
            g_ptr_array_add(o->keys, g_strdup("help"));
            g_ptr_array_add(o->values, g_strdup(""));
            continue;
        }
        if (!eq) {
            img_error("Invalid option list: %s (expected key=value)", text);
            ok = false;
            break;
        }
        g_ptr_array_add(o->keys, g_strndup(*p, (gsize)(eq - *p)));
        g_ptr_array_add(o->values, g_strdup(eq + 1));
    }
    g_strfreev(parts);
    return ok;
}

const char *img_options_get(const ImgOptions *o, const char *key)
{
    const char *found = NULL;
    for (guint i = 0; i < o->keys->len; i++) {
        if (strcmp(g_ptr_array_index(o->keys, i), key) == 0) {
            found = g_ptr_array_index(o->values, i);
        }
    }
    return found;
}

static bool parse_on_off(const char *key, const char *v, bool *out)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0 ||
        strcmp(v, "yes") == 0) {
        *out = true;
    } else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0 ||
               strcmp(v, "no") == 0) {
        *out = false;
    } else {
        img_error("Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    return true;
}

void img_print_create_options_help(const char *format)
{
    printf("Supported %s options:\n", format);
    if (strcmp(format, "qcow2") == 0) {
        printf("  backing_file=<str>     - File name of a base image\n"
               "  backing_fmt=<str>      - Image format of the base image\n"
               "  cluster_size=<size>    - qcow2 cluster size (512 to 2M, "
               "default 64k)\n"
               "  compat=<str>           - Compatibility level (v2 or 0.10, "
               "v3 or 1.1)\n"
               "  compression_type=<str> - Compression method (zlib)\n"
               "  extended_l2=<bool>     - Extended L2 tables (off only)\n"
               "  lazy_refcounts=<bool>  - Postpone refcount updates\n"
               "  preallocation=<str>    - off, metadata, falloc or full\n"
               "  refcount_bits=<num>    - Width of a reference count entry "
               "in bits\n"
               "  size=<size>            - Virtual disk size\n");
    } else {
        printf("  preallocation=<str>    - off, falloc or full\n"
               "  size=<size>            - Virtual disk size\n");
    }
}

bool img_create_options_from(const ImgOptions *o, const char *format,
                             BlockCreateOptions *co)
{
    bool qcow2 = strcmp(format, "qcow2") == 0;
    for (guint i = 0; i < o->keys->len; i++) {
        const char *k = g_ptr_array_index(o->keys, i);
        const char *v = g_ptr_array_index(o->values, i);
        uint64_t n;
        if (strcmp(k, "size") == 0) {
            if (!img_parse_size(v, &n)) {
                img_error("Invalid size '%s'", v);
                return false;
            }
            co->size = n;
        } else if (strcmp(k, "preallocation") == 0) {
            if (strcmp(v, "off") == 0) {
                co->preallocation = BDRV_PREALLOC_OFF;
            } else if (strcmp(v, "metadata") == 0 && qcow2) {
                co->preallocation = BDRV_PREALLOC_METADATA;
            } else if (strcmp(v, "falloc") == 0) {
                co->preallocation = BDRV_PREALLOC_FALLOC;
            } else if (strcmp(v, "full") == 0) {
                co->preallocation = BDRV_PREALLOC_FULL;
            } else {
                img_error("Invalid preallocation mode: '%s'", v);
                return false;
            }
        } else if (!qcow2) {
            img_error("Invalid parameter '%s' for format '%s'", k, format);
            return false;
        } else if (strcmp(k, "cluster_size") == 0) {
            if (!img_parse_size(v, &n) || n > UINT32_MAX) {
                img_error("Invalid cluster size '%s'", v);
                return false;
            }
            co->cluster_size = (uint32_t)n;
        } else if (strcmp(k, "compat") == 0) {
            if (strcmp(v, "0.10") == 0 || strcmp(v, "v2") == 0) {
                co->version = 2;
            } else if (strcmp(v, "1.1") == 0 || strcmp(v, "v3") == 0) {
                co->version = 3;
            } else {
                img_error("Invalid compatibility level: '%s'", v);
                return false;
            }
        } else if (strcmp(k, "backing_file") == 0) {
            co->backing_file = v;
        } else if (strcmp(k, "backing_fmt") == 0) {
            co->backing_format = v;
        } else if (strcmp(k, "lazy_refcounts") == 0) {
            if (!parse_on_off(k, v, &co->lazy_refcounts)) {
                return false;
            }
        } else if (strcmp(k, "extended_l2") == 0) {
            if (!parse_on_off(k, v, &co->extended_l2)) {
                return false;
            }
        } else if (strcmp(k, "refcount_bits") == 0) {
            if (!img_parse_size(v, &n) || n > 64) {
                img_error("Invalid refcount_bits '%s'", v);
                return false;
            }
            co->refcount_bits = (int)n;
        } else if (strcmp(k, "compression_type") == 0) {
            if (strcmp(v, "zlib") != 0) {
                img_error("Compression type '%s' is not supported (only "
                          "zlib)", v);
                return false;
            }
        } else {
            img_error("Invalid parameter '%s' for format '%s'", k, format);
            return false;
        }
    }
    return true;
}

BlockDriverState *img_open(const char *filename, const char *format,
                           int flags, GError **errp)
{
    BlockOpenOptions o = { .format = format, .flags = flags };
    GError *local = NULL;
    BlockDriverState *bs = bdrv_open(filename, &o, &local);
    if (!bs) {
        if (g_str_has_prefix(local->message, "Could not open '")) {
            g_propagate_error(errp, local);
        } else {
            g_set_error(errp, BLOCK_ERROR, local->code,
                        "Could not open '%s': %s", filename, local->message);
            g_error_free(local);
        }
    }
    return bs;
}

void img_progress_update(ImgProgress *p, double done, double total)
{
    if (!p->enabled) {
        return;
    }
    double pct = total > 0 ? done * 100.0 / total : 100.0;
    if (pct > 100.0) {
        pct = 100.0;
    }
    if (pct - p->last_shown < 1.0 && pct < 100.0 && p->last_shown >= 0) {
        return;
    }
    p->last_shown = pct;
    printf("    (%3.2f/100%%)\r", pct);
    fflush(stdout);
}

void img_progress_finish(ImgProgress *p)
{
    if (!p->enabled) {
        return;
    }
    printf("    (100.00/100%%)\r\n");
    fflush(stdout);
}

void img_json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (*c < 0x20) {
                g_string_append_printf(out, "\\u%04x", *c);
            } else {
                g_string_append_c(out, (char)*c);
            }
        }
    }
    g_string_append_c(out, '"');
}

bool img_parse_output_format(const char *text, bool *json)
{
    if (strcmp(text, "json") == 0) {
        *json = true;
    } else if (strcmp(text, "human") == 0) {
        *json = false;
    } else {
        img_error("--output must be used with human or json as argument.");
        return false;
    }
    return true;
}
