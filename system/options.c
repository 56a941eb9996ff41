/*
 * Command-line parsing with QEMU's spelling of the common options.  Every
 * problem becomes one clear message; nothing here touches the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "system/net-options.h"
#include "system/options.h"

static const char usage_text[] =
"Usage: kestrel [options] [disk_image]\n"
"\n"
"Kestrel runs an x86 PC guest on a software CPU (tcg) or on KVM.\n"
"\n"
"Machine:\n"
"  -machine, -M pc[,accel=kvm|tcg][,kernel-irqchip=on|off][,hpet=on|off]\n"
"                       the machine type (only 'pc': i440FX + PIIX3); hpet=off\n"
"                       leaves out the HPET (default on)\n"
"  -no-hpet             same as -machine hpet=off\n"
"  -accel kvm|tcg[,kernel-irqchip=on|off][,jit=on|off][,tb-size=MiB]\n"
"                       the accelerator (default: tcg); kvm uses its in-kernel\n"
"                       interrupt controllers unless kernel-irqchip=off; tcg\n"
"                       generates host code on x86-64 hosts unless jit=off;\n"
"                       tb-size is tcg's translation cache per vCPU (default 16)\n"
"  -enable-kvm          same as -accel kvm\n"
"  -cpu MODEL           CPU model (kvm: host; tcg: see the README)\n"
"  -m SIZE              guest RAM, in MiB or with a K/M/G/T suffix (default 128M)\n"
"  -smp N               number of vCPUs (default 1, at most 64)\n"
"\n"
"Boot:\n"
"  -kernel FILE         boot FILE directly: a Linux bzImage, a Multiboot ELF\n"
"                       image, or an ELF kernel with a PVH entry note (vmlinux)\n"
"  -initrd FILE         initial ramdisk (Linux), or modules (Multiboot:\n"
"                       'file args,file2 args')\n"
"  -append CMDLINE      kernel command line\n"
"  -bios FILE           firmware image (not run yet: only direct -kernel boot)\n"
"\n"
"Disks:\n"
"  -drive file=FILE[,format=raw|qcow2][,if=ide|virtio|none][,media=disk|cdrom]\n"
"         [,readonly=on|off][,snapshot=on|off][,id=ID][,index=N][,bus=B,unit=U]\n"
"         [,cache=writeback|none|writethrough|directsync|unsafe]\n"
"         [,discard=ignore|unmap]\n"
"                       a disk image (if=ide is the default, as in QEMU; write\n"
"                       ',,' for a comma in FILE); if=virtio adds a\n"
"                       virtio-blk-pci device, if=none is for -device ...,drive=ID\n"
"  -hda/-hdb/-hdc/-hdd FILE\n"
"                       IDE disk 0-3 (-drive file=FILE,index=N,media=disk)\n"
"  -cdrom FILE          IDE CD-ROM (-drive file=FILE,index=2,media=cdrom)\n"
"  -snapshot            write to temporary overlays, never to the images\n"
"  disk_image           a lone argument is the first IDE disk (-hda)\n"
"\n"
"Devices and I/O:\n"
"  -device DRIVER[,prop=value,...]\n"
"                       add a device ('-device help' lists them,\n"
"                       '-device DRIVER,help' lists its properties)\n"
"  -serial SPEC         next serial port: stdio, mon:stdio, null, file:PATH,\n"
"                       pty, tcp:HOST:PORT[,server=on][,wait=off],\n"
"                       unix:PATH[,server=on][,wait=off], chardev:ID\n"
"  -chardev BACKEND,id=ID[,...]\n"
"                       a character device for -serial chardev:ID / -monitor\n"
"  -monitor SPEC        the human monitor on SPEC (same forms as -serial)\n"
"  -qmp SPEC            the QMP (JSON) monitor on SPEC, e.g.\n"
"                       unix:/tmp/qmp.sock,server=on,wait=off\n"
"  -nographic           no display: serial port and monitor share the\n"
"                       terminal (Ctrl-A C switches, Ctrl-A X quits); with\n"
"                       -serial given, the monitor alone is on the terminal\n"
"                       unless -monitor, -qmp or a mon: port says otherwise\n"
"  -display none        no display (Kestrel has no graphical display yet)\n"
"  -nodefaults          no default devices (serial port, monitor, NIC)\n"
"\n"
"Network (see docs/net.md):\n"
"  -netdev user,id=ID[,net=ADDR/MASK][,host=ADDR][,dns=ADDR][,restrict=on]\n"
"         [,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...\n"
"                       user-mode networking (NAT, DHCP, DNS) via libslirp\n"
"  -netdev socket,id=ID,listen=[HOST]:PORT|connect=HOST:PORT|mcast=ADDR:PORT\n"
"                       a cable to another VM (QEMU's framing)\n"
"  -netdev tap,id=ID[,ifname=NAME][,script=no][,downscript=no]\n"
"                       a host tap interface\n"
"  -device e1000|virtio-net-pci,netdev=ID[,mac=52:54:00:xx:xx:xx]\n"
"                       a NIC joined to backend ID\n"
"  -nic user|socket|tap[,model=e1000|virtio-net-pci][,mac=..][,opts]\n"
"                       a backend and its NIC in one option; -nic none: no\n"
"                       NIC (default: -nic user,model=e1000)\n"
"\n"
"Run state:\n"
"  -S                   start with the vCPUs paused ('cont' in the monitor)\n"
"  -no-reboot           exit instead of rebooting when the guest resets\n"
"  -no-shutdown         stay paused instead of exiting on guest power-off\n"
"  -name NAME           a name for this machine (in messages)\n"
"  -h, --help           this text\n"
"  -version, --version  the version\n";

typedef enum ArgKind { NOARG, ARG } ArgKind;

typedef struct OptDef {
    const char *name;
    ArgKind kind;
} OptDef;

static const OptDef opt_defs[] = {
    { "m", ARG }, { "smp", ARG }, { "accel", ARG }, { "enable-kvm", NOARG },
    { "machine", ARG }, { "M", ARG }, { "cpu", ARG }, { "kernel", ARG },
    { "initrd", ARG }, { "append", ARG }, { "bios", ARG }, { "serial", ARG },
    { "chardev", ARG }, { "monitor", ARG }, { "qmp", ARG }, { "display", ARG },
    { "device", ARG }, { "name", ARG }, { "nographic", NOARG },
    { "no-reboot", NOARG }, { "no-shutdown", NOARG }, { "S", NOARG },
    { "nodefaults", NOARG }, { "netdev", ARG }, { "nic", ARG },
    { "no-hpet", NOARG },
    { "h", NOARG }, { "help", NOARG },
    { "version", NOARG }, { "drive", ARG }, { "hda", ARG }, { "hdb", ARG },
    { "hdc", ARG }, { "hdd", ARG }, { "cdrom", ARG }, { "snapshot", NOARG },
    { NULL, NOARG },
};

bool options_parse_size(const char *s, uint64_t *out, GError **errp)
{
    const char *p = s;
    if (g_str_has_prefix(p, "size=")) {
        p += 5;
    }
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno || v <= 0) {
        error_setg(errp, "invalid size '%s' (try 512M or 2G)", s);
        return false;
    }
    uint64_t mult = 1ull << 20;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': mult = 1; end++; break;
    case 'k': case 'K': mult = 1ull << 10; end++; break;
    case 'm': case 'M': mult = 1ull << 20; end++; break;
    case 'g': case 'G': mult = 1ull << 30; end++; break;
    case 't': case 'T': mult = 1ull << 40; end++; break;
    default: end = (char *)"?"; break;
    }
    if (*end == 'i' || *end == 'B') {
        end++;
    }
    if (*end) {
        error_setg(errp, "invalid size '%s' (try 512M or 2G)", s);
        return false;
    }
    double bytes = v * (double)mult;
    if (bytes >= 18446744073709551616.0) {
        error_setg(errp, "size '%s' is too large", s);
        return false;
    }
    *out = (uint64_t)bytes;
    return true;
}

static bool parse_onoff(const char *what, const char *v, bool *out,
                        GError **errp)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
        return true;
    }
    error_setg(errp, "%s expects on or off, not '%s'", what, v);
    return false;
}

/* One "key=value" (or the leading type name) of -accel / -machine.  Values
 * kept in Options are interned: they live as long as the program. */
static bool parse_suboption(Options *o, const char *opt, char *tok,
                            bool is_type_position, GError **errp)
{
    char *eq = strchr(tok, '=');
    if (!*tok) {
        return true;
    }
    if (is_type_position && !eq) {
        if (!strcmp(opt, "accel")) {
            o->accel = g_intern_string(tok);
        } else {
            o->machine = g_intern_string(tok);
        }
        return true;
    }
    if (!eq) {
        error_setg(errp, "-%s: '%s' needs a value", opt, tok);
        return false;
    }
    *eq = '\0';
    const char *val = g_intern_string(eq + 1);
    if (!strcmp(tok, "accel") && !strcmp(opt, "machine")) {
        o->accel = val;
    } else if (!strcmp(tok, "type") && !strcmp(opt, "machine")) {
        o->machine = val;
    } else if (!strcmp(tok, "hpet") && !strcmp(opt, "machine")) {
        if (!parse_onoff("hpet", val, &o->hpet, errp)) {
            return false;
        }
    } else if (!strcmp(tok, "kernel-irqchip") ||
               !strcmp(tok, "kernel_irqchip")) {
        if (!parse_onoff("kernel-irqchip", val, &o->kernel_irqchip, errp)) {
            return false;
        }
        o->kernel_irqchip_set = true;
    } else if (!strcmp(tok, "jit")) {
        if (!parse_onoff("jit", val, &o->jit, errp)) {
            return false;
        }
    } else if (!strcmp(tok, "tb-size")) {
        char *end;
        errno = 0;
        unsigned long long mib = strtoull(val, &end, 10);
        if (errno || end == val || *end || val[0] == '-' ||
            mib < OPT_TB_SIZE_MIN_MIB || mib > OPT_TB_SIZE_MAX_MIB) {
            error_setg(errp, "-%s: tb-size '%s' is not a size in MiB from %u to %u",
                       opt, val, OPT_TB_SIZE_MIN_MIB, OPT_TB_SIZE_MAX_MIB);
            return false;
        }
        o->tb_size_mib = (unsigned)mib;
    } else {
        error_setg(errp, "-%s: unknown option '%s'", opt, tok);
        return false;
    }
    return true;
}

/* "-accel kvm,kernel-irqchip=off" and "-machine pc,accel=kvm,...". */
static bool parse_suboptions(Options *o, const char *opt, const char *arg,
                             bool first_is_type, GError **errp)
{
    bool ok = true;
    char **toks = g_strsplit(arg, ",", -1);
    for (char **t = toks; *t && ok; t++) {
        ok = parse_suboption(o, opt, *t, first_is_type && t == toks, errp);
    }
    g_strfreev(toks);
    return ok;
}

static bool parse_smp(Options *o, const char *arg, GError **errp)
{
    unsigned n = 0;
    char **parts = g_strsplit(arg, ",", -1);
    bool ok = true;
    for (char **p = parts; *p && ok; p++) {
        const char *v = *p;
        if (p == parts && strchr(v, '=') == NULL) {
            /* the plain count */
        } else if (g_str_has_prefix(v, "cpus=")) {
            v += 5;
        } else if (g_str_has_prefix(v, "maxcpus=") || g_str_has_prefix(v, "sockets=") ||
                   g_str_has_prefix(v, "cores=") || g_str_has_prefix(v, "threads=")) {
            continue;
        } else {
            error_setg(errp, "-smp: unknown option '%s'", v);
            ok = false;
            break;
        }
        char *end;
        errno = 0;
        unsigned long c = strtoul(v, &end, 10);
        if (errno || end == v || *end || c == 0 || c > 64) {
            error_setg(errp, "-smp: '%s' is not a CPU count from 1 to 64", v);
            ok = false;
            break;
        }
        n = (unsigned)c;
    }
    g_strfreev(parts);
    if (ok) {
        o->smp = n ? n : 1;
    }
    return ok;
}

/* -hda..-hdd and -cdrom as the -drive strings they stand for, with commas
 * in the file name doubled.  Interned: they live as long as the program. */
static const char *short_drive_spec(const char *option, const char *file)
{
    GString *s = g_string_new("file=");
    for (const char *p = file; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ',');
        }
    }
    if (!strcmp(option, "cdrom")) {
        g_string_append(s, ",index=2,media=cdrom");
    } else {
        g_string_append_printf(s, ",index=%d,media=disk", option[2] - 'a');
    }
    const char *spec = g_intern_string(s->str);
    g_string_free(s, TRUE);
    return spec;
}

static const OptDef *find_opt(const char *name)
{
    for (const OptDef *d = opt_defs; d->name; d++) {
        if (!strcmp(d->name, name)) {
            return d;
        }
    }
    return NULL;
}

bool options_parse(Options *o, int argc, char **argv, OptAction *action,
                   GError **errp)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = 128ull << 20;
    o->smp = 1;
    o->kernel_irqchip = true;
    o->hpet = true;
    o->jit = true;
    o->machine = "pc";
    *action = OPT_RUN;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            /* As in QEMU, a lone argument is the first IDE disk (-hda). */
            if (o->nr_drives == OPT_MAX_DRIVES) {
                error_setg(errp, "'%s': at most %d drives", a, OPT_MAX_DRIVES);
                return false;
            }
            o->drives[o->nr_drives++] = short_drive_spec("hda", a);
            continue;
        }
        const char *name = a + 1 + (a[1] == '-');
        const OptDef *d = find_opt(name);
        if (!d) {
            error_setg(errp, "unknown option '%s' (see --help)", a);
            return false;
        }
        char *arg = NULL;
        if (d->kind == ARG) {
            if (i + 1 >= argc) {
                error_setg(errp, "option '%s' needs an argument", a);
                return false;
            }
            arg = argv[++i];
        }
        if (!strcmp(name, "h") || !strcmp(name, "help")) {
            fputs(usage_text, stdout);
            *action = OPT_EXIT_OK;
            return true;
        } else if (!strcmp(name, "version")) {
            printf("Kestrel emulator version %s\n", KESTREL_VERSION);
            *action = OPT_EXIT_OK;
            return true;
        } else if (!strcmp(name, "m")) {
            if (!options_parse_size(arg, &o->ram_size, errp)) {
                g_prefix_error(errp, "-m: ");
                return false;
            }
            if (o->ram_size < (2ull << 20)) {
                error_setg(errp, "-m: %s is too small (at least 2 MiB)", arg);
                return false;
            }
        } else if (!strcmp(name, "smp")) {
            if (!parse_smp(o, arg, errp)) {
                return false;
            }
        } else if (!strcmp(name, "accel")) {
            if (!parse_suboptions(o, "accel", arg, true, errp)) {
                return false;
            }
        } else if (!strcmp(name, "enable-kvm")) {
            o->accel = "kvm";
        } else if (!strcmp(name, "machine") || !strcmp(name, "M")) {
            if (!parse_suboptions(o, "machine", arg, true, errp)) {
                return false;
            }
        } else if (!strcmp(name, "cpu")) {
            o->cpu_model = arg;
        } else if (!strcmp(name, "kernel")) {
            o->kernel = arg;
        } else if (!strcmp(name, "initrd")) {
            o->initrd = arg;
        } else if (!strcmp(name, "append")) {
            o->append = arg;
        } else if (!strcmp(name, "bios")) {
            o->bios = arg;
        } else if (!strcmp(name, "serial")) {
            if (o->nr_serial == OPT_MAX_SERIAL) {
                error_setg(errp, "-serial: at most %d serial ports", OPT_MAX_SERIAL);
                return false;
            }
            o->serial[o->nr_serial++] = arg;
        } else if (!strcmp(name, "chardev")) {
            if (o->nr_chardevs == OPT_MAX_CHARDEVS) {
                error_setg(errp, "-chardev: at most %d", OPT_MAX_CHARDEVS);
                return false;
            }
            o->chardevs[o->nr_chardevs++] = arg;
        } else if (!strcmp(name, "monitor")) {
            o->monitor = arg;
        } else if (!strcmp(name, "qmp")) {
            o->qmp = arg;
        } else if (!strcmp(name, "display")) {
            if (strcmp(arg, "none") != 0) {
                error_setg(errp, "-display %s: only 'none' is supported (Kestrel "
                           "has no graphical display yet)", arg);
                return false;
            }
            o->display = arg;
        } else if (!strcmp(name, "device")) {
            if (!strcmp(arg, "help") || g_str_has_suffix(arg, ",help") ||
                g_str_has_suffix(arg, ",?")) {
                o->devices[0] = arg;
                o->nr_devices = 1;
                *action = OPT_DEVICE_HELP;
                return true;
            }
            if (o->nr_devices == OPT_MAX_DEVICES) {
                error_setg(errp, "-device: at most %d devices", OPT_MAX_DEVICES);
                return false;
            }
            o->devices[o->nr_devices++] = arg;
        } else if (!strcmp(name, "drive") || !strcmp(name, "cdrom") ||
                   (strlen(name) == 3 && g_str_has_prefix(name, "hd"))) {
            if (o->nr_drives == OPT_MAX_DRIVES) {
                error_setg(errp, "-%s: at most %d drives", name, OPT_MAX_DRIVES);
                return false;
            }
            o->drives[o->nr_drives++] =
                !strcmp(name, "drive") ? arg : short_drive_spec(name, arg);
        } else if (!strcmp(name, "snapshot")) {
            o->snapshot = true;
        } else if (!strcmp(name, "netdev") || !strcmp(name, "nic")) {
            if (!net_option_add(o, name, arg, errp)) {
                return false;
            }
        } else if (!strcmp(name, "name")) {
            o->name = arg;
        } else if (!strcmp(name, "nographic")) {
            o->nographic = true;
        } else if (!strcmp(name, "no-reboot")) {
            o->no_reboot = true;
        } else if (!strcmp(name, "no-shutdown")) {
            o->no_shutdown = true;
        } else if (!strcmp(name, "S")) {
            o->start_paused = true;
        } else if (!strcmp(name, "nodefaults")) {
            o->nodefaults = true;
        } else if (!strcmp(name, "no-hpet")) {
            o->hpet = false;
        }
    }
    if (strcmp(o->machine, "pc") != 0 && strncmp(o->machine, "pc-i440fx", 9) != 0) {
        if (!strcmp(o->machine, "help")) {
            printf("Supported machines are:\npc                   Standard PC (i440FX + PIIX, 1996) (default)\n");
            *action = OPT_EXIT_OK;
            return true;
        }
        error_setg(errp, "-machine %s: unsupported machine type (only 'pc')",
                   o->machine);
        return false;
    }
    if (o->accel && strcmp(o->accel, "kvm") && strcmp(o->accel, "tcg")) {
        error_setg(errp, "-accel %s: invalid accelerator (kvm or tcg)", o->accel);
        return false;
    }
    if ((o->initrd || o->append) && !o->kernel) {
        error_setg(errp, "-%s only allowed with -kernel option",
                   o->initrd ? "initrd" : "append");
        return false;
    }
    return true;
}
