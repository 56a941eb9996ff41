/*
 * -drive: the option parser (spellings, defaults, bad values), and opening
 * drives for a machine: default ids and IDE numbering, format probing,
 * read-only and snapshot modes, image locking between two users of one
 * image, and the start-up check that every drive has a device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "block/block-backend.h"
#include "block/image-lock.h"
#include "hw/machine.h"
#include "system/drive.h"

static void test_parse_full(void **state)
{
    DriveOptions o;
    GError *err = NULL;
    assert_true(drive_parse("file=a,,b.qcow2,format=qcow2,if=virtio,"
                            "readonly=on,cache=none,index=3,id=disk0,"
                            "snapshot=on,discard=unmap,aio=threads",
                            &o, &err));
    assert_null(err);
    assert_string_equal(o.file, "a,b.qcow2");
    assert_string_equal(o.format, "qcow2");
    assert_int_equal(o.iface, DRIVE_IF_VIRTIO);
    assert_true(o.read_only);
    assert_string_equal(o.cache, "none");
    assert_int_equal(o.index, 3);
    assert_string_equal(o.id, "disk0");
    assert_true(o.snapshot);
    assert_true(o.discard_unmap);
    drive_options_clear(&o);
}

static void test_parse_defaults(void **state)
{
    DriveOptions o;
    assert_true(drive_parse("file=x.img", &o, NULL));
    assert_int_equal(o.iface, DRIVE_IF_IDE); /* QEMU's default on pc */
    assert_int_equal(o.media, DRIVE_MEDIA_DISK);
    assert_int_equal(o.index, -1);
    assert_null(o.format);
    assert_null(o.id);
    assert_false(o.read_only);
    drive_options_clear(&o);

    assert_true(drive_parse("if=ide,bus=1,unit=1,file=x", &o, NULL));
    assert_int_equal(o.index, 3);
    drive_options_clear(&o);

    /* A CD-ROM is read-only and may be empty. */
    assert_true(drive_parse("media=cdrom,if=ide", &o, NULL));
    assert_true(o.read_only);
    assert_null(o.file);
    drive_options_clear(&o);
}

static void expect_parse_error(const char *spec, const char *needle)
{
    DriveOptions o;
    GError *err = NULL;
    assert_false(drive_parse(spec, &o, &err));
    assert_non_null(err);
    if (!strstr(err->message, needle)) {
        fail_msg("'%s': message '%s' lacks '%s'", spec, err->message, needle);
    }
    assert_null(o.file);
    g_error_free(err);
}

static void test_parse_errors(void **state)
{
    expect_parse_error("file=x,format=vmdk", "unknown format 'vmdk'");
    expect_parse_error("file=x,if=scsi", "unsupported interface if=scsi");
    expect_parse_error("file=x,media=tape", "media=tape");
    expect_parse_error("file=x,readonly=maybe", "readonly expects on or off");
    expect_parse_error("file=x,cache=sometimes", "cache=sometimes");
    expect_parse_error("file=x,index=-1", "index expects a number");
    expect_parse_error("file=x,index=4", "at most 4 IDE drives");
    expect_parse_error("file=x,bus=2", "bus 0-1");
    expect_parse_error("file=x,if=virtio,bus=0", "for if=ide only");
    expect_parse_error("file=x,index=0,bus=0,unit=1", "cannot be used with");
    expect_parse_error("file=x,colour=blue", "unknown parameter 'colour'");
    expect_parse_error("file=x,id=9lives", "must start with a letter");
    expect_parse_error("file=x,id=a/b", "may only hold");
    expect_parse_error("x.img", "needs a value");
    expect_parse_error("if=virtio", "a disk needs file=");
    expect_parse_error("file=x,if=virtio,media=cdrom", "media=cdrom needs if=ide");
    expect_parse_error("file=x,aio=native", "aio=threads");
}

/* ---- opening drives on a bare machine ---- */

typedef struct Fixture {
    Machine m;
    char dir[64];
    char raw[96];
    char qcow2[96];
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    strcpy(f->dir, "/tmp/kestrel-drive-XXXXXX");
    assert_non_null(g_mkdtemp(f->dir));
    snprintf(f->raw, sizeof(f->raw), "%s/disk.raw", f->dir);
    snprintf(f->qcow2, sizeof(f->qcow2), "%s/disk.qcow2", f->dir);
    BlockCreateOptions co = { .size = 1 << 20 };
    assert_int_equal(bdrv_create("raw", f->raw, &co, NULL), 0);
    assert_int_equal(bdrv_create("qcow2", f->qcow2, &co, NULL), 0);
    f->m.ctx = g_main_context_default();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    drives_close_all(&f->m);
    unlink(f->raw);
    unlink(f->qcow2);
    rmdir(f->dir);
    g_free(f);
    return 0;
}

static bool open_specs(Fixture *f, bool snapshot, GError **err, ...)
{
    const char *specs[8];
    unsigned n = 0;
    va_list ap;
    va_start(ap, err);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        specs[n++] = s;
    }
    va_end(ap);
    return drives_open(&f->m, specs, n, snapshot, err);
}

static void test_open_ids_and_probe(void **state)
{
    Fixture *f = *state;
    char *a = g_strdup_printf("file=%s", f->qcow2);
    char *b = g_strdup_printf("file=%s,format=raw,if=virtio", f->raw);
    char *ro = g_strdup_printf("%s/ro.raw", f->dir);
    BlockCreateOptions co = { .size = 1 << 20 };
    assert_int_equal(bdrv_create("raw", ro, &co, NULL), 0);
    char *c = g_strdup_printf("file=%s,format=raw,if=ide,readonly=on", ro);
    char *d = g_strdup_printf("media=cdrom,index=3");
    GError *err = NULL;
    assert_true(open_specs(f, false, &err, a, b, c, d, NULL));
    assert_null(err);
    assert_int_equal(f->m.nr_drives, 4);

    Drive *hd0 = drive_find(&f->m, "ide0-hd0");
    assert_non_null(hd0);
    assert_string_equal(hd0->format, "qcow2"); /* probed */
    assert_int_equal(hd0->index, 0);
    assert_non_null(hd0->blk);
    Drive *hd1 = drive_find(&f->m, "ide0-hd1");
    assert_non_null(hd1);
    assert_true(hd1->read_only);
    assert_true(blk_is_read_only(hd1->blk));
    Drive *cd = drive_find(&f->m, "ide1-cd1");
    assert_non_null(cd);
    assert_null(cd->blk); /* empty CD-ROM drive */
    Drive *v0 = drive_find(&f->m, "virtio0");
    assert_non_null(v0);
    assert_int_equal(blk_getlength(v0->blk), 1 << 20);

    /* IDE drives in index order. */
    assert_ptr_equal(drive_next(&f->m, DRIVE_IF_IDE, NULL), hd0);
    assert_ptr_equal(drive_next(&f->m, DRIVE_IF_IDE, hd0), hd1);
    assert_ptr_equal(drive_next(&f->m, DRIVE_IF_IDE, hd1), cd);
    assert_null(drive_next(&f->m, DRIVE_IF_IDE, cd));
    assert_ptr_equal(drive_find_by_index(&f->m, DRIVE_IF_IDE, 3), cd);

    /* Nobody claimed them: start-up must fail, naming an IDE unit. */
    assert_false(drives_check_claimed(&f->m, &err));
    assert_non_null(strstr(err->message, "if=ide,bus=0,unit=0"));
    g_clear_error(&err);
    drives_close_all(&f->m);
    unlink(ro);
    g_free(ro);
    g_free(a);
    g_free(b);
    g_free(c);
    g_free(d);
}

static void test_claims(void **state)
{
    Fixture *f = *state;
    char *a = g_strdup_printf("file=%s,format=raw,if=none,id=data", f->raw);
    GError *err = NULL;
    assert_true(open_specs(f, false, &err, a, NULL));
    static const DeviceClass cls = { .name = "test-disk" };
    Device dev1 = { .cls = &cls, .id = (char *)"one" };
    Device dev2 = { .cls = &cls, .id = (char *)"two" };
    assert_false(drives_check_claimed(&f->m, &err));
    assert_non_null(strstr(err->message, "'data' is not used by any device"));
    g_clear_error(&err);
    assert_null(drive_claim_by_id(&f->m, "nosuch", &dev1, &err));
    assert_non_null(strstr(err->message, "no drive with id 'nosuch'"));
    g_clear_error(&err);
    Drive *d = drive_claim_by_id(&f->m, "data", &dev1, &err);
    assert_non_null(d);
    assert_ptr_equal(d->claimed_by, &dev1);
    assert_null(drive_claim_by_id(&f->m, "data", &dev2, &err));
    assert_non_null(strstr(err->message, "already in use by device 'one'"));
    g_clear_error(&err);
    assert_true(drives_check_claimed(&f->m, &err));
    g_free(a);
}

static void test_index_conflicts(void **state)
{
    Fixture *f = *state;
    char *a = g_strdup_printf("file=%s,format=raw,index=1", f->raw);
    char *b = g_strdup_printf("file=%s,format=qcow2,bus=0,unit=1", f->qcow2);
    GError *err = NULL;
    assert_false(open_specs(f, false, &err, a, b, NULL));
    assert_non_null(strstr(err->message, "bus=0, unit=1 (index=1) exists"));
    g_clear_error(&err);
    char *c = g_strdup_printf("file=%s,format=qcow2,if=none,id=ide0-hd1",
                              f->qcow2);
    assert_false(open_specs(f, false, &err, c, NULL));
    assert_non_null(strstr(err->message, "duplicate drive id 'ide0-hd1'"));
    g_clear_error(&err);
    g_free(a);
    g_free(b);
    g_free(c);
}

static void test_locking(void **state)
{
    Fixture *f = *state;
    char *w = g_strdup_printf("file=%s,format=raw,if=none,id=w", f->raw);
    char *r = g_strdup_printf("file=%s,format=raw,if=none,readonly=on,id=r",
                              f->raw);
    GError *err = NULL;
    /* Writer first: a second writer and a reader are refused. */
    assert_true(open_specs(f, false, &err, w, NULL));
    char *w2 = g_strdup_printf("file=%s,format=raw,if=none,id=w2", f->raw);
    assert_false(open_specs(f, false, &err, w2, NULL));
    assert_non_null(strstr(err->message, "Failed to get \"write\" lock"));
    g_clear_error(&err);
    assert_false(open_specs(f, false, &err, r, NULL));
    assert_non_null(strstr(err->message, "Failed to get shared \"write\" lock"));
    g_clear_error(&err);
    /* The same image under -snapshot only reads it: refused too, since the
     * writer could change it under the overlay. */
    char *s = g_strdup_printf("file=%s,format=raw,if=none,id=s", f->raw);
    assert_false(open_specs(f, true, &err, s, NULL));
    g_clear_error(&err);
    drives_close_all(&f->m);

    /* Readers share; a writer is refused while they hold it. */
    char *r2 = g_strdup_printf("file=%s,format=raw,if=none,readonly=on,id=r2",
                               f->raw);
    assert_true(open_specs(f, false, &err, r, r2, NULL));
    assert_false(open_specs(f, false, &err, w, NULL));
    assert_non_null(strstr(err->message, "Failed to get \"write\" lock"));
    g_clear_error(&err);
    drives_close_all(&f->m);

    /* Closing releases: the writer gets it now. */
    assert_true(open_specs(f, false, &err, w, NULL));
    /* And a backing file is locked for reading by its overlay's user. */
    g_free(w);
    g_free(w2);
    g_free(r);
    g_free(r2);
    g_free(s);
}

static void test_backing_locked(void **state)
{
    Fixture *f = *state;
    char *top = g_strdup_printf("%s/top.qcow2", f->dir);
    BlockCreateOptions co = { .size = 1 << 20, .backing_file = f->raw,
                              .backing_format = "raw" };
    assert_int_equal(bdrv_create("qcow2", top, &co, NULL), 0);
    char *spec = g_strdup_printf("file=%s,format=qcow2,if=none,id=top", top);
    GError *err = NULL;
    assert_true(open_specs(f, false, &err, spec, NULL));
    ImageLock *l = image_lock(f->raw, true, &err);
    assert_null(l);
    assert_non_null(strstr(err->message, "Failed to get \"write\" lock"));
    g_clear_error(&err);
    drives_close_all(&f->m);
    l = image_lock(f->raw, true, &err);
    assert_non_null(l);
    image_unlock(l);
    unlink(top);
    g_free(top);
    g_free(spec);
}

static void test_snapshot_leaves_image(void **state)
{
    Fixture *f = *state;
    char *spec = g_strdup_printf("file=%s,format=raw,if=none,id=s", f->raw);
    GError *err = NULL;
    assert_true(open_specs(f, true, &err, spec, NULL));
    Drive *d = drive_find(&f->m, "s");
    assert_string_equal(d->format, "raw");
    uint8_t buf[512];
    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(blk_pwrite(d->blk, 0, buf, sizeof(buf), NULL), 0);
    uint8_t back[512];
    assert_int_equal(blk_pread(d->blk, 0, back, sizeof(back), NULL), 0);
    assert_memory_equal(buf, back, sizeof(buf));
    drives_close_all(&f->m);
    /* The image itself still reads zeroes. */
    FILE *fp = fopen(f->raw, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(back, 1, sizeof(back), fp), sizeof(back));
    fclose(fp);
    for (size_t i = 0; i < sizeof(back); i++) {
        assert_int_equal(back[i], 0);
    }
    g_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test_setup_teardown(test_open_ids_and_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_leaves_image, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
