/*
 * The device core: defaults, -device property parsing, errors, realize/reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/device.h"

typedef struct Widget {
    Device parent;
    uint16_t iobase;
    uint32_t irq;
    bool fifo;
    char *chardev;
    unsigned resets;
} Widget;

static bool widget_realize(Device *dev, GError **errp)
{
    Widget *w = (Widget *)dev;
    if (w->irq > 15) {
        g_set_error(errp, g_quark_from_static_string("t"), 0, "irq too big");
        return false;
    }
    return true;
}

static void widget_reset(Device *dev)
{
    ((Widget *)dev)->resets++;
}

static const Property widget_props[] = {
    DEFINE_PROP_U16(Widget, "iobase", iobase, "0x3f8", "I/O base"),
    DEFINE_PROP_U32(Widget, "irq", irq, "4", "IRQ"),
    DEFINE_PROP_BOOL(Widget, "fifo", fifo, "on", "FIFO"),
    DEFINE_PROP_STRING(Widget, "chardev", chardev, NULL, "backend"),
    DEFINE_PROP_END,
};

static const DeviceClass widget_class = {
    .name = "widget",
    .instance_size = sizeof(Widget),
    .props = widget_props,
    .realize = widget_realize,
    .reset = widget_reset,
};

static const DeviceClass *const table[] = { &widget_class, NULL };

static void test_defaults_and_props(void **state)
{
    assert_ptr_equal(device_class_find(table, "widget"), &widget_class);
    assert_null(device_class_find(table, "gadget"));
    Widget *w = (Widget *)device_new(&widget_class, NULL, NULL);
    assert_int_equal(w->iobase, 0x3f8);
    assert_int_equal(w->irq, 4);
    assert_true(w->fifo);
    assert_null(w->chardev);
    assert_true(device_set_props(&w->parent, "iobase=0x2f8,irq=3,fifo=off,chardev=s1,id=com2", NULL));
    assert_int_equal(w->iobase, 0x2f8);
    assert_int_equal(w->irq, 3);
    assert_false(w->fifo);
    assert_string_equal(w->chardev, "s1");
    assert_string_equal(w->parent.id, "com2");
    assert_true(device_realize(&w->parent, NULL));
    assert_int_equal(w->resets, 1);
    device_reset(&w->parent);
    assert_int_equal(w->resets, 2);
    device_free(&w->parent);
}

static void test_bad_props(void **state)
{
    Widget *w = (Widget *)device_new(&widget_class, NULL, NULL);
    GError *err = NULL;
    assert_false(device_set_props(&w->parent, "colour=red", &err));
    assert_non_null(strstr(err->message, "no property 'colour'"));
    g_clear_error(&err);
    assert_false(device_set_props(&w->parent, "iobase=0x10000", &err));
    assert_non_null(strstr(err->message, "iobase"));
    g_clear_error(&err);
    assert_false(device_set_props(&w->parent, "irq=-1", &err));
    g_clear_error(&err);
    assert_false(device_set_props(&w->parent, "fifo=maybe", &err));
    g_clear_error(&err);
    assert_false(device_set_props(&w->parent, "irq", &err));
    g_clear_error(&err);
    assert_true(device_set_props(&w->parent, "irq=99", NULL));
    assert_false(device_realize(&w->parent, &err));
    assert_string_equal(err->message, "irq too big");
    g_clear_error(&err);
    device_free(&w->parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_props),
        cmocka_unit_test(test_bad_props),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
