/*
 * The Intel 82540EM gigabit Ethernet controller (QEMU's and Linux's
 * "e1000"): state shared by its register file (e1000.c) and its transmit
 * engine (e1000-tx.c).  8254x Software Developer's Manual.
 */
#ifndef KESTREL_HW_NET_E1000_H
#define KESTREL_HW_NET_E1000_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/timer.h"
#include "hw/net/e1000-eeprom.h"
#include "hw/net/e1000-regs.h"
#include "hw/net/nic.h"
#include "hw/pci/pci.h"
#include "net/net.h"

#define E1000_MMIO_SIZE 0x20000
#define E1000_IO_SIZE 0x40
#define E1000_TX_BUF_SIZE (NET_MAX_FRAME + 4)

/* The offload context the last context descriptor set (manual 3.3.6). */
typedef struct E1000TxContext {
    uint8_t ipcss, ipcso;
    uint16_t ipcse;
    uint8_t tucss, tucso;
    uint16_t tucse;
    uint32_t paylen;
    uint8_t tucmd;
    uint8_t hdr_len;
    uint16_t mss;
} E1000TxContext;

/* The packet being gathered from data descriptors. */
typedef struct E1000TxPacket {
    uint32_t len;        /* bytes in buf */
    bool in_packet;      /* descriptors seen without EOP yet */
    bool tse;            /* TCP segmentation for this packet */
    bool bad;            /* too long or inconsistent: dropped at EOP */
    uint8_t popts;
    uint8_t legacy_css, legacy_cso;
    bool legacy_ic;
    uint16_t tso_seed;   /* the guest's pseudo-header sum for TSO */
    uint32_t tso_sent;   /* payload bytes already sent in segments */
    uint16_t tso_frames; /* segments sent so far (IPv4 ID offset) */
} E1000TxPacket;

typedef struct E1000State {
    PCIDevice pci;
    NicConf conf;
    MemoryRegion mmio, io;
    NetClient *nc;
    uint8_t mac[6];

    uint32_t regs[E1000_REG_END / 4];
    uint16_t phy[32];
    E1000Eeprom eeprom;
    uint32_t ioaddr;       /* I/O BAR: the register IODATA reaches */

    E1000TxContext ctx;
    E1000TxPacket tx;
    bool tx_blocked;       /* the backend pushed back: wait for resume */
    uint8_t *tx_buf;
    uint16_t tso_ip_id;    /* from the TSO packet's header */
    uint32_t tso_seq;
    uint8_t tso_flags;

    Timer itr_timer;
    int64_t irq_next_ns;   /* ITR: no new assertion before this time */
    bool irq_level;
    uint8_t *rx_buf;       /* a received frame padded and with its FCS */
} E1000State;

extern const DeviceClass e1000_class;

static inline uint32_t e1000_reg(const E1000State *s, uint32_t off)
{
    return s->regs[off >> 2];
}

static inline void e1000_set_reg(E1000State *s, uint32_t off, uint32_t v)
{
    s->regs[off >> 2] = v;
}

/* Raise interrupt causes (ICR bits). */
void e1000_raise(E1000State *s, uint32_t causes);
/* Add to a statistics counter (64-bit pairs take the low register). */
void e1000_stat_add(E1000State *s, uint32_t off, uint32_t v);
void e1000_stat_add64(E1000State *s, uint32_t off_lo, uint64_t v);

/* Transmit: process descriptors from TDH up to TDT (e1000-tx.c). */
void e1000_tx_run(E1000State *s);
void e1000_tx_reset(E1000State *s);

#endif
