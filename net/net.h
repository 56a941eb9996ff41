/*
 * Net clients: the two ends of a virtual Ethernet cable.  A NIC (hw/net/)
 * and a backend (user/slirp, socket, tap) are each a NetClient; they are
 * joined in pairs and send whole Ethernet frames (no FCS) to each other.
 *
 * Back-pressure: a client that cannot take a frame now (a NIC whose guest
 * ring is full, a socket whose send buffer is full) returns 0 from receive;
 * the frame is copied into that client's queue and the sender is told
 * NET_QUEUED, which means "stop sending until your resume hook is called".
 * When the client can take frames again it calls net_client_flush(), which
 * delivers the queue in order and then resumes the sender.  Nothing is
 * dropped silently: a frame is dropped only when the queue is full or the
 * link is down, and every drop is counted (net_client_dropped()).
 *
 * Threads: every callback runs with the machine lock (NetHost.lock) held;
 * NICs call net_send() from vCPU threads that hold it, backends take it on
 * the main loop before they call in.
 */
#ifndef KESTREL_NET_NET_H
#define KESTREL_NET_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/timer.h"
#include "net/queue.h"

#define NET_MAX_FRAME 65550 /* a 64 KiB GSO frame plus its headers */
#define NET_QUEUE_BYTES (1024 * 1024)

typedef struct NetClient NetClient;

/* What the machine lends a net client. */
typedef struct NetHost {
    GMainContext *ctx;
    GMutex *lock;       /* the machine lock */
    TimerList *timers;
} NetHost;

typedef enum NetClientKind {
    NET_CLIENT_NIC,
    NET_CLIENT_BACKEND,
} NetClientKind;

typedef struct NetClientOps {
    const char *type; /* "user", "socket", "tap", or the NIC's model */
    NetClientKind kind;
    /* Take one frame: return len, or 0 if it cannot be taken now. */
    size_t (*receive)(NetClient *nc, const uint8_t *buf, size_t len);
    /* Optional quick test before receive (false: queue without trying). */
    bool (*can_receive)(NetClient *nc);
    /* Optional: what this client sent while blocked has all been taken. */
    void (*resume)(NetClient *nc);
    /* Optional: the link state of this client or its peer changed. */
    void (*link_changed)(NetClient *nc);
    /* Free what the client owns (the NetClient itself is freed by net/). */
    void (*cleanup)(NetClient *nc);
} NetClientOps;

struct NetClient {
    const NetClientOps *ops;
    char *id;
    NetHost host;
    NetClient *peer;
    void *opaque;       /* the owner's state */
    NetQueue queue;     /* frames waiting for this client */
    bool link_down;
    bool sender_waiting; /* the peer was told NET_QUEUED */
    bool drop_warned;
    uint64_t dropped;   /* frames for this client that were dropped */
    uint64_t rx_frames, tx_frames;
};

typedef enum NetSendResult {
    NET_SENT,    /* the peer took the frame */
    NET_QUEUED,  /* copied to the peer's queue: stop until resume */
    NET_DROPPED, /* no peer, link down, or the peer's queue is full */
} NetSendResult;

NetClient *net_client_new(const NetClientOps *ops, const NetHost *host,
                          const char *id, void *opaque);
/* Cleans up and frees; the peer is left unconnected. */
void net_client_free(NetClient *nc);
void net_client_connect(NetClient *a, NetClient *b);

NetSendResult net_send(NetClient *from, const uint8_t *buf, size_t len);
/* The client can take frames again: deliver its queue, resume the peer. */
void net_client_flush(NetClient *nc);
/* Drop whatever waits for this client (NIC reset), then resume the peer. */
void net_client_purge(NetClient *nc);
bool net_client_link_up(const NetClient *nc);
void net_client_set_link(NetClient *nc, bool up);
static inline uint64_t net_client_dropped(const NetClient *nc) { return nc->dropped; }

/* The backends a machine was given (-netdev), each used by one NIC. */
typedef struct NetBackends {
    NetClient **clients;
    unsigned nr;
    bool *used;
    unsigned nics_made; /* for default MAC addresses */
} NetBackends;

void net_backends_add(NetBackends *b, NetClient *nc);
/* The backend with this id, marked used; errors for unknown or used twice. */
NetClient *net_backends_claim(NetBackends *b, const char *id, GError **errp);
void net_backends_free(NetBackends *b);

#endif
