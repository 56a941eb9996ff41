/*
 * fw_cfg over I/O ports (x86 layout of QEMU's docs/specs/fw_cfg.txt):
 *   iobase + 0  selector, 16-bit little-endian write; setting it rewinds
 *   iobase + 1  data, 8-bit: each read returns the next byte of the item
 *               (0 past its end); writes are ignored
 *   iobase + 4  DMA address, 64-bit big-endian, written as two 32-bit
 *               halves (high at +4, low at +8); writing the low half starts
 *               the transfer of the FWCfgDmaAccess at that guest address.
 *               Reading it returns the signature "QEMU CFG".
 * The item directory (FW_CFG_FILE_DIR) is kept sorted by name, with
 * big-endian sizes and selectors.  All guest memory access goes through
 * dma_read()/dma_write(); a bad address ends the transfer with the error
 * bit in the control word.  No item is writable by the guest.
 */
#include "hw/nvram/fw_cfg.h"

#include <string.h>

#include "core/error.h"
#include "hw/machine.h"

#define FW_CFG_ENTRIES 0x200 /* keys below this, per (local, arch) bank */
#define DIR_ENTRY_SIZE 64
#define DMA_ACCESS_SIZE 16

typedef struct FwCfgEntry {
    uint8_t *data;
    uint32_t len;
} FwCfgEntry;

typedef struct FwCfgFile {
    char name[FW_CFG_MAX_FILE_NAME];
    uint16_t key;
} FwCfgFile;

struct FwCfg {
    Device parent;
    /* properties */
    uint16_t iobase;
    bool dma_enabled;

    /* guest-visible state */
    uint16_t cur_key;
    uint32_t cur_offset;
    uint8_t dma_addr[8]; /* big-endian, as written */

    FwCfgEntry entries[2][FW_CFG_ENTRIES]; /* [0]: generic, [1]: arch-local */
    FwCfgFile files[FW_CFG_MAX_FILES];
    unsigned nr_files;
    MemoryRegion ctl_mr;
    MemoryRegion dma_mr;
};

static FwCfgEntry *entry_of(FwCfg *f, uint16_t key)
{
    unsigned bank = (key & FW_CFG_ARCH_LOCAL) ? 1 : 0;
    unsigned index = key & 0x3fff;

    return index < FW_CFG_ENTRIES ? &f->entries[bank][index] : NULL;
}

static void set_entry(FwCfg *f, uint16_t key, uint8_t *data, uint32_t len)
{
    FwCfgEntry *e = entry_of(f, key);

    if (!e) {
        g_free(data);
        g_warning("fw_cfg: key 0x%x is out of range", key);
        return;
    }
    g_free(e->data);
    e->data = data;
    e->len = len;
}

void fw_cfg_add_bytes(FwCfg *f, uint16_t key, const void *data, size_t len)
{
    g_return_if_fail(len <= UINT32_MAX);
    set_entry(f, key, len ? g_memdup2(data, len) : NULL, (uint32_t)len);
}

void fw_cfg_add_string(FwCfg *f, uint16_t key, const char *s)
{
    fw_cfg_add_bytes(f, key, s, strlen(s) + 1);
}

void fw_cfg_add_i16(FwCfg *f, uint16_t key, uint16_t value)
{
    uint16_t le = GUINT16_TO_LE(value);

    fw_cfg_add_bytes(f, key, &le, sizeof(le));
}

void fw_cfg_add_i32(FwCfg *f, uint16_t key, uint32_t value)
{
    uint32_t le = GUINT32_TO_LE(value);

    fw_cfg_add_bytes(f, key, &le, sizeof(le));
}

void fw_cfg_add_i64(FwCfg *f, uint16_t key, uint64_t value)
{
    uint64_t le = GUINT64_TO_LE(value);

    fw_cfg_add_bytes(f, key, &le, sizeof(le));
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const FwCfgFile *)a)->name, ((const FwCfgFile *)b)->name);
}

static void rebuild_dir(FwCfg *f)
{
    size_t len = 4 + (size_t)f->nr_files * DIR_ENTRY_SIZE;
    uint8_t *dir = g_malloc0(len);
    uint32_t count_be = GUINT32_TO_BE(f->nr_files);

    qsort(f->files, f->nr_files, sizeof(f->files[0]), file_cmp);
    memcpy(dir, &count_be, 4);
    for (unsigned i = 0; i < f->nr_files; i++) {
        uint8_t *d = dir + 4 + (size_t)i * DIR_ENTRY_SIZE;
        uint32_t size_be = GUINT32_TO_BE(entry_of(f, f->files[i].key)->len);
        uint16_t key_be = GUINT16_TO_BE(f->files[i].key);

        memcpy(d, &size_be, 4);
        memcpy(d + 4, &key_be, 2);
        memcpy(d + 8, f->files[i].name, FW_CFG_MAX_FILE_NAME);
    }
    set_entry(f, FW_CFG_FILE_DIR, dir, (uint32_t)len);
}

bool fw_cfg_add_file(FwCfg *f, const char *name, const void *data, size_t len)
{
    size_t n = strlen(name);
    uint16_t key;

    if (n == 0 || n >= FW_CFG_MAX_FILE_NAME || len > UINT32_MAX ||
        f->nr_files >= FW_CFG_MAX_FILES ||
        FW_CFG_FILE_FIRST + f->nr_files >= FW_CFG_ENTRIES) {
        return false;
    }
    for (unsigned i = 0; i < f->nr_files; i++) {
        if (strcmp(f->files[i].name, name) == 0) {
            return false;
        }
    }
    key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);
    memset(f->files[f->nr_files].name, 0, FW_CFG_MAX_FILE_NAME);
    memcpy(f->files[f->nr_files].name, name, n);
    f->files[f->nr_files].key = key;
    f->nr_files++;
    fw_cfg_add_bytes(f, key, data, len);
    rebuild_dir(f);
    return true;
}

/* ---- guest interface ---- */

static void select_key(FwCfg *f, uint16_t key)
{
    f->cur_key = key;
    f->cur_offset = 0;
}

static const FwCfgEntry *current(FwCfg *f)
{
    /* Bit 14 asks for write mode, which no item allows: read as usual. */
    return entry_of(f, f->cur_key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
}

static uint8_t data_read_byte(FwCfg *f)
{
    const FwCfgEntry *e = current(f);

    if (!e || !e->data || f->cur_offset >= e->len) {
        return 0;
    }
    return e->data[f->cur_offset++];
}

static uint64_t ctl_read(void *opaque, uint64_t addr, unsigned size)
{
    FwCfg *f = opaque;

    if (addr == 1 && size == 1) {
        return data_read_byte(f);
    }
    return 0;
}

static void ctl_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    FwCfg *f = opaque;

    if (addr == 0) {
        select_key(f, (uint16_t)(size == 1 ? (value & 0xff) : (value & 0xffff)));
    }
    /* data port writes: no writable items */
}

static const MemoryRegionOps ctl_ops = {
    .read = ctl_read,
    .write = ctl_write,
    .min_access = 1,
    .max_access = 2,
};

static uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

/* Fill [addr, addr + len) with zeros; false if it is not all RAM. */
static bool dma_zero(AddressSpace *as, uint64_t addr, uint64_t len)
{
    static const uint8_t zeros[512];

    while (len) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

        if (!dma_write(as, addr, zeros, n)) {
            return false;
        }
        addr += n;
        len -= n;
    }
    return true;
}

/* One FWCfgDmaAccess: returns the control word to write back. */
static uint32_t dma_transfer(FwCfg *f, AddressSpace *as, uint32_t control,
                             uint32_t length, uint64_t addr)
{
    const FwCfgEntry *e;
    uint32_t avail;

    if (control & FW_CFG_DMA_CTL_SELECT) {
        select_key(f, (uint16_t)(control >> 16));
    }
    e = current(f);
    avail = (e && e->data && f->cur_offset < e->len) ? e->len - f->cur_offset : 0;

    if (control & FW_CFG_DMA_CTL_READ) {
        uint32_t n = length < avail ? length : avail;

        if (length && addr + length - 1 < addr) {
            return FW_CFG_DMA_CTL_ERROR;
        }
        if (n && !dma_write(as, addr, e->data + f->cur_offset, n)) {
            return FW_CFG_DMA_CTL_ERROR;
        }
        f->cur_offset += n;
        if (length > n && !dma_zero(as, addr + n, length - n)) {
            return FW_CFG_DMA_CTL_ERROR;
        }
        return 0;
    }
    if (control & FW_CFG_DMA_CTL_WRITE) {
        return FW_CFG_DMA_CTL_ERROR; /* no item is writable */
    }
    if (control & FW_CFG_DMA_CTL_SKIP) {
        f->cur_offset += length < avail ? length : avail;
    }
    return 0;
}

static void dma_start(FwCfg *f)
{
    AddressSpace *as = &f->parent.machine->mem;
    uint64_t desc = 0;
    uint8_t access[DMA_ACCESS_SIZE];
    uint32_t control, status_be;

    for (unsigned i = 0; i < 8; i++) {
        desc = (desc << 8) | f->dma_addr[i];
    }
    memset(f->dma_addr, 0, sizeof(f->dma_addr));
    if (!dma_read(as, desc, access, sizeof(access))) {
        return; /* nowhere to report the error */
    }
    control = be32_at(access);
    control = dma_transfer(f, as, control, be32_at(access + 4),
                           ((uint64_t)be32_at(access + 8) << 32) |
                               be32_at(access + 12));
    status_be = GUINT32_TO_BE(control);
    dma_write(as, desc, &status_be, sizeof(status_be));
}

static uint64_t dma_reg_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    /* The register reads as the big-endian signature, byte by byte. */
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        uint8_t b = (uint8_t)(FW_CFG_DMA_SIGNATURE >> (8 * (7 - (addr + i))));

        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void dma_reg_write(void *opaque, uint64_t addr, uint64_t value,
                          unsigned size)
{
    FwCfg *f = opaque;

    /* The guest writes big-endian data: its first byte is the MSB. */
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        f->dma_addr[addr + i] = (uint8_t)(value >> (8 * i));
    }
    if (addr + size == 8) {
        dma_start(f);
    }
}

static const MemoryRegionOps dma_ops = {
    .read = dma_reg_read,
    .write = dma_reg_write,
    .min_access = 1,
    .max_access = 8,
};

/* ---- device ---- */

static void fw_cfg_reset(Device *d)
{
    FwCfg *f = (FwCfg *)d;

    select_key(f, FW_CFG_SIGNATURE);
    memset(f->dma_addr, 0, sizeof(f->dma_addr));
}

static bool fw_cfg_realize(Device *d, GError **errp)
{
    FwCfg *f = (FwCfg *)d;
    Machine *m = d->machine;

    if (f->iobase > 0xffff - 12) {
        error_setg(errp, "fw_cfg: iobase 0x%x is out of range", f->iobase);
        return false;
    }
    fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(f, FW_CFG_ID,
                   FW_CFG_VERSION | (f->dma_enabled ? FW_CFG_VERSION_DMA : 0));
    rebuild_dir(f);

    memory_region_init_io(&f->ctl_mr, "fw_cfg", &ctl_ops, f, 2);
    if (!address_space_map(&m->io, &f->ctl_mr, f->iobase, 0)) {
        error_setg(errp, "fw_cfg: cannot map ports at 0x%x", f->iobase);
        return false;
    }
    if (f->dma_enabled) {
        memory_region_init_io(&f->dma_mr, "fw_cfg-dma", &dma_ops, f, 8);
        if (!address_space_map(&m->io, &f->dma_mr, f->iobase + 4, 0)) {
            address_space_unmap(&m->io, &f->ctl_mr);
            error_setg(errp, "fw_cfg: cannot map the DMA ports");
            return false;
        }
    }
    fw_cfg_reset(d);
    return true;
}

static void fw_cfg_unrealize(Device *d)
{
    FwCfg *f = (FwCfg *)d;
    Machine *m = d->machine;

    address_space_unmap(&m->io, &f->ctl_mr);
    if (f->dma_enabled) {
        address_space_unmap(&m->io, &f->dma_mr);
    }
    for (unsigned b = 0; b < 2; b++) {
        for (unsigned i = 0; i < FW_CFG_ENTRIES; i++) {
            g_free(f->entries[b][i].data);
            f->entries[b][i].data = NULL;
        }
    }
    if (m->fw_cfg == f) {
        m->fw_cfg = NULL;
    }
}

static const VMStateField fw_cfg_fields[] = {
    VMSTATE_U16(FwCfg, cur_key),
    VMSTATE_U32(FwCfg, cur_offset),
    VMSTATE_U8_ARRAY(FwCfg, dma_addr),
    VMSTATE_END,
};

static const VMStateDescription fw_cfg_vmsd = {
    .name = "fw_cfg",
    .version = 1,
    .fields = fw_cfg_fields,
};

static const Property fw_cfg_props[] = {
    DEFINE_PROP_U16(FwCfg, "iobase", iobase, "0x510", "I/O base"),
    DEFINE_PROP_BOOL(FwCfg, "dma", dma_enabled, "on", "DMA interface"),
    DEFINE_PROP_END,
};

const DeviceClass fw_cfg_io_class = {
    .name = "fw_cfg_io",
    .description = "firmware configuration device (I/O ports)",
    .instance_size = sizeof(FwCfg),
    .props = fw_cfg_props,
    .realize = fw_cfg_realize,
    .unrealize = fw_cfg_unrealize,
    .reset = fw_cfg_reset,
    .vmsd = &fw_cfg_vmsd,
};

FwCfg *fw_cfg_init_io(Machine *m, uint16_t iobase, GError **errp)
{
    Device *d = device_new(&fw_cfg_io_class, m, "fw_cfg");
    FwCfg *f = (FwCfg *)d;

    f->iobase = iobase;
    if (!machine_plug_device(m, d, errp)) {
        return NULL;
    }
    m->fw_cfg = f;
    return f;
}
