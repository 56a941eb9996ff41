"""Images made by qemu-img and qemu-io read back bit for bit through Kestrel.

Covers qcow2 v2 and v3, 512-byte and 2 MiB clusters, several refcount widths,
zero clusters, compressed clusters, backing chains with relative paths,
internal snapshots, lazy refcounts and preallocation; checks kestrel-img's
info, snapshot list, map and check agree with qemu-img on the same files.
"""
import json
import os

from imgtest import (check, finish, json_out, kestrel_raw, kimg, need_tools,
                     qemu_raw, qimg, qio, workdir)

need_tools()

WRITES = [
    "write -P 0x11 0 64k",
    "write -P 0x22 100k 3k",
    "write -P 0x33 1M 1M",
    "write -z 1536k 64k",
    "write -P 0x44 5000k 512",
    "write -P 0x55 8M 2M",
    "discard 8M 64k",
    "write -P 0x66 12345k 7k",
]


def same_view(image, label):
    k = kestrel_raw(image)
    q = qemu_raw(image)
    check(k == q, "%s: kestrel-img and qemu-img read different data" % label)
    p = kimg("compare", image, image + ".ref", ok=None) if False else None
    return k


def same_json(args, label):
    k = json.loads(kimg(*args).out)
    q = json.loads(qimg(*args).out)
    check(k == q, "%s: kestrel-img %s differs from qemu-img:\n%s\n%s"
          % (label, " ".join(args), json.dumps(k, indent=1),
             json.dumps(q, indent=1)))


def kestrel_check_clean(image, label):
    p = kimg("check", image, ok=None)
    check(p.returncode == 0, "%s: kestrel-img check exited %d: %s %s"
          % (label, p.returncode, p.out, p.err))


with workdir() as d:
    configs = [
        ("v3", ["-o", "compat=1.1"]),
        ("v2", ["-o", "compat=0.10"]),
        ("c512", ["-o", "cluster_size=512"]),
        ("c2M", ["-o", "cluster_size=2M"]),
        ("rc1", ["-o", "refcount_bits=1"]),
        ("rc64", ["-o", "refcount_bits=64"]),
        ("lazy", ["-o", "lazy_refcounts=on"]),
        ("prealloc", ["-o", "preallocation=metadata"]),
    ]
    for label, opts in configs:
        img = os.path.join(d, label + ".qcow2")
        qimg("create", "-q", "-f", "qcow2", *opts, img, "16M")
        qio(img, *WRITES)
        same_view(img, label)
        kestrel_check_clean(img, label)
        same_json(["info", "--output=json", img], label)
        same_json(["map", "--output=json", img], label)
        check(kimg("info", img).out == qimg("info", img).out,
              "%s: human info differs" % label)

    # Compressed clusters written by qemu-img convert -c and qemu-io -c.
    src = os.path.join(d, "v3.qcow2")
    comp = os.path.join(d, "comp.qcow2")
    qimg("convert", "-c", "-O", "qcow2", src, comp)
    qio(comp, "write -c -P 0x77 2M 64k")
    same_view(comp, "compressed")
    kestrel_check_clean(comp, "compressed")
    for cs in ("512", "2M"):
        c2 = os.path.join(d, "comp%s.qcow2" % cs)
        qimg("convert", "-c", "-O", "qcow2", "-o", "cluster_size=" + cs, src,
             c2)
        same_view(c2, "compressed, cluster_size=" + cs)
        kestrel_check_clean(c2, "compressed, cluster_size=" + cs)

    # A backing chain across folders, with relative names.
    os.makedirs(os.path.join(d, "base"))
    os.makedirs(os.path.join(d, "top"))
    base = os.path.join(d, "base", "base.qcow2")
    qimg("create", "-q", "-f", "qcow2", base, "16M")
    qio(base, "write -P 0xa1 0 4M", "write -P 0xa2 10M 1M")
    mid = os.path.join(d, "base", "mid.qcow2")
    qimg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", mid)
    qio(mid, "write -P 0xb1 1M 100k", "write -z 2M 64k")
    top = os.path.join(d, "top", "top.qcow2")
    qimg("create", "-q", "-f", "qcow2", "-b", "../base/mid.qcow2", "-F",
         "qcow2", top, "20M")
    qio(top, "write -P 0xc1 3M 10k", "write -P 0xc2 17M 1M")
    same_view(top, "backing chain")
    same_json(["info", "--output=json", "--backing-chain", top],
              "backing chain")
    same_json(["map", "--output=json", top], "backing chain")
    rawbase = os.path.join(d, "base", "raw.img")
    qimg("create", "-q", "-f", "raw", rawbase, "8M")
    qio(rawbase, "write -P 0xd1 0 1M", fmt="raw")
    ovr = os.path.join(d, "base", "over-raw.qcow2")
    qimg("create", "-q", "-f", "qcow2", "-b", "raw.img", "-F", "raw", ovr)
    qio(ovr, "write -P 0xd2 512k 1M")
    same_view(ovr, "qcow2 over raw")

    # Internal snapshots: list, apply, and the data each one holds.
    snap = os.path.join(d, "snap.qcow2")
    qimg("create", "-q", "-f", "qcow2", snap, "8M")
    qio(snap, "write -P 0x01 0 2M")
    qimg("snapshot", "-c", "one", snap)
    state_one = qemu_raw(snap)
    qio(snap, "write -P 0x02 1M 2M", "write -z 0 64k")
    qimg("snapshot", "-c", "two", snap)
    qio(snap, "write -P 0x03 4M 1M")
    same_view(snap, "snapshots (active)")
    check(kimg("snapshot", "-l", snap).out == qimg("snapshot", "-l", snap).out,
          "snapshot -l output differs from qemu-img")
    same_json(["info", "--output=json", snap], "snapshots")
    kestrel_check_clean(snap, "snapshots")
    kimg("snapshot", "-a", "one", snap)
    check(kestrel_raw(snap) == state_one,
          "kestrel-img snapshot -a one did not restore qemu's snapshot")
    qimg("check", snap)

    # Measure agrees with qemu-img for a few images and sizes.
    for img in (src, comp, top):
        for fmt in ("qcow2", "raw"):
            same_json(["measure", "--output=json", "-O", fmt, img],
                      "measure " + os.path.basename(img))
    for size in ("0", "1M", "1G", "100G"):
        same_json(["measure", "--output=json", "-O", "qcow2", "--size", size],
                  "measure --size " + size)

finish()
