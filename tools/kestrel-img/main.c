/*
 * main.c: kestrel-img, the disk image tool.  Subcommands, options,
 * output formats and exit statuses follow qemu-img so that people and
 * scripts can switch; each subcommand lives in its own cmd-*.c file.
 */
#include "tools/kestrel-img/img.h"

#include <stdio.h>
#include <string.h>

#define KESTREL_IMG_VERSION "0.1.0"

static const ImgCommand *const commands[] = {
    &img_cmd_check,
    &img_cmd_commit,
    &img_cmd_compare,
    &img_cmd_convert,
    &img_cmd_create,
    &img_cmd_info,
    &img_cmd_map,
    &img_cmd_measure,
    &img_cmd_snapshot,
    &img_cmd_rebase,
    &img_cmd_resize,
};

int img_command_help(const ImgCommand *cmd)
{
    printf("Usage: kestrel-img %s %s\n\n%s", cmd->name, cmd->synopsis,
           cmd->help);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "kestrel-img version " KESTREL_IMG_VERSION "\n"
            "usage: kestrel-img [-h | --help] [-V | --version] command "
            "[command options]\n"
            "Disk image utility for Kestrel, with qemu-img's commands and "
            "options.\n\nCommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        fprintf(out, "  %s %s\n", commands[i]->name, commands[i]->synopsis);
    }
    fprintf(out,
            "\n'kestrel-img COMMAND --help' describes one command.\n"
            "Sizes take the suffixes k, M, G, T, P, E (powers of 1024).\n"
            "Supported formats: qcow2 raw\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "help") == 0) {
        if (argc > 2) {
            for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
                if (strcmp(commands[i]->name, argv[2]) == 0) {
                    return img_command_help(commands[i]);
                }
            }
        }
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("kestrel-img version " KESTREL_IMG_VERSION "\n");
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i]->name, name) == 0) {
            for (int a = 2; a < argc; a++) {
                if (strcmp(argv[a], "--help") == 0 ||
                    strcmp(argv[a], "-h") == 0) {
                    return img_command_help(commands[i]);
                }
                if (strcmp(argv[a], "--") == 0) {
                    break;
                }
            }
            return commands[i]->run(argc - 1, argv + 1);
        }
    }
    img_error("Command not found: %s", name);
    return 1;
}
