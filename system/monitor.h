/*
 * The human monitor (HMP): a "(kestrel) " prompt on a chardev with the
 * command names QEMU users know (help, info status/version/cpus/registers/
 * qtree/mtree, cpu, stop, cont, system_reset, system_powerdown, change,
 * eject, sendkey, quit).
 *
 * The monitor reaches the machine only through MonitorHooks.  Commands run
 * where chardev input is delivered: on the main loop with the machine lock
 * held, so hooks must not wait for vCPU threads that need that lock.
 */
#ifndef KESTREL_SYSTEM_MONITOR_H
#define KESTREL_SYSTEM_MONITOR_H

#include <glib.h>
#include <stdbool.h>

#include "chardev/chardev.h"
#include "cpu/x86/cpu.h"

typedef struct Monitor Monitor;

typedef struct MonitorHooks {
    void (*quit)(void *opaque);
    void (*stop)(void *opaque);
    void (*cont)(void *opaque);
    void (*system_reset)(void *opaque);
    void (*system_powerdown)(void *opaque);
    /* Run state for "info status": "running", "paused", "shutdown", ... */
    const char *(*status)(void *opaque);
    unsigned (*nr_cpus)(void *opaque);
    /* Architectural state of vCPU idx; false if it cannot be read now. */
    bool (*get_cpu_state)(void *opaque, unsigned idx, X86State *out);
    /* Optional (NULL: the command says it is not available): append the
     * device tree / the flat memory view as text lines to out. */
    void (*info_qtree)(void *opaque, GString *out);
    void (*info_mtree)(void *opaque, GString *out);
    /* Optional: "change DEVICE FILE [FORMAT]" and "eject [-f] DEVICE" give a
     * removable drive a new medium (file NULL: none). */
    bool (*change_medium)(void *opaque, const char *device, const char *file,
                          const char *format, bool force, GError **errp);
    /* Optional: press keys (PC keycodes, system/keys.h) in order, release
     * them in reverse order hold_ms later. */
    bool (*send_keys)(void *opaque, const uint16_t *keys, unsigned n,
                      unsigned hold_ms, GError **errp);
    /* For "info version" and the banner, e.g. "0.1.0". */
    const char *version;
    void *opaque;
} MonitorHooks;

/* Attach a monitor to chr (plain or mux).  hooks is copied. */
Monitor *monitor_new(Chardev *chr, const MonitorHooks *hooks, GError **errp);
/* Print a line on the monitor (e.g. an event); '\n' becomes "\r\n". */
void monitor_printf(Monitor *mon, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Execute one command line as if typed (no prompt, no echo). */
void monitor_run_command(Monitor *mon, const char *line);
void monitor_free(Monitor *mon);

#endif
