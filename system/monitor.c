/*
 * The human monitor: line editing on a chardev (echo, backspace, Ctrl-U,
 * Ctrl-W, history with the up/down arrow keys of a VT100/ANSI terminal) and
 * a table of commands named as in QEMU's HMP.  Everything reaches the
 * machine through MonitorHooks (monitor.h).
 */
#include "system/monitor.h"
#include "core/error.h"
#include "system/keys.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MON_PROMPT "(kestrel) "
#define MON_LINE_MAX 256
#define MON_HISTORY 32

typedef enum { ESC_NONE, ESC_START, ESC_CSI } EscState;

struct Monitor {
    Chardev *chr;
    MonitorHooks hooks;
    char line[MON_LINE_MAX];
    size_t len;
    bool last_cr;          /* swallow the '\n' of "\r\n" */
    EscState esc;
    bool has_focus;        /* input reaches us (always, but on a mux) */
    bool banner_shown;
    bool quitting;
    unsigned cpu;          /* current CPU for info registers */
    char *history[MON_HISTORY];
    unsigned hist_len;     /* entries used, newest last */
    unsigned hist_pos;     /* browsing position; hist_len = the new line */
};

typedef struct MonCmd {
    const char *name;
    const char *alias;
    const char *args;
    const char *help;
    int max_args;
    void (*run)(Monitor *mon, int argc, char **argv);
} MonCmd;

static void mon_write(Monitor *mon, const char *s, size_t len)
{
    chardev_write(mon->chr, s, len);
}

static void mon_puts(Monitor *mon, const char *s)
{
    mon_write(mon, s, strlen(s));
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    GString *out = g_string_new(NULL);
    const char *p;
    va_list ap;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* Terminals and telnet-ish clients want CR LF. */
    for (p = text; *p; p++) {
        if (*p == '\n') {
            g_string_append_c(out, '\r');
        }
        g_string_append_c(out, *p);
    }
    mon_write(mon, out->str, out->len);
    g_string_free(out, TRUE);
}

static void mon_prompt(Monitor *mon)
{
    mon_puts(mon, MON_PROMPT);
    mon_write(mon, mon->line, mon->len);
}

static void mon_redraw(Monitor *mon)
{
    mon_puts(mon, "\r\033[K");
    mon_prompt(mon);
}

static void mon_banner(Monitor *mon)
{
    mon->banner_shown = true;
    monitor_printf(mon, "Kestrel %s monitor - type 'help' for the commands\n",
                   mon->hooks.version ? mon->hooks.version : "");
}

/* ---- info subcommands ---- */

static bool mon_cpu_state(Monitor *mon, unsigned idx, X86State *st)
{
    if (!mon->hooks.get_cpu_state) {
        monitor_printf(mon, "CPU state is not available\n");
        return false;
    }
    memset(st, 0, sizeof(*st));
    if (!mon->hooks.get_cpu_state(mon->hooks.opaque, idx, st)) {
        monitor_printf(mon, "could not read the state of CPU #%u\n", idx);
        return false;
    }
    return true;
}

static unsigned mon_nr_cpus(Monitor *mon)
{
    return mon->hooks.nr_cpus ? mon->hooks.nr_cpus(mon->hooks.opaque) : 0;
}

static const char *cpu_mode(const X86State *st)
{
    if (!(st->cr0 & X86_CR0_PE)) {
        return "real";
    }
    if (st->efer & X86_EFER_LMA) {
        return (st->segs[R_CS].flags & X86_DESC_L) ? "long" : "compat";
    }
    if (st->rflags & X86_FLAG_VM) {
        return "vm86";
    }
    return "protected";
}

static void info_status(Monitor *mon, int argc, char **argv)
{
    const char *s = mon->hooks.status ? mon->hooks.status(mon->hooks.opaque)
                                      : NULL;

    monitor_printf(mon, "VM status: %s\n", s ? s : "unknown");
}

static void info_version(Monitor *mon, int argc, char **argv)
{
    monitor_printf(mon, "%s\n", mon->hooks.version ? mon->hooks.version
                                                   : "unknown");
}

static void info_cpus(Monitor *mon, int argc, char **argv)
{
    unsigned n = mon_nr_cpus(mon), i;

    for (i = 0; i < n; i++) {
        X86State st;

        if (mon->hooks.get_cpu_state &&
            mon->hooks.get_cpu_state(mon->hooks.opaque, i, &st)) {
            monitor_printf(mon, "%c CPU #%u: rip=0x%016" G_GINT64_MODIFIER
                           "x (%s mode)\n", i == mon->cpu ? '*' : ' ', i,
                           st.rip, cpu_mode(&st));
        } else {
            monitor_printf(mon, "%c CPU #%u\n", i == mon->cpu ? '*' : ' ', i);
        }
    }
}

static void print_seg(Monitor *mon, const char *name, const SegmentCache *s)
{
    monitor_printf(mon, "%-3s=%04x %016" G_GINT64_MODIFIER "x %08x %06x\n",
                   name, s->selector, s->base, s->limit, s->flags);
}

static void print_registers(Monitor *mon, unsigned idx)
{
    static const char *const gpr[16] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    /* Shown in the order people read them: A B C D, then the others. */
    static const int order[16] = {
        R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP, R_ESP,
        R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
    };
    static const char *const segname[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    static const struct { uint32_t bit; char c; } flagch[] = {
        { X86_FLAG_OF, 'O' }, { X86_FLAG_DF, 'D' }, { X86_FLAG_IF, 'I' },
        { X86_FLAG_TF, 'T' }, { X86_FLAG_SF, 'S' }, { X86_FLAG_ZF, 'Z' },
        { X86_FLAG_AF, 'A' }, { X86_FLAG_PF, 'P' }, { X86_FLAG_CF, 'C' },
    };
    char flags[G_N_ELEMENTS(flagch) + 1];
    X86State st;
    unsigned cpl;
    size_t i;

    if (!mon_cpu_state(mon, idx, &st)) {
        return;
    }
    monitor_printf(mon, "CPU #%u (%s mode)\n", idx, cpu_mode(&st));
    for (i = 0; i < 16; i++) {
        monitor_printf(mon, "%-3s=%016" G_GINT64_MODIFIER "x%s",
                       gpr[order[i]], st.regs[order[i]],
                       (i % 4) == 3 ? "\n" : " ");
    }
    for (i = 0; i < G_N_ELEMENTS(flagch); i++) {
        flags[i] = (st.rflags & flagch[i].bit) ? flagch[i].c : '-';
    }
    flags[i] = '\0';
    cpl = !(st.cr0 & X86_CR0_PE) ? 0 :
          (st.rflags & X86_FLAG_VM) ? 3 : (st.segs[R_CS].selector & 3);
    monitor_printf(mon, "RIP=%016" G_GINT64_MODIFIER "x RFL=%08"
                   G_GINT64_MODIFIER "x [%s] CPL=%u IOPL=%u\n", st.rip,
                   st.rflags, flags, cpl,
                   (unsigned)((st.rflags & X86_FLAG_IOPL) >> 12));
    for (i = 0; i < 6; i++) {
        print_seg(mon, segname[i], &st.segs[i]);
    }
    print_seg(mon, "LDT", &st.ldt);
    print_seg(mon, "TR", &st.tr);
    monitor_printf(mon, "GDT=     %016" G_GINT64_MODIFIER "x %08x\n",
                   st.gdt.base, st.gdt.limit);
    monitor_printf(mon, "IDT=     %016" G_GINT64_MODIFIER "x %08x\n",
                   st.idt.base, st.idt.limit);
    monitor_printf(mon, "CR0=%08" G_GINT64_MODIFIER "x CR2=%016"
                   G_GINT64_MODIFIER "x CR3=%016" G_GINT64_MODIFIER
                   "x CR4=%08" G_GINT64_MODIFIER "x\n",
                   st.cr0, st.cr2, st.cr3, st.cr4);
    monitor_printf(mon, "EFER=%016" G_GINT64_MODIFIER "x\n", st.efer);
}

static void info_registers(Monitor *mon, int argc, char **argv)
{
    unsigned n = mon_nr_cpus(mon), i;

    if (argc > 2 && !strcmp(argv[2], "-a")) {
        for (i = 0; i < n; i++) {
            print_registers(mon, i);
        }
    } else if (argc > 2) {
        monitor_printf(mon, "info registers: unknown option '%s' "
                       "(-a shows all CPUs)\n", argv[2]);
    } else {
        print_registers(mon, mon->cpu);
    }
}

static void info_text(Monitor *mon, void (*fn)(void *, GString *),
                      const char *what)
{
    GString *out;

    if (!fn) {
        monitor_printf(mon, "%s is not available\n", what);
        return;
    }
    out = g_string_new(NULL);
    fn(mon->hooks.opaque, out);
    if (out->len && out->str[out->len - 1] != '\n') {
        g_string_append_c(out, '\n');
    }
    monitor_printf(mon, "%s", out->str);
    g_string_free(out, TRUE);
}

static void info_qtree(Monitor *mon, int argc, char **argv)
{
    info_text(mon, mon->hooks.info_qtree, "the device tree");
}

static void info_mtree(Monitor *mon, int argc, char **argv)
{
    info_text(mon, mon->hooks.info_mtree, "the memory tree");
}

static const MonCmd info_cmds[] = {
    { "status", NULL, "", "the run state of the virtual machine", 0,
      info_status },
    { "version", NULL, "", "the version of Kestrel", 0, info_version },
    { "cpus", NULL, "", "the virtual CPUs", 0, info_cpus },
    { "registers", NULL, "[-a]", "the registers of the current CPU (-a: all)",
      1, info_registers },
    { "qtree", NULL, "", "the devices of the machine", 0, info_qtree },
    { "mtree", NULL, "", "the memory map as the guest sees it", 0,
      info_mtree },
};

/* ---- commands ---- */

static void cmd_help(Monitor *mon, int argc, char **argv);

static void cmd_info(Monitor *mon, int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        for (i = 0; i < G_N_ELEMENTS(info_cmds); i++) {
            monitor_printf(mon, "info %s %s -- %s\n", info_cmds[i].name,
                           info_cmds[i].args, info_cmds[i].help);
        }
        return;
    }
    for (i = 0; i < G_N_ELEMENTS(info_cmds); i++) {
        if (!strcmp(argv[1], info_cmds[i].name)) {
            if (argc - 2 > info_cmds[i].max_args) {
                monitor_printf(mon, "info %s: too many arguments\n",
                               argv[1]);
                return;
            }
            info_cmds[i].run(mon, argc, argv);
            return;
        }
    }
    monitor_printf(mon, "unknown info item: '%s' (try 'info')\n", argv[1]);
}

static void cmd_cpu(Monitor *mon, int argc, char **argv)
{
    char *end;
    unsigned long idx;

    if (argc < 2) {
        monitor_printf(mon, "cpu: which CPU? (cpu INDEX)\n");
        return;
    }
    idx = strtoul(argv[1], &end, 0);
    if (*end || end == argv[1] || idx >= mon_nr_cpus(mon)) {
        monitor_printf(mon, "invalid CPU index '%s'\n", argv[1]);
        return;
    }
    mon->cpu = (unsigned)idx;
}

#define HOOK_CMD(fn_name, hook)                                         \
    static void fn_name(Monitor *mon, int argc, char **argv)            \
    {                                                                   \
        if (mon->hooks.hook) {                                          \
            mon->hooks.hook(mon->hooks.opaque);                         \
        } else {                                                        \
            monitor_printf(mon, "%s is not available\n", argv[0]);      \
        }                                                               \
    }

HOOK_CMD(cmd_stop, stop)
HOOK_CMD(cmd_cont, cont)
HOOK_CMD(cmd_system_reset, system_reset)
HOOK_CMD(cmd_system_powerdown, system_powerdown)

static void change_medium(Monitor *mon, const char *device, const char *file,
                          const char *format, bool force)
{
    GError *err = NULL;

    if (!mon->hooks.change_medium) {
        monitor_printf(mon, "there are no removable drives\n");
    } else if (!mon->hooks.change_medium(mon->hooks.opaque, device, file,
                                         format, force, &err)) {
        monitor_printf(mon, "%s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_change(Monitor *mon, int argc, char **argv)
{
    if (argc < 3) {
        monitor_printf(mon, "change: usage: change DEVICE FILE [FORMAT]\n");
        return;
    }
    change_medium(mon, argv[1], argv[2], argc > 3 ? argv[3] : NULL, false);
}

static void cmd_eject(Monitor *mon, int argc, char **argv)
{
    bool force = argc > 1 && !strcmp(argv[1], "-f");

    if (argc != 2 + force) {
        monitor_printf(mon, "eject: usage: eject [-f] DEVICE\n");
        return;
    }
    change_medium(mon, argv[1 + force], NULL, NULL, force);
}

/* sendkey ctrl-alt-delete [hold_ms], as in QEMU (100 ms by default). */
static void cmd_sendkey(Monitor *mon, int argc, char **argv)
{
    uint16_t keys[KEYS_MAX];
    unsigned long hold = 100;
    GError *err = NULL;
    unsigned n;

    if (argc < 2 || argc > 3) {
        monitor_printf(mon, "sendkey: usage: sendkey KEYS [HOLD_MS]\n");
        return;
    }
    if (argc == 3) {
        char *end;
        hold = strtoul(argv[2], &end, 0);
        if (*end || !argv[2][0] || hold > 10000) {
            monitor_printf(mon, "sendkey: '%s' is not a hold time in ms "
                           "(0-10000)\n", argv[2]);
            return;
        }
    }
    n = keys_parse_combo(argv[1], keys, &err);
    if (n && !mon->hooks.send_keys) {
        monitor_printf(mon, "there is no keyboard\n");
        return;
    }
    if (!n || !mon->hooks.send_keys(mon->hooks.opaque, keys, n,
                                    (unsigned)hold, &err)) {
        monitor_printf(mon, "sendkey: %s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_quit(Monitor *mon, int argc, char **argv)
{
    mon->quitting = true;
    if (mon->hooks.quit) {
        mon->hooks.quit(mon->hooks.opaque);
    }
}

static const MonCmd cmds[] = {
    { "help", "?", "[command]", "list the commands, or show one", 1,
      cmd_help },
    { "info", NULL, "[item]", "show machine information ('info' lists "
      "the items)", 2, cmd_info },
    { "cpu", NULL, "index", "select the CPU 'info registers' shows", 1,
      cmd_cpu },
    { "stop", NULL, "", "pause the virtual machine", 0, cmd_stop },
    { "cont", "c", "", "resume the virtual machine", 0, cmd_cont },
    { "system_reset", NULL, "", "reset the machine", 0, cmd_system_reset },
    { "system_powerdown", NULL, "", "press the power button (ACPI)", 0,
      cmd_system_powerdown },
    { "change", NULL, "device filename [format]", "insert a medium into a "
      "CD-ROM drive (e.g. change ide1-cd0 new.iso)", 3, cmd_change },
    { "eject", NULL, "[-f] device", "eject the medium of a CD-ROM drive "
      "(-f: even if the guest locked it)", 2, cmd_eject },
    { "sendkey", NULL, "keys [hold_ms]", "send keys to the guest's keyboard "
      "(e.g. ctrl-alt-delete)", 2, cmd_sendkey },
    { "quit", "q", "", "quit the emulator", 0, cmd_quit },
};

static void print_cmd_help(Monitor *mon, const MonCmd *c)
{
    g_autofree char *names = c->alias ? g_strdup_printf("%s|%s", c->name,
                                                        c->alias)
                                      : g_strdup(c->name);

    monitor_printf(mon, "%s %s -- %s\n", names, c->args, c->help);
}

static const MonCmd *find_cmd(const char *name)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (!strcmp(name, cmds[i].name) ||
            (cmds[i].alias && !strcmp(name, cmds[i].alias))) {
            return &cmds[i];
        }
    }
    return NULL;
}

static void cmd_help(Monitor *mon, int argc, char **argv)
{
    size_t i;

    if (argc > 1) {
        const MonCmd *c = find_cmd(argv[1]);

        if (!c) {
            monitor_printf(mon, "unknown command: '%s'\n", argv[1]);
        } else {
            print_cmd_help(mon, c);
        }
        return;
    }
    for (i = 0; i < G_N_ELEMENTS(cmds); i++) {
        print_cmd_help(mon, &cmds[i]);
    }
}

void monitor_run_command(Monitor *mon, const char *line)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    char *argv[8];
    const MonCmd *c;
    int argc = 0;
    size_t i;

    for (i = 0; words[i]; i++) {
        if (!words[i][0]) {
            continue;
        }
        if (argc == G_N_ELEMENTS(argv)) {
            monitor_printf(mon, "too many arguments\n");
            return;
        }
        argv[argc++] = words[i];
    }
    if (argc == 0) {
        return;
    }
    c = find_cmd(argv[0]);
    if (!c) {
        monitor_printf(mon, "unknown command: '%s' (try 'help')\n", argv[0]);
        return;
    }
    if (argc - 1 > c->max_args) {
        monitor_printf(mon, "%s: too many arguments (%s %s)\n", argv[0],
                       c->name, c->args);
        return;
    }
    c->run(mon, argc, argv);
}

/* ---- line editing ---- */

static void history_add(Monitor *mon, const char *line)
{
    if (!line[0] || (mon->hist_len &&
                     !strcmp(mon->history[mon->hist_len - 1], line))) {
        mon->hist_pos = mon->hist_len;
        return;
    }
    if (mon->hist_len == MON_HISTORY) {
        g_free(mon->history[0]);
        memmove(mon->history, mon->history + 1,
                (MON_HISTORY - 1) * sizeof(mon->history[0]));
        mon->hist_len--;
    }
    mon->history[mon->hist_len++] = g_strdup(line);
    mon->hist_pos = mon->hist_len;
}

static void history_move(Monitor *mon, int dir)
{
    const char *s;

    if (dir < 0 && mon->hist_pos > 0) {
        mon->hist_pos--;
    } else if (dir > 0 && mon->hist_pos < mon->hist_len) {
        mon->hist_pos++;
    } else {
        return;
    }
    s = mon->hist_pos < mon->hist_len ? mon->history[mon->hist_pos] : "";
    mon->len = MIN(strlen(s), sizeof(mon->line) - 1);
    memcpy(mon->line, s, mon->len);
    mon_redraw(mon);
}

static void mon_key(Monitor *mon, uint8_t ch)
{
    if (mon->esc == ESC_START) {
        mon->esc = (ch == '[' || ch == 'O') ? ESC_CSI : ESC_NONE;
        return;
    }
    if (mon->esc == ESC_CSI) {
        if (ch >= 0x40 && ch <= 0x7e) {
            mon->esc = ESC_NONE;
            if (ch == 'A') {
                history_move(mon, -1);
            } else if (ch == 'B') {
                history_move(mon, 1);
            }
        }
        return;
    }
    if (ch == '\n' && mon->last_cr) {
        mon->last_cr = false;
        return;
    }
    mon->last_cr = ch == '\r';
    switch (ch) {
    case '\r':
    case '\n': {
        char cmd[MON_LINE_MAX];

        memcpy(cmd, mon->line, mon->len);
        cmd[mon->len] = '\0';
        mon_puts(mon, "\r\n");
        history_add(mon, cmd);
        mon->len = 0;
        monitor_run_command(mon, cmd);
        if (!mon->quitting) {
            mon_prompt(mon);
        }
        break;
    }
    case 0x7f: /* DEL, what the Backspace key sends */
    case 0x08: /* Ctrl-H */
        if (mon->len > 0) {
            mon->len--;
            mon_puts(mon, "\b \b");
        }
        break;
    case 0x15: /* Ctrl-U: erase the line */
        mon->len = 0;
        mon_redraw(mon);
        break;
    case 0x17: /* Ctrl-W: erase the last word */
        while (mon->len > 0 && mon->line[mon->len - 1] == ' ') {
            mon->len--;
        }
        while (mon->len > 0 && mon->line[mon->len - 1] != ' ') {
            mon->len--;
        }
        mon_redraw(mon);
        break;
    case 0x1b:
        mon->esc = ESC_START;
        break;
    default:
        if (ch >= 0x20 && ch < 0x7f && mon->len < sizeof(mon->line) - 1) {
            mon->line[mon->len++] = (char)ch;
            mon_write(mon, (const char *)&ch, 1);
        }
        break;
    }
}

/* ---- chardev frontend ---- */

static int mon_can_receive(void *opaque)
{
    return MON_LINE_MAX;
}

static void mon_receive(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    int i;

    for (i = 0; i < len && !mon->quitting; i++) {
        mon_key(mon, buf[i]);
    }
}

static void mon_event(void *opaque, ChardevEvent ev)
{
    Monitor *mon = opaque;

    switch (ev) {
    case CHR_EVENT_OPENED:
        mon->len = 0;
        mon->esc = ESC_NONE;
        if (mon->has_focus) {
            mon_banner(mon);
            mon_prompt(mon);
        }
        break;
    case CHR_EVENT_FOCUS_IN:
        mon->has_focus = true;
        if (!mon->banner_shown) {
            mon_banner(mon);
        } else {
            mon_puts(mon, "\r\n");
        }
        mon_prompt(mon);
        break;
    case CHR_EVENT_FOCUS_OUT:
        mon->has_focus = false;
        break;
    case CHR_EVENT_CLOSED:
        mon->len = 0;
        mon->esc = ESC_NONE;
        break;
    default:
        break;
    }
}

Monitor *monitor_new(Chardev *chr, const MonitorHooks *hooks, GError **errp)
{
    Monitor *mon = g_new0(Monitor, 1);
    ChardevFrontend fe = {
        .can_receive = mon_can_receive,
        .receive = mon_receive,
        .event = mon_event,
        .opaque = mon,
    };

    mon->chr = chr;
    mon->hooks = *hooks;
    mon->has_focus = !chardev_is_mux(chr);
    if (!chardev_attach(chr, &fe, errp)) {
        g_free(mon);
        return NULL;
    }
    return mon;
}

void monitor_free(Monitor *mon)
{
    unsigned i;

    if (!mon) {
        return;
    }
    chardev_detach(mon->chr, mon);
    for (i = 0; i < mon->hist_len; i++) {
        g_free(mon->history[i]);
    }
    g_free(mon);
}
