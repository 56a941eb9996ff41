/*
 * The command line, spelled as QEMU spells it: what the user asked for,
 * parsed and validated before any machine exists.
 */
#ifndef KESTREL_SYSTEM_OPTIONS_H
#define KESTREL_SYSTEM_OPTIONS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define OPT_MAX_SERIAL 4
#define OPT_MAX_DEVICES 32
#define OPT_MAX_CHARDEVS 8
#define OPT_MAX_DRIVES 16
#define OPT_MAX_NETDEVS 8
#define OPT_MAX_NICS 8
#define OPT_TB_SIZE_MIN_MIB 1
#define OPT_TB_SIZE_MAX_MIB 4096

typedef enum OptAction {
    OPT_RUN,           /* start a machine */
    OPT_EXIT_OK,       /* --help, --version: printed, exit 0 */
    OPT_DEVICE_HELP,   /* "-device help" or "-device NAME,help": the caller
                          prints the list / the properties of devices[0] */
} OptAction;

typedef struct Options {
    uint64_t ram_size;           /* bytes */
    unsigned smp;
    const char *accel;           /* "kvm", "tcg" or NULL (default) */
    bool kernel_irqchip;         /* -accel kvm,kernel-irqchip=on|off */
    bool kernel_irqchip_set;
    bool jit;                    /* -accel tcg,jit=on|off (default on) */
    unsigned tb_size_mib;        /* -accel tcg,tb-size=N per vCPU; 0: tcg's default */
    const char *machine;         /* "pc" */
    bool hpet;                   /* -machine hpet=on|off, -no-hpet */
    const char *cpu_model;       /* -cpu */
    const char *kernel, *initrd, *append, *bios;
    const char *serial[OPT_MAX_SERIAL];
    unsigned nr_serial;
    const char *chardevs[OPT_MAX_CHARDEVS];
    unsigned nr_chardevs;
    const char *monitor;         /* -monitor SPEC */
    const char *qmp;             /* -qmp SPEC */
    const char *display;         /* -display none|sdl, or NULL */
    const char *devices[OPT_MAX_DEVICES];
    unsigned nr_devices;
    const char *drives[OPT_MAX_DRIVES]; /* -drive strings; -hda..-hdd and
                                           -cdrom become -drive strings */
    unsigned nr_drives;
    bool snapshot;               /* -snapshot */
    const char *netdevs[OPT_MAX_NETDEVS]; /* -netdev (system/net-options.c) */
    unsigned nr_netdevs;
    const char *nics[OPT_MAX_NICS];       /* -nic */
    unsigned nr_nics;
    bool nic_none;                        /* -nic none */
    const char *name;
    bool nographic;
    bool no_reboot;
    bool no_shutdown;
    bool start_paused;           /* -S */
    bool nodefaults;
} Options;

/* Fill *o from argv.  Returns false with errp set for bad input; prints help
 * and sets *action to OPT_EXIT_OK for --help/--version/"help" queries.  The
 * strings point into argv. */
bool options_parse(Options *o, int argc, char **argv, OptAction *action,
                   GError **errp);

/* "512", "512M", "2G", "1T", "size=2G": bytes, MiB by default. */
bool options_parse_size(const char *s, uint64_t *out, GError **errp);

#endif
