/*
 * img.h: what the kestrel-img subcommands share: the command table,
 * error reporting, size and option parsing, opening images, progress
 * output and qemu-img compatible number formatting.
 */
#ifndef KESTREL_IMG_H
#define KESTREL_IMG_H

#include "block/block.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ImgCommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;          /* one line: options and arguments */
    const char *help;              /* what it does and what each option means */
} ImgCommand;

extern const ImgCommand img_cmd_create;
extern const ImgCommand img_cmd_info;
extern const ImgCommand img_cmd_check;
extern const ImgCommand img_cmd_convert;
extern const ImgCommand img_cmd_snapshot;
extern const ImgCommand img_cmd_resize;
extern const ImgCommand img_cmd_commit;
extern const ImgCommand img_cmd_rebase;
extern const ImgCommand img_cmd_map;
extern const ImgCommand img_cmd_compare;
extern const ImgCommand img_cmd_measure;

/* Prints "kestrel-img: <message>" on stderr. */
void img_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Prints the error's message and frees it; returns 1 (the exit status). */
int img_fail(GError *err);
/* Prints the help of a command and returns 0. */
int img_command_help(const ImgCommand *cmd);
/* Reports an option error the way getopt users expect; returns 1. */
int img_usage_error(const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* "10G", "512", "1.5M": bytes; false on a malformed or too large size. */
bool img_parse_size(const char *text, uint64_t *bytes);
/* qemu-img's human sizes: "196 KiB", "1 GiB". */
char *img_human_size(uint64_t bytes);

/* Options given with -o: key=value pairs. */
typedef struct ImgOptions {
    GPtrArray *keys;
    GPtrArray *values;
} ImgOptions;
void img_options_init(ImgOptions *o);
void img_options_free(ImgOptions *o);
bool img_options_parse(ImgOptions *o, const char *text);
const char *img_options_get(const ImgOptions *o, const char *key);
/* Fills create options from -o pairs; reports unknown keys. */
bool img_create_options_from(const ImgOptions *o, const char *format,
                             BlockCreateOptions *co);
void img_print_create_options_help(const char *format);

BlockDriverState *img_open(const char *filename, const char *format,
                           int flags, GError **errp);

typedef struct ImgProgress {
    bool enabled;
    double last_shown;
} ImgProgress;
void img_progress_update(ImgProgress *p, double done, double total);
void img_progress_finish(ImgProgress *p);

/* Writes a JSON string literal with escapes. */
void img_json_string(GString *out, const char *s);

/* True when the output format option is valid; sets *json. */
bool img_parse_output_format(const char *text, bool *json);

#endif
