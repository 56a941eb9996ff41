/*
 * Internet checksums over frames (see checksum.h).
 */
#include "net/checksum.h"

#include <string.h>

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t net_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        s += ((uint32_t)buf[i] << 8 | buf[i + 1]) +
             ((uint32_t)buf[i + 2] << 8 | buf[i + 3]);
    }
    for (; i + 2 <= len; i += 2) {
        s += (uint32_t)buf[i] << 8 | buf[i + 1];
    }
    if (i < len) {
        s += (uint32_t)buf[i] << 8;
    }
    while (s >> 32) {
        s = (s & 0xffffffffu) + (s >> 32);
    }
    return (uint32_t)s;
}

uint16_t net_csum_finish(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

bool net_csum_fill(uint8_t *frame, size_t len, size_t start, size_t end,
                   size_t off)
{
    if (end > len || start >= end || off + 2 > len) {
        return false;
    }
    uint32_t sum = net_csum_add(0, frame + start, end - start);
    /* The field itself was summed if it lies inside the range; a field
     * outside it contributes its own value as the seed. */
    if (off + 2 <= start || off >= end) {
        sum += be16(frame + off);
    }
    uint16_t c = net_csum_finish(sum);
    frame[off] = (uint8_t)(c >> 8);
    frame[off + 1] = (uint8_t)c;
    return true;
}

bool net_parse_headers(const uint8_t *f, size_t len, NetHeaders *h)
{
    memset(h, 0, sizeof(*h));
    if (len < ETH_HLEN) {
        return false;
    }
    size_t l3 = ETH_HLEN;
    uint16_t type = be16(f + 12);
    if (type == ETH_P_VLAN) {
        if (len < ETH_HLEN + 4) {
            return false;
        }
        type = be16(f + 16);
        l3 += 4;
    }
    h->ethertype = type;
    h->l3 = l3;
    if (type == ETH_P_IP) {
        if (len < l3 + 20 || (f[l3] >> 4) != 4) {
            return false;
        }
        size_t ihl = (size_t)(f[l3] & 0xf) * 4;
        size_t tot = be16(f + l3 + 2);
        if (ihl < 20 || tot < ihl || l3 + tot > len) {
            return false;
        }
        /* Fragments carry no whole L4 header to check. */
        if (be16(f + l3 + 6) & 0x3fff) {
            return true;
        }
        h->l4proto = f[l3 + 9];
        h->l4 = l3 + ihl;
        h->l4_len = tot - ihl;
        return true;
    }
    if (type == ETH_P_IPV6) {
        if (len < l3 + 40 || (f[l3] >> 4) != 6) {
            return false;
        }
        size_t plen = be16(f + l3 + 4);
        if (l3 + 40 + plen > len) {
            return false;
        }
        /* Only a TCP/UDP header right after the fixed header is handled. */
        h->l4proto = f[l3 + 6];
        h->l4 = l3 + 40;
        h->l4_len = plen;
        return true;
    }
    return false;
}

/* The pseudo-header sum for the L4 checksum. */
static uint32_t pseudo_sum(const uint8_t *f, const NetHeaders *h)
{
    uint32_t sum;
    if (h->ethertype == ETH_P_IP) {
        sum = net_csum_add(0, f + h->l3 + 12, 8);
    } else {
        sum = net_csum_add(0, f + h->l3 + 8, 32);
    }
    return sum + h->l4proto + (uint32_t)h->l4_len;
}

void net_rx_csum_check(const uint8_t *f, size_t len, NetRxCsum *r)
{
    memset(r, 0, sizeof(*r));
    NetHeaders h;
    if (!net_parse_headers(f, len, &h)) {
        return;
    }
    if (h.ethertype == ETH_P_IP) {
        r->ipv4 = true;
        size_t ihl = (size_t)(f[h.l3] & 0xf) * 4;
        r->ip_ok = net_csum_finish(net_csum_add(0, f + h.l3, ihl)) == 0;
    }
    if (!h.l4 || (h.l4proto != IPPROTO_TCP_ && h.l4proto != IPPROTO_UDP_)) {
        return;
    }
    size_t min = h.l4proto == IPPROTO_TCP_ ? 20 : 8;
    if (h.l4_len < min) {
        return;
    }
    r->l4 = true;
    r->tcp = h.l4proto == IPPROTO_TCP_;
    if (!r->tcp && h.ethertype == ETH_P_IP && be16(f + h.l4 + 6) == 0) {
        r->l4_ok = true; /* IPv4 UDP without a checksum */
        return;
    }
    uint32_t sum = pseudo_sum(f, &h);
    r->l4_ok = net_csum_finish(net_csum_add(sum, f + h.l4, h.l4_len)) == 0;
}
