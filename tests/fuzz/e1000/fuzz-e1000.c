/*
 * fuzz-e1000.c: a libFuzzer target for the e1000's descriptor paths.  Each
 * input builds a fresh machine (64 KiB of RAM, the PCI bus, an e1000 joined
 * to a backend that records or refuses frames) with transmit and receive
 * rings already set up at 0x100 and 0x200; the input's first 4 KiB become
 * RAM (so descriptors, buffer addresses, lengths and offload contexts are
 * the fuzzer's), and the rest is a program of 6-byte operations: register
 * writes and reads (ring registers included), frames from the backend, and
 * back-pressure switched on and off.  The e1000 must never touch memory
 * outside RAM, loop forever, or crash.  Build with clang
 * -fsanitize=fuzzer (docs/net.md) or run over a corpus with fuzz-replay.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/machine.h"
#include "hw/net/e1000.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* hw/machine.c looks device types up here; the target adds by class. */
const DeviceClass *const machine_device_types[] = { NULL };

#define RAM_SIZE 0x10000
#define MMIO_BASE 0xe0000000u

static const uint32_t regs[] = {
    E1000_CTRL, E1000_STATUS, E1000_EECD, E1000_EERD, E1000_CTRL_EXT,
    E1000_MDIC, E1000_ICR, E1000_ITR, E1000_ICS, E1000_IMS, E1000_IMC,
    E1000_RCTL, E1000_TCTL, E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH,
    E1000_RDT, E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, E1000_TDH, E1000_TDT,
    E1000_RXCSUM, E1000_RA, E1000_RA + 4, E1000_MTA, E1000_VET, E1000_GPRC,
    E1000_TORH,
};

typedef struct Sink {
    bool refuse;
    unsigned frames;
} Sink;

static size_t sink_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    Sink *s = nc->opaque;
    if (s->refuse) {
        return 0;
    }
    s->frames++;
    volatile uint8_t touch = buf[0] ^ buf[len - 1]; /* reads must be valid */
    (void)touch;
    return len;
}

static const NetClientOps sink_ops = {
    .type = "sink", .kind = NET_CLIENT_BACKEND, .receive = sink_receive,
};

static void wr(Machine *m, uint32_t off, uint32_t v)
{
    address_space_write_val(&m->mem, MMIO_BASE + off, v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Machine *m = g_new0(Machine, 1);
    MemoryRegion ram_mr;
    g_mutex_init(&m->lock);
    address_space_init(&m->mem, "memory", UINT64_MAX);
    address_space_init(&m->io, "io", 0xffff);
    m->ram = g_malloc0(RAM_SIZE);
    m->ram_size = m->below_4g = RAM_SIZE;
    memory_region_init_ram(&ram_mr, "ram", m->ram, 0, RAM_SIZE);
    address_space_map(&m->mem, &ram_mr, 0, 0);
    m->pci = pci_i440fx_init(m, NULL);
    m->net = g_new0(NetBackends, 1);
    NetHost host = { NULL, &m->lock, NULL };
    Sink sink = { 0 };
    NetClient *backend = net_client_new(&sink_ops, &host, "sink", &sink);
    net_backends_add(m->net, backend);
    Device *dev = device_new(&e1000_class, m, NULL);
    device_set_props(dev, "netdev=sink", NULL);
    if (!m->pci || !machine_plug_device(m, dev, NULL)) {
        abort();
    }
    pci_assign_bars(m->pci, MMIO_BASE, 0xefffffff, 0xc000, 0xffff);

    size_t ram_bytes = size < 4096 ? size : 4096;
    memcpy(m->ram, data, ram_bytes);
    wr(m, E1000_TDBAL, 0x100);
    wr(m, E1000_TDLEN, 128);
    wr(m, E1000_RDBAL, 0x200);
    wr(m, E1000_RDLEN, 128);
    wr(m, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_BAM);
    wr(m, E1000_TCTL, E1000_TCTL_EN);
    wr(m, E1000_IMS, 0xffffffff);

    uint8_t frame[2048];
    for (size_t at = ram_bytes; at + 6 <= size; at += 6) {
        uint8_t op = data[at], sel = data[at + 1];
        uint32_t v = get32(data + at + 2);
        uint32_t reg = (sel & 0x80) ? (v >> 15) & 0x1fffc
                                    : regs[sel % (sizeof(regs) / sizeof(regs[0]))];
        switch (op % 5) {
        case 0:
            wr(m, reg, v);
            break;
        case 1:
            address_space_read_val(&m->mem, MMIO_BASE + reg, 4);
            break;
        case 2: {
            size_t len = 14 + v % (sizeof(frame) - 14);
            memcpy(frame, m->ram + (v >> 16) % (RAM_SIZE - sizeof(frame)), len);
            net_send(backend, frame, len);
            break;
        }
        case 3:
            sink.refuse = !sink.refuse;
            if (!sink.refuse) {
                net_client_flush(backend);
            }
            break;
        case 4:
            /* Guest RAM changes between register writes. */
            m->ram[v % RAM_SIZE] = (uint8_t)(v >> 24);
            break;
        }
    }

    while (m->nr_devices) {
        device_free(m->devices[--m->nr_devices]);
    }
    net_backends_free(m->net);
    g_free(m->net);
    pci_bus_free(m->pci);
    address_space_destroy(&m->mem);
    address_space_destroy(&m->io);
    g_free(m->ram);
    g_mutex_clear(&m->lock);
    g_free(m);
    return 0;
}
