/*
 * The e1000 (82540EM) on a hand-built machine with a recording backend:
 * the EEPROM read both ways Linux can (Microwire bit-banging through EECD,
 * and EERD) with its 0xBABA checksum and the MAC, the PHY through MDIC,
 * interrupt causes and masks, transmit (legacy, checksum offload, TSO),
 * receive with back-pressure from a full ring, and malformed descriptors
 * and registers that must be refused without touching memory outside RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "hw-test.h"
#include "hw/net/e1000.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"
#include "net/checksum.h"

#define RAM_SIZE (16u << 20)
#define MMIO_BASE 0xe0000000u
#define TX_RING 0x10000u
#define RX_RING 0x20000u
#define TX_BUFS 0x100000u
#define RX_BUFS 0x200000u
#define GSI_OF(t) (16 + pci_swizzle(PCI_SLOT((t)->e->pci.devfn), 1))

typedef struct Frame {
    size_t len;
    uint8_t data[NET_MAX_FRAME];
} Frame;

typedef struct Fix {
    TestMachine *t;
    E1000State *e;
    NetClient *backend;
    Frame *frames;    /* what the NIC sent */
    unsigned nr_frames;
    bool refuse;      /* the backend pushes back */
    unsigned resumed;
} Fix;

static size_t fake_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    Fix *f = nc->opaque;
    if (f->refuse) {
        return 0;
    }
    assert_true(f->nr_frames < 64);
    f->frames[f->nr_frames].len = len;
    memcpy(f->frames[f->nr_frames].data, buf, len);
    f->nr_frames++;
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

static uint32_t rd(Fix *f, uint32_t off)
{
    return (uint32_t)address_space_read_val(&f->t->m.mem, MMIO_BASE + off, 4);
}

static void wr(Fix *f, uint32_t off, uint32_t v)
{
    address_space_write_val(&f->t->m.mem, MMIO_BASE + off, v, 4);
}

static int setup(void **state)
{
    Fix *f = g_new0(Fix, 1);
    f->frames = g_new0(Frame, 64);
    f->t = tm_new(RAM_SIZE, true);
    Machine *m = &f->t->m;
    assert_non_null(pci_i440fx_init(m, NULL));
    m->net = g_new0(NetBackends, 1);
    NetHost host = { m->ctx, &m->lock, m->timers };
    f->backend = net_client_new(&fake_ops, &host, "fake", f);
    net_backends_add(m->net, f->backend);
    f->e = (E1000State *)tm_add(f->t, &e1000_class,
                                "netdev=fake,mac=52:54:00:aa:bb:cc");
    assert_true(pci_assign_bars(m->pci, MMIO_BASE, 0xefffffff, 0xc000, 0xffff));
    assert_int_equal(pci_config_read(&f->e->pci, PCI_BASE_ADDRESS_0, 4) & ~0xfu,
                     MMIO_BASE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    PCIBus *bus = f->t->m.pci;
    tm_free_devices(f->t);
    net_backends_free(f->t->m.net);
    g_free(f->t->m.net);
    pci_bus_free(bus);
    tm_free(f->t);
    g_free(f->frames);
    g_free(f);
    return 0;
}

/* ---- EEPROM, the way Linux's e1000 driver reads a Microwire part ---- */

static uint32_t eecd;

static void ee_clock(Fix *f)
{
    wr(f, E1000_EECD, eecd | E1000_EECD_SK);
    wr(f, E1000_EECD, eecd & ~E1000_EECD_SK);
}

static void ee_shift_out(Fix *f, uint16_t data, unsigned count)
{
    for (uint32_t mask = 1u << (count - 1); mask; mask >>= 1) {
        eecd &= ~E1000_EECD_DI;
        if (data & mask) {
            eecd |= E1000_EECD_DI;
        }
        wr(f, E1000_EECD, eecd);
        ee_clock(f);
    }
    eecd &= ~E1000_EECD_DI;
    wr(f, E1000_EECD, eecd);
}

static uint16_t ee_shift_in(Fix *f)
{
    uint16_t data = 0;
    for (unsigned i = 0; i < 16; i++) {
        data = (uint16_t)(data << 1);
        wr(f, E1000_EECD, eecd | E1000_EECD_SK);
        if (rd(f, E1000_EECD) & E1000_EECD_DO) {
            data |= 1;
        }
        wr(f, E1000_EECD, eecd);
    }
    return data;
}

static uint16_t ee_read_microwire(Fix *f, unsigned addr)
{
    eecd = rd(f, E1000_EECD) | E1000_EECD_REQ;
    wr(f, E1000_EECD, eecd);
    assert_true(rd(f, E1000_EECD) & E1000_EECD_GNT);
    eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
    wr(f, E1000_EECD, eecd);
    eecd |= E1000_EECD_CS;
    wr(f, E1000_EECD, eecd);
    ee_shift_out(f, 0x6, 3);
    ee_shift_out(f, (uint16_t)addr, 6);
    uint16_t v = ee_shift_in(f);
    eecd &= ~(E1000_EECD_CS | E1000_EECD_REQ);
    wr(f, E1000_EECD, eecd);
    return v;
}

static uint16_t ee_read_eerd(Fix *f, unsigned addr)
{
    wr(f, E1000_EERD, (addr << 8) | E1000_EERD_START);
    uint32_t v = rd(f, E1000_EERD);
    assert_true(v & E1000_EERD_DONE);
    return (uint16_t)(v >> 16);
}

static void test_eeprom(void **state)
{
    Fix *f = *state;
    uint16_t sum = 0, sum2 = 0;
    for (unsigned i = 0; i < EEPROM_WORDS; i++) {
        uint16_t a = ee_read_microwire(f, i);
        uint16_t b = ee_read_eerd(f, i);
        assert_int_equal(a, b);
        sum = (uint16_t)(sum + a);
        sum2 = (uint16_t)(sum2 + b);
    }
    assert_int_equal(sum, 0xbaba);
    assert_int_equal(sum2, 0xbaba);
    assert_int_equal(ee_read_microwire(f, 0), 0x5452);
    assert_int_equal(ee_read_microwire(f, 1), 0xaa00);
    assert_int_equal(ee_read_microwire(f, 2), 0xccbb);
    assert_int_equal(ee_read_eerd(f, 0x0d), 0x100e);
    /* Receive address 0 was loaded from it. */
    assert_int_equal(rd(f, E1000_RA), 0xaa005452);
    assert_int_equal(rd(f, E1000_RA + 4), 0x8000ccbb);
}

static uint16_t mdic(Fix *f, bool write, unsigned phy, unsigned reg,
                     uint16_t v, bool *error)
{
    wr(f, E1000_MDIC, (write ? E1000_MDIC_OP_WRITE : E1000_MDIC_OP_READ) |
                          (phy << 21) | (reg << 16) | v);
    uint32_t r = rd(f, E1000_MDIC);
    assert_true(r & E1000_MDIC_READY);
    *error = (r & E1000_MDIC_ERROR) != 0;
    return (uint16_t)r;
}

static void test_phy_and_link(void **state)
{
    Fix *f = *state;
    bool err;
    assert_int_equal(mdic(f, false, 1, PHY_ID1, 0, &err), 0x0141);
    assert_false(err);
    assert_int_equal(mdic(f, false, 1, PHY_ID2, 0, &err) & 0xfff0, 0x0c20);
    uint16_t st = mdic(f, false, 1, PHY_STATUS, 0, &err);
    assert_true(st & PHY_STATUS_LINK);
    assert_true(st & PHY_STATUS_AN_DONE);
    mdic(f, false, 2, PHY_ID1, 0, &err);
    assert_true(err); /* no PHY at address 2 */
    assert_true(rd(f, E1000_STATUS) & E1000_STATUS_LU);
    /* A reset of the PHY self-clears; restarting negotiation says LSC. */
    mdic(f, true, 1, PHY_CTRL, PHY_CTRL_RESET, &err);
    assert_int_equal(mdic(f, false, 1, PHY_CTRL, 0, &err) & PHY_CTRL_RESET, 0);
    rd(f, E1000_ICR);
    mdic(f, true, 1, PHY_CTRL, 0x1140 | PHY_CTRL_RESTART_AN, &err);
    assert_true(rd(f, E1000_ICR) & E1000_ICR_LSC);
    /* Link down from the backend side: STATUS and the PHY follow. */
    net_client_set_link(f->backend, false);
    assert_false(rd(f, E1000_STATUS) & E1000_STATUS_LU);
    assert_false(mdic(f, false, 1, PHY_STATUS, 0, &err) & PHY_STATUS_LINK);
    assert_true(rd(f, E1000_ICR) & E1000_ICR_LSC);
    net_client_set_link(f->backend, true);
}

static void test_interrupts(void **state)
{
    Fix *f = *state;
    TestMachine *t = f->t;
    unsigned gsi = GSI_OF(f);
    wr(f, E1000_ICS, E1000_ICR_TXDW);
    assert_int_equal(t->gsi_level[gsi], 0); /* masked */
    wr(f, E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0);
    assert_int_equal(t->gsi_level[gsi], 1);
    assert_int_equal(rd(f, E1000_IMS), E1000_ICR_TXDW | E1000_ICR_RXT0);
    assert_int_equal(rd(f, E1000_ICR), E1000_ICR_TXDW); /* read clears */
    assert_int_equal(t->gsi_level[gsi], 0);
    assert_int_equal(rd(f, E1000_ICR), 0);
    wr(f, E1000_ICS, E1000_ICR_RXT0);
    assert_int_equal(t->gsi_level[gsi], 1);
    wr(f, E1000_IMC, E1000_ICR_RXT0);
    assert_int_equal(t->gsi_level[gsi], 0);
    /* Software reset clears masks and causes. */
    wr(f, E1000_IMS, E1000_ICR_RXT0);
    wr(f, E1000_CTRL, rd(f, E1000_CTRL) | E1000_CTRL_RST);
    assert_int_equal(rd(f, E1000_IMS), 0);
    assert_int_equal(t->gsi_level[gsi], 0);
    assert_int_equal(rd(f, E1000_RA + 4), 0x8000ccbb);
}

/* ---- transmit ---- */

static void tx_setup(Fix *f, unsigned nr_desc)
{
    wr(f, E1000_TDBAL, TX_RING);
    wr(f, E1000_TDBAH, 0);
    wr(f, E1000_TDLEN, nr_desc * 16);
    wr(f, E1000_TDH, 0);
    wr(f, E1000_TDT, 0);
    wr(f, E1000_TCTL, E1000_TCTL_EN);
}

static uint8_t *ram(Fix *f, uint64_t addr)
{
    return f->t->m.ram + addr;
}

static void put_legacy(Fix *f, unsigned idx, uint64_t buf, uint16_t len,
                       uint8_t cmd)
{
    uint8_t *d = ram(f, TX_RING + idx * 16);
    memset(d, 0, 16);
    st64(d, buf);
    st16(d + 8, len);
    d[11] = cmd;
}

static void make_frame(uint8_t *p, size_t len, uint8_t tag)
{
    static const uint8_t hdr[14] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
                                     0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc,
                                     0x08, 0x06 };
    memcpy(p, hdr, 14);
    for (size_t i = 14; i < len; i++) {
        p[i] = (uint8_t)(tag + i);
    }
}

static void test_tx_legacy(void **state)
{
    Fix *f = *state;
    tx_setup(f, 8);
    wr(f, E1000_IMS, E1000_ICR_TXDW);
    /* One frame in two descriptors, one in one. */
    make_frame(ram(f, TX_BUFS), 100, 1);
    make_frame(ram(f, TX_BUFS + 0x1000), 60, 2);
    put_legacy(f, 0, TX_BUFS, 40, 0);
    put_legacy(f, 1, TX_BUFS + 40, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    put_legacy(f, 2, TX_BUFS + 0x1000, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    wr(f, E1000_TDT, 3);
    assert_int_equal(rd(f, E1000_TDH), 3);
    assert_int_equal(f->nr_frames, 2);
    assert_int_equal(f->frames[0].len, 100);
    assert_memory_equal(f->frames[0].data, ram(f, TX_BUFS), 100);
    assert_int_equal(f->frames[1].len, 60);
    assert_true(ram(f, TX_RING + 16)[12] & E1000_TXD_STAT_DD);
    assert_true(ram(f, TX_RING + 32)[12] & E1000_TXD_STAT_DD);
    assert_false(ram(f, TX_RING)[12] & E1000_TXD_STAT_DD); /* no RS */
    assert_true(rd(f, E1000_ICR) & (E1000_ICR_TXDW | E1000_ICR_TXQE));
    assert_int_equal(rd(f, E1000_GPTC), 2);
    assert_int_equal(rd(f, E1000_GPTC), 0); /* statistics clear on read */
    assert_int_equal(rd(f, E1000_TPT), 2);
}

static void test_tx_backpressure(void **state)
{
    Fix *f = *state;
    tx_setup(f, 8);
    f->refuse = true;
    for (unsigned i = 0; i < 3; i++) {
        make_frame(ram(f, TX_BUFS + i * 0x1000), 64, (uint8_t)i);
        put_legacy(f, i, TX_BUFS + i * 0x1000, 64,
                   E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    }
    wr(f, E1000_TDT, 3);
    /* The first frame went into the backend's queue; the NIC stopped. */
    assert_int_equal(rd(f, E1000_TDH), 1);
    assert_int_equal(f->nr_frames, 0);
    f->refuse = false;
    net_client_flush(f->backend);
    /* The queue drained, the NIC resumed and sent the rest, in order. */
    assert_int_equal(f->nr_frames, 3);
    assert_int_equal(rd(f, E1000_TDH), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(f->frames[i].data[14], (uint8_t)(i + 14));
    }
    assert_int_equal(net_client_dropped(f->backend), 0);
}

static void test_tx_malformed(void **state)
{
    Fix *f = *state;
    tx_setup(f, 8);
    /* A tail past the ring: nothing is processed. */
    wr(f, E1000_TDT, 9);
    assert_int_equal(rd(f, E1000_TDH), 0);
    assert_int_equal(f->nr_frames, 0);
    /* Buffers outside RAM, lengths past any frame, a ring outside RAM. */
    put_legacy(f, 0, 0xfffffffffffff000ull, 100, E1000_TXD_CMD_EOP);
    put_legacy(f, 1, RAM_SIZE - 10, 100, E1000_TXD_CMD_EOP);
    for (unsigned i = 2; i < 7; i++) {
        put_legacy(f, i, TX_BUFS, 0xffff, 0); /* 5 x 64 KiB, no EOP */
    }
    put_legacy(f, 7, TX_BUFS, 0xffff, E1000_TXD_CMD_EOP);
    wr(f, E1000_TDT, 0);
    wr(f, E1000_TDH, 0);
    wr(f, E1000_TDT, 7);
    wr(f, E1000_TDT, 0);
    assert_int_equal(rd(f, E1000_TDH), 0);
    assert_int_equal(f->nr_frames, 0);
    /* A data descriptor with a 20-bit length and TSO with a bad context. */
    uint8_t *d = ram(f, TX_RING);
    memset(d, 0, 32);
    d[11] = E1000_TXD_CMD_DEXT; /* context: hdr_len 200 > buffer, mss 0 */
    d[13] = 200;
    st64(d + 16, TX_BUFS);
    st32(d + 24, 0xfffff | (E1000_TXD_DTYP_DATA << 20));
    d[27] = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP;
    wr(f, E1000_TDT, 2);
    assert_int_equal(rd(f, E1000_TDH), 2);
    assert_int_equal(f->nr_frames, 0);
    /* A ring that is not in RAM. */
    wr(f, E1000_TDBAL, 0xfffff000);
    wr(f, E1000_TDBAH, 0xffffffff);
    wr(f, E1000_TDT, 5);
    assert_int_equal(f->nr_frames, 0);
}

/* An IPv4/TCP frame with a payload, for offload tests. */
static size_t make_tcp(uint8_t *p, size_t payload, bool tso)
{
    make_frame(p, 14, 0);
    p[12] = 0x08;
    p[13] = 0x00;
    uint8_t *ip = p + 14, *tcp = p + 34;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    size_t tot = 40 + payload;
    ip[2] = tso ? 0 : (uint8_t)(tot >> 8);
    ip[3] = tso ? 0 : (uint8_t)tot;
    ip[4] = 0x12;
    ip[5] = 0x34;
    ip[8] = 64;
    ip[9] = 6;
    uint8_t src[4] = { 10, 0, 2, 15 }, dst[4] = { 10, 0, 2, 2 };
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    tcp[0] = 0x30; tcp[1] = 0x39; tcp[2] = 0x00; tcp[3] = 0x50;
    tcp[4] = 0x01; tcp[5] = 0x02; tcp[6] = 0x03; tcp[7] = 0x04; /* seq */
    tcp[12] = 0x50;
    tcp[13] = 0x18; /* PSH ACK */
    tcp[14] = 0xff;
    for (size_t i = 0; i < payload; i++) {
        tcp[20 + i] = (uint8_t)(i * 7);
    }
    /* The pseudo-header sum the driver leaves in the field. */
    uint32_t sum = net_csum_add(0, ip + 12, 8) + 6 + (tso ? 0 : 20 + payload);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    tcp[16] = (uint8_t)(sum >> 8);
    tcp[17] = (uint8_t)sum;
    return 54 + payload;
}

static void put_context(Fix *f, unsigned idx, uint8_t tucmd, uint8_t hdr_len,
                        uint16_t mss, uint32_t paylen)
{
    uint8_t *d = ram(f, TX_RING + idx * 16);
    memset(d, 0, 16);
    d[0] = 14;      /* IPCSS */
    d[1] = 24;      /* IPCSO */
    st16(d + 2, 33);
    d[4] = 34;      /* TUCSS */
    d[5] = 50;      /* TUCSO */
    st32(d + 8, paylen);
    d[11] = tucmd | E1000_TXD_CMD_DEXT;
    d[13] = hdr_len;
    st16(d + 14, mss);
}

static void put_data(Fix *f, unsigned idx, uint64_t buf, uint32_t len,
                     uint8_t dcmd, uint8_t popts)
{
    uint8_t *d = ram(f, TX_RING + idx * 16);
    memset(d, 0, 16);
    st64(d, buf);
    st32(d + 8, len | (E1000_TXD_DTYP_DATA << 20));
    d[11] = dcmd | E1000_TXD_CMD_DEXT;
    d[13] = popts;
}

static void test_tx_checksum_offload(void **state)
{
    Fix *f = *state;
    tx_setup(f, 8);
    size_t len = make_tcp(ram(f, TX_BUFS), 333, false);
    put_context(f, 0, E1000_TUCMD_TCP | E1000_TUCMD_IP, 0, 0, 0);
    put_data(f, 1, TX_BUFS, (uint32_t)len, E1000_TXD_CMD_EOP,
             E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM);
    wr(f, E1000_TDT, 2);
    assert_int_equal(f->nr_frames, 1);
    NetRxCsum r;
    net_rx_csum_check(f->frames[0].data, f->frames[0].len, &r);
    assert_true(r.ipv4 && r.ip_ok && r.l4 && r.tcp && r.l4_ok);
}

static void test_tx_tso(void **state)
{
    Fix *f = *state;
    tx_setup(f, 8);
    const size_t payload = 4000, mss = 1448;
    size_t len = make_tcp(ram(f, TX_BUFS), payload, true);
    put_context(f, 0, E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TUCMD_TSE, 54,
                (uint16_t)mss, (uint32_t)payload);
    /* Header and payload split over descriptors at odd places. */
    put_data(f, 1, TX_BUFS, 30, E1000_TXD_CMD_TSE,
             E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM);
    put_data(f, 2, TX_BUFS + 30, 1000, E1000_TXD_CMD_TSE, 0);
    put_data(f, 3, TX_BUFS + 1030, (uint32_t)(len - 1030),
             E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
    wr(f, E1000_TDT, 4);
    assert_int_equal(f->nr_frames, 3);
    uint32_t seq = 0x01020304;
    size_t off = 0;
    for (unsigned i = 0; i < 3; i++) {
        const Frame *fr = &f->frames[i];
        size_t seg = i < 2 ? mss : payload - 2 * mss;
        assert_int_equal(fr->len, 54 + seg);
        NetRxCsum r;
        net_rx_csum_check(fr->data, fr->len, &r);
        assert_true(r.ipv4 && r.ip_ok && r.l4 && r.l4_ok);
        const uint8_t *ip = fr->data + 14, *tcp = fr->data + 34;
        assert_int_equal((ip[2] << 8) | ip[3], 40 + seg);
        assert_int_equal((ip[4] << 8) | ip[5], 0x1234 + i);
        uint32_t s = ((uint32_t)tcp[4] << 24) | (tcp[5] << 16) | (tcp[6] << 8) |
                     tcp[7];
        assert_int_equal(s, seq + off);
        /* PSH only on the last segment. */
        assert_int_equal(tcp[13], i < 2 ? 0x10 : 0x18);
        for (size_t b = 0; b < seg; b++) {
            assert_int_equal(tcp[20 + b], (uint8_t)((off + b) * 7));
        }
        off += seg;
    }
}

/* ---- receive ---- */

/* A ring of nr_desc (a multiple of 8) with tail: tail usable descriptors. */
static void rx_setup(Fix *f, unsigned nr_desc, unsigned tail)
{
    for (unsigned i = 0; i < nr_desc; i++) {
        uint8_t *d = ram(f, RX_RING + i * 16);
        memset(d, 0, 16);
        st64(d, RX_BUFS + i * 2048);
    }
    wr(f, E1000_RDBAL, RX_RING);
    wr(f, E1000_RDLEN, nr_desc * 16);
    wr(f, E1000_RDH, 0);
    wr(f, E1000_RDT, tail);
    wr(f, E1000_IMS, E1000_ICR_RXT0);
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
}

static NetSendResult send_to_guest(Fix *f, uint8_t tag, size_t len,
                                   const uint8_t *dst)
{
    uint8_t buf[2048];
    make_frame(buf, len, tag);
    memcpy(buf, dst, 6);
    return net_send(f->backend, buf, len);
}

#define to_guest(f, tag, len, dst, want)                                       \
    assert_int_equal(send_to_guest(f, tag, len, dst), want)

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

static void test_rx_and_backpressure(void **state)
{
    Fix *f = *state;
    rx_setup(f, 8, 3); /* 3 usable descriptors */
    for (unsigned i = 0; i < 3; i++) {
        to_guest(f, (uint8_t)i, 100 + i, our_mac, NET_SENT);
    }
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *d = ram(f, RX_RING + i * 16);
        assert_int_equal(ld16(d + 8), 100 + i);
        assert_int_equal(d[12] & 3, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
        assert_int_equal(ram(f, RX_BUFS + i * 2048)[14], (uint8_t)(i + 14));
    }
    assert_int_equal(rd(f, E1000_RDH), 3);
    assert_true(f->t->gsi_level[GSI_OF(f)]);
    assert_true(rd(f, E1000_ICR) & E1000_ICR_RXT0);
    /* The ring is full: frames wait, the backend is told to stop. */
    to_guest(f, 7, 80, our_mac, NET_QUEUED);
    to_guest(f, 8, 90, our_mac, NET_QUEUED);
    assert_int_equal(f->resumed, 0);
    /* The guest gives back two descriptors: both frames land, in order,
     * and the backend is resumed. */
    wr(f, E1000_RDT, 5);
    assert_int_equal(rd(f, E1000_RDH), 5);
    assert_int_equal(ld16(ram(f, RX_RING + 3 * 16) + 8), 80);
    assert_int_equal(ld16(ram(f, RX_RING + 4 * 16) + 8), 90);
    assert_int_equal(f->resumed, 1);
    assert_int_equal(net_client_dropped(f->e->nc), 0);
    assert_int_equal(rd(f, E1000_GPRC), 5);
}

static void test_rx_filter_and_padding(void **state)
{
    Fix *f = *state;
    rx_setup(f, 8, 7);
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM); /* keep the FCS */
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x01, 0x02, 0x03 };
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    to_guest(f, 1, 100, other, NET_SENT); /* not ours: filtered */
    assert_int_equal(rd(f, E1000_RDH), 0);
    to_guest(f, 2, 42, bcast, NET_SENT);  /* short: padded to 60 + FCS */
    assert_int_equal(rd(f, E1000_RDH), 1);
    assert_int_equal(ld16(ram(f, RX_RING) + 8), 64);
    /* Promiscuous mode takes anything. */
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_SECRC);
    to_guest(f, 3, 100, other, NET_SENT);
    assert_int_equal(rd(f, E1000_RDH), 2);
    assert_int_equal(ld16(ram(f, RX_RING + 16) + 8), 100);
}

static void test_rx_large_frame_multiple_descriptors(void **state)
{
    Fix *f = *state;
    rx_setup(f, 8, 7);
    /* 256-byte buffers: a 1000-byte frame takes 4 descriptors. */
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC |
                          (3u << E1000_RCTL_BSIZE_SHIFT));
    to_guest(f, 5, 1000, our_mac, NET_SENT);
    assert_int_equal(rd(f, E1000_RDH), 4);
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *d = ram(f, RX_RING + i * 16);
        assert_int_equal(ld16(d + 8), i < 3 ? 256 : 1000 - 768);
        assert_int_equal(d[12] & E1000_RXD_STAT_EOP, i == 3 ? E1000_RXD_STAT_EOP : 0);
    }
    assert_int_equal(ram(f, RX_BUFS + 2048)[0], (uint8_t)(5 + 256));
}

static void test_rx_malformed_ring(void **state)
{
    Fix *f = *state;
    rx_setup(f, 8, 3);
    /* Buffer address outside RAM: the descriptor reports an error. */
    st64(ram(f, RX_RING), 0xfffffffffffff000ull);
    to_guest(f, 1, 100, our_mac, NET_SENT);
    assert_int_equal(ram(f, RX_RING)[13] & 0x80, 0x80);
    /* A tail outside the ring: nothing can be received, frames wait. */
    wr(f, E1000_RDT, 100);
    to_guest(f, 2, 100, our_mac, NET_QUEUED);
    /* A frame that could never fit the ring is dropped, not held. */
    wr(f, E1000_RDH, 0);
    wr(f, E1000_RDT, 7);
    net_client_purge(f->e->nc);
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_LPE |
                          (3u << E1000_RCTL_BSIZE_SHIFT));
    uint8_t big[2100];
    make_frame(big, sizeof(big), 0);
    memcpy(big, our_mac, 6);
    uint32_t head = rd(f, E1000_RDH);
    assert_int_equal(net_send(f->backend, big, sizeof(big)), NET_SENT);
    assert_int_equal(rd(f, E1000_RDH), head); /* 9 x 256 bytes > 7 descriptors */
    assert_int_equal(rd(f, E1000_MPC), 1);
    /* The ring itself outside RAM. */
    wr(f, E1000_RDBAL, 0xfffff000);
    wr(f, E1000_RDBAH, 0xffffffff);
    wr(f, E1000_RDT, 3);
    to_guest(f, 3, 100, our_mac, NET_SENT);
}

static void test_io_bar(void **state)
{
    Fix *f = *state;
    uint32_t io = pci_config_read(&f->e->pci, PCI_BASE_ADDRESS_0 + 4, 4) & ~3u;
    assert_true(io >= 0xc000);
    tm_outl(f->t, (uint16_t)io, E1000_RA);
    assert_int_equal(tm_inl(f->t, (uint16_t)(io + 4)), 0xaa005452);
    tm_outl(f->t, (uint16_t)io, E1000_ITR);
    tm_outl(f->t, (uint16_t)(io + 4), 195);
    assert_int_equal(rd(f, E1000_ITR), 195);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eeprom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phy_and_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_checksum_offload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_and_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_filter_and_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_large_frame_multiple_descriptors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_malformed_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_bar, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
