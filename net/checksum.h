/*
 * Internet checksums (RFC 1071) over Ethernet frames, for NICs that offload
 * them: completing a checksum the guest left partial, and checking the IPv4
 * header and TCP/UDP checksums of a received frame (RFC 791, 793, 768;
 * IPv6 pseudo-header from RFC 8200 section 8.1).
 */
#ifndef KESTREL_NET_CHECKSUM_H
#define KESTREL_NET_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_VLAN 0x8100
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* Add buf (big-endian 16-bit words; an odd last byte is padded) to sum. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
/* Fold to 16 bits and complement: the value to store. */
uint16_t net_csum_finish(uint32_t sum);

/* Sum bytes [start, end) of the frame, add what is already at off (the
 * guest's pseudo-header sum, or 0), and store the complement big-endian at
 * off.  Returns false (nothing written) if a position is out of range. */
bool net_csum_fill(uint8_t *frame, size_t len, size_t start, size_t end,
                   size_t off);

typedef struct NetRxCsum {
    bool ipv4;     /* an IPv4 header was found and checked */
    bool ip_ok;
    bool l4;       /* a TCP or UDP header was found and checked */
    bool l4_ok;
    bool tcp;
} NetRxCsum;

/* Check a received frame's checksums (unfragmented IPv4/IPv6, TCP/UDP). */
void net_rx_csum_check(const uint8_t *frame, size_t len, NetRxCsum *r);

/* Layer offsets of a frame: l3 = IP header, l4 = TCP/UDP header (0: none). */
typedef struct NetHeaders {
    size_t l3, l4;
    uint16_t ethertype;
    uint8_t l4proto;
    size_t l4_len;       /* bytes from l4 to the end of the IP payload */
} NetHeaders;

bool net_parse_headers(const uint8_t *frame, size_t len, NetHeaders *h);

#endif
