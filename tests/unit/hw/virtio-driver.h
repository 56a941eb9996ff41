/*
 * A small virtio guest driver for unit tests: it finds the modern PCI
 * capabilities of a virtio-blk-pci on a test machine, negotiates features,
 * lays out queue 0 in guest RAM, and submits virtio-blk requests as direct
 * or indirect descriptor chains.  Tests also poke raw descriptors to build
 * malformed chains.
 */
#ifndef KESTREL_TEST_VIRTIO_DRIVER_H
#define KESTREL_TEST_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "hw-test.h"
#include "hw/pci/pci.h"

#define VD_QUEUE_SIZE 16
/* Guest physical layout of the test (RAM is 16 MiB). */
#define VD_DESC 0x10000
#define VD_AVAIL 0x11000
#define VD_USED 0x12000
#define VD_INDIRECT 0x13000
#define VD_HDR 0x20000     /* request headers, 16 bytes each */
#define VD_STATUS 0x21000  /* status bytes */
#define VD_DATA 0x100000   /* data buffers */
#define VD_RAM_SIZE (16u << 20)

typedef struct VirtioDriver {
    TestMachine *t;
    PCIDevice *dev;
    uint64_t bar;            /* BAR 4 */
    uint64_t msix_bar;       /* BAR 1 */
    uint64_t features;       /* offered */
    uint16_t avail_idx;
    uint16_t used_seen;
    unsigned msi_count;      /* messages received (any vector) */
    uint32_t last_msi_data;
} VirtioDriver;

/* Machine with a PCI bus and an MSI recorder; image is a raw file of
 * size bytes opened as drive "d0" (read_only as asked). */
TestMachine *vd_machine(const char *image, uint64_t size, bool read_only,
                        VirtioDriver *vd);
/* The same with the accelerator shortcuts io (NULL: none) in place before
 * the device is created, and extra device properties (NULL: none). */
TestMachine *vd_machine_ex(const char *image, uint64_t size, bool read_only,
                           VirtioDriver *vd, const MachineAccelIo *io,
                           const char *props);
void vd_machine_free(TestMachine *t);

/* Bring the device up with the given driver features (VERSION_1 is
 * added); queue 0 of size VD_QUEUE_SIZE; MSI-X vector 0 for config, 1 for
 * queue 0.  Returns the final status register. */
uint8_t vd_init(VirtioDriver *vd, uint64_t features);

uint8_t vd_status(VirtioDriver *vd);
uint32_t vd_common_read(VirtioDriver *vd, unsigned off, unsigned size);
void vd_common_write(VirtioDriver *vd, unsigned off, uint32_t v,
                     unsigned size);
uint64_t vd_config_read(VirtioDriver *vd, unsigned off, unsigned size);

/* Write descriptor i of the table at table (guest address). */
void vd_set_desc(VirtioDriver *vd, uint64_t table, unsigned i, uint64_t addr,
                 uint32_t len, uint16_t flags, uint16_t next);
/* Make head available and kick queue 0. */
void vd_kick(VirtioDriver *vd, uint16_t head);
/* Wait for a used entry; returns false on timeout.  *len receives its
 * length. */
bool vd_wait_used(VirtioDriver *vd, uint32_t *id, uint32_t *len);
uint16_t vd_used_idx(VirtioDriver *vd);

/* One virtio-blk request: header, optional data (device-writable for
 * reads/get-id), status; as a direct chain from descriptor 0 or through an
 * indirect table.  Returns the status byte, or -1 on timeout. */
int vd_blk_request(VirtioDriver *vd, uint32_t type, uint64_t sector,
                   uint64_t data_addr, uint32_t data_len, bool indirect);

#endif
