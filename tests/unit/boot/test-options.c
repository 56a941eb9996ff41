/*
 * The command-line parser: QEMU spellings, defaults, and one clear error for
 * each kind of bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "system/options.h"

static bool parse(Options *o, OptAction *act, GError **err, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    argv[argc++] = (char *)"kestrel";
    for (char *a; (a = va_arg(ap, char *)) != NULL;) {
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    return options_parse(o, argc, argv, act, err);
}

static void test_defaults(void **state)
{
    Options o;
    OptAction act;
    assert_true(parse(&o, &act, NULL, NULL));
    assert_int_equal(act, OPT_RUN);
    assert_int_equal(o.ram_size, 128ull << 20);
    assert_int_equal(o.smp, 1);
    assert_null(o.accel);
    assert_true(o.kernel_irqchip);
    assert_true(o.hpet);
    assert_string_equal(o.machine, "pc");
}

static void test_qemu_spellings(void **state)
{
    Options o;
    OptAction act;
    char accel[] = "kvm,kernel-irqchip=off";
    char machine[] = "pc,accel=tcg";
    assert_true(parse(&o, &act, NULL, "-m", "2G", "-smp", "cpus=4", "-accel", accel,
                      "-kernel", "k", "-initrd", "i", "-append", "console=ttyS0",
                      "-nographic", "-no-reboot", "-S", "--serial", "pty",
                      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL));
    assert_int_equal(o.ram_size, 2ull << 30);
    assert_int_equal(o.smp, 4);
    assert_string_equal(o.accel, "kvm");
    assert_false(o.kernel_irqchip);
    assert_string_equal(o.kernel, "k");
    assert_string_equal(o.append, "console=ttyS0");
    assert_true(o.nographic && o.no_reboot && o.start_paused);
    assert_int_equal(o.nr_serial, 1);
    assert_string_equal(o.serial[0], "pty");
    assert_int_equal(o.nr_devices, 1);
    assert_true(parse(&o, &act, NULL, "-enable-kvm", "-M", machine, "-m", "512", NULL));
    assert_string_equal(o.accel, "tcg"); /* the later option wins */
    assert_int_equal(o.ram_size, 512ull << 20);
    assert_true(parse(&o, &act, NULL, "-smp", "2", "-m", "size=1536M", NULL));
    assert_int_equal(o.smp, 2);
    assert_int_equal(o.ram_size, 1536ull << 20);
    char no_hpet[] = "pc,hpet=off";
    assert_true(parse(&o, &act, NULL, "-machine", no_hpet, NULL));
    assert_false(o.hpet);
    assert_true(parse(&o, &act, NULL, "-no-hpet", NULL));
    assert_false(o.hpet);
    char tcg[] = "tcg,jit=off,tb-size=64";
    assert_true(parse(&o, &act, NULL, "-accel", tcg, NULL));
    assert_false(o.jit);
    assert_int_equal(o.tb_size_mib, 64);
    assert_true(parse(&o, &act, NULL, "-accel", "tcg", NULL));
    assert_true(o.jit);
    assert_int_equal(o.tb_size_mib, 0); /* tcg's default */
}

static void expect_error(const char *needle, ...)
{
    char *argv[48];
    int argc = 0;
    va_list ap;
    va_start(ap, needle);
    argv[argc++] = (char *)"kestrel";
    for (char *a; (a = va_arg(ap, char *)) != NULL;) {
        argv[argc++] = a;
    }
    va_end(ap);
    Options o;
    OptAction act;
    GError *err = NULL;
    assert_false(options_parse(&o, argc, argv, &act, &err));
    assert_non_null(err);
    if (!strstr(err->message, needle)) {
        fail_msg("'%s' not in '%s'", needle, err->message);
    }
    assert_null(strchr(err->message, '\n'));
    g_error_free(err);
}

static void test_errors(void **state)
{
    expect_error("unknown option '-frobnicate'", "-frobnicate", NULL);
    expect_error("needs an argument", "-m", NULL);
    expect_error("invalid size", "-m", "lots", NULL);
    expect_error("invalid size", "-m", "12Q", NULL);
    expect_error("too small", "-m", "1M", NULL);
    expect_error("1 to 64", "-smp", "0", NULL);
    expect_error("1 to 64", "-smp", "65", NULL);
    expect_error("invalid accelerator", "-accel", "hax", NULL);
    expect_error("unsupported machine", "-M", "q35", NULL);
    expect_error("only allowed with -kernel", "-initrd", "x", NULL);
    expect_error("hpet expects on or off", "-machine", "pc,hpet=2", NULL);
    expect_error("kernel-irqchip expects on or off", "-accel", "kvm,kernel-irqchip=maybe", NULL);
    expect_error("tb-size '0' is not a size in MiB", "-accel", "tcg,tb-size=0", NULL);
    expect_error("tb-size '8M' is not a size in MiB", "-accel", "tcg,tb-size=8M", NULL);
    expect_error("tb-size '5000' is not a size in MiB", "-accel", "tcg,tb-size=5000", NULL);
    expect_error("-drive: at most 16 drives", "-drive", "file=a", "-drive", "file=a",
                 "-drive", "file=a", "-drive", "file=a", "-drive", "file=a",
                 "-drive", "file=a", "-drive", "file=a", "-drive", "file=a",
                 "-drive", "file=a", "-drive", "file=a", "-drive", "file=a",
                 "-hda", "a", "-hdb", "b", "-hdc", "c", "-hdd", "d", "-cdrom", "e",
                 "-drive", "file=a", NULL);
}

static void test_drive_options(void **state)
{
    Options o;
    OptAction act;
    assert_true(parse(&o, &act, NULL, "-drive", "file=x.img,if=virtio", "-hdb", "a,b.img",
                      "-cdrom", "cd.iso", "-snapshot", "lone.img", NULL));
    assert_int_equal(o.nr_drives, 4);
    assert_string_equal(o.drives[0], "file=x.img,if=virtio");
    assert_string_equal(o.drives[1], "file=a,,b.img,index=1,media=disk");
    assert_string_equal(o.drives[2], "file=cd.iso,index=2,media=cdrom");
    assert_string_equal(o.drives[3], "file=lone.img,index=0,media=disk");
    assert_true(o.snapshot);
}

static void test_help_actions(void **state)
{
    Options o;
    OptAction act;
    assert_true(parse(&o, &act, NULL, "-device", "help", NULL));
    assert_int_equal(act, OPT_DEVICE_HELP);
    assert_true(parse(&o, &act, NULL, "-device", "isa-serial,help", NULL));
    assert_int_equal(act, OPT_DEVICE_HELP);
    assert_string_equal(o.devices[0], "isa-serial,help");
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    assert_true(parse(&o, &act, NULL, "--help", NULL));
    fclose(stdout);
    stdout = saved;
    assert_int_equal(act, OPT_EXIT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_qemu_spellings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_drive_options),
        cmocka_unit_test(test_help_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
