/*
 * Common NIC set-up: MAC addresses and the join to a -netdev backend.
 */
#include "hw/net/nic.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

bool nic_parse_mac(const char *s, uint8_t mac[6], GError **errp)
{
    unsigned v[6];
    char extra;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &extra) != 6 || strlen(s) != 17) {
        error_setg(errp, "mac=%s is not a MAC address (xx:xx:xx:xx:xx:xx)", s);
        return false;
    }
    for (unsigned i = 0; i < 6; i++) {
        mac[i] = (uint8_t)v[i];
    }
    if (mac[0] & 1) {
        error_setg(errp, "mac=%s is a multicast address", s);
        return false;
    }
    return true;
}

NetClient *nic_init(Machine *m, const NicConf *conf, const NetClientOps *ops,
                    void *opaque, uint8_t mac[6], GError **errp)
{
    NetBackends *nb = m->net;
    if (conf->mac) {
        if (!nic_parse_mac(conf->mac, mac, errp)) {
            return NULL;
        }
    } else {
        unsigned idx = nb ? nb->nics_made : 0;
        static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        memcpy(mac, base, 6);
        mac[5] = (uint8_t)(base[5] + idx);
    }
    NetClient *backend = NULL;
    if (conf->netdev) {
        backend = net_backends_claim(nb, conf->netdev, errp);
        if (!backend) {
            return NULL;
        }
    }
    if (nb) {
        nb->nics_made++;
    }
    NetHost host = { m->ctx, &m->lock, m->timers };
    NetClient *nc = net_client_new(ops, &host, ops->type, opaque);
    if (backend) {
        net_client_connect(nc, backend);
    }
    return nc;
}

void nic_cleanup(NetClient *nc)
{
    net_client_free(nc);
}
