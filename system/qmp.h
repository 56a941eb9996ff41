/*
 * QMP, the machine-readable monitor: JSON commands and events on a chardev,
 * with the wire format and command names QEMU's QMP clients know
 * (greeting, qmp_capabilities, query-status, query-version, query-cpus-fast,
 * query-commands, stop, cont, system_reset, system_powerdown, quit; events
 * SHUTDOWN, RESET, STOP, RESUME, POWERDOWN emitted by the system).
 *
 * It reaches the machine through the same MonitorHooks as the human monitor;
 * commands run on the main loop with the machine lock held.
 */
#ifndef KESTREL_SYSTEM_QMP_H
#define KESTREL_SYSTEM_QMP_H

#include <glib.h>

#include "chardev/chardev.h"
#include "system/monitor.h"

typedef struct Qmp Qmp;

Qmp *qmp_new(Chardev *chr, const MonitorHooks *hooks, GError **errp);
/* Send an event to the client once it has finished capabilities
 * negotiation.  data_json is a JSON object as text ("{\"guest\": true}") or
 * NULL for none; an invalid one is sent as NULL (and is a bug). */
void qmp_event(Qmp *qmp, const char *name, const char *data_json);
void qmp_free(Qmp *qmp);

#endif
