/*
 * The 82540EM transmit engine (8254x developer's manual 3.3 and 3.5):
 * legacy descriptors, context descriptors that set the checksum/TSO
 * offload, and data descriptors gathered into a packet until EOP.  With
 * TSE the payload after the header is cut into MSS-sized TCP (or UDP)
 * segments, each with the IPv4 total length and ID, the TCP sequence
 * number and flags, and the checksums fixed up.  Every guest value (ring
 * position, buffer address and length, header offsets) is checked before
 * use; a packet that breaks a rule is dropped at its EOP.
 */
#include <string.h>

#include "core/memory.h"
#include "hw/machine.h"
#include "hw/net/e1000.h"
#include "net/checksum.h"

static AddressSpace *dma_as(E1000State *s)
{
    return &DEVICE_STATE(s)->machine->mem;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

void e1000_tx_reset(E1000State *s)
{
    memset(&s->ctx, 0, sizeof(s->ctx));
    memset(&s->tx, 0, sizeof(s->tx));
    s->tx_blocked = false;
}

static void send_frame(E1000State *s, uint8_t *buf, uint32_t len,
                       bool vle, uint16_t special)
{
    if (vle && (e1000_reg(s, E1000_CTRL) & E1000_CTRL_VME) &&
        len >= 12 && len + 4 <= E1000_TX_BUF_SIZE) {
        /* Insert the 802.1Q tag after the addresses: the buffer has room
         * for it past the end of the largest frame. */
        memmove(buf + 16, buf + 12, len - 12);
        put_be16(buf + 12, (uint16_t)e1000_reg(s, E1000_VET));
        put_be16(buf + 14, special);
        len += 4;
    }
    e1000_stat_add(s, E1000_GPTC, 1);
    e1000_stat_add(s, E1000_TPT, 1);
    e1000_stat_add64(s, E1000_GOTCL, len);
    e1000_stat_add64(s, E1000_TOTL, len);
    if (buf[0] & 1) {
        e1000_stat_add(s, (buf[0] == 0xff && buf[1] == 0xff) ? E1000_BPTC
                                                             : E1000_MPTC, 1);
    }
    if (net_send(s->nc, buf, len) == NET_QUEUED) {
        s->tx_blocked = true;
    }
    if (vle && len >= 16 && (e1000_reg(s, E1000_CTRL) & E1000_CTRL_VME)) {
        memmove(buf + 12, buf + 16, len - 16);
    }
}

/* IPv4 header checksum over [ipcss, ipcse] (0: the header's own length). */
static void fill_ip_csum(E1000State *s, uint8_t *buf, uint32_t len)
{
    const E1000TxContext *c = &s->ctx;
    uint32_t end = c->ipcse ? (uint32_t)c->ipcse + 1
                            : c->ipcss + (uint32_t)(buf[c->ipcss] & 0xf) * 4;
    if (c->ipcss >= len || end > len || (uint32_t)c->ipcso + 2 > len ||
        c->ipcso < c->ipcss || (uint32_t)c->ipcso + 2 > end) {
        return;
    }
    buf[c->ipcso] = buf[c->ipcso + 1] = 0;
    net_csum_fill(buf, len, c->ipcss, end, c->ipcso);
}

/* The TCP/UDP checksum of a plain packet: the field holds the
 * pseudo-header sum, the range runs from TUCSS to TUCSE (0: the end). */
static void fill_l4_csum(E1000State *s, uint8_t *buf, uint32_t len)
{
    const E1000TxContext *c = &s->ctx;
    uint32_t end = c->tucse ? (uint32_t)c->tucse + 1 : len;
    if (c->tucso < c->tucss) {
        return;
    }
    net_csum_fill(buf, len, c->tucss, end, c->tucso);
}

/* Checks made once per TSO packet, before its first byte is gathered. */
static bool tso_context_ok(const E1000TxContext *c)
{
    uint32_t l4_min = (c->tucmd & E1000_TUCMD_TCP) ? 20 : 8;
    uint32_t ip_min = (c->tucmd & E1000_TUCMD_IP) ? 20 : 40;
    return c->mss > 0 && c->hdr_len > 0 &&
           (uint32_t)c->hdr_len + c->mss + 4 <= E1000_TX_BUF_SIZE &&
           c->ipcss + ip_min <= c->tucss &&
           (uint32_t)c->tucss + l4_min <= c->hdr_len &&
           c->tucso >= c->tucss && (uint32_t)c->tucso + 2 <= c->hdr_len &&
           (uint32_t)c->ipcso + 2 <= c->hdr_len && c->ipcso >= c->ipcss;
}

/* Send the segment gathered in tx_buf and keep its header for the next. */
static void tso_emit(E1000State *s, bool last)
{
    E1000TxPacket *p = &s->tx;
    const E1000TxContext *c = &s->ctx;
    uint8_t *buf = s->tx_buf;
    uint32_t len = p->len;
    uint32_t payload = len - c->hdr_len;

    if (p->tso_frames == 0 && p->tso_sent == 0) {
        /* The header is whole now: remember what every segment derives
         * its own values from. */
        p->tso_seed = get_be16(buf + c->tucso);
        s->tso_ip_id = get_be16(buf + c->ipcss + 4);
        s->tso_seq = get_be32(buf + c->tucss + 4);
        s->tso_flags = buf[c->tucss + 13];
    }
    if (c->tucmd & E1000_TUCMD_IP) {
        put_be16(buf + c->ipcss + 2, (uint16_t)(len - c->ipcss));
        put_be16(buf + c->ipcss + 4, (uint16_t)(s->tso_ip_id + p->tso_frames));
        if (p->popts & E1000_TXD_POPTS_IXSM) {
            fill_ip_csum(s, buf, len);
        }
    } else {
        put_be16(buf + c->ipcss + 4, (uint16_t)(len - c->ipcss - 40));
    }
    if (c->tucmd & E1000_TUCMD_TCP) {
        put_be32(buf + c->tucss + 4, s->tso_seq + p->tso_sent);
        uint8_t flags = s->tso_flags;
        if (!last) {
            flags &= (uint8_t)~0x09; /* FIN and PSH only on the last */
        }
        buf[c->tucss + 13] = flags;
    } else {
        put_be16(buf + c->tucss + 4, (uint16_t)(len - c->tucss));
    }
    if (p->popts & E1000_TXD_POPTS_TXSM) {
        uint32_t l4_len = len - c->tucss;
        buf[c->tucso] = buf[c->tucso + 1] = 0;
        uint32_t sum = (uint32_t)p->tso_seed + l4_len;
        sum = net_csum_add(sum, buf + c->tucss, l4_len);
        put_be16(buf + c->tucso, net_csum_finish(sum));
    }
    send_frame(s, buf, len, false, 0);
    e1000_stat_add(s, E1000_TSCTC, 1);
    p->tso_sent += payload;
    p->tso_frames++;
    p->len = c->hdr_len;
}

static void gather(E1000State *s, uint64_t addr, uint32_t dlen)
{
    E1000TxPacket *p = &s->tx;
    while (dlen > 0 && !p->bad) {
        uint32_t room;
        if (p->tse) {
            uint32_t seg_end = (uint32_t)s->ctx.hdr_len + s->ctx.mss;
            if (p->len == seg_end) {
                tso_emit(s, false); /* more payload follows: not the last */
            }
            room = seg_end - p->len;
        } else {
            room = E1000_TX_BUF_SIZE - 4 - p->len;
            if (room == 0) {
                p->bad = true; /* longer than any frame a backend takes */
                return;
            }
        }
        uint32_t n = dlen < room ? dlen : room;
        if (addr + n < addr || !dma_read(dma_as(s), addr, s->tx_buf + p->len, n)) {
            p->bad = true;
            return;
        }
        p->len += n;
        addr += n;
        dlen -= n;
    }
}

static void finish_packet(E1000State *s, uint8_t cmd, uint16_t special)
{
    E1000TxPacket *p = &s->tx;
    uint8_t *buf = s->tx_buf;
    bool vle = (cmd & E1000_TXD_CMD_VLE) != 0;
    if (p->bad || p->len == 0) {
        if (p->bad) {
            e1000_stat_add(s, E1000_TSCTFC, p->tse ? 1 : 0);
        }
    } else if (p->tse) {
        /* The last segment; a header alone is sent only if nothing was. */
        if (p->len > s->ctx.hdr_len ||
            (p->len == s->ctx.hdr_len && p->tso_frames == 0)) {
            tso_emit(s, true);
        }
    } else {
        if (p->legacy_ic) {
            if (p->legacy_css < p->len && p->legacy_cso >= p->legacy_css) {
                net_csum_fill(buf, p->len, p->legacy_css, p->len,
                              p->legacy_cso);
            }
        } else {
            if ((p->popts & E1000_TXD_POPTS_IXSM) && s->ctx.ipcss < p->len) {
                fill_ip_csum(s, buf, p->len);
            }
            if (p->popts & E1000_TXD_POPTS_TXSM) {
                fill_l4_csum(s, buf, p->len);
            }
        }
        send_frame(s, buf, p->len, vle, special);
    }
    memset(p, 0, sizeof(*p));
}

static void context_desc(E1000State *s, const uint8_t *d)
{
    E1000TxContext *c = &s->ctx;
    if (s->tx.in_packet && s->tx.tse) {
        s->tx.bad = true; /* offsets changed under a segmentation */
    }
    c->ipcss = d[0];
    c->ipcso = d[1];
    c->ipcse = ld16(d + 2);
    c->tucss = d[4];
    c->tucso = d[5];
    c->tucse = ld16(d + 6);
    c->paylen = ld32(d + 8) & 0xfffff;
    c->tucmd = d[11];
    c->hdr_len = d[13];
    c->mss = ld16(d + 14);
}

static void start_packet(E1000State *s, bool tse, uint8_t popts)
{
    E1000TxPacket *p = &s->tx;
    memset(p, 0, sizeof(*p));
    p->in_packet = true;
    p->tse = tse;
    p->popts = popts;
    if (tse && !tso_context_ok(&s->ctx)) {
        p->bad = true;
    }
}

static void process_desc(E1000State *s, const uint8_t *d)
{
    uint8_t cmd = d[11];
    E1000TxPacket *p = &s->tx;
    if (cmd & E1000_TXD_CMD_DEXT) {
        unsigned dtyp = (d[10] >> 4) & 0xf;
        if (dtyp == E1000_TXD_DTYP_CONTEXT) {
            context_desc(s, d);
            return;
        }
        if (dtyp != E1000_TXD_DTYP_DATA) {
            return; /* reserved type: skipped */
        }
        if (!p->in_packet) {
            start_packet(s, (cmd & E1000_TXD_CMD_TSE) != 0, d[13]);
        }
        gather(s, ld64(d), ld32(d + 8) & 0xfffff);
    } else {
        if (!p->in_packet) {
            start_packet(s, false, 0);
            p->legacy_ic = (cmd & E1000_TXD_CMD_IC) != 0;
            p->legacy_cso = d[10];
            p->legacy_css = d[13];
        }
        gather(s, ld64(d), ld16(d + 8));
    }
    if (cmd & E1000_TXD_CMD_EOP) {
        finish_packet(s, cmd, ld16(d + 14));
    }
}

void e1000_tx_run(E1000State *s)
{
    if (!(e1000_reg(s, E1000_TCTL) & E1000_TCTL_EN) || s->tx_blocked ||
        !(pci_get_word(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return;
    }
    uint32_t n = e1000_reg(s, E1000_TDLEN) / E1000_DESC_SIZE;
    uint64_t base = ((uint64_t)e1000_reg(s, E1000_TDBAH) << 32) |
                    (e1000_reg(s, E1000_TDBAL) & ~0xfu);
    uint32_t head = e1000_reg(s, E1000_TDH);
    uint32_t tail = e1000_reg(s, E1000_TDT);
    if (n == 0 || head >= n || tail >= n) {
        return; /* no ring, or the guest pointed outside it */
    }
    uint32_t causes = 0;
    for (uint32_t budget = n; head != tail && budget > 0 && !s->tx_blocked;
         budget--) {
        uint64_t da = base + (uint64_t)head * E1000_DESC_SIZE;
        uint8_t d[E1000_DESC_SIZE];
        if (!dma_read(dma_as(s), da, d, sizeof(d))) {
            break; /* the ring is not in RAM: stop, as a bus error would */
        }
        process_desc(s, d);
        if (d[11] & E1000_TXD_CMD_RS) {
            uint8_t sta = d[12] | E1000_TXD_STAT_DD;
            dma_write(dma_as(s), da + 12, &sta, 1);
            causes |= E1000_ICR_TXDW;
        }
        head = (head + 1) % n;
        e1000_set_reg(s, E1000_TDH, head);
    }
    if (head == tail) {
        causes |= E1000_ICR_TXQE;
    }
    if (causes) {
        e1000_raise(s, causes);
    }
}
