/*
 * -netdev and -nic, spelled as in QEMU, and QEMU's default network (a
 * "-nic user" with an e1000 when no network option is given and
 * -nodefaults is not).  Parsing only records and checks the strings; the
 * backends are made when the machine is built.
 */
#ifndef KESTREL_SYSTEM_NET_OPTIONS_H
#define KESTREL_SYSTEM_NET_OPTIONS_H

#include <glib.h>
#include <stdbool.h>

#include "hw/machine.h"
#include "system/options.h"

/* -netdev ARG or -nic ARG (opt is "netdev" or "nic"). */
bool net_option_add(Options *o, const char *opt, const char *arg,
                    GError **errp);

/* Make every backend into m->net and append to nic_devices the -device
 * strings ("e1000,netdev=...,mac=...") of the NICs that -nic and the
 * default network ask for. */
bool net_options_create(Machine *m, const Options *o, GPtrArray *nic_devices,
                        GError **errp);

/* Warn about backends no NIC took (QEMU does the same). */
void net_options_check_peers(Machine *m);

#endif
