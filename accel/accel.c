/*
 * Accelerator lookup and the I/O dispatch helpers every backend uses: the
 * machine lock is taken around each access so devices see one thread at a
 * time.
 */
#include <string.h>

#include "accel/accel.h"

const AccelOps *accel_find(const char *name)
{
    if (strcmp(name, "kvm") == 0) {
        return &accel_kvm_ops;
    }
    if (strcmp(name, "tcg") == 0) {
        return &accel_tcg_ops;
    }
    return NULL;
}

uint64_t accel_io_read(Accel *a, uint16_t port, unsigned size)
{
    return address_space_read_val_locked(a->io, a->lock, port, size);
}

void accel_io_write(Accel *a, uint16_t port, uint64_t value, unsigned size)
{
    address_space_write_val_locked(a->io, a->lock, port, value, size);
}

uint64_t accel_mmio_read(Accel *a, uint64_t addr, unsigned size)
{
    return address_space_read_val_locked(a->mem, a->lock, addr, size);
}

void accel_mmio_write(Accel *a, uint64_t addr, uint64_t value, unsigned size)
{
    address_space_write_val_locked(a->mem, a->lock, addr, value, size);
}
