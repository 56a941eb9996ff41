/*
 * Software TCP segmentation (see gso.h).
 */
#include "net/gso.h"

#include <string.h>

#include "net/checksum.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

bool net_gso_tcp(const uint8_t *frame, size_t len, size_t mss,
                 uint8_t *scratch, size_t scratch_size,
                 void (*send)(void *opaque, const uint8_t *seg, size_t len),
                 void *opaque)
{
    NetHeaders h;
    if (mss == 0 || !net_parse_headers(frame, len, &h) || !h.l4 ||
        h.l4proto != IPPROTO_TCP_ || h.l4_len < 20) {
        return false;
    }
    size_t doff = (size_t)(frame[h.l4 + 12] >> 4) * 4;
    if (doff < 20 || doff > h.l4_len) {
        return false;
    }
    size_t hdr = h.l4 + doff;
    size_t end = h.l4 + h.l4_len; /* ignore Ethernet padding */
    size_t payload = end - hdr;
    if (hdr + (mss < payload ? mss : payload) > scratch_size) {
        return false;
    }
    bool v4 = h.ethertype == ETH_P_IP;
    uint16_t id = v4 ? get16(frame + h.l3 + 4) : 0;
    uint32_t seq = ((uint32_t)frame[h.l4 + 4] << 24) | (frame[h.l4 + 5] << 16) |
                   (frame[h.l4 + 6] << 8) | frame[h.l4 + 7];
    uint8_t flags = frame[h.l4 + 13];
    size_t off = 0;
    unsigned i = 0;
    do {
        size_t seg = payload - off < mss ? payload - off : mss;
        bool first = off == 0, last = off + seg >= payload;
        size_t seg_len = hdr + seg;
        memcpy(scratch, frame, hdr);
        memcpy(scratch + hdr, frame + hdr + off, seg);
        uint8_t *ip = scratch + h.l3, *tcp = scratch + h.l4;
        if (v4) {
            size_t ihl = (size_t)(ip[0] & 0xf) * 4;
            put16(ip + 2, (uint16_t)(seg_len - h.l3));
            put16(ip + 4, (uint16_t)(id + i));
            ip[10] = ip[11] = 0;
            put16(ip + 10, net_csum_finish(net_csum_add(0, ip, ihl)));
        } else {
            put16(ip + 4, (uint16_t)(seg_len - h.l3 - 40));
        }
        uint32_t s = seq + (uint32_t)off;
        tcp[4] = (uint8_t)(s >> 24);
        tcp[5] = (uint8_t)(s >> 16);
        tcp[6] = (uint8_t)(s >> 8);
        tcp[7] = (uint8_t)s;
        uint8_t f = flags;
        if (!last) {
            f &= (uint8_t)~0x09; /* FIN, PSH */
        }
        if (!first) {
            f &= (uint8_t)~0x80; /* CWR */
        }
        tcp[13] = f;
        size_t tcp_len = seg_len - h.l4;
        uint32_t sum = v4 ? net_csum_add(0, ip + 12, 8)
                          : net_csum_add(0, ip + 8, 32);
        sum += IPPROTO_TCP_ + (uint32_t)tcp_len;
        tcp[16] = tcp[17] = 0;
        put16(tcp + 16, net_csum_finish(net_csum_add(sum, tcp, tcp_len)));
        send(opaque, scratch, seg_len);
        off += seg;
        i++;
    } while (off < payload);
    return true;
}
