/*
 * Intel 82540EM gigabit Ethernet controller, PCI function 8086:100e
 * (8254x Software Developer's Manual): the register file in a 128 KiB
 * memory BAR and a 64-byte I/O BAR (IOADDR/IODATA window, manual 13.2), the
 * Microwire EEPROM (e1000-eeprom.c), the MDIC-reached PHY with link up and
 * auto-negotiation complete, receive descriptor rings with address
 * filtering and checksum offload, interrupt causes and masks with ITR
 * throttling, statistics (clear on read) and software reset.  Transmit is
 * in e1000-tx.c.  When the guest's receive ring is full the frame stays in
 * the net queue and is delivered when the guest moves RDT.
 */
#include "hw/net/e1000.h"

#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "hw/machine.h"
#include "net/checksum.h"

#define E1000_DEVICE_ID 0x100e
#define E1000_MIN_FRAME 60
#define E1000_MAX_FRAME 1522     /* without RCTL.LPE */
#define E1000_MAX_LONG_FRAME 16384

static AddressSpace *dma_as(E1000State *s)
{
    return &DEVICE_STATE(s)->machine->mem;
}

static bool bus_master(E1000State *s)
{
    return pci_get_word(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER;
}

static bool link_up(E1000State *s)
{
    NetClient *nc = s->nc;
    return !nc->link_down && (!nc->peer || !nc->peer->link_down);
}

/* ---- interrupts ---- */

static void update_irq(E1000State *s)
{
    bool want = (e1000_reg(s, E1000_ICR) & e1000_reg(s, E1000_IMS)) != 0;
    Machine *m = DEVICE_STATE(s)->machine;
    if (!want) {
        if (s->irq_level) {
            s->irq_level = false;
            pci_set_irq(&s->pci, 0);
        }
        return;
    }
    if (s->irq_level) {
        return;
    }
    /* ITR: at most one assertion per interval of ITR x 256 ns. */
    uint32_t itr = e1000_reg(s, E1000_ITR) & 0xffff;
    int64_t now = m->timers ? clock_ns(m->timers, CLOCK_VIRTUAL) : 0;
    if (itr && m->timers && now < s->irq_next_ns) {
        if (!timer_pending(&s->itr_timer)) {
            timer_mod(&s->itr_timer, s->irq_next_ns);
        }
        return;
    }
    s->irq_level = true;
    s->irq_next_ns = now + (int64_t)itr * 256;
    pci_set_irq(&s->pci, 1);
}

static void itr_expired(void *opaque)
{
    update_irq(opaque);
}

void e1000_raise(E1000State *s, uint32_t causes)
{
    e1000_set_reg(s, E1000_ICR, e1000_reg(s, E1000_ICR) | causes);
    update_irq(s);
}

void e1000_stat_add(E1000State *s, uint32_t off, uint32_t v)
{
    uint32_t old = e1000_reg(s, off);
    e1000_set_reg(s, off, old + v < old ? 0xffffffffu : old + v);
}

void e1000_stat_add64(E1000State *s, uint32_t off_lo, uint64_t v)
{
    uint64_t old = e1000_reg(s, off_lo) |
                   ((uint64_t)e1000_reg(s, off_lo + 4) << 32);
    old += v;
    e1000_set_reg(s, off_lo, (uint32_t)old);
    e1000_set_reg(s, off_lo + 4, (uint32_t)(old >> 32));
}

/* ---- PHY ---- */

static const uint16_t phy_defaults[32] = {
    [PHY_CTRL] = 0x1140,          /* auto-negotiation on, 1000 Mb/s, full */
    [PHY_ID1] = 0x0141,           /* Marvell M88E1011 (82540EM) */
    [PHY_ID2] = 0x0c20,
    [PHY_AUTONEG_ADV] = 0x0de1,
    [PHY_LP_ABILITY] = 0x45e0,
    [PHY_AUTONEG_EXP] = 0x0001,
    [PHY_1000T_CTRL] = 0x0e00,
    [PHY_1000T_STATUS] = 0x3c00,
    [PHY_EXT_STATUS] = 0x3000,
    [M88_PHY_SPEC_CTRL] = 0x0360,
    [M88_EXT_PHY_SPEC_CTRL] = 0x0d60,
};

static uint16_t phy_read(E1000State *s, unsigned reg)
{
    bool up = link_up(s);
    switch (reg) {
    case PHY_STATUS:
        return 0x7949 | (up ? PHY_STATUS_LINK | PHY_STATUS_AN_DONE : 0);
    case PHY_LP_ABILITY:
    case PHY_1000T_STATUS:
        return up ? phy_defaults[reg] : 0;
    case M88_PHY_SPEC_STATUS:
        /* 1000 Mb/s, full duplex, resolved, link (when up). */
        return up ? 0xac00 : 0x0000;
    default:
        return s->phy[reg];
    }
}

static void phy_write(E1000State *s, unsigned reg, uint16_t v)
{
    switch (reg) {
    case PHY_CTRL:
        if (v & PHY_CTRL_RESET) {
            memcpy(s->phy, phy_defaults, sizeof(s->phy));
            return;
        }
        s->phy[reg] = v & (uint16_t)~PHY_CTRL_RESTART_AN;
        if ((v & PHY_CTRL_RESTART_AN) && link_up(s)) {
            /* Negotiation finishes at once with the virtual partner. */
            e1000_raise(s, E1000_ICR_LSC);
        }
        return;
    case PHY_STATUS: case PHY_ID1: case PHY_ID2: case PHY_LP_ABILITY:
    case PHY_AUTONEG_EXP: case PHY_1000T_STATUS: case PHY_EXT_STATUS:
    case M88_PHY_SPEC_STATUS:
        return; /* read-only */
    default:
        s->phy[reg] = v;
    }
}

static void mdic_write(E1000State *s, uint32_t v)
{
    unsigned phy = (v >> E1000_MDIC_PHY_SHIFT) & 0x1f;
    unsigned reg = (v >> E1000_MDIC_REG_SHIFT) & 0x1f;
    v &= ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
    if (phy != E1000_PHY_ADDR) {
        v |= E1000_MDIC_ERROR;
    } else if (v & E1000_MDIC_OP_READ) {
        v = (v & ~E1000_MDIC_DATA_MASK) | phy_read(s, reg);
    } else if (v & E1000_MDIC_OP_WRITE) {
        phy_write(s, reg, (uint16_t)v);
    }
    v |= E1000_MDIC_READY;
    e1000_set_reg(s, E1000_MDIC, v);
    if (v & E1000_MDIC_INT_EN) {
        e1000_raise(s, E1000_ICR_MDAC);
    }
}

/* ---- receive ---- */

static uint32_t rx_buffer_size(uint32_t rctl)
{
    static const uint32_t normal[4] = { 2048, 1024, 512, 256 };
    static const uint32_t extended[4] = { 2048, 16384, 8192, 4096 };
    unsigned bsize = (rctl >> E1000_RCTL_BSIZE_SHIFT) & 3;
    return (rctl & E1000_RCTL_BSEX) ? extended[bsize] : normal[bsize];
}

static bool rx_filter(E1000State *s, const uint8_t *buf)
{
    uint32_t rctl = e1000_reg(s, E1000_RCTL);
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (!memcmp(buf, bcast, 6)) {
        return (rctl & (E1000_RCTL_BAM | E1000_RCTL_MPE)) != 0;
    }
    if (buf[0] & 1) {
        if (rctl & E1000_RCTL_MPE) {
            return true;
        }
        /* Multicast table: 12 bits of the address picked by RCTL.MO. */
        unsigned mo = (rctl >> E1000_RCTL_MO_SHIFT) & 3;
        unsigned hash = ((buf[4] >> (4 - mo)) | (buf[5] << (4 + mo))) & 0xfff;
        return (e1000_reg(s, E1000_MTA + (hash >> 5) * 4) >> (hash & 31)) & 1;
    }
    if (rctl & E1000_RCTL_UPE) {
        return true;
    }
    for (unsigned i = 0; i < 16; i++) {
        uint32_t lo = e1000_reg(s, E1000_RA + 8 * i);
        uint32_t hi = e1000_reg(s, E1000_RA + 8 * i + 4);
        if (!(hi & E1000_RAH_AV)) {
            continue;
        }
        uint8_t ra[6] = { (uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
                          (uint8_t)(lo >> 24), (uint8_t)hi, (uint8_t)(hi >> 8) };
        if (!memcmp(buf, ra, 6)) {
            return true;
        }
    }
    return false;
}

static bool rx_ring(E1000State *s, uint32_t *n, uint32_t *head, uint32_t *tail)
{
    *n = e1000_reg(s, E1000_RDLEN) / E1000_DESC_SIZE;
    *head = e1000_reg(s, E1000_RDH);
    *tail = e1000_reg(s, E1000_RDT);
    return *n > 0 && *head < *n && *tail < *n;
}

static bool e1000_can_receive(NetClient *nc)
{
    E1000State *s = nc->opaque;
    uint32_t n, head, tail;
    if (!(e1000_reg(s, E1000_RCTL) & E1000_RCTL_EN) || !link_up(s) ||
        !bus_master(s)) {
        return true; /* receive drops it, as a disabled receiver does */
    }
    return rx_ring(s, &n, &head, &tail) && head != tail;
}

static void rx_csum_status(E1000State *s, const uint8_t *buf, size_t len,
                           uint8_t *status, uint8_t *errors)
{
    uint32_t rxcsum = e1000_reg(s, E1000_RXCSUM);
    NetRxCsum r;
    if (!(rxcsum & (E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD))) {
        *status |= E1000_RXD_STAT_IXSM;
        return;
    }
    net_rx_csum_check(buf, len, &r);
    if (r.ipv4 && (rxcsum & E1000_RXCSUM_IPOFLD)) {
        *status |= E1000_RXD_STAT_IPCS;
        if (!r.ip_ok) {
            *errors |= E1000_RXD_ERR_IPE;
        }
    }
    if (r.l4 && (rxcsum & E1000_RXCSUM_TUOFLD)) {
        *status |= E1000_RXD_STAT_TCPCS;
        if (!r.l4_ok) {
            *errors |= E1000_RXD_ERR_TCPE;
        }
    }
}

static size_t e1000_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    E1000State *s = nc->opaque;
    uint32_t rctl = e1000_reg(s, E1000_RCTL);
    if (!(rctl & E1000_RCTL_EN) || !link_up(s) || !bus_master(s) || len < 14) {
        return len; /* gone, as on a wire into a disabled receiver */
    }
    size_t max = (rctl & E1000_RCTL_LPE) ? E1000_MAX_LONG_FRAME : E1000_MAX_FRAME;
    if (len > max) {
        e1000_stat_add(s, E1000_ROC, 1);
        return len;
    }
    if (!rx_filter(s, buf)) {
        return len;
    }
    uint32_t n, head, tail;
    if (!rx_ring(s, &n, &head, &tail)) {
        return 0;
    }
    /* The frame as the wire carried it: padded to 60 bytes, then the
     * FCS unless RCTL.SECRC strips it. */
    size_t size = len < E1000_MIN_FRAME ? E1000_MIN_FRAME : len;
    memcpy(s->rx_buf, buf, len);
    memset(s->rx_buf + len, 0, size - len);
    if (!(rctl & E1000_RCTL_SECRC)) {
        uint32_t fcs = (uint32_t)crc32(0, s->rx_buf, (uInt)size);
        st32(s->rx_buf + size, fcs);
        size += 4;
    }
    uint32_t bufsize = rx_buffer_size(rctl);
    uint32_t need = (uint32_t)((size + bufsize - 1) / bufsize);
    uint32_t avail = (tail + n - head) % n;
    if (need > n - 1) {
        e1000_stat_add(s, E1000_MPC, 1); /* can never fit this ring */
        return len;
    }
    if (avail < need) {
        e1000_stat_add(s, E1000_RNBC, 1);
        return 0; /* kept in the queue until the guest moves RDT */
    }
    uint8_t status = 0, errors = 0;
    rx_csum_status(s, buf, len, &status, &errors);
    uint64_t base = ((uint64_t)e1000_reg(s, E1000_RDBAH) << 32) |
                    (e1000_reg(s, E1000_RDBAL) & ~0xfu);
    size_t off = 0;
    for (uint32_t i = 0; i < need; i++) {
        uint64_t da = base + (uint64_t)head * E1000_DESC_SIZE;
        uint8_t d[E1000_DESC_SIZE];
        if (!dma_read(dma_as(s), da, d, sizeof(d))) {
            break; /* the ring is not in RAM */
        }
        size_t chunk = size - off < bufsize ? size - off : bufsize;
        bool last = i + 1 == need;
        uint8_t err = last ? errors : 0;
        if (!dma_write(dma_as(s), ld64(d), s->rx_buf + off, chunk)) {
            err |= 0x80; /* RXE: the buffer is not in RAM */
        }
        st16(d + 8, (uint16_t)chunk);
        st16(d + 10, 0);
        d[12] = E1000_RXD_STAT_DD | (last ? E1000_RXD_STAT_EOP | status : 0);
        d[13] = err;
        st16(d + 14, 0);
        dma_write(dma_as(s), da + 8, d + 8, 8);
        off += chunk;
        head = (head + 1) % n;
    }
    e1000_set_reg(s, E1000_RDH, head);
    e1000_stat_add(s, E1000_GPRC, 1);
    e1000_stat_add(s, E1000_TPR, 1);
    e1000_stat_add64(s, E1000_GORCL, size);
    e1000_stat_add64(s, E1000_TORL, size);
    if (buf[0] & 1) {
        e1000_stat_add(s, (buf[0] == 0xff && buf[1] == 0xff) ? E1000_BPRC
                                                             : E1000_MPRC, 1);
    }
    uint32_t causes = E1000_ICR_RXT0;
    unsigned rdmts = (rctl >> E1000_RCTL_RDMTS_SHIFT) & 3;
    uint32_t free_desc = (tail + n - head) % n;
    if (rdmts < 3 && free_desc <= n >> (rdmts + 1)) {
        causes |= E1000_ICR_RXDMT0;
    }
    e1000_raise(s, causes);
    return len;
}

/* ---- the net client ---- */

static void e1000_resume(NetClient *nc)
{
    E1000State *s = nc->opaque;
    s->tx_blocked = false;
    e1000_tx_run(s);
}

static void e1000_link_changed(NetClient *nc)
{
    E1000State *s = nc->opaque;
    e1000_raise(s, E1000_ICR_LSC);
}

static const NetClientOps e1000_net_ops = {
    .type = "e1000",
    .kind = NET_CLIENT_NIC,
    .receive = e1000_receive,
    .can_receive = e1000_can_receive,
    .resume = e1000_resume,
    .link_changed = e1000_link_changed,
};

/* ---- registers ---- */

static uint32_t status_reg(E1000State *s)
{
    return E1000_STATUS_FD | E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000 |
           (link_up(s) ? E1000_STATUS_LU : 0);
}

static void mac_reset(E1000State *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    memcpy(s->phy, phy_defaults, sizeof(s->phy));
    e1000_eeprom_reset(&s->eeprom);
    e1000_tx_reset(s);
    e1000_set_reg(s, E1000_CTRL, E1000_CTRL_SLU | E1000_CTRL_ASDE |
                                 E1000_CTRL_FD | E1000_CTRL_SPD_1000);
    e1000_set_reg(s, E1000_PBA, 0x00100030);
    e1000_set_reg(s, E1000_LEDCTL, 0x07068302);
    e1000_set_reg(s, E1000_RXCSUM, 0x300);
    e1000_set_reg(s, E1000_VET, 0x8100);
    /* Receive address 0 comes from the EEPROM. */
    const uint8_t *m = s->mac;
    e1000_set_reg(s, E1000_RA, m[0] | (m[1] << 8) | (m[2] << 16) |
                               ((uint32_t)m[3] << 24));
    e1000_set_reg(s, E1000_RA + 4, m[4] | (m[5] << 8) | E1000_RAH_AV);
    if (s->itr_timer.tl) {
        timer_del(&s->itr_timer);
    }
    s->irq_next_ns = 0;
    if (s->irq_level) {
        s->irq_level = false;
        pci_set_irq(&s->pci, 0);
    }
    if (s->nc) {
        net_client_purge(s->nc); /* frames for the old rings */
    }
}

static uint32_t reg_read(E1000State *s, uint32_t off)
{
    off &= 0x1fffc;
    switch (off) {
    case E1000_STATUS:
        return status_reg(s);
    case E1000_EECD:
        return e1000_eecd_read(&s->eeprom);
    case E1000_ICR: {
        uint32_t v = e1000_reg(s, E1000_ICR);
        e1000_set_reg(s, E1000_ICR, 0);
        update_irq(s);
        return v;
    }
    case E1000_ICS:
    case E1000_IMC:
        return 0; /* write-only */
    default:
        break;
    }
    if (off >= E1000_REG_END) {
        return 0;
    }
    uint32_t v = e1000_reg(s, off);
    if (off >= E1000_STATS_START && off < E1000_STATS_END) {
        /* Clear on read; the high half of a 64-bit pair clears both. */
        e1000_set_reg(s, off, 0);
        if (off == E1000_GORCH || off == E1000_GOTCH || off == E1000_TORH ||
            off == E1000_TOTH) {
            e1000_set_reg(s, off - 4, 0);
        }
    }
    return v;
}

static void reg_write(E1000State *s, uint32_t off, uint32_t v)
{
    off &= 0x1fffc;
    switch (off) {
    case E1000_CTRL:
        if (v & E1000_CTRL_RST) {
            mac_reset(s);
            return;
        }
        e1000_set_reg(s, off, v & ~E1000_CTRL_RST);
        return;
    case E1000_STATUS:
        return;
    case E1000_EECD:
        e1000_eecd_write(&s->eeprom, v);
        return;
    case E1000_EERD:
        e1000_set_reg(s, off, e1000_eerd_do(&s->eeprom, v));
        return;
    case E1000_CTRL_EXT:
        e1000_set_reg(s, off, v & ~E1000_CTRL_EXT_EE_RST);
        return;
    case E1000_MDIC:
        mdic_write(s, v);
        return;
    case E1000_ICR:
        e1000_set_reg(s, off, e1000_reg(s, off) & ~v);
        update_irq(s);
        return;
    case E1000_ICS:
        e1000_raise(s, v & E1000_ICR_MASK);
        return;
    case E1000_IMS:
        e1000_set_reg(s, E1000_IMS, e1000_reg(s, E1000_IMS) | (v & E1000_ICR_MASK));
        update_irq(s);
        return;
    case E1000_IMC:
        e1000_set_reg(s, E1000_IMS, e1000_reg(s, E1000_IMS) & ~v);
        update_irq(s);
        return;
    case E1000_ITR:
        e1000_set_reg(s, off, v & 0xffff);
        return;
    case E1000_RCTL:
        e1000_set_reg(s, off, v);
        if (v & E1000_RCTL_EN) {
            net_client_flush(s->nc);
        }
        return;
    case E1000_RDBAL:
    case E1000_TDBAL:
        e1000_set_reg(s, off, v & ~0xfu);
        return;
    case E1000_RDLEN:
    case E1000_TDLEN:
        e1000_set_reg(s, off, v & 0xfff80);
        return;
    case E1000_RDH:
    case E1000_TDH:
        e1000_set_reg(s, off, v & 0xffff);
        return;
    case E1000_RDT:
        e1000_set_reg(s, off, v & 0xffff);
        net_client_flush(s->nc);
        return;
    case E1000_TDT:
        e1000_set_reg(s, off, v & 0xffff);
        e1000_tx_run(s);
        return;
    case E1000_TCTL:
        e1000_set_reg(s, off, v);
        e1000_tx_run(s);
        return;
    default:
        break;
    }
    if (off >= E1000_REG_END ||
        (off >= E1000_STATS_START && off < E1000_STATS_END)) {
        return; /* unimplemented or read-only */
    }
    e1000_set_reg(s, off, v);
}

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    return reg_read(opaque, (uint32_t)addr);
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    reg_write(opaque, (uint32_t)addr, (uint32_t)v);
}

static const MemoryRegionOps e1000_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .min_access = 4, .max_access = 4,
};

/* I/O BAR: IOADDR at 0 selects a register, IODATA at 4 reaches it. */
static uint64_t io_read(void *opaque, uint64_t addr, unsigned size)
{
    E1000State *s = opaque;
    if (addr == 0) {
        return s->ioaddr;
    }
    if (addr == 4) {
        return reg_read(s, s->ioaddr);
    }
    return 0;
}

static void io_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    E1000State *s = opaque;
    if (addr == 0) {
        s->ioaddr = (uint32_t)v & 0x1fffc;
    } else if (addr == 4) {
        reg_write(s, s->ioaddr, (uint32_t)v);
    }
}

static const MemoryRegionOps e1000_io_ops = {
    .read = io_read, .write = io_write, .min_access = 4, .max_access = 4,
};

/* ---- device ---- */

static bool e1000_realize(Device *dev, GError **errp)
{
    E1000State *s = (E1000State *)dev;
    Machine *m = dev->machine;
    if (!m->pci) {
        error_setg(errp, "e1000 needs a PCI bus");
        return false;
    }
    s->nc = nic_init(m, &s->conf, &e1000_net_ops, s, s->mac, errp);
    if (!s->nc) {
        return false;
    }
    s->tx_buf = g_malloc0(E1000_TX_BUF_SIZE + 4);
    s->rx_buf = g_malloc0(E1000_MAX_LONG_FRAME + 4);
    e1000_eeprom_init(&s->eeprom, s->mac, E1000_DEVICE_ID);
    if (m->timers) {
        timer_init(&s->itr_timer, m->timers, CLOCK_VIRTUAL, itr_expired, s);
    }
    pci_config_set_ids(&s->pci, 0x8086, E1000_DEVICE_ID, 0x03, 0x020000);
    pci_set_word(s->pci.config + PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
    pci_set_word(s->pci.config + PCI_SUBSYSTEM_ID, 0x001e);
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    memory_region_init_io(&s->mmio, "e1000-mmio", &e1000_mmio_ops, s,
                          E1000_MMIO_SIZE);
    memory_region_init_io(&s->io, "e1000-io", &e1000_io_ops, s, E1000_IO_SIZE);
    pci_register_bar(&s->pci, 0, PCI_BAR_MEM32, false, E1000_MMIO_SIZE, &s->mmio);
    pci_register_bar(&s->pci, 1, PCI_BAR_IO, false, E1000_IO_SIZE, &s->io);
    if (!pci_device_register(&s->pci, m->pci, -1, errp)) {
        return false;
    }
    mac_reset(s);
    return true;
}

static void e1000_reset(Device *dev)
{
    E1000State *s = (E1000State *)dev;
    pci_device_reset(&s->pci);
    mac_reset(s);
}

static void e1000_unrealize(Device *dev)
{
    E1000State *s = (E1000State *)dev;
    if (s->itr_timer.tl) {
        timer_del(&s->itr_timer);
    }
    if (s->pci.registered) {
        pci_device_unregister(&s->pci);
    }
    nic_cleanup(s->nc);
    s->nc = NULL;
    g_free(s->tx_buf);
    g_free(s->rx_buf);
}

static bool e1000_post_load(void *opaque, GError **errp)
{
    E1000State *s = opaque;
    if (!pci_device_post_load(&s->pci, errp)) {
        return false;
    }
    s->irq_level = false;
    s->tx_blocked = false;
    memset(&s->tx, 0, sizeof(s->tx)); /* a half-gathered packet restarts */
    update_irq(s);
    return true;
}

static const VMStateField e1000_vmstate_fields[] = {
    VMSTATE_PCI_DEVICE(E1000State, pci),
    VMSTATE_U32_ARRAY(E1000State, regs),
    VMSTATE_U16_ARRAY(E1000State, phy),
    VMSTATE_U16_ARRAY(E1000State, eeprom.data),
    VMSTATE_U32(E1000State, eeprom.eecd),
    VMSTATE_U32(E1000State, ioaddr),
    VMSTATE_U8_ARRAY(E1000State, mac),
    VMSTATE_BUFFER(E1000State, ctx),
    VMSTATE_END,
};

static const VMStateDescription e1000_vmstate = {
    .name = "e1000",
    .version = 1,
    .fields = e1000_vmstate_fields,
    .post_load = e1000_post_load,
};

static const Property e1000_props[] = {
    DEFINE_NIC_PROPS(E1000State, conf),
    DEFINE_PROP_PCI_ADDR(E1000State, pci),
    DEFINE_PROP_END,
};

const DeviceClass e1000_class = {
    .name = "e1000",
    .description = "Intel Gigabit Ethernet (82540EM)",
    .instance_size = sizeof(E1000State),
    .props = e1000_props,
    .user_creatable = true,
    .realize = e1000_realize,
    .reset = e1000_reset,
    .unrealize = e1000_unrealize,
    .vmsd = &e1000_vmstate,
};
