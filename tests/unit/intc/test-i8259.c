/*
 * 8259A pair: initialization words, priority and nesting, EOI forms,
 * masking, cascade through IRQ2, spurious IRQ7, auto-EOI, rotation, poll
 * mode, special mask mode, and ELCR edge/level control.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/intc/i8259.h"
#include "intc-test-util.h"

typedef struct Fixture {
    Machine *m;
    PicState *pic;
    IrqProbe intr;
} Fixture;

/* The sequence Linux and the BIOS use: vectors 0x20 and 0x28. */
static void pic_program(Machine *m, uint8_t icw4)
{
    outb(m, 0x20, 0x11);
    outb(m, 0x21, 0x20);
    outb(m, 0x21, 0x04);
    outb(m, 0x21, icw4);
    outb(m, 0xa0, 0x11);
    outb(m, 0xa1, 0x28);
    outb(m, 0xa1, 0x02);
    outb(m, 0xa1, icw4);
    outb(m, 0x21, 0x00);
    outb(m, 0xa1, 0x00);
}

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->m = test_machine_new();
    irq_probe_init(&f->intr);
    f->pic = i8259_init(f->m, &f->intr.line, NULL);
    assert_non_null(f->pic);
    pic_program(f->m, 0x01);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    test_machine_free(f->m);
    g_free(f);
    return 0;
}

static uint8_t read_isr(Machine *m, uint16_t port)
{
    outb(m, port, 0x0b);
    uint8_t v = inb(m, port);
    outb(m, port, 0x0a);
    return v;
}

static void test_reset_masks_everything(void **state)
{
    Machine *m = test_machine_new();
    IrqProbe p;
    irq_probe_init(&p);
    PicState *pic = i8259_init(m, &p.line, NULL);
    assert_int_equal(inb(m, 0x21), 0xff);
    irq_raise(i8259_irq(pic, 1));
    assert_int_equal(p.level, 0);
    test_machine_free(m);
}

static void test_init_vector_and_eoi(void **state)
{
    Fixture *f = *state;
    assert_int_equal(inb(f->m, 0x21), 0x00); /* IMR cleared by init */
    irq_raise(i8259_irq(f->pic, 1));
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(inb(f->m, 0x20), 0x02); /* IRR */
    assert_int_equal(i8259_ack(f->pic), 0x21);
    assert_int_equal(f->intr.level, 0);
    assert_int_equal(read_isr(f->m, 0x20), 0x02);
    outb(f->m, 0x20, 0x20); /* non-specific EOI */
    assert_int_equal(read_isr(f->m, 0x20), 0x00);
    assert_int_equal(f->intr.level, 0); /* the edge was consumed */
}

static void test_priority_and_nesting(void **state)
{
    Fixture *f = *state;
    irq_raise(i8259_irq(f->pic, 3));
    irq_raise(i8259_irq(f->pic, 1));
    assert_int_equal(i8259_ack(f->pic), 0x21);
    /* IRQ3 has lower priority than IRQ1 in service */
    assert_int_equal(f->intr.level, 0);
    /* IRQ0 has higher priority: it nests */
    irq_raise(i8259_irq(f->pic, 0));
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x20);
    assert_int_equal(read_isr(f->m, 0x20), 0x03);
    outb(f->m, 0x20, 0x20); /* ends IRQ0, the highest in service */
    assert_int_equal(read_isr(f->m, 0x20), 0x02);
    assert_int_equal(f->intr.level, 0);
    outb(f->m, 0x20, 0x61); /* specific EOI for IRQ1 */
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x23);
}

static void test_masking(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x21, 0x10);
    irq_raise(i8259_irq(f->pic, 4));
    assert_int_equal(f->intr.level, 0);
    assert_int_equal(inb(f->m, 0x20) & 0x10, 0x10); /* still requested */
    outb(f->m, 0x21, 0x00);
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x24);
}

static void test_cascade(void **state)
{
    Fixture *f = *state;
    irq_raise(i8259_irq(f->pic, 10));
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x2a);
    assert_int_equal(read_isr(f->m, 0x20), 0x04);
    assert_int_equal(read_isr(f->m, 0xa0), 0x04);
    /* A slave request masked at the slave does not reach the master */
    outb(f->m, 0xa1, 0x08);
    irq_raise(i8259_irq(f->pic, 11));
    outb(f->m, 0xa0, 0x20);
    outb(f->m, 0x20, 0x20);
    assert_int_equal(f->intr.level, 0);
    outb(f->m, 0xa1, 0x00);
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x2b);
}

static void test_spurious_irq7(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x4d0, 0x20); /* IRQ5 level-sensed */
    irq_raise(i8259_irq(f->pic, 5));
    assert_int_equal(f->intr.level, 1);
    irq_lower(i8259_irq(f->pic, 5)); /* withdrawn before INTA */
    assert_int_equal(f->intr.level, 0);
    assert_int_equal(i8259_ack(f->pic), 0x27);
    assert_int_equal(read_isr(f->m, 0x20), 0x00);
}

static void test_level_via_elcr(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x4d0, 0xff);
    assert_int_equal(inb(f->m, 0x4d0), 0xf8); /* IRQ0-2 are always edge */
    outb(f->m, 0x4d1, 0xff);
    assert_int_equal(inb(f->m, 0x4d1), 0xde); /* IRQ8, IRQ13 too */
    outb(f->m, 0x4d1, 0x08); /* IRQ11 level */
    IrqLine *l = i8259_irq(f->pic, 11);
    irq_raise(l);
    assert_int_equal(i8259_ack(f->pic), 0x2b);
    outb(f->m, 0xa0, 0x20);
    outb(f->m, 0x20, 0x20);
    assert_int_equal(f->intr.level, 1); /* still asserted: again */
    assert_int_equal(i8259_ack(f->pic), 0x2b);
    irq_lower(l);
    outb(f->m, 0xa0, 0x20);
    outb(f->m, 0x20, 0x20);
    assert_int_equal(f->intr.level, 0);
}

static void test_edge_needs_new_edge(void **state)
{
    Fixture *f = *state;
    IrqLine *l = i8259_irq(f->pic, 3);
    irq_pulse(l); /* a pulse is latched */
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x23);
    irq_pulse(l); /* the same IRQ again waits for the EOI */
    assert_int_equal(f->intr.level, 0);
    outb(f->m, 0x20, 0x20);
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x23);
    outb(f->m, 0x20, 0x20);
    irq_lower(l);
    irq_raise(l);
    assert_int_equal(i8259_ack(f->pic), 0x23);
    outb(f->m, 0x20, 0x20);
    irq_raise(l); /* no new edge: nothing */
    assert_int_equal(f->intr.level, 0);
}

static void test_auto_eoi(void **state)
{
    Fixture *f = *state;
    pic_program(f->m, 0x03);
    irq_raise(i8259_irq(f->pic, 6));
    assert_int_equal(i8259_ack(f->pic), 0x26);
    assert_int_equal(read_isr(f->m, 0x20), 0x00);
    irq_raise(i8259_irq(f->pic, 7));
    assert_int_equal(f->intr.level, 1); /* nothing in service blocks it */
}

static void test_rotation(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x20, 0xc4); /* IRQ4 lowest, so IRQ5 highest */
    irq_raise(i8259_irq(f->pic, 0));
    irq_raise(i8259_irq(f->pic, 5));
    assert_int_equal(i8259_ack(f->pic), 0x25);
    outb(f->m, 0x20, 0xa0); /* rotate on non-specific EOI: 5 is lowest */
    assert_int_equal(i8259_ack(f->pic), 0x20);
    outb(f->m, 0x20, 0x20);
    irq_raise(i8259_irq(f->pic, 5));
    irq_raise(i8259_irq(f->pic, 3));
    assert_int_equal(i8259_ack(f->pic), 0x23);
}

static void test_poll_mode(void **state)
{
    Fixture *f = *state;
    outb(f->m, 0x20, 0x0c); /* OCW3 poll */
    assert_int_equal(inb(f->m, 0x20) & 0x80, 0); /* nothing pending */
    irq_raise(i8259_irq(f->pic, 4));
    outb(f->m, 0x20, 0x0c);
    assert_int_equal(inb(f->m, 0x20), 0x84);
    assert_int_equal(read_isr(f->m, 0x20), 0x10);
}

static void test_special_mask_mode(void **state)
{
    Fixture *f = *state;
    irq_raise(i8259_irq(f->pic, 1));
    assert_int_equal(i8259_ack(f->pic), 0x21);
    irq_raise(i8259_irq(f->pic, 3));
    assert_int_equal(f->intr.level, 0);
    outb(f->m, 0x21, 0x02); /* mask the level in service */
    outb(f->m, 0x20, 0x68); /* set special mask mode */
    assert_int_equal(f->intr.level, 1);
    assert_int_equal(i8259_ack(f->pic), 0x23);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_masks_everything),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_init_vector_and_eoi),
        T(test_priority_and_nesting),
        T(test_masking),
        T(test_cascade),
        T(test_spurious_irq7),
        T(test_level_via_elcr),
        T(test_edge_needs_new_edge),
        T(test_auto_eoi),
        T(test_rotation),
        T(test_poll_mode),
        T(test_special_mask_mode),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
