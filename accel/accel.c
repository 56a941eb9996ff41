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
    g_mutex_lock(a->lock);
    uint64_t v = address_space_read_val(a->io, port, size);
    g_mutex_unlock(a->lock);
    return v;
}

void accel_io_write(Accel *a, uint16_t port, uint64_t value, unsigned size)
{
    g_mutex_lock(a->lock);
    address_space_write_val(a->io, port, value, size);
    g_mutex_unlock(a->lock);
}

uint64_t accel_mmio_read(Accel *a, uint64_t addr, unsigned size)
{
    g_mutex_lock(a->lock);
    uint64_t v = address_space_read_val(a->mem, addr, size);
    g_mutex_unlock(a->lock);
    return v;
}

void accel_mmio_write(Accel *a, uint64_t addr, uint64_t value, unsigned size)
{
    g_mutex_lock(a->lock);
    address_space_write_val(a->mem, addr, value, size);
    g_mutex_unlock(a->lock);
}
