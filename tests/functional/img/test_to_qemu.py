"""Images made and changed by Kestrel pass qemu-img check and compare equal
to the data written, as qemu-img reads them.

Writes go through the block layer's device API (img-writer, asynchronous
requests on a main loop); images are also made by kestrel-img create,
convert (plain and -c), snapshot, resize, commit and rebase.
"""
import os
import random

from imgtest import (Mirror, check, finish, kestrel_raw, kimg, need_tools,
                     qemu_check_ok, qemu_compare_ok, qemu_raw, qimg, qio,
                     read_file, sha, workdir, writer)

need_tools()
MB = 1 << 20


def random_ops(mirror, rng, count, max_len, align=1):
    ops = []
    size = len(mirror.data)
    for _ in range(count):
        length = rng.randrange(1, max_len // align + 1) * align
        off = rng.randrange(0, (size - length) // align + 1) * align
        if rng.random() < 0.8:
            ops.append(mirror.write(off, length, rng.randrange(1, 256)))
        else:
            ops.append(mirror.zero(off, length))
    return ops


with workdir() as d:
    rng = random.Random(4)
    expect = os.path.join(d, "expect.raw")

    # Writes of every size and alignment on many qcow2 layouts.
    configs = [
        ("v3", "compat=1.1"), ("v2", "compat=0.10"),
        ("c512", "cluster_size=512"), ("c4k", "cluster_size=4k"),
        ("c2M", "cluster_size=2M"), ("rc1", "refcount_bits=1"),
        ("rc8", "refcount_bits=8"), ("rc64", "refcount_bits=64"),
        ("lazy", "lazy_refcounts=on"),
        ("prealloc", "preallocation=metadata"),
    ]
    for label, opt in configs:
        img = os.path.join(d, label + ".qcow2")
        kimg("create", "-q", "-f", "qcow2", "-o", opt, img, "24M")
        m = Mirror(24 * MB)
        writer(img, *random_ops(m, rng, 40, 700 * 1024))
        writer(img, *random_ops(m, rng, 20, 9000), "f")
        qemu_check_ok(img)
        qemu_compare_ok(img, m.save(expect))
        check(kestrel_raw(img) == bytes(m.data),
              "%s: kestrel reads back other data than it wrote" % label)

    # Many requests in flight at once through the worker threads.
    for fmt in ("qcow2", "raw"):
        img = os.path.join(d, "parallel." + fmt)
        kimg("create", "-q", "-f", fmt, img, "32M")
        m = Mirror(32 * MB)
        ops = [m.write(i * 512 * 1024 + 4096, 300 * 1024, (i * 7) % 251 + 1)
               for i in range(60)]
        writer(img, *ops, "f", format=fmt, parallel=True)
        if fmt == "qcow2":
            qemu_check_ok(img)
        p = qimg("compare", "-f", fmt, img, "-F", "raw", m.save(expect),
                 ok=None)
        check(p.returncode == 0, "parallel %s writes differ: %s"
              % (fmt, p.out))

    # Discards: qcow2 frees clusters (reads zero), raw punches holes.
    img = os.path.join(d, "discard.qcow2")
    kimg("create", "-q", "-f", "qcow2", img, "16M")
    m = Mirror(16 * MB)
    writer(img, m.write(0, 8 * MB, 0x5a), "f")
    before = os.path.getsize(img)
    writer(img, "d:%d:%d" % (MB, 4 * MB), "f")
    m.zero(MB, 4 * MB)
    qemu_check_ok(img)
    qemu_compare_ok(img, m.save(expect))
    writer(img, m.write(10 * MB, 2 * MB, 0x6b), "f")
    check(os.path.getsize(img) <= before,
          "freed clusters were not reused (file grew from %d to %d)"
          % (before, os.path.getsize(img)))
    qemu_check_ok(img)
    raw = os.path.join(d, "discard.raw")
    kimg("create", "-q", "-f", "raw", raw, "16M")
    writer(raw, "w:0:%d:7" % (8 * MB), "f", format="raw")
    used = os.stat(raw).st_blocks
    writer(raw, "d:0:%d" % (4 * MB), "f", format="raw")
    check(os.stat(raw).st_blocks < used, "raw discard did not punch a hole")

    # cache=none (O_DIRECT) and snapshot=on (throw-away overlay).
    img = os.path.join(d, "direct.qcow2")
    kimg("create", "-q", "-f", "qcow2", img, "8M")
    m = Mirror(8 * MB)
    p = writer(img, *random_ops(m, rng, 30, 200000), cache="none", ok=None)
    if p.returncode == 0:
        qemu_check_ok(img)
        qemu_compare_ok(img, m.save(expect))
    else:
        print("note: cache=none unavailable here: " + p.err.strip())
    digest = sha(img)
    writer(img, "w:0:1048576:99", "f", snapshot=True)
    check(sha(img) == digest, "snapshot=on changed the image file")

    # convert from a mixed raw file, plain and compressed, several layouts.
    src = os.path.join(d, "mixed.raw")
    data = bytearray(20 * MB)
    for i in range(0, len(data), 256 * 1024):
        kind = (i // (256 * 1024)) % 4
        if kind == 1:
            data[i:i + 256 * 1024] = rng.randbytes(256 * 1024)
        elif kind == 2:
            data[i:i + 256 * 1024] = (b"kestrel %08d " % i) * (256 * 1024 // 17) \
                + bytes(256 * 1024 % 17)
        elif kind == 3:
            data[i + 1000:i + 1100] = b"\x01" * 100
    with open(src, "wb") as f:
        f.write(data)
    for opts in (["-O", "qcow2"], ["-c", "-O", "qcow2"],
                 ["-O", "qcow2", "-o", "cluster_size=512"],
                 ["-c", "-O", "qcow2", "-o", "cluster_size=2M,compat=0.10"],
                 ["-O", "raw"], ["-S", "0", "-O", "qcow2"]):
        out = os.path.join(d, "conv.img")
        kimg("convert", *opts, src, out)
        fmt = "raw" if opts[-1] == "raw" else "qcow2"
        if fmt == "qcow2":
            qemu_check_ok(out)
        p = qimg("compare", "-f", fmt, out, "-F", "raw", src, ok=None)
        check(p.returncode == 0, "convert %s: qemu-img compare says %s"
              % (" ".join(opts), p.out.strip()))
        os.unlink(out)
    comp = os.path.join(d, "comp.qcow2")
    kimg("convert", "-c", "-O", "qcow2", src, comp)
    check(os.path.getsize(comp) < len(data) // 2,
          "convert -c did not compress (%d bytes)" % os.path.getsize(comp))
    # Overwriting compressed clusters reuses their space correctly.
    m = Mirror(len(data))
    m.data[:] = data
    writer(comp, *random_ops(m, rng, 30, 100000), "f")
    qemu_check_ok(comp)
    qemu_compare_ok(comp, m.save(expect))

    # Internal snapshots made by kestrel-img, read by qemu-img.
    img = os.path.join(d, "snap.qcow2")
    kimg("create", "-q", "-f", "qcow2", img, "16M")
    m = Mirror(16 * MB)
    writer(img, *random_ops(m, rng, 20, 500000))
    state1 = bytes(m.data)
    kimg("snapshot", "-c", "first", img)
    writer(img, *random_ops(m, rng, 20, 500000))
    kimg("snapshot", "-c", "second", img)
    state2 = bytes(m.data)
    writer(img, *random_ops(m, rng, 20, 500000))
    qemu_check_ok(img)
    qemu_compare_ok(img, m.save(expect))
    listing = qimg("snapshot", "-l", img).out
    check("first" in listing and "second" in listing,
          "qemu-img does not list kestrel's snapshots: " + listing)
    s1 = os.path.join(d, "s1.raw")
    qimg("convert", "-l", "snapshot.name=first", "-O", "raw", img, s1)
    check(read_file(s1) == state1, "qemu reads other data in snapshot 'first'")
    kimg("snapshot", "-a", "second", img)
    qemu_check_ok(img)
    check(qemu_raw(img) == state2, "after applying 'second' the data differs")
    kimg("snapshot", "-d", "first", img)
    qemu_check_ok(img)
    check(qemu_raw(img) == state2, "deleting 'first' changed the data")
    kimg("snapshot", "-d", "second", img)
    qemu_check_ok(img)
    m.data[:] = state2
    writer(img, *random_ops(m, rng, 10, 500000), "f")
    qemu_check_ok(img)
    qemu_compare_ok(img, m.save(expect))

    # Resize: grow (new space reads zero), shrink with --shrink.
    for fmt in ("qcow2", "raw"):
        img = os.path.join(d, "resize." + fmt)
        kimg("create", "-q", "-f", fmt, img, "10M")
        m = Mirror(10 * MB)
        writer(img, m.write(9 * MB, MB, 0x42), "f", format=fmt)
        check(kimg("resize", "-f", fmt, img, "+30M").out == "Image resized.\n",
              "resize did not say 'Image resized.'")
        m.resize(40 * MB)
        writer(img, m.write(39 * MB, 512 * 1024, 0x43), "f", format=fmt)
        p = kimg("resize", "-f", fmt, img, "20M", ok=None)
        check(p.returncode == 1 and "--shrink" in p.err,
              "shrink without --shrink was not refused")
        kimg("resize", "-f", fmt, "--shrink", img, "9437696")
        m.resize(9437696)
        kimg("resize", "-f", fmt, img, "12M")
        m.resize(12 * MB)
        if fmt == "qcow2":
            qemu_check_ok(img)
        p = qimg("compare", "-f", fmt, img, "-F", "raw", m.save(expect),
                 ok=None)
        check(p.returncode == 0, "resize %s: %s" % (fmt, p.out.strip()))

    # Backing files: relative names across folders, commit, rebase.
    os.makedirs(os.path.join(d, "b"))
    os.makedirs(os.path.join(d, "o"))
    base = os.path.join(d, "b", "base.qcow2")
    kimg("create", "-q", "-f", "qcow2", base, "16M")
    m = Mirror(16 * MB)
    writer(base, m.write(0, 6 * MB, 0x10), "f")
    base_state = bytes(m.data)
    top = os.path.join(d, "o", "top.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-b", "../b/base.qcow2", "-F", "qcow2",
         top)
    writer(top, *random_ops(m, rng, 30, 300000), "f")
    info = qimg("info", "--output=json", top).out
    check('"full-backing-filename": "%s"' % os.path.join(d, "o", "../b/base.qcow2")
          in info or "../b/base.qcow2" in info,
          "qemu-img does not see the relative backing name: " + info)
    qemu_check_ok(top)
    qemu_compare_ok(top, m.save(expect))
    check(read_file(expect) == kestrel_raw(top), "kestrel reads the chain wrong")

    # rebase (safe) onto an empty base keeps the guest data.
    empty = os.path.join(d, "b", "empty.qcow2")
    kimg("create", "-q", "-f", "qcow2", empty, "16M")
    kimg("rebase", "-b", "../b/empty.qcow2", "-F", "qcow2", top)
    qemu_check_ok(top)
    qemu_compare_ok(top, expect)
    # rebase -u back to the first base only rewrites the name.
    kimg("rebase", "-u", "-b", "../b/base.qcow2", "-F", "qcow2", top)
    qemu_check_ok(top)
    qemu_compare_ok(top, expect)

    # commit: the base then holds what the overlay showed.
    kimg("commit", top)
    qemu_check_ok(base)
    qemu_compare_ok(base, expect)
    qemu_compare_ok(top, expect)
    alloc = qimg("map", "--output=json", top).out
    check('"depth": 0, "present": true' not in alloc,
          "commit left data in the overlay: " + alloc)
    # commit -b through an intermediate image.
    mid = os.path.join(d, "b", "mid.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", mid)
    top2 = os.path.join(d, "o", "top2.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-b", "../b/mid.qcow2", "-F", "qcow2",
         top2)
    writer(mid, *random_ops(m, rng, 10, 300000), "f")
    writer(top2, *random_ops(m, rng, 10, 300000), "f")
    kimg("commit", "-b", base, top2)
    qemu_check_ok(base)
    qemu_compare_ok(base, m.save(expect))

    # A v2 image over a raw backing file, with zero writes (no zero flag).
    rawb = os.path.join(d, "b", "rawbase.img")
    kimg("create", "-q", "-f", "raw", rawb, "8M")
    m = Mirror(8 * MB)
    writer(rawb, m.write(0, 8 * MB, 0x77), "f", format="raw")
    v2 = os.path.join(d, "b", "v2.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-b", "rawbase.img",
         "-F", "raw", v2)
    writer(v2, m.zero(100 * 1024, 3 * MB), m.write(5 * MB, 4096, 0x78),
           "d:%d:%d" % (6 * MB, MB), "f")
    qemu_check_ok(v2)
    qemu_compare_ok(v2, m.save(expect))

finish()
