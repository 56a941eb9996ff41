/*
 * What every NIC model shares: the netdev= and mac= properties, QEMU's
 * default MAC addresses (52:54:00:12:34:56, then ...:57 for the next NIC of
 * the machine), and joining the NIC's net client to its backend.
 */
#ifndef KESTREL_HW_NET_NIC_H
#define KESTREL_HW_NET_NIC_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/machine.h"
#include "net/net.h"

typedef struct NicConf {
    char *netdev; /* -device ...,netdev=ID; NULL: no cable */
    char *mac;    /* -device ...,mac=52:54:00:..; NULL: the default */
} NicConf;

#define DEFINE_NIC_PROPS(st, f)                                                \
    DEFINE_PROP_STRING(st, "netdev", f.netdev, NULL,                           \
                       "id of the -netdev backend to connect to"),             \
    DEFINE_PROP_STRING(st, "mac", f.mac, NULL,                                 \
                       "MAC address (default 52:54:00:12:34:56 + NIC index)")

/* Parse "xx:xx:xx:xx:xx:xx" (a unicast address). */
bool nic_parse_mac(const char *s, uint8_t mac[6], GError **errp);

/* Resolve mac= (or pick the next default) and make the NIC's net client,
 * joined to the backend named by netdev= when there is one. */
NetClient *nic_init(Machine *m, const NicConf *conf, const NetClientOps *ops,
                    void *opaque, uint8_t mac[6], GError **errp);
void nic_cleanup(NetClient *nc);

#endif
