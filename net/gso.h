/*
 * Software TCP segmentation for NICs that let the guest hand over one large
 * TCP frame (virtio-net's HOST_TSO4/HOST_TSO6): the frame is cut into
 * frames of at most MSS payload bytes, each with its IPv4 total length and
 * ID (or IPv6 payload length), TCP sequence number and flags (FIN and PSH
 * on the last only, CWR on the first only) and checksums computed in full
 * (RFC 793, RFC 791, RFC 8200).
 */
#ifndef KESTREL_NET_GSO_H
#define KESTREL_NET_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Calls send(opaque, seg, seg_len) for each segment, built in scratch
 * (scratch_size bytes).  Returns false, sending nothing, when the frame is
 * not IPv4/IPv6 TCP with whole headers, mss is 0, or a segment would not
 * fit scratch. */
bool net_gso_tcp(const uint8_t *frame, size_t len, size_t mss,
                 uint8_t *scratch, size_t scratch_size,
                 void (*send)(void *opaque, const uint8_t *seg, size_t len),
                 void *opaque);

#endif
