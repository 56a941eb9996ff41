/*
 * Net clients, their pairing and the send path with back-pressure (see
 * net.h for the contract).
 */
#include "net/net.h"

#include <string.h>

#include "core/error.h"

NetClient *net_client_new(const NetClientOps *ops, const NetHost *host,
                          const char *id, void *opaque)
{
    NetClient *nc = g_new0(NetClient, 1);
    nc->ops = ops;
    nc->host = *host;
    nc->id = g_strdup(id);
    nc->opaque = opaque;
    net_queue_init(&nc->queue, NET_QUEUE_BYTES);
    return nc;
}

void net_client_free(NetClient *nc)
{
    if (!nc) {
        return;
    }
    if (nc->peer) {
        nc->peer->peer = NULL;
        nc->peer->sender_waiting = false;
    }
    if (nc->ops->cleanup) {
        nc->ops->cleanup(nc);
    }
    net_queue_destroy(&nc->queue);
    g_free(nc->id);
    g_free(nc);
}

void net_client_connect(NetClient *a, NetClient *b)
{
    a->peer = b;
    b->peer = a;
}

bool net_client_link_up(const NetClient *nc)
{
    return !nc->link_down && nc->peer && !nc->peer->link_down;
}

void net_client_set_link(NetClient *nc, bool up)
{
    nc->link_down = !up;
    if (nc->ops->link_changed) {
        nc->ops->link_changed(nc);
    }
    if (nc->peer && nc->peer->ops->link_changed) {
        nc->peer->ops->link_changed(nc->peer);
    }
}

static void count_drop(NetClient *to, const char *why)
{
    to->dropped++;
    if (!to->drop_warned) {
        to->drop_warned = true;
        warn_report("net %s: dropping frames (%s)", to->id ? to->id : to->ops->type,
                    why);
    }
}

static bool can_take(NetClient *nc)
{
    return !nc->ops->can_receive || nc->ops->can_receive(nc);
}

NetSendResult net_send(NetClient *from, const uint8_t *buf, size_t len)
{
    NetClient *to = from->peer;
    from->tx_frames++;
    if (!to || from->link_down || to->link_down) {
        /* An unplugged cable: the frame goes nowhere, as on a real wire. */
        if (to) {
            to->dropped++;
        }
        return NET_DROPPED;
    }
    if (len > NET_MAX_FRAME) {
        count_drop(to, "frame too long");
        return NET_DROPPED;
    }
    if (net_queue_empty(&to->queue) && can_take(to) &&
        to->ops->receive(to, buf, len) != 0) {
        to->rx_frames++;
        return NET_SENT;
    }
    if (!net_queue_push(&to->queue, buf, len)) {
        count_drop(to, "queue full");
        return NET_DROPPED;
    }
    to->sender_waiting = true;
    return NET_QUEUED;
}

static void resume_sender(NetClient *nc)
{
    if (nc->sender_waiting && net_queue_empty(&nc->queue)) {
        nc->sender_waiting = false;
        if (nc->peer && nc->peer->ops->resume) {
            nc->peer->ops->resume(nc->peer);
        }
    }
}

void net_client_flush(NetClient *nc)
{
    size_t len;
    const uint8_t *f;
    while ((f = net_queue_peek(&nc->queue, &len)) != NULL) {
        if (!can_take(nc) || nc->ops->receive(nc, f, len) == 0) {
            return;
        }
        nc->rx_frames++;
        net_queue_pop(&nc->queue);
    }
    resume_sender(nc);
}

void net_client_purge(NetClient *nc)
{
    while (!net_queue_empty(&nc->queue)) {
        nc->dropped++;
        net_queue_pop(&nc->queue);
    }
    resume_sender(nc);
}

void net_backends_add(NetBackends *b, NetClient *nc)
{
    b->clients = g_renew(NetClient *, b->clients, b->nr + 1);
    b->used = g_renew(bool, b->used, b->nr + 1);
    b->clients[b->nr] = nc;
    b->used[b->nr] = false;
    b->nr++;
}

NetClient *net_backends_claim(NetBackends *b, const char *id, GError **errp)
{
    for (unsigned i = 0; b && i < b->nr; i++) {
        if (b->clients[i]->id && !strcmp(b->clients[i]->id, id)) {
            if (b->used[i]) {
                error_setg(errp, "netdev '%s' is already used by another NIC",
                           id);
                return NULL;
            }
            b->used[i] = true;
            return b->clients[i];
        }
    }
    error_setg(errp, "netdev '%s' not found (define it with -netdev ...,id=%s)",
               id, id);
    return NULL;
}

void net_backends_free(NetBackends *b)
{
    for (unsigned i = 0; i < b->nr; i++) {
        net_client_free(b->clients[i]);
    }
    g_free(b->clients);
    g_free(b->used);
    b->clients = NULL;
    b->used = NULL;
    b->nr = 0;
}
