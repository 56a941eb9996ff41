/*
 * virtio-net-pci: a virtio network device (Virtual I/O Device 1.1, section
 * 5.1) on the modern virtio PCI transport.  Queue 0 receives, queue 1
 * transmits.  Every frame carries the 12-byte virtio_net_hdr (5.1.6).
 * Features: MAC (from mac=), STATUS (link up/down from the backend's
 * link), MRG_RXBUF (a frame may span several receive chains; num_buffers
 * says how many), CSUM (the driver may leave a TCP/UDP checksum partial:
 * it is completed here before the frame leaves), HOST_TSO4/HOST_TSO6 (the
 * driver may send TCP frames of up to 64 KiB, cut here into MSS-sized
 * frames by net/gso.c), GUEST_CSUM (received
 * frames whose checksums were verified here are marked DATA_VALID).  No
 * control queue: Linux's driver works without it (no VLAN or receive
 * filtering, which a software NIC does not need).  A full receive queue
 * keeps frames in the net queue until the driver adds buffers.
 */
#include <string.h>

#include "core/error.h"
#include "hw/machine.h"
#include "hw/net/nic.h"
#include "hw/virtio/virtio-pci.h"
#include "net/checksum.h"
#include "net/gso.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

#define VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */
#define VNET_CFG_SIZE 10 /* mac[6], status, max_virtqueue_pairs */
#define RXQ 0
#define TXQ 1
#define MAX_RX_CHAINS 32

typedef struct VirtioNet {
    VirtioPci vp;
    VirtIODevice vdev;
    NicConf conf;
    uint16_t queue_size;
    NetClient *nc;
    uint8_t mac[6];
    bool tx_blocked;
    uint8_t *tx_buf;
    uint8_t *gso_buf;           /* one segment of a TSO frame */
    VirtQueueElement *rx_elems; /* MAX_RX_CHAINS, for one mergeable frame */
    VirtQueueElement *tx_elem;
} VirtioNet;

static VirtioNet *of_vdev(VirtIODevice *vdev)
{
    return (VirtioNet *)((uint8_t *)vdev - offsetof(VirtioNet, vdev));
}

static bool link_up(VirtioNet *s)
{
    NetClient *nc = s->nc;
    return !nc->link_down && (!nc->peer || !nc->peer->link_down);
}

static bool rx_ready(VirtioNet *s)
{
    VirtIODevice *v = &s->vdev;
    return (v->status & VIRTIO_STATUS_DRIVER_OK) &&
           !(v->status & VIRTIO_STATUS_NEEDS_RESET) && v->vqs[RXQ].ready;
}

/* ---- receive ---- */

static bool vnet_can_receive(NetClient *nc)
{
    VirtioNet *s = nc->opaque;
    if (!rx_ready(s)) {
        return true; /* receive drops: no driver yet */
    }
    VirtQueue *vq = &s->vdev.vqs[RXQ];
    if (virtqueue_pending(vq) > 0) {
        return true;
    }
    /* Ask for a kick when buffers come, then look again in case they came
     * before the driver could see the request. */
    virtqueue_kick_on_next(vq);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return virtqueue_pending(vq) > 0;
}

static size_t vnet_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    VirtioNet *s = nc->opaque;
    VirtIODevice *v = &s->vdev;
    VirtQueue *vq = &v->vqs[RXQ];
    if (!rx_ready(s) || !link_up(s)) {
        return len; /* nobody listening: gone as on a wire */
    }
    uint8_t hdr[VNET_HDR_LEN] = { 0 };
    hdr[1] = VIRTIO_NET_HDR_GSO_NONE;
    if (virtio_has_feature(v, VIRTIO_NET_F_GUEST_CSUM)) {
        NetRxCsum r;
        net_rx_csum_check(buf, len, &r);
        if (r.l4 && r.l4_ok && (!r.ipv4 || r.ip_ok)) {
            hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
        }
    }
    bool mergeable = virtio_has_feature(v, VIRTIO_NET_F_MRG_RXBUF);
    size_t total = VNET_HDR_LEN + len;
    /* Pop chains until they can hold the frame; give them back if the
     * driver has not posted enough yet. */
    unsigned n = 0, retries = 0;
    uint64_t room = 0;
    while (room < total) {
        if (n == MAX_RX_CHAINS || (!mergeable && n == 1)) {
            virtqueue_unpop(vq, n);
            warn_report("virtio-net: a %zu-byte frame does not fit the "
                        "receive buffers; dropped", len);
            return len;
        }
        VqPopResult r = virtqueue_pop(vq, &s->rx_elems[n]);
        if (r == VQ_BROKEN) {
            virtio_set_needs_reset(v, vq->broken_reason);
            return len;
        }
        if (r == VQ_EMPTY) {
            /* Too little posted: wait for a kick when the driver adds more
             * (and look once more, in case it already did). */
            virtqueue_unpop(vq, n);
            unsigned had = n;
            n = 0;
            room = 0;
            virtqueue_kick_on_next(vq);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (virtqueue_pending(vq) > had && retries++ == 0) {
                continue;
            }
            return 0;
        }
        if (s->rx_elems[n].in_len == 0 || s->rx_elems[n].out_num) {
            virtqueue_set_broken(vq, "a receive buffer is not device-writable");
            virtio_set_needs_reset(v, vq->broken_reason);
            return len;
        }
        room += s->rx_elems[n].in_len;
        n++;
    }
    st16(hdr + 10, mergeable ? (uint16_t)n : 0);
    size_t off = 0; /* bytes of (hdr + frame) written */
    for (unsigned i = 0; i < n; i++) {
        VirtQueueElement *e = &s->rx_elems[i];
        size_t done = 0;
        if (i == 0) {
            done = iov_from_buf(e->in, e->in_num, 0, hdr, VNET_HDR_LEN);
            off = done;
        }
        size_t want = total - off;
        size_t got = iov_from_buf(e->in, e->in_num, done, buf + (off - VNET_HDR_LEN),
                                  want);
        off += got;
        virtqueue_push(vq, e->head, (uint32_t)(done + got));
    }
    virtio_notify_queue(v, RXQ);
    return len;
}

/* ---- transmit ---- */

static void send_segment(void *opaque, const uint8_t *seg, size_t len)
{
    VirtioNet *s = opaque;
    if (net_send(s->nc, seg, len) == NET_QUEUED) {
        s->tx_blocked = true;
    }
}

static void tx_run(VirtioNet *s)
{
    VirtIODevice *v = &s->vdev;
    VirtQueue *vq = &v->vqs[TXQ];
    if (!(v->status & VIRTIO_STATUS_DRIVER_OK) || !vq->ready) {
        return;
    }
    bool pushed = false;
    /* Until the queue is empty (a guest that never stops producing only
     * holds up its own vCPU) or the backend pushes back. */
    while (!s->tx_blocked) {
        VirtQueueElement *e = s->tx_elem;
        VqPopResult r = virtqueue_pop(vq, e);
        if (r == VQ_EMPTY) {
            /* With event_idx: ask for a kick at the next chain, then look
             * again in case one arrived before the driver saw that. */
            virtqueue_set_avail_event(vq);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (virtqueue_pending(vq)) {
                continue;
            }
            break;
        }
        if (r == VQ_BROKEN) {
            virtio_set_needs_reset(v, vq->broken_reason);
            break;
        }
        uint8_t hdr[VNET_HDR_LEN];
        if (e->out_len < VNET_HDR_LEN || e->out_len - VNET_HDR_LEN > NET_MAX_FRAME ||
            iov_to_buf(e->out, e->out_num, 0, hdr, VNET_HDR_LEN) != VNET_HDR_LEN) {
            virtqueue_set_broken(vq, "a transmit chain has a bad length");
            virtio_set_needs_reset(v, vq->broken_reason);
            break;
        }
        size_t len = iov_to_buf(e->out, e->out_num, VNET_HDR_LEN, s->tx_buf,
                                e->out_len - VNET_HDR_LEN);
        virtqueue_push(vq, e->head, 0);
        pushed = true;
        uint8_t gso = hdr[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
        if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) {
            /* Checksums are computed in full per segment. */
            net_gso_tcp(s->tx_buf, len, ld16(hdr + 4), s->gso_buf,
                        NET_MAX_FRAME, send_segment, s);
            continue;
        }
        if (gso != VIRTIO_NET_HDR_GSO_NONE) {
            continue; /* a GSO type that was not offered: dropped */
        }
        if (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            size_t start = ld16(hdr + 6), field = start + ld16(hdr + 8);
            if (!net_csum_fill(s->tx_buf, len, start, len, field)) {
                continue; /* offsets outside the frame */
            }
        }
        if (len >= ETH_HLEN && net_send(s->nc, s->tx_buf, len) == NET_QUEUED) {
            s->tx_blocked = true;
        }
    }
    if (pushed) {
        virtio_notify_queue(v, TXQ);
    }
}

static void vnet_resume(NetClient *nc)
{
    VirtioNet *s = nc->opaque;
    s->tx_blocked = false;
    tx_run(s);
}

static void vnet_update_config(VirtIODevice *vdev)
{
    VirtioNet *s = of_vdev(vdev);
    memcpy(vdev->config, s->mac, 6);
    st16(vdev->config + 6, link_up(s) ? VIRTIO_NET_S_LINK_UP : 0);
    st16(vdev->config + 8, 1);
}

static void vnet_link_changed(NetClient *nc)
{
    VirtioNet *s = nc->opaque;
    vnet_update_config(&s->vdev);
    virtio_notify_config(&s->vdev);
}

static const NetClientOps vnet_net_ops = {
    .type = "virtio-net-pci",
    .kind = NET_CLIENT_NIC,
    .receive = vnet_receive,
    .can_receive = vnet_can_receive,
    .resume = vnet_resume,
    .link_changed = vnet_link_changed,
};

/* ---- the virtio device ---- */

static void vnet_queue_notify(VirtIODevice *vdev, unsigned q)
{
    VirtioNet *s = of_vdev(vdev);
    if (q == RXQ) {
        net_client_flush(s->nc); /* new buffers: deliver what waited */
    } else if (q == TXQ) {
        tx_run(s);
    }
}

static void vnet_driver_ok(VirtIODevice *vdev)
{
    VirtioNet *s = of_vdev(vdev);
    net_client_flush(s->nc);
    tx_run(s);
}

static void vnet_reset(VirtIODevice *vdev)
{
    VirtioNet *s = of_vdev(vdev);
    s->tx_blocked = false;
    if (s->nc) {
        net_client_purge(s->nc);
    }
}

static const VirtioDeviceOps vnet_ops = {
    .device_id = VIRTIO_ID_NET,
    .config_size = VNET_CFG_SIZE,
    .update_config = vnet_update_config,
    .queue_notify = vnet_queue_notify,
    .driver_ok = vnet_driver_ok,
    .reset = vnet_reset,
};

static bool vnet_realize(Device *dev, GError **errp)
{
    VirtioNet *s = (VirtioNet *)dev;
    Machine *m = dev->machine;
    unsigned qs = s->queue_size;
    if (!s->vp.disable_legacy) {
        error_setg(errp, "virtio-net-pci: disable-legacy=off is not "
                   "supported (no legacy network header)");
        return false;
    }
    if (qs < 4 || qs > VIRTQUEUE_MAX_SIZE || (qs & (qs - 1))) {
        error_setg(errp, "virtio-net-pci: queue-size=%u: a power of two from "
                   "4 to %d", qs, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (!m->pci) {
        error_setg(errp, "virtio-net-pci needs a PCI bus");
        return false;
    }
    s->nc = nic_init(m, &s->conf, &vnet_net_ops, s, s->mac, errp);
    if (!s->nc) {
        return false;
    }
    s->tx_buf = g_malloc(NET_MAX_FRAME);
    s->gso_buf = g_malloc(NET_MAX_FRAME);
    s->rx_elems = g_new(VirtQueueElement, MAX_RX_CHAINS);
    s->tx_elem = g_new(VirtQueueElement, 1);
    uint64_t features = (1ull << VIRTIO_NET_F_CSUM) |
                        (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                        (1ull << VIRTIO_NET_F_MAC) |
                        (1ull << VIRTIO_NET_F_HOST_TSO4) |
                        (1ull << VIRTIO_NET_F_HOST_TSO6) |
                        (1ull << VIRTIO_NET_F_MRG_RXBUF) |
                        (1ull << VIRTIO_NET_F_STATUS);
    virtio_init(&s->vdev, &vnet_ops, m, "virtio-net-pci", 2, s->queue_size,
                features);
    vnet_update_config(&s->vdev);
    return virtio_pci_realize(&s->vp, &s->vdev, 0x020000, errp);
}

static void vnet_reset_dev(Device *dev)
{
    virtio_pci_reset(&((VirtioNet *)dev)->vp);
}

static void vnet_unrealize(Device *dev)
{
    VirtioNet *s = (VirtioNet *)dev;
    virtio_pci_unrealize(&s->vp);
    nic_cleanup(s->nc);
    s->nc = NULL;
    g_free(s->tx_buf);
    g_free(s->gso_buf);
    g_free(s->rx_elems);
    g_free(s->tx_elem);
}

static bool vnet_post_load(void *opaque, GError **errp)
{
    VirtioNet *s = opaque;
    s->tx_blocked = false;
    return virtio_pci_post_load(&s->vp, errp) &&
           virtio_post_load(&s->vdev, errp);
}

static const VMStateField vnet_vmstate_fields[] = {
    VMSTATE_VIRTIO_PCI(VirtioNet, vp),
    VMSTATE_VIRTIO_DEVICE(VirtioNet, vdev),
    VMSTATE_U8_ARRAY(VirtioNet, mac),
    VMSTATE_END,
};

static const VMStateDescription vnet_vmstate = {
    .name = "virtio-net-pci",
    .version = 1,
    .fields = vnet_vmstate_fields,
    .post_load = vnet_post_load,
};

static const Property vnet_props[] = {
    DEFINE_NIC_PROPS(VirtioNet, conf),
    DEFINE_PROP_U16(VirtioNet, "queue-size", queue_size, "256",
                    "descriptors per queue (a power of two)"),
    DEFINE_VIRTIO_PCI_PROPS(VirtioNet, vp),
    DEFINE_PROP_END,
};

const DeviceClass virtio_net_pci_class = {
    .name = "virtio-net-pci",
    .description = "virtio network device (modern PCI)",
    .instance_size = sizeof(VirtioNet),
    .props = vnet_props,
    .user_creatable = true,
    .realize = vnet_realize,
    .reset = vnet_reset_dev,
    .unrealize = vnet_unrealize,
    .vmsd = &vnet_vmstate,
};
