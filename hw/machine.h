/*
 * The machine: what every device of a board can reach.  A board (hw/i386/pc.c)
 * fills it in; devices take their address spaces, IRQ lines, PCI bus, fw_cfg
 * and chardevs from it, and ask it for run-state changes (reset, power-off,
 * exit with a status).  system/ creates the machine from the command line and
 * acts on the requests in its main loop.
 */
#ifndef KESTREL_HW_MACHINE_H
#define KESTREL_HW_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"
#include "core/timer.h"

typedef struct Chardev Chardev;
typedef struct PCIBus PCIBus;
typedef struct FwCfg FwCfg;
typedef struct VCpu VCpu;
typedef struct Accel Accel;
typedef struct Drive Drive;
typedef struct NetBackends NetBackends;

#define MACHINE_NR_GSI 24
#define MACHINE_MAX_CPUS 64
#define MACHINE_MAX_SERIAL 4
#define MACHINE_MAX_DEVICES 64
#define MACHINE_MAX_DRIVES 32

typedef enum MachineRequest {
    MACHINE_REQ_NONE = 0,
    MACHINE_REQ_RESET = 1u << 0,     /* guest reset (i8042, 0xcf9, triple fault) */
    MACHINE_REQ_POWEROFF = 1u << 1,  /* guest power-off (ACPI S5) */
    MACHINE_REQ_EXIT = 1u << 2,      /* isa-debug-exit: exit with exit_status */
    MACHINE_REQ_QUIT = 1u << 3,      /* user quit (monitor, Ctrl-A X, signal) */
    MACHINE_REQ_PAUSE = 1u << 4,
    MACHINE_REQ_DEBUG = 1u << 5,     /* a vCPU stopped for the debugger */
    MACHINE_REQ_CRASH = 1u << 6,     /* an accelerator error */
    MACHINE_REQ_POWERDOWN = 1u << 7, /* ask the guest to power off (ACPI button) */
    MACHINE_REQ_CONT = 1u << 8,      /* resume paused vCPUs (monitor cont) */
} MachineRequest;

/* Shortcuts the accelerator offers devices around the vCPU threads (KVM:
 * ioeventfd, and irqfd over MSI routes).  system/ fills this in before it
 * creates devices; any member may be NULL (tcg; KVM without the capability;
 * the MSI ones without the in-kernel irqchip), and a device then keeps its
 * ordinary path.  Called with the machine lock held. */
typedef struct MachineAccelIo {
    /* From now on a guest write of len bytes at addr in the memory space
     * only signals the eventfd fd (the MMIO handler does not run; writes of
     * another size still reach it).  False if the accelerator refused. */
    bool (*add_ioeventfd)(void *opaque, uint64_t addr, unsigned len, int fd);
    void (*del_ioeventfd)(void *opaque, uint64_t addr, unsigned len, int fd);
    /* An interrupt route sending the MSI message (addr, data): its number,
     * or -1 when there is none to be had. */
    int (*add_msi_route)(void *opaque, uint64_t addr, uint32_t data);
    bool (*update_msi_route)(void *opaque, int route, uint64_t addr,
                             uint32_t data);
    void (*del_msi_route)(void *opaque, int route);
    /* From now on signalling the eventfd fd raises route's interrupt
     * (inside the accelerator: no thread of Kestrel's is involved). */
    bool (*add_irqfd)(void *opaque, int fd, int route);
    void (*del_irqfd)(void *opaque, int fd, int route);
    void *opaque;
} MachineAccelIo;

typedef struct MachineConfig {
    uint64_t ram_size;
    unsigned smp;
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *bios;  /* NULL: no firmware for direct boot, SeaBIOS otherwise */
    bool no_reboot;
    bool kernel_irqchip;
    bool hpet;         /* -machine hpet=on (the default) */
} MachineConfig;

struct Machine {
    MachineConfig cfg;
    GMutex lock;          /* the machine lock: device state, dispatch */
    GMainContext *ctx;    /* the main loop's context */
    TimerList *timers;

    AddressSpace mem;
    AddressSpace io;
    uint8_t *ram;         /* the one guest RAM mapping */
    uint64_t ram_size;
    uint64_t below_4g;    /* RAM below the PCI hole */
    uint64_t above_4g;    /* RAM above 4 GiB */

    Accel *accel;
    MachineAccelIo accel_io;
    VCpu *cpus[MACHINE_MAX_CPUS];
    unsigned nr_cpus;

    IrqLine gsi[MACHINE_NR_GSI]; /* global system interrupts 0..23 */
    PCIBus *pci;
    FwCfg *fw_cfg;
    Chardev *serial[MACHINE_MAX_SERIAL];
    NetBackends *net;     /* -netdev backends for NICs to claim (net/net.h) */
    /* The keyboard input events go to (set by the i8042): key is a set 1
     * scancode, + 0xe000 for E0-prefixed keys (hw/input/scancode.h).
     * False: no room for it now, offer it again later.  Called with the
     * machine lock held. */
    bool (*kbd_event)(void *opaque, uint16_t key, bool down);
    void *kbd_opaque;

    Device *devices[MACHINE_MAX_DEVICES];
    unsigned nr_devices;

    Drive *drives[MACHINE_MAX_DRIVES]; /* hw/block/drive.h */
    unsigned nr_drives;

    uint32_t requests;    /* MachineRequest bits; atomic */
    int exit_status;      /* for MACHINE_REQ_EXIT */
    void (*notify)(void *opaque); /* wake the main loop after a request */
    void *notify_opaque;
    void *board;          /* the board's private state */
};

/* Ask the system to act; safe from any thread. */
void machine_request(Machine *m, MachineRequest req);
void machine_request_exit(Machine *m, int status);
/* Take and clear pending requests (system/ main loop). */
uint32_t machine_take_requests(Machine *m);

/* Create, realize and remember a device (reset and freed with the machine). */
Device *machine_add_device(Machine *m, const char *type, const char *id,
                           const char *props, GError **errp);
/* Realize a device made with device_new() and make it the machine's (reset
 * and freed with it).  On failure the device is freed. */
bool machine_plug_device(Machine *m, Device *dev, GError **errp);
void machine_reset_devices(Machine *m);

/* The table of all device types this build knows (hw/device-list.c). */
extern const DeviceClass *const machine_device_types[];

#endif
