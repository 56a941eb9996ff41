/*
 * virtio-net-pci on a test machine, driven by a minimal virtio driver
 * written here (two queues): offered features and the configuration (MAC
 * from mac=, link status and its change interrupt), transmit with and
 * without a partial checksum, mergeable receive buffers (num_buffers),
 * receive back-pressure while the driver has posted too little, and chains
 * that break the rules (NEEDS_RESET, no crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "hw-test.h"
#include "hw/net/virtio-net.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio.h"
#include "net/checksum.h"
#include "net/net.h"

#define QSIZE 16
#define QBASE(q) (0x10000u + (q) * 0x4000u)
#define BUFS 0x100000u

#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MAC 5
#define F_MRG_RXBUF 15
#define F_STATUS 16

typedef struct Fix {
    TestMachine *t;
    PCIDevice *dev;
    uint64_t bar;
    NetClient *backend;
    unsigned frames;
    size_t last_len;
    uint8_t last[2048];
    bool refuse;
    unsigned resumed;
    uint16_t avail_idx[2];
    unsigned msi;
} Fix;

static size_t fake_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    Fix *f = nc->opaque;
    if (f->refuse) {
        return 0;
    }
    f->frames++;
    f->last_len = len;
    memcpy(f->last, buf, len < sizeof(f->last) ? len : sizeof(f->last));
    return len;
}

static void fake_resume(NetClient *nc)
{
    ((Fix *)nc->opaque)->resumed++;
}

static const NetClientOps fake_ops = {
    .type = "fake", .kind = NET_CLIENT_BACKEND,
    .receive = fake_receive, .resume = fake_resume,
};

static void record_msi(void *opaque, uint64_t addr, uint32_t data)
{
    ((Fix *)opaque)->msi++;
}

static uint32_t cread(Fix *f, unsigned off, unsigned size)
{
    return (uint32_t)address_space_read_val(&f->t->m.mem, f->bar + off, size);
}

static void cwrite(Fix *f, unsigned off, uint32_t v, unsigned size)
{
    address_space_write_val(&f->t->m.mem, f->bar + off, v, size);
}

static uint8_t status(Fix *f)
{
    return (uint8_t)cread(f, 0x14, 1);
}

static uint8_t *ram(Fix *f, uint64_t a)
{
    return f->t->m.ram + a;
}

static void driver_init(Fix *f, uint64_t features)
{
    cwrite(f, 0x14, 0, 1);
    cwrite(f, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    features |= 1ull << VIRTIO_F_VERSION_1;
    cwrite(f, 0x08, 0, 4);
    cwrite(f, 0x0c, (uint32_t)features, 4);
    cwrite(f, 0x08, 1, 4);
    cwrite(f, 0x0c, (uint32_t)(features >> 32), 4);
    cwrite(f, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                        VIRTIO_STATUS_FEATURES_OK, 1);
    assert_true(status(f) & VIRTIO_STATUS_FEATURES_OK);
    memset(ram(f, QBASE(0)), 0, 0x8000);
    for (unsigned q = 0; q < 2; q++) {
        cwrite(f, 0x16, q, 2);
        cwrite(f, 0x18, QSIZE, 2);
        cwrite(f, 0x20, QBASE(q), 4);
        cwrite(f, 0x24, 0, 4);
        cwrite(f, 0x28, QBASE(q) + 0x1000, 4);
        cwrite(f, 0x2c, 0, 4);
        cwrite(f, 0x30, QBASE(q) + 0x2000, 4);
        cwrite(f, 0x34, 0, 4);
        cwrite(f, 0x1c, 1, 2);
        f->avail_idx[q] = 0;
    }
    cwrite(f, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                        VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
    assert_true(status(f) & VIRTIO_STATUS_DRIVER_OK);
}

static void set_desc(Fix *f, unsigned q, unsigned i, uint64_t addr,
                     uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = ram(f, QBASE(q) + 16 * i);
    st64(p, addr);
    st32(p + 8, len);
    st16(p + 12, flags);
    st16(p + 14, next);
}

static void make_avail(Fix *f, unsigned q, uint16_t head, bool kick)
{
    uint8_t *avail = ram(f, QBASE(q) + 0x1000);
    st16(avail + 4 + 2 * (f->avail_idx[q] % QSIZE), head);
    f->avail_idx[q]++;
    st16(avail + 2, f->avail_idx[q]);
    if (kick) {
        address_space_write_val(&f->t->m.mem,
                                f->bar + VIRTIO_PCI_NOTIFY_OFFSET + 4 * q, q, 2);
    }
}

static uint16_t used_idx(Fix *f, unsigned q)
{
    return ld16(ram(f, QBASE(q) + 0x2000 + 2));
}

static void used_elem(Fix *f, unsigned q, unsigned n, uint32_t *id,
                      uint32_t *len)
{
    uint8_t *e = ram(f, QBASE(q) + 0x2000 + 4 + 8 * (n % QSIZE));
    *id = ld32(e);
    *len = ld32(e + 4);
}

static int setup(void **state)
{
    Fix *f = g_new0(Fix, 1);
    f->t = tm_new(16u << 20, true);
    Machine *m = &f->t->m;
    assert_non_null(pci_i440fx_init(m, NULL));
    pci_bus_set_msi_handler(m->pci, record_msi, f);
    m->net = g_new0(NetBackends, 1);
    NetHost host = { m->ctx, &m->lock, m->timers };
    f->backend = net_client_new(&fake_ops, &host, "fake", f);
    net_backends_add(m->net, f->backend);
    f->dev = (PCIDevice *)tm_add(f->t, &virtio_net_pci_class,
                                 "netdev=fake,mac=52:54:00:01:02:03");
    assert_true(pci_assign_bars(m->pci, 0xe0000000, 0xefffffff, 0xc000, 0xffff));
    uint8_t *c = f->dev->config;
    f->bar = (pci_get_long(c + PCI_BASE_ADDRESS_0 + 16) & ~0xfull) |
             ((uint64_t)pci_get_long(c + PCI_BASE_ADDRESS_0 + 20) << 32);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    tm_free_devices(f->t);
    net_backends_free(f->t->m.net);
    g_free(f->t->m.net);
    pci_bus_free(f->t->m.pci);
    tm_free(f->t);
    g_free(f);
    return 0;
}

static void test_features_and_config(void **state)
{
    Fix *f = *state;
    assert_int_equal(pci_get_word(f->dev->config + PCI_DEVICE_ID), 0x1041);
    cwrite(f, 0x00, 0, 4);
    uint32_t lo = cread(f, 0x04, 4);
    uint32_t want = (1u << F_CSUM) | (1u << F_GUEST_CSUM) | (1u << F_MAC) |
                    (1u << F_MRG_RXBUF) | (1u << F_STATUS);
    assert_int_equal(lo & want, want);
    driver_init(f, (1ull << F_MAC) | (1ull << F_STATUS));
    uint8_t mac[6];
    for (unsigned i = 0; i < 6; i++) {
        mac[i] = (uint8_t)cread(f, VIRTIO_PCI_DEVICE_OFFSET + i, 1);
    }
    assert_memory_equal(mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 1, 2, 3 }), 6);
    assert_int_equal(cread(f, VIRTIO_PCI_DEVICE_OFFSET + 6, 2), 1); /* up */
    uint8_t gen = (uint8_t)cread(f, 0x15, 1);
    net_client_set_link(f->backend, false);
    assert_int_equal(cread(f, VIRTIO_PCI_DEVICE_OFFSET + 6, 2), 0);
    assert_int_not_equal((uint8_t)cread(f, 0x15, 1), gen);
    net_client_set_link(f->backend, true);
    assert_int_equal(cread(f, VIRTIO_PCI_DEVICE_OFFSET + 6, 2), 1);
}

static size_t udp_frame(uint8_t *p, size_t payload)
{
    memset(p, 0, 42 + payload);
    memset(p, 0xff, 6);
    p[6] = 0x52;
    p[12] = 0x08;
    uint8_t *ip = p + 14, *udp = ip + 20;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((28 + payload) >> 8);
    ip[3] = (uint8_t)(28 + payload);
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 10; ip[15] = 15;
    ip[16] = 10; ip[19] = 2;
    uint16_t c = net_csum_finish(net_csum_add(0, ip, 20));
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    udp[1] = 99;
    udp[3] = 100;
    udp[4] = (uint8_t)((8 + payload) >> 8);
    udp[5] = (uint8_t)(8 + payload);
    for (size_t i = 0; i < payload; i++) {
        udp[8 + i] = (uint8_t)(i * 3 + 1);
    }
    return 42 + payload;
}

static void test_tx(void **state)
{
    Fix *f = *state;
    driver_init(f, (1ull << F_CSUM));
    /* Header and frame in separate descriptors; the UDP checksum is left
     * partial (pseudo-header sum) for the device to complete. */
    uint8_t *hdr = ram(f, BUFS), *frame = ram(f, BUFS + 0x100);
    memset(hdr, 0, 12);
    size_t len = udp_frame(frame, 500);
    uint8_t *ip = frame + 14;
    uint32_t sum = net_csum_add(0, ip + 12, 8) + 17 + 508;
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[40] = (uint8_t)(sum >> 8);
    frame[41] = (uint8_t)sum;
    hdr[0] = 1;            /* NEEDS_CSUM */
    st16(hdr + 6, 34);     /* csum_start */
    st16(hdr + 8, 6);      /* csum_offset */
    set_desc(f, 1, 0, BUFS, 12, VRING_DESC_F_NEXT, 1);
    set_desc(f, 1, 1, BUFS + 0x100, (uint32_t)len, 0, 0);
    make_avail(f, 1, 0, true);
    assert_int_equal(f->frames, 1);
    assert_int_equal(f->last_len, len);
    NetRxCsum r;
    net_rx_csum_check(f->last, f->last_len, &r);
    assert_true(r.ipv4 && r.ip_ok && r.l4 && r.l4_ok);
    assert_int_equal(used_idx(f, 1), 1);
    /* Back-pressure: the backend refuses, the device stops after one frame
     * and goes on when resumed. */
    f->refuse = true;
    hdr[0] = 0;
    for (unsigned i = 0; i < 3; i++) {
        set_desc(f, 1, 2 + 2 * i, BUFS, 12, VRING_DESC_F_NEXT, (uint16_t)(3 + 2 * i));
        set_desc(f, 1, 3 + 2 * i, BUFS + 0x100, (uint32_t)len, 0, 0);
        make_avail(f, 1, (uint16_t)(2 + 2 * i), i == 2);
    }
    assert_int_equal(used_idx(f, 1), 2);
    f->refuse = false;
    net_client_flush(f->backend);
    assert_int_equal(f->frames, 4);
    assert_int_equal(used_idx(f, 1), 4);
}

static void test_tx_tso(void **state)
{
    Fix *f = *state;
    driver_init(f, (1ull << F_CSUM) | (1ull << 11)); /* HOST_TSO4 */
    uint8_t *hdr = ram(f, BUFS), *p = ram(f, BUFS + 0x100);
    size_t payload = 3000, len = 54 + payload;
    memset(p, 0, len);
    memset(p, 0xff, 6);
    p[12] = 0x08;
    uint8_t *ip = p + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((40 + payload) >> 8);
    ip[3] = (uint8_t)(40 + payload);
    ip[8] = 64;
    ip[9] = 6;
    tcp[12] = 0x50;
    tcp[13] = 0x18;
    memset(hdr, 0, 12);
    hdr[0] = 1;          /* NEEDS_CSUM */
    hdr[1] = 1;          /* GSO_TCPV4 */
    st16(hdr + 2, 54);   /* hdr_len */
    st16(hdr + 4, 1000); /* gso_size */
    st16(hdr + 6, 34);
    st16(hdr + 8, 16);
    set_desc(f, 1, 0, BUFS, 12, VRING_DESC_F_NEXT, 1);
    set_desc(f, 1, 1, BUFS + 0x100, (uint32_t)len, 0, 0);
    make_avail(f, 1, 0, true);
    assert_int_equal(f->frames, 3);
    assert_int_equal(f->last_len, 54 + 1000);
    NetRxCsum r;
    net_rx_csum_check(f->last, f->last_len, &r);
    assert_true(r.ipv4 && r.ip_ok && r.l4 && r.l4_ok);
    assert_int_equal(used_idx(f, 1), 1);
}

static uint16_t avail_event(Fix *f, unsigned q)
{
    return ld16(ram(f, QBASE(q) + 0x2000 + 4 + 8 * QSIZE));
}

/* With VIRTIO_RING_F_EVENT_IDX the driver kicks only when its avail index
 * passes avail_event: the device must keep asking for the next chain. */
static void test_event_idx(void **state)
{
    Fix *f = *state;
    driver_init(f, 1ull << VIRTIO_RING_F_EVENT_IDX);
    uint8_t *hdr = ram(f, BUFS);
    memset(hdr, 0, 12);
    size_t len = udp_frame(ram(f, BUFS + 12), 100);
    for (unsigned i = 0; i < 3; i++) {
        set_desc(f, 1, i, BUFS, (uint32_t)(12 + len), 0, 0);
        make_avail(f, 1, (uint16_t)i, true);
        assert_int_equal(f->frames, i + 1);
        assert_int_equal(avail_event(f, 1), i + 1);
    }
    /* Receive with no buffers: queued, and a kick asked for at the next. */
    uint8_t frame[200];
    len = udp_frame(frame, 100);
    assert_int_equal(net_send(f->backend, frame, len), NET_QUEUED);
    assert_int_equal(avail_event(f, 0), 0);
    set_desc(f, 0, 0, BUFS + 0x1000, 2048, VRING_DESC_F_WRITE, 0);
    make_avail(f, 0, 0, true);
    assert_int_equal(used_idx(f, 0), 1);
}

static void post_rx(Fix *f, unsigned desc, uint64_t addr, uint32_t len,
                    bool kick)
{
    set_desc(f, 0, desc, addr, len, VRING_DESC_F_WRITE, 0);
    make_avail(f, 0, (uint16_t)desc, kick);
}

static void test_rx_mergeable(void **state)
{
    Fix *f = *state;
    driver_init(f, (1ull << F_MRG_RXBUF) | (1ull << F_GUEST_CSUM));
    post_rx(f, 0, BUFS, 600, false);
    post_rx(f, 1, BUFS + 0x1000, 600, false);
    post_rx(f, 2, BUFS + 0x2000, 600, true);
    uint8_t frame[1200];
    size_t len = udp_frame(frame, 1000);
    cread(f, VIRTIO_PCI_ISR_OFFSET, 1);
    assert_int_equal(net_send(f->backend, frame, len), NET_SENT);
    assert_int_equal(used_idx(f, 0), 2);
    /* No MSI-X set up: the queue interrupt shows in the ISR (INTx). */
    assert_true(cread(f, VIRTIO_PCI_ISR_OFFSET, 1) & VIRTIO_ISR_QUEUE);
    uint32_t id, l0, l1;
    used_elem(f, 0, 0, &id, &l0);
    assert_int_equal(id, 0);
    used_elem(f, 0, 1, &id, &l1);
    assert_int_equal(id, 1);
    assert_int_equal(l0 + l1, 12 + len);
    const uint8_t *h = ram(f, BUFS);
    assert_int_equal(ld16(h + 10), 2);           /* num_buffers */
    assert_int_equal(h[0], 2);                   /* DATA_VALID */
    assert_memory_equal(ram(f, BUFS + 12), frame, 600 - 12);
    assert_memory_equal(ram(f, BUFS + 0x1000), frame + 588, len - 588);
}

static void test_rx_backpressure(void **state)
{
    Fix *f = *state;
    driver_init(f, (1ull << F_MRG_RXBUF));
    uint8_t frame[1200];
    size_t len = udp_frame(frame, 1000);
    /* Nothing posted: queued, the backend is told to stop. */
    assert_int_equal(net_send(f->backend, frame, len), NET_QUEUED);
    /* One buffer is too small for the frame: still waiting, and the
     * buffer is not consumed. */
    post_rx(f, 0, BUFS, 600, true);
    assert_int_equal(used_idx(f, 0), 0);
    assert_int_equal(f->resumed, 0);
    post_rx(f, 1, BUFS + 0x1000, 600, true);
    assert_int_equal(used_idx(f, 0), 2);
    assert_int_equal(f->resumed, 1);
    assert_memory_equal(ram(f, BUFS + 12), frame, 100);
}

static void test_malformed(void **state)
{
    Fix *f = *state;
    driver_init(f, (1ull << F_MRG_RXBUF));
    /* A receive buffer the device may not write. */
    set_desc(f, 0, 0, BUFS, 2000, 0, 0);
    make_avail(f, 0, 0, true);
    uint8_t frame[100];
    size_t len = udp_frame(frame, 50);
    net_send(f->backend, frame, len);
    assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    /* After a reset: a transmit chain shorter than the header. */
    driver_init(f, 0);
    assert_false(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    set_desc(f, 1, 0, BUFS, 5, 0, 0);
    make_avail(f, 1, 0, true);
    assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(f->frames, 0);
    /* A transmit buffer outside RAM and a checksum offset past the end. */
    driver_init(f, (1ull << F_CSUM));
    set_desc(f, 1, 0, 0xfffffffffff00000ull, 100, 0, 0);
    make_avail(f, 1, 0, true);
    assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    driver_init(f, (1ull << F_CSUM));
    uint8_t *hdr = ram(f, BUFS);
    memset(hdr, 0, 12);
    hdr[0] = 1;
    st16(hdr + 6, 60000);
    st16(hdr + 8, 6);
    memcpy(ram(f, BUFS + 12), frame, len);
    set_desc(f, 1, 0, BUFS, (uint32_t)(12 + len), 0, 0);
    make_avail(f, 1, 0, true);
    assert_int_equal(f->frames, 0); /* dropped, device still fine */
    assert_false(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(used_idx(f, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_features_and_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
