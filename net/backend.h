/*
 * Net backends, made from a -netdev argument: "user,...", "socket,...",
 * "tap,...".  Each returns a NetClient of kind NET_CLIENT_BACKEND whose id
 * is the id= option, ready to be joined to a NIC.
 */
#ifndef KESTREL_NET_BACKEND_H
#define KESTREL_NET_BACKEND_H

#include <glib.h>

#include "net/net.h"
#include "net/opts.h"

NetClient *net_backend_new(const NetHost *host, const char *spec,
                           GError **errp);

/* The backends; o is the parsed spec, id its id= (already taken out). */
NetClient *net_user_new(const NetHost *host, const char *id, NetOpts *o,
                        GError **errp);
NetClient *net_socket_new(const NetHost *host, const char *id, NetOpts *o,
                          GError **errp);
NetClient *net_tap_new(const NetHost *host, const char *id, NetOpts *o,
                       GError **errp);

/* One hostfwd rule "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT";
 * an empty guest address stays 0 (the caller fills in the DHCP start). */
typedef struct NetHostFwd {
    bool udp;
    uint32_t host_addr;  /* network order; 0 = any */
    uint16_t host_port;
    uint32_t guest_addr; /* network order; 0 = default */
    uint16_t guest_port;
} NetHostFwd;

bool net_parse_hostfwd(const char *s, NetHostFwd *out, GError **errp);

#endif
