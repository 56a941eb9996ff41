/*
 * virtio-blk: a minimal virtio-blk driver over the modern virtio PCI
 * transport (Virtual I/O Device 1.1: 4.1 PCI transport, 2.6 split
 * virtqueues, 5.2 block device) with MSI-X interrupts to the local APIC.
 * It finds the device on PCI bus 0, negotiates VERSION_1, sets up queue 0
 * with 16 descriptors, and then:
 *   - reads sectors the host filled (host_pattern) and checks them;
 *   - writes sectors 128..191 (kernel_pattern) as four requests in one
 *     kick, flushes, reads them back and compares (the host checks the
 *     image file afterwards);
 *   - masks the queue's MSI-X vector: the request completes, no interrupt
 *     comes, the pending bit is set; unmasking delivers it;
 *   - moves the queue's vector to another APIC vector;
 *   - times notify writes against writes of a common configuration
 *     register (which always exit to the emulator): with ioeventfd under
 *     KVM the former stay in the kernel;
 *   - resets the device right after a kick with reads outstanding and
 *     checks that nothing lands in the buffers or the used ring afterwards,
 *     then brings the device up again and reads.
 * Completions are waited for with HLT (a periodic LAPIC timer only bounds
 * the wait), so the MSI-X message must wake a halted CPU.  With "bench=1"
 * on the command line it only brings the device up and times notify writes
 * ("rounds=N" of them), for bench/boot.
 */
#include "lib/idt.h"
#include "lib/kernel.h"
#include "lib/lapic.h"
#include "lib/pci.h"
#include "lib/pic.h"
#include "lib/tsc.h"

#define VENDOR 0x1af4
#define DEVICE_BLK 0x1042

/* Vendor capability types (4.1.4). */
#define CAP_VNDR 0x09
#define CAP_MSIX 0x11
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4

/* Common configuration (4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX 0x10
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_AVAIL 0x28
#define C_Q_USED 0x30

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4

#define D_NEXT 1
#define D_WRITE 2

#define QSIZE 16
#define SECTOR 512
#define VEC_CONFIG 0x40
#define VEC_QUEUE 0x41
#define VEC_QUEUE_ALT 0x42
#define VEC_TIMER 0x50
#define WAIT_MS 10000

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

static struct desc desc[QSIZE] __attribute__((aligned(4096)));
static struct {
    uint16_t flags, idx;
    uint16_t ring[QSIZE];
    uint16_t used_event;
} avail __attribute__((aligned(4096)));
static struct {
    uint16_t flags, idx;
    struct { uint32_t id, len; } ring[QSIZE];
    uint16_t avail_event;
} used __attribute__((aligned(4096)));

struct req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

#define SLOTS (QSIZE / 3)
static struct req_hdr hdr[SLOTS];
static volatile uint8_t status[SLOTS];

#define BUF_BYTES (64 * SECTOR)
static uint8_t wbuf[BUF_BYTES] __attribute__((aligned(4096)));
static uint8_t rbuf[BUF_BYTES] __attribute__((aligned(4096)));
#define BIG_BYTES (5 * 32 * 1024)
static uint8_t bigbuf[BIG_BYTES] __attribute__((aligned(4096)));

static unsigned slot;            /* PCI slot */
static uintptr_t common, device_cfg, notify, msix_table, msix_pba;
static uint16_t avail_idx, used_seen;
static unsigned failures;
static volatile unsigned queue_irqs, alt_irqs, config_irqs;

static void check(const char *what, int ok)
{
    kprintf("virtio-blk: %s: %s\n", what, ok ? "ok" : "WRONG");
    failures += !ok;
}

static uint8_t host_pattern(uint32_t sector, uint32_t i)
{
    return (uint8_t)(sector * 29 + i * 3 + 0x5a);
}

static uint8_t kernel_pattern(uint32_t sector, uint32_t i)
{
    return (uint8_t)(sector * 17 + i * 5 + 0xc3);
}

static void barrier(void)
{
    __asm__ volatile("lock; addl $0, (%%esp)" ::: "memory");
}

/* ---- registers ---- */

static uint8_t rd8(uintptr_t a) { return *(volatile uint8_t *)a; }
static uint16_t rd16(uintptr_t a) { return *(volatile uint16_t *)a; }
static uint32_t rd32(uintptr_t a) { return *(volatile uint32_t *)a; }
static void wr8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static void wr16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static void wr32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

static void wr64(uintptr_t a, uint64_t v)
{
    wr32(a, (uint32_t)v);
    wr32(a + 4, (uint32_t)(v >> 32));
}

static uint16_t used_idx(void)
{
    return *(volatile uint16_t *)&used.idx;
}

/* ---- interrupts ---- */

static void queue_irq(struct irq_frame *f)
{
    queue_irqs++;
    lapic_eoi();
}

static void alt_irq(struct irq_frame *f)
{
    alt_irqs++;
    lapic_eoi();
}

static void config_irq(struct irq_frame *f)
{
    config_irqs++;
    lapic_eoi();
}

static void timer_irq(struct irq_frame *f)
{
    lapic_eoi();
}

static void msix_entry(unsigned v, uint8_t vector, int masked)
{
    uintptr_t e = msix_table + 16 * v;
    wr32(e + 12, 1);                          /* mask while changing it */
    wr32(e, 0xfee00000u | (lapic_id() << 12)); /* fixed, physical */
    wr32(e + 4, 0);
    wr32(e + 8, vector);                      /* edge, fixed delivery */
    wr32(e + 12, masked ? 1 : 0);
}

static int pba_pending(unsigned v)
{
    return (rd32(msix_pba) >> v) & 1;
}

/* Wait (halted between interrupts) until the used ring reaches `want`. */
static int wait_used(uint16_t want)
{
    uint64_t end = tsc_deadline(WAIT_MS);
    irq_disable();
    while (used_idx() != want) {
        if (tsc_passed(end)) {
            irq_enable();
            return 0;
        }
        wait_for_interrupt();
        irq_disable();
    }
    irq_enable();
    return 1;
}

/* Wait (halted) until *counter exceeds `before`. */
static int wait_irq(volatile unsigned *counter, unsigned before)
{
    uint64_t end = tsc_deadline(WAIT_MS);
    irq_disable();
    while (*counter == before) {
        if (tsc_passed(end)) {
            irq_enable();
            return 0;
        }
        wait_for_interrupt();
        irq_disable();
    }
    irq_enable();
    return 1;
}

/* ---- the device ---- */

static int find_device(void)
{
    int s = pci_find(VENDOR, DEVICE_BLK);
    if (s < 0) {
        kprintf("virtio-blk: no virtio-blk-pci (1af4:1042) on bus 0\n");
        return 0;
    }
    slot = (unsigned)s;
    pci_write16(slot, PCI_COMMAND, pci_read16(slot, PCI_COMMAND) |
                                   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    uint32_t notify_mult = 0;
    for (uint8_t c = pci_find_cap(slot, CAP_VNDR, 0); c;
         c = pci_find_cap(slot, CAP_VNDR, c)) {
        uint8_t type = pci_read8(slot, c + 3u);
        uint64_t bar = pci_bar_addr(slot, pci_read8(slot, c + 4u));
        uint64_t where = bar + pci_read32(slot, c + 8u);
        if (where >> 32) {
            kprintf("virtio-blk: BAR above 4 GiB\n");
            return 0;
        }
        if (type == CFG_COMMON) {
            common = (uintptr_t)where;
        } else if (type == CFG_NOTIFY) {
            notify = (uintptr_t)where;
            notify_mult = pci_read32(slot, c + 16u);
        } else if (type == CFG_DEVICE) {
            device_cfg = (uintptr_t)where;
        }
    }
    uint8_t m = pci_find_cap(slot, CAP_MSIX, 0);
    if (!common || !notify || !device_cfg || !m) {
        kprintf("virtio-blk: capabilities missing\n");
        return 0;
    }
    uint32_t table = pci_read32(slot, m + 4u), pba = pci_read32(slot, m + 8u);
    msix_table = (uintptr_t)(pci_bar_addr(slot, table & 7) + (table & ~7u));
    msix_pba = (uintptr_t)(pci_bar_addr(slot, pba & 7) + (pba & ~7u));
    kprintf("virtio-blk: slot %u, %u MSI-X vectors, notify multiplier %u\n",
            slot, (pci_read16(slot, m + 2u) & 0x7ff) + 1u, notify_mult);
    /* MSI-X on, function not masked (message control, 6.8.2.3). */
    pci_write16(slot, m + 2u, 0x8000);
    msix_entry(0, VEC_CONFIG, 0);
    msix_entry(1, VEC_QUEUE, 0);
    /* Queue 0's notify address. */
    wr16(common + C_Q_SELECT, 0);
    notify += (uintptr_t)rd16(common + C_Q_NOFF) * notify_mult;
    return 1;
}

/* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue 0,
 * DRIVER_OK. */
static int device_init(void)
{
    wr8(common + C_STATUS, 0);
    if (rd8(common + C_STATUS) != 0) {
        kprintf("virtio-blk: the reset did not complete\n");
        return 0;
    }
    wr8(common + C_STATUS, S_ACK | S_DRIVER);
    wr32(common + C_DFSELECT, 1);
    if (!(rd32(common + C_DF) & 1)) { /* VIRTIO_F_VERSION_1 = bit 32 */
        kprintf("virtio-blk: no VERSION_1\n");
        return 0;
    }
    wr32(common + C_GFSELECT, 0);
    wr32(common + C_GF, 0);
    wr32(common + C_GFSELECT, 1);
    wr32(common + C_GF, 1);
    wr8(common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(rd8(common + C_STATUS) & S_FEATURES_OK)) {
        kprintf("virtio-blk: FEATURES_OK refused\n");
        return 0;
    }
    wr16(common + C_MSIX, 0);
    if (rd16(common + C_MSIX) != 0) {
        kprintf("virtio-blk: no MSI-X vector for configuration changes\n");
        return 0;
    }
    wr16(common + C_Q_SELECT, 0);
    if (rd16(common + C_Q_SIZE) < QSIZE) {
        kprintf("virtio-blk: queue 0 is smaller than %u\n", QSIZE);
        return 0;
    }
    wr16(common + C_Q_SIZE, QSIZE);
    wr16(common + C_Q_MSIX, 1);
    if (rd16(common + C_Q_MSIX) != 1) {
        kprintf("virtio-blk: no MSI-X vector for queue 0\n");
        return 0;
    }
    for (unsigned i = 0; i < QSIZE; i++) {
        desc[i] = (struct desc){ 0, 0, 0, 0 };
    }
    avail.flags = 0;
    avail.idx = 0;
    used.idx = 0;
    avail_idx = used_seen = 0;
    wr64(common + C_Q_DESC, (uintptr_t)desc);
    wr64(common + C_Q_AVAIL, (uintptr_t)&avail);
    wr64(common + C_Q_USED, (uintptr_t)&used);
    wr16(common + C_Q_ENABLE, 1);
    wr8(common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return (rd8(common + C_STATUS) & (S_DRIVER_OK | S_NEEDS_RESET)) ==
           S_DRIVER_OK;
}

/* Queue one request in slot s (descriptors 3s..3s+2). */
static void queue_request(unsigned s, uint32_t type, uint64_t sector,
                          void *buf, uint32_t len)
{
    unsigned d = 3 * s;
    hdr[s] = (struct req_hdr){ type, 0, sector };
    status[s] = 0xff;
    desc[d] = (struct desc){ (uintptr_t)&hdr[s], sizeof(hdr[s]), D_NEXT,
                             (uint16_t)(d + 1) };
    if (len) {
        desc[d + 1] = (struct desc){ (uintptr_t)buf, len,
                                     (uint16_t)(D_NEXT |
                                                (type == T_IN ? D_WRITE : 0)),
                                     (uint16_t)(d + 2) };
        desc[d + 2] = (struct desc){ (uintptr_t)&status[s], 1, D_WRITE, 0 };
    } else {
        desc[d + 1] = (struct desc){ (uintptr_t)&status[s], 1, D_WRITE, 0 };
    }
    avail.ring[avail_idx % QSIZE] = (uint16_t)d;
    avail_idx++;
}

static void kick(void)
{
    barrier();
    *(volatile uint16_t *)&avail.idx = avail_idx;
    barrier();
    wr16(notify, 0);
}

/* Kick the queued requests, wait for all of them; 1 if all said OK. */
static int run_requests(unsigned n)
{
    kick();
    if (!wait_used(avail_idx)) {
        kprintf("virtio-blk: requests did not complete (used %u, want %u)\n",
                used_idx(), avail_idx);
        return 0;
    }
    used_seen = avail_idx;
    int ok = 1;
    for (unsigned s = 0; s < n; s++) {
        ok &= status[s] == 0;
    }
    return ok;
}

static int one_request(uint32_t type, uint64_t sector, void *buf,
                       uint32_t len)
{
    queue_request(0, type, sector, buf, len);
    return run_requests(1);
}

/* ---- the tests ---- */

static void test_read_host_data(void)
{
    for (unsigned i = 0; i < BUF_BYTES; i++) {
        rbuf[i] = 0;
    }
    unsigned before = queue_irqs;
    int ok = one_request(T_IN, 0, rbuf, BUF_BYTES);
    check("read 64 sectors", ok);
    check("an MSI-X interrupt for the read", queue_irqs > before);
    unsigned bad = 0;
    for (unsigned i = 0; i < BUF_BYTES; i++) {
        bad += rbuf[i] != host_pattern(i / SECTOR, i % SECTOR);
    }
    check("sectors 0-63 hold what the host wrote", bad == 0);
}

static void test_write_read_back(void)
{
    for (unsigned i = 0; i < BUF_BYTES; i++) {
        wbuf[i] = kernel_pattern(128 + i / SECTOR, i % SECTOR);
        rbuf[i] = 0;
    }
    /* Four writes of 16 sectors in one kick. */
    unsigned before = queue_irqs;
    for (unsigned s = 0; s < 4; s++) {
        queue_request(s, T_OUT, 128 + 16 * s, wbuf + s * 16 * SECTOR,
                      16 * SECTOR);
    }
    check("four writes in one kick", run_requests(4));
    kprintf("virtio-blk: %u interrupt(s) for the four writes\n",
            queue_irqs - before);
    check("flush", one_request(T_FLUSH, 0, 0, 0));
    check("read back", one_request(T_IN, 128, rbuf, BUF_BYTES));
    unsigned bad = 0;
    for (unsigned i = 0; i < BUF_BYTES; i++) {
        bad += rbuf[i] != wbuf[i];
    }
    check("sectors 128-191 read back as written", bad == 0);
}

static void test_masked_vector(void)
{
    wr32(msix_table + 16 * 1 + 12, 1);
    unsigned before = queue_irqs;
    queue_request(0, T_IN, 5, rbuf, SECTOR);
    kick();
    uint64_t end = tsc_deadline(WAIT_MS);
    while (used_idx() != avail_idx && !tsc_passed(end)) {
        cpu_relax();
    }
    int done = used_idx() == avail_idx;
    mdelay(20);
    check("masked vector: the request completes", done && status[0] == 0);
    check("masked vector: no interrupt", queue_irqs == before);
    check("masked vector: pending bit set", pba_pending(1));
    wr32(msix_table + 16 * 1 + 12, 0);
    check("unmasked: the held interrupt arrives",
          wait_irq(&queue_irqs, before));
    check("unmasked: pending bit clear", !pba_pending(1));
    used_seen = avail_idx;
}

static void test_vector_moves(void)
{
    unsigned before = queue_irqs, alt_before = alt_irqs;
    msix_entry(1, VEC_QUEUE_ALT, 0);
    check("request after the vector moved",
          one_request(T_IN, 6, rbuf, SECTOR));
    check("its interrupt on the new APIC vector",
          wait_irq(&alt_irqs, alt_before) && queue_irqs == before);
    msix_entry(1, VEC_QUEUE, 0);
    check("and back", one_request(T_IN, 7, rbuf, SECTOR) &&
                      wait_irq(&queue_irqs, before));
}

static void test_notify_cost(unsigned rounds)
{
    irq_disable();
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < rounds; i++) {
        wr16(notify, 0);  /* nothing new in the ring: no request */
    }
    uint64_t t1 = rdtsc();
    for (unsigned i = 0; i < rounds; i++) {
        wr16(common + C_Q_SELECT, 0);
    }
    uint64_t t2 = rdtsc();
    irq_enable();
    kprintf("virtio-blk: %u cycles per notify write, %u per common "
            "configuration write\n", (unsigned)((t1 - t0) / rounds),
            (unsigned)((t2 - t1) / rounds));
}

static uint32_t checksum(const uint8_t *p, unsigned n)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        sum = sum * 31 + p[i];
    }
    return sum;
}

static void test_reset_after_kick(void)
{
    for (unsigned i = 0; i < BIG_BYTES; i++) {
        bigbuf[i] = 0xcc;
    }
    for (unsigned s = 0; s < SLOTS; s++) {
        queue_request(s, T_IN, 64 * s, bigbuf + s * 32 * 1024, 32 * 1024);
    }
    kick();
    wr8(common + C_STATUS, 0);
    check("status reads 0 after the reset", rd8(common + C_STATUS) == 0);
    uint32_t sum = checksum(bigbuf, BIG_BYTES);
    uint16_t idx = used_idx();
    mdelay(200);
    check("reset with reads outstanding: buffers unchanged afterwards",
          checksum(bigbuf, BIG_BYTES) == sum);
    check("reset with reads outstanding: used ring unchanged afterwards",
          used_idx() == idx);
    check("the device comes up again", device_init());
    for (unsigned i = 0; i < SECTOR; i++) {
        rbuf[i] = 0;
    }
    int ok = one_request(T_IN, 3, rbuf, SECTOR);
    unsigned bad = 0;
    for (unsigned i = 0; i < SECTOR; i++) {
        bad += rbuf[i] != host_pattern(3, i);
    }
    check("and reads sector 3", ok && bad == 0);
}

void kmain(const struct mb_info *info)
{
    tsc_calibrate();
    pic_init();
    lapic_enable();
    idt_set_handler(VEC_CONFIG, config_irq);
    idt_set_handler(VEC_QUEUE, queue_irq);
    idt_set_handler(VEC_QUEUE_ALT, alt_irq);
    idt_set_handler(VEC_TIMER, timer_irq);
    /* Bounds every HLT: the waits time out instead of hanging. */
    lapic_timer_start(LAPIC_TIMER_PERIODIC, VEC_TIMER, 200000);
    irq_enable();
    if (!find_device() || !device_init()) {
        test_finish("virtio-blk", 0);
    }
    uint32_t cap_lo = rd32(device_cfg), cap_hi = rd32(device_cfg + 4);
    kprintf("virtio-blk: capacity %u sectors\n", cap_lo);
    if (cap_hi || cap_lo < 512) {
        kprintf("virtio-blk: want a disk of 512 sectors or more\n");
        test_finish("virtio-blk", 0);
    }
    if (cmdline_uint("bench", 0)) {
        /* bench/boot: only the notify cost. */
        test_notify_cost(cmdline_uint("rounds", 20000));
        test_finish("virtio-blk", 1);
    }
    test_read_host_data();
    test_write_read_back();
    test_masked_vector();
    test_vector_moves();
    test_notify_cost(2000);
    test_reset_after_kick();
    check("no configuration interrupt", config_irqs == 0);
    kprintf("virtio-blk: %u queue interrupts\n", queue_irqs + alt_irqs);
    test_finish("virtio-blk", failures == 0);
}
