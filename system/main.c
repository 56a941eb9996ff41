/*
 * kestrel: parse the command line, build the pc machine on the chosen
 * accelerator, boot the guest and run the main loop until the guest or the
 * user ends it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include <glib-unix.h>

#include "accel/accel.h"
#include "chardev/chardev.h"
#include "core/error.h"
#include "hw/i386/pc.h"
#include "hw/ide/ide.h"
#include "hw/machine.h"
#include "system/accel-io.h"
#include "system/drive.h"
#include "system/keyboard-queue.h"
#include "net/net.h"
#include "system/monitor.h"
#include "system/net-options.h"
#include "system/options.h"
#include "system/qmp.h"
#include "system/vcpus.h"

typedef struct Kestrel {
    Options opt;
    Machine m;
    Accel accel;
    Vcpus *vcpus;
    Chardev *chardevs[OPT_MAX_CHARDEVS + OPT_MAX_SERIAL + 1];
    unsigned nr_chardevs;
    Monitor *mon;
    Qmp *qmp;
    KeyboardQueue keys;       /* sendkey / send-key events */
    bool quit;
    int exit_code;
} Kestrel;

static void wake_main_loop(void *opaque)
{
    g_main_context_wakeup(opaque);
}

static void chardev_quit(void *opaque)
{
    machine_request(opaque, MACHINE_REQ_QUIT);
}

static gboolean on_signal(gpointer opaque)
{
    Kestrel *k = opaque;
    error_report("terminating on signal");
    machine_request(&k->m, MACHINE_REQ_QUIT);
    return G_SOURCE_CONTINUE;
}

static void print_devices(void)
{
    printf("Devices that -device can add:\n");
    for (const DeviceClass *const *c = machine_device_types; *c; c++) {
        if ((*c)->user_creatable) {
            printf("name \"%s\"%s%s\n", (*c)->name,
                   (*c)->description ? ", desc \"" : "",
                   (*c)->description ? (*c)->description : "");
        }
    }
}

static int device_help(const char *arg)
{
    if (!strcmp(arg, "help")) {
        print_devices();
        return 0;
    }
    gchar *name = g_strndup(arg, strcspn(arg, ","));
    const DeviceClass *cls = device_class_find(machine_device_types, name);
    if (!cls) {
        error_report("'%s' is not a valid device model name", name);
        g_free(name);
        return 1;
    }
    g_free(name);
    device_class_print_help(cls, stdout);
    return 0;
}

static bool check_ram_fits(uint64_t ram, GError **errp)
{
    struct sysinfo si;
    if (sysinfo(&si) != 0) {
        return true;
    }
    uint64_t host = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
    if (ram > host) {
        error_setg(errp, "-m: %llu MiB of guest RAM is more than the host's "
                   "%llu MiB of memory", (unsigned long long)(ram >> 20),
                   (unsigned long long)(host >> 20));
        return false;
    }
    return true;
}

static Chardev *find_chardev(Kestrel *k, const char *id)
{
    for (unsigned i = 0; i < k->nr_chardevs; i++) {
        const char *cid = chardev_id(k->chardevs[i]);
        if (cid && !strcmp(cid, id)) {
            return k->chardevs[i];
        }
    }
    return NULL;
}

static Chardev *open_chardev(Kestrel *k, const char *id, const char *spec,
                             GError **errp)
{
    if (g_str_has_prefix(spec, "chardev:")) {
        Chardev *c = find_chardev(k, spec + 8);
        if (!c) {
            error_setg(errp, "chardev '%s' not found", spec + 8);
        }
        return c;
    }
    ChardevHost host = { g_main_context_default(), &k->m.lock, chardev_quit,
                         &k->m };
    Chardev *c = chardev_new(id, spec, &host, errp);
    if (c) {
        k->chardevs[k->nr_chardevs++] = c;
    }
    return c;
}

/* QEMU's -nographic: the monitor takes the terminal alone when -serial
 * is given but no other monitor (-monitor, -qmp, a mon: serial port). */
static bool default_monitor_on_stdio(const Options *o)
{
    if (!o->nographic || o->nodefaults || o->nr_serial == 0 || o->qmp) {
        return false;
    }
    for (unsigned i = 0; i < o->nr_serial; i++) {
        if (g_str_has_prefix(o->serial[i], "mon:")) {
            return false;
        }
    }
    return true;
}

/* -serial, -chardev and -monitor, with QEMU's defaults: with no -serial
 * the first port and the monitor share the terminal (mon:stdio); with
 * -serial and -nographic the monitor is on the terminal. */
static bool setup_chardevs(Kestrel *k, Chardev **monitor_chr, GError **errp)
{
    Options *o = &k->opt;
    ChardevHost host = { g_main_context_default(), &k->m.lock, chardev_quit,
                         &k->m };
    for (unsigned i = 0; i < o->nr_chardevs; i++) {
        Chardev *c = chardev_new_opts(o->chardevs[i], &host, errp);
        if (!c) {
            return false;
        }
        k->chardevs[k->nr_chardevs++] = c;
    }
    const char *serial[OPT_MAX_SERIAL];
    unsigned nr = o->nr_serial;
    memcpy(serial, o->serial, sizeof(serial));
    if (nr == 0 && !o->nodefaults) {
        serial[nr++] = "mon:stdio";
    }
    *monitor_chr = NULL;
    for (unsigned i = 0; i < nr; i++) {
        if (!strcmp(serial[i], "none")) {
            continue;
        }
        gchar *id = g_strdup_printf("serial%u", i);
        Chardev *c = open_chardev(k, id, serial[i], errp);
        g_free(id);
        if (!c) {
            return false;
        }
        k->m.serial[i] = c;
        if (chardev_is_mux(c) && !*monitor_chr && !o->monitor) {
            *monitor_chr = c;
        }
    }
    const char *monitor = o->monitor;
    if (!monitor && default_monitor_on_stdio(o)) {
        monitor = "stdio";
    }
    if (monitor && strcmp(monitor, "none") != 0) {
        *monitor_chr = open_chardev(k, "monitor0", monitor, errp);
        if (!*monitor_chr) {
            return false;
        }
    }
    return true;
}

/* ---- monitor hooks ---- */

static void mon_quit(void *opaque)
{
    machine_request(&((Kestrel *)opaque)->m, MACHINE_REQ_QUIT);
}

static void mon_stop(void *opaque)
{
    machine_request(&((Kestrel *)opaque)->m, MACHINE_REQ_PAUSE);
}

static void mon_cont(void *opaque)
{
    machine_request(&((Kestrel *)opaque)->m, MACHINE_REQ_CONT);
}

static void mon_reset(void *opaque)
{
    machine_request(&((Kestrel *)opaque)->m, MACHINE_REQ_RESET);
}

static void mon_powerdown(void *opaque)
{
    machine_request(&((Kestrel *)opaque)->m, MACHINE_REQ_POWERDOWN);
}

static const char *mon_status(void *opaque)
{
    return vcpus_running(((Kestrel *)opaque)->vcpus) ? "running" : "paused";
}

static unsigned mon_nr_cpus(void *opaque)
{
    return ((Kestrel *)opaque)->m.nr_cpus;
}

static bool mon_cpu_state(void *opaque, unsigned idx, X86State *out)
{
    Kestrel *k = opaque;
    VCpu *cpu = vcpus_get(k->vcpus, idx);
    if (!cpu) {
        return false;
    }
    if (vcpus_running(k->vcpus)) {
        /* State of a running vCPU is only a snapshot of its last sync. */
        *out = cpu->env;
        return true;
    }
    if (!k->accel.ops->get_state(cpu, NULL)) {
        return false;
    }
    *out = cpu->env;
    return true;
}

static void mon_qtree(void *opaque, GString *out)
{
    Machine *m = &((Kestrel *)opaque)->m;
    g_string_append(out, "bus: main-system-bus\n");
    for (unsigned i = 0; i < m->nr_devices; i++) {
        Device *d = m->devices[i];
        g_string_append_printf(out, "  dev: %s, id \"%s\"\n", d->cls->name,
                               d->id ? d->id : "");
    }
}

static void mtree_of(AddressSpace *as, GString *out)
{
    const FlatView *v = address_space_view(as);
    g_string_append_printf(out, "address-space: %s\n", as->name);
    for (unsigned i = 0; i < v->nr; i++) {
        const FlatRange *fr = &v->ranges[i];
        static const char *const kinds[] = { "ram", "rom", "i/o" };
        g_string_append_printf(out, "  %016llx-%016llx (%s): %s\n",
                               (unsigned long long)fr->start,
                               (unsigned long long)fr->end,
                               kinds[fr->mr->kind], fr->mr->name);
    }
}

static void mon_mtree(void *opaque, GString *out)
{
    Machine *m = &((Kestrel *)opaque)->m;
    mtree_of(&m->mem, out);
    mtree_of(&m->io, out);
}

/* change/eject: only IDE CD-ROM drives take media changes. */
static bool mon_change_medium(void *opaque, const char *device,
                              const char *file, const char *format,
                              bool force, GError **errp)
{
    Machine *m = &((Kestrel *)opaque)->m;
    Drive *d = drive_find(m, device);
    Device *ctrl = ide_controller(m);
    BlockBackend *old;
    unsigned bus, unit;

    if (!d) {
        error_setg(errp, "Device '%s' not found", device);
        return false;
    }
    if (!d->claimed_by || d->claimed_by->cls != &ide_cd_class ||
        !ide_device_slot(d->claimed_by, &bus, &unit)) {
        error_setg(errp, "Device '%s' is not a removable medium device "
                   "(only ide-cd drives are)", device);
        return false;
    }
    if (!ide_cd_change_allowed(ctrl, bus, unit, force, errp) ||
        !drive_replace_medium(m, d, file, format, errp)) {
        g_prefix_error(errp, "%s: ", device);
        return false;
    }
    return ide_cd_change(ctrl, bus, unit, d->blk, force, &old, errp);
}

static bool mon_send_keys(void *opaque, const uint16_t *keys, unsigned n,
                          unsigned hold_ms, GError **errp)
{
    return kbdq_send(&((Kestrel *)opaque)->keys, keys, n, hold_ms, errp);
}

static MonitorHooks monitor_hooks(Kestrel *k)
{
    MonitorHooks h = {
        .quit = mon_quit, .stop = mon_stop, .cont = mon_cont,
        .system_reset = mon_reset, .system_powerdown = mon_powerdown,
        .status = mon_status, .nr_cpus = mon_nr_cpus,
        .get_cpu_state = mon_cpu_state, .info_qtree = mon_qtree,
        .info_mtree = mon_mtree, .change_medium = mon_change_medium,
        .send_keys = mon_send_keys,
        .version = KESTREL_VERSION,
        .opaque = k,
    };
    return h;
}

/* ---- boot and reset ---- */

static bool boot_cpus(Kestrel *k, GError **errp)
{
    Machine *m = &k->m;
    VCpu *bsp = vcpus_get(k->vcpus, 0);
    if (!pc_boot(m, &bsp->env, errp)) {
        return false;
    }
    for (unsigned i = 0; i < m->nr_cpus; i++) {
        VCpu *cpu = vcpus_get(k->vcpus, i);
        if (i > 0) {
            pc_ap_state(m, &cpu->env);
        }
        cpu_intr_lower(&cpu->intr, ~0u);
        if (!k->accel.ops->set_state(cpu, errp)) {
            return false;
        }
    }
    return true;
}

static void set_gsi(void *opaque, unsigned gsi, int level)
{
    Accel *a = opaque;
    a->ops->set_gsi(a, gsi, level);
}

static void send_msi(void *opaque, uint64_t addr, uint32_t data)
{
    Accel *a = opaque;
    a->ops->send_msi(a, addr, data);
}

static void pit_hpet_legacy(void *opaque, bool on)
{
    Accel *a = opaque;
    a->ops->pit_set_hpet_legacy(a, on);
}

/* -device NAME,props... (and the NICs -nic asks for). */
static bool add_devices(Machine *m, const char *const *specs, unsigned nr,
                        GError **errp)
{
    for (unsigned i = 0; i < nr; i++) {
        gchar *name = g_strndup(specs[i], strcspn(specs[i], ","));
        const char *props = specs[i] + strlen(name);
        Device *d = machine_add_device(m, name, NULL,
                                       *props ? props + 1 : NULL, errp);
        if (d && !d->cls->user_creatable) {
            error_setg(errp, "-device %s: this device cannot be added by the "
                       "user", name);
            d = NULL;
        }
        g_free(name);
        if (!d) {
            g_prefix_error(errp, "-device %s: ", specs[i]);
            return false;
        }
    }
    return true;
}

static bool build_machine(Kestrel *k, GError **errp)
{
    Options *o = &k->opt;
    Machine *m = &k->m;
    const char *accel_name = o->accel ? o->accel : "tcg";
    const AccelOps *ops = accel_find(accel_name);
    if (!ops->probe(errp)) {
        return false;
    }
    if (!check_ram_fits(o->ram_size, errp)) {
        return false;
    }
    g_mutex_init(&m->lock);
    m->ctx = g_main_context_default();
    m->timers = timerlist_new(m->ctx, &m->lock);
    kbdq_init(&k->keys, m);
    m->notify = wake_main_loop;
    m->notify_opaque = m->ctx;
    address_space_init(&m->mem, "memory", ~0ull);
    address_space_init(&m->io, "I/O", 0xffff);
    m->cfg = (MachineConfig){
        .ram_size = o->ram_size, .smp = o->smp, .kernel = o->kernel,
        .initrd = o->initrd, .append = o->append, .bios = o->bios,
        .no_reboot = o->no_reboot, .kernel_irqchip = o->kernel_irqchip,
        .hpet = o->hpet,
    };
    m->nr_cpus = o->smp;

    Chardev *mon_chr;
    if (!setup_chardevs(k, &mon_chr, errp) ||
        !drives_open(m, o->drives, o->nr_drives, o->snapshot, errp) ||
        !pc_memory_init(m, errp)) {
        return false;
    }
    Accel *a = &k->accel;
    a->ops = ops;
    a->cfg.kernel_irqchip = o->kernel_irqchip;
    a->cfg.cpu_model = o->cpu_model;
    a->cfg.jit = o->jit;
    a->cfg.tb_size = (size_t)o->tb_size_mib << 20;
    a->mem = &m->mem;
    a->io = &m->io;
    a->lock = &m->lock;
    a->nr_vcpus = o->smp;
    if (!ops->init(a, errp)) {
        return false;
    }
    m->accel = a;
    accel_io_connect(m, a);
    k->vcpus = vcpus_new(m, a);
    if (!vcpus_create(k->vcpus, errp)) {
        return false;
    }
    CpuIntr *intr[MACHINE_MAX_CPUS];
    for (unsigned i = 0; i < m->nr_cpus; i++) {
        intr[i] = &vcpus_get(k->vcpus, i)->intr;
    }
    PcIrqRouting r = {
        .irqchip_in_kernel = a->irqchip_in_kernel,
        .pit_in_kernel = a->pit_in_kernel,
        .set_gsi = set_gsi,
        .send_msi = send_msi,
        .pit_hpet_legacy = ops->pit_set_hpet_legacy ? pit_hpet_legacy : NULL,
        .opaque = a,
    };
    if (!pc_devices_init(m, &r, intr, errp) ||
        !drives_create_devices(m, errp)) {
        return false;
    }
    GPtrArray *nics = g_ptr_array_new_with_free_func(g_free);
    if (!net_options_create(m, o, nics, errp)) {
        g_ptr_array_free(nics, TRUE);
        return false;
    }
    bool devices_ok = add_devices(m, o->devices, o->nr_devices, errp) &&
        add_devices(m, (const char **)nics->pdata, nics->len, errp);
    g_ptr_array_free(nics, TRUE);
    if (!devices_ok) {
        return false;
    }
    net_options_check_peers(m);
    if (!drives_check_claimed(m, errp) || !pc_machine_done(m, errp)) {
        return false;
    }
    if (mon_chr) {
        MonitorHooks h = monitor_hooks(k);
        k->mon = monitor_new(mon_chr, &h, errp);
        if (!k->mon) {
            return false;
        }
    }
    if (o->qmp) {
        MonitorHooks h = monitor_hooks(k);
        Chardev *c = open_chardev(k, "qmp0", o->qmp, errp);
        if (!c || !(k->qmp = qmp_new(c, &h, errp))) {
            return false;
        }
    }
    return boot_cpus(k, errp);
}

/* The accelerator's own models first (KVM's in-kernel irqchip and PIT),
 * then the devices, then each vCPU's accelerator state and its registers. */
static bool reset_machine(Kestrel *k, GError **errp)
{
    const AccelOps *ops = k->accel.ops;
    g_mutex_lock(&k->m.lock);
    bool ok = !ops->reset || ops->reset(&k->accel, errp);
    if (ok) {
        pc_reset(&k->m);
    }
    g_mutex_unlock(&k->m.lock);
    for (unsigned i = 0; ok && i < k->m.nr_cpus; i++) {
        ok = !ops->vcpu_reset || ops->vcpu_reset(vcpus_get(k->vcpus, i), errp);
    }
    return ok && boot_cpus(k, errp);
}

static void do_reset(Kestrel *k)
{
    vcpus_pause(k->vcpus);
    GError *err = NULL;
    if (!reset_machine(k, &err)) {
        error_report_err(err);
        k->exit_code = 1;
        k->quit = true;
        return;
    }
    vcpus_resume(k->vcpus);
}

static void event(Kestrel *k, const char *name, const char *data)
{
    if (k->qmp) {
        qmp_event(k->qmp, name, data);
    }
}

static void handle_requests(Kestrel *k)
{
    uint32_t r = machine_take_requests(&k->m);
    if (r & MACHINE_REQ_CRASH) {
        k->exit_code = 1;
        k->quit = true;
        return;
    }
    if (r & MACHINE_REQ_EXIT) {
        k->exit_code = __atomic_load_n(&k->m.exit_status, __ATOMIC_SEQ_CST);
        k->quit = true;
        return;
    }
    if (r & MACHINE_REQ_QUIT) {
        k->quit = true;
        return;
    }
    if (r & MACHINE_REQ_POWEROFF) {
        event(k, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
        if (k->opt.no_shutdown) {
            vcpus_pause(k->vcpus);
        } else {
            k->quit = true;
            return;
        }
    }
    if (r & MACHINE_REQ_RESET) {
        event(k, "RESET", "{\"guest\": true, \"reason\": \"guest-reset\"}");
        if (k->opt.no_reboot) {
            k->quit = true;
            return;
        }
        do_reset(k);
    }
    if (r & MACHINE_REQ_PAUSE) {
        event(k, "STOP", NULL);
        vcpus_pause(k->vcpus);
        timerlist_pause_virtual(k->m.timers);
    }
    if (r & MACHINE_REQ_CONT) {
        event(k, "RESUME", NULL);
        timerlist_resume_virtual(k->m.timers);
        vcpus_resume(k->vcpus);
    }
    if (r & MACHINE_REQ_POWERDOWN) {
        event(k, "POWERDOWN", NULL);
        g_mutex_lock(&k->m.lock);
        pc_power_button(&k->m);
        g_mutex_unlock(&k->m.lock);
    }
}

static void teardown(Kestrel *k)
{
    vcpus_destroy(k->vcpus);
    drives_close_all(&k->m);
    if (k->m.net) {
        net_backends_free(k->m.net);
    }
    if (k->mon) {
        monitor_free(k->mon);
    }
    if (k->qmp) {
        qmp_free(k->qmp);
    }
    for (unsigned i = 0; i < k->nr_chardevs; i++) {
        chardev_stdio_restore(k->chardevs[i]);
    }
}

int main(int argc, char **argv)
{
    g_set_prgname("kestrel");
    Kestrel *k = g_new0(Kestrel, 1);
    OptAction action;
    GError *err = NULL;
    if (!options_parse(&k->opt, argc, argv, &action, &err)) {
        error_report_err(err);
        return 1;
    }
    if (action == OPT_EXIT_OK) {
        return 0;
    }
    if (action == OPT_DEVICE_HELP) {
        return device_help(k->opt.devices[0]);
    }
    signal(SIGPIPE, SIG_IGN);
    g_unix_signal_add(SIGINT, on_signal, k);
    g_unix_signal_add(SIGTERM, on_signal, k);
    g_unix_signal_add(SIGHUP, on_signal, k);
    if (!build_machine(k, &err)) {
        error_report_err(err);
        teardown(k);
        return 1;
    }
    if (!k->opt.start_paused) {
        vcpus_resume(k->vcpus);
    } else {
        timerlist_pause_virtual(k->m.timers);
    }
    while (!k->quit) {
        g_main_context_iteration(NULL, TRUE);
        handle_requests(k);
    }
    teardown(k);
    fflush(stdout);
    _exit(k->exit_code);
}
