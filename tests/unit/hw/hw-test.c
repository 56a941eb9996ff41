/*
 * The hand-built test machine (see hw-test.h).  A test that made a PCI bus
 * frees it itself (after tm_free_devices()).
 */
#include "hw-test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define DEADLINE_US (20 * G_USEC_PER_SEC)

/* machine.c's machine_add_device() looks types up here; tests add devices
 * by class, so the table is empty. */
const DeviceClass *const machine_device_types[] = { NULL };

static void gsi_handler(void *opaque, int n, int level)
{
    TestMachine *t = opaque;

    if (level && !t->gsi_level[n]) {
        t->gsi_edges[n]++;
    }
    t->gsi_level[n] = level;
}

TestMachine *tm_new(uint64_t ram_size, bool timers)
{
    TestMachine *t = g_new0(TestMachine, 1);
    Machine *m = &t->m;

    g_mutex_init(&m->lock);
    address_space_init(&m->mem, "memory", UINT64_MAX);
    address_space_init(&m->io, "io", 0xffff);
    m->ram = g_malloc0(ram_size);
    m->ram_size = ram_size;
    m->below_4g = ram_size;
    memory_region_init_ram(&t->ram_mr, "ram", m->ram, 0, ram_size);
    assert_true(address_space_map(&m->mem, &t->ram_mr, 0, 0));
    for (unsigned i = 0; i < MACHINE_NR_GSI; i++) {
        irq_connect(&m->gsi[i], gsi_handler, t, (int)i);
    }
    if (timers) {
        t->ctx = g_main_context_new();
        m->ctx = t->ctx;
        m->timers = timerlist_new(t->ctx, &m->lock);
    }
    m->nr_cpus = 1;
    return t;
}

void tm_free_devices(TestMachine *t)
{
    Machine *m = &t->m;

    while (m->nr_devices) {
        device_free(m->devices[--m->nr_devices]);
    }
}

void tm_free(TestMachine *t)
{
    Machine *m = &t->m;

    tm_free_devices(t);
    if (m->timers) {
        timerlist_free(m->timers);
        g_main_context_unref(t->ctx);
    }
    address_space_destroy(&m->mem);
    address_space_destroy(&m->io);
    g_free(m->ram);
    g_mutex_clear(&m->lock);
    g_free(t);
}

Device *tm_add(TestMachine *t, const DeviceClass *cls, const char *props)
{
    GError *err = NULL;
    Device *d = device_new(cls, &t->m, NULL);

    if (props && !device_set_props(d, props, &err)) {
        fail_msg("props: %s", err->message);
    }
    if (!machine_plug_device(&t->m, d, &err)) {
        fail_msg("realize %s: %s", cls->name, err->message);
    }
    return d;
}

uint8_t tm_inb(TestMachine *t, uint16_t port)
{
    return (uint8_t)address_space_read_val(&t->m.io, port, 1);
}

uint16_t tm_inw(TestMachine *t, uint16_t port)
{
    return (uint16_t)address_space_read_val(&t->m.io, port, 2);
}

uint32_t tm_inl(TestMachine *t, uint16_t port)
{
    return (uint32_t)address_space_read_val(&t->m.io, port, 4);
}

void tm_outb(TestMachine *t, uint16_t port, uint8_t v)
{
    address_space_write_val(&t->m.io, port, v, 1);
}

void tm_outw(TestMachine *t, uint16_t port, uint16_t v)
{
    address_space_write_val(&t->m.io, port, v, 2);
}

void tm_outl(TestMachine *t, uint16_t port, uint32_t v)
{
    address_space_write_val(&t->m.io, port, v, 4);
}

bool tm_run_until(TestMachine *t, bool (*cond)(void *arg), void *arg)
{
    gint64 deadline = g_get_monotonic_time() + DEADLINE_US;

    while (!cond(arg)) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_main_context_iteration(t->ctx, FALSE);
        g_usleep(1000);
    }
    return true;
}
