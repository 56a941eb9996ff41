"""Damaged and hostile images: one clear error line and exit status 1 (2 or
3 for check), never a signal, never a hang, and never a write to an image
that is refused.

Each case patches a good qcow2 image (header fields, table pointers,
extensions, feature bits), or builds looping and too deep backing chains;
then a few hundred seeded random byte flips of the metadata are thrown at
info, convert, check and a write.
"""
import os
import random
import shutil
import struct

from imgtest import (KIMG, WRITER, check, finish, kimg, need_tools, read_file,
                     run, sha, workdir)

need_tools(qemu=False)
MB = 1 << 20


def field(path, off, fmt):
    with open(path, "rb") as f:
        f.seek(off)
        return struct.unpack(">" + fmt, f.read(struct.calcsize(fmt)))[0]


def patch(path, off, fmt, value):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(struct.pack(">" + fmt, value))


def layout(path):
    l1 = field(path, 40, "Q")
    reft = field(path, 48, "Q")
    l2 = field(path, l1, "Q") & 0x00fffffffffffe00
    refblock = field(path, reft, "Q")
    data = field(path, l2, "Q") & 0x00fffffffffffe00
    return {"l1": l1, "reft": reft, "l2": l2, "refblock": refblock,
            "data": data}


def no_signal(p, what):
    return check(p.returncode >= 0, "%s: killed by signal %d"
                 % (what, -p.returncode))


def one_error_line(p, what):
    lines = [l for l in p.err.splitlines() if l.strip()]
    return check(len(lines) == 1 and lines[0].startswith("kestrel-img: "),
                 "%s: wanted one 'kestrel-img:' error line, got %r"
                 % (what, p.err))


def expect_refused(image, label, read_ok=False, check_rc=(1,)):
    """The image must be refused for writing and left untouched.

    The format is given (-f qcow2): without it, a file that is not qcow2
    at all is a raw image, as with qemu-img.
    """
    digest = sha(image)
    out = image + ".out"
    f = ["-f", "qcow2"]
    p = kimg("info", *f, image, ok=None)
    no_signal(p, label + ": info")
    if not read_ok:
        check(p.returncode == 1, "%s: info exited %d" % (label, p.returncode))
        one_error_line(p, label + ": info")
    p = kimg("convert", *f, "-O", "raw", image, out, ok=None)
    no_signal(p, label + ": convert")
    if not read_ok:
        check(p.returncode == 1, "%s: convert exited %d"
              % (label, p.returncode))
        one_error_line(p, label + ": convert")
    if os.path.exists(out):
        os.unlink(out)
    p = kimg("check", *f, image, ok=None)
    no_signal(p, label + ": check")
    check(p.returncode in check_rc, "%s: check exited %d, wanted %s: %s"
          % (label, p.returncode, check_rc, p.err))
    for args in (["resize", *f, image, "+1M"],
                 ["snapshot", *f, "-c", "s", image]):
        p = kimg(*args, ok=None)
        no_signal(p, "%s: %s" % (label, args[0]))
        check(p.returncode == 1, "%s: %s exited %d"
              % (label, args[0], p.returncode))
        one_error_line(p, "%s: %s" % (label, args[0]))
    p = run([WRITER, "--format", "qcow2", image, "w:0:65536:1",
             "w:1048576:4096:2", "f"], ok=None)
    no_signal(p, label + ": write")
    check(p.returncode == 1, "%s: a write was accepted (exit %d)"
          % (label, p.returncode))
    check(sha(image) == digest, "%s: a refused image was modified" % label)


with workdir() as d:
    good = os.path.join(d, "good.qcow2")
    kimg("create", "-q", "-f", "qcow2", good, "4M")
    run([WRITER, good, "w:0:65536:17", "w:1048576:131072:18", "f"])
    L = layout(good)

    def case(name):
        img = os.path.join(d, name + ".qcow2")
        shutil.copyfile(good, img)
        return img

    header_cases = [
        ("bad magic", 0, "I", 0x12345678),
        ("version 4", 4, "I", 4),
        ("cluster_bits 8", 20, "I", 8),
        ("cluster_bits 22", 20, "I", 22),
        ("cluster_bits 63", 20, "I", 63),
        ("size 2^62", 24, "Q", 1 << 62),
        ("encrypted", 32, "I", 1),
        ("l1_size huge", 36, "I", 0x10000000),
        ("l1_size too small", 36, "I", 0),
        ("L1 past EOF", 40, "Q", 1 << 40),
        ("L1 unaligned", 40, "Q", L["l1"] + 8),
        ("L1 over header", 40, "Q", 0),
        ("refcount table past EOF", 48, "Q", 1 << 40),
        ("refcount table at 0", 48, "Q", 0),
        ("refcount table clusters 0", 56, "I", 0),
        ("refcount table clusters huge", 56, "I", 0xffffffff),
        ("refcount table over L1", 48, "Q", L["l1"]),
        ("many snapshots", 60, "I", 0x7fffffff),
        ("unknown incompatible feature", 72, "Q", 1 << 10),
        ("external data file", 72, "Q", 1 << 2),
        ("extended L2", 72, "Q", 1 << 4),
        ("refcount order 7", 96, "I", 7),
        ("header length 12", 100, "I", 12),
        ("header length huge", 100, "I", 0x7ffffff8),
        ("backing name past cluster", 8, "Q", 70000),
    ]
    for name, off, fmt, value in header_cases:
        img = case(name.replace(" ", "_"))
        patch(img, off, fmt, value)
        if name == "backing name past cluster":
            patch(img, 16, "I", 100)
        if name == "many snapshots":
            patch(img, 64, "Q", 1 << 30)
        expect_refused(img, name)

    p = kimg("info", case("unknown_feature_msg"), ok=None)
    img = case("unknown_feature_msg")
    patch(img, 72, "Q", 1 << 10)
    p = kimg("info", img, ok=None)
    check("unknown incompatible feature 10" in p.err,
          "unknown feature not named in the message: " + p.err)

    # Truncated files.
    for size in (0, 50, 104, 65536):
        img = case("truncated%d" % size)
        with open(img, "r+b") as f:
            f.truncate(size)
        expect_refused(img, "truncated to %d bytes" % size)
    img = case("truncated_in_l2")
    with open(img, "r+b") as f:
        f.truncate(L["l2"] + 100)
    expect_refused(img, "truncated inside the L2 table", read_ok=True,
                   check_rc=(2,))
    p = kimg("convert", "-O", "raw", img, img + ".raw", ok=None)
    check(p.returncode == 1, "truncated inside the L2 table: convert exited %d"
          % p.returncode)

    # Broken pointers below the header: open works, data access fails.
    img = case("l2_past_eof")
    patch(img, L["l1"], "Q", (1 << 40) | (1 << 63))
    expect_refused(img, "L2 table past EOF", read_ok=True, check_rc=(1, 2))
    p = kimg("convert", "-O", "raw", img, img + ".raw", ok=None)
    check(p.returncode == 1 and "corrupt" in p.err,
          "reading through an L2 pointer past EOF: %d %s"
          % (p.returncode, p.err))
    one_error_line(p, "L2 past EOF: convert")

    img = case("l2_over_refblock")
    patch(img, L["l1"], "Q", L["refblock"] | (1 << 63))
    expect_refused(img, "L2 table over a refcount block", read_ok=True,
                   check_rc=(1, 2))

    img = case("data_past_eof")
    patch(img, L["l2"], "Q", (1 << 40) | (1 << 63))
    p = kimg("convert", "-O", "raw", img, img + ".raw", ok=None)
    check(p.returncode == 1, "data cluster past EOF: convert exited %d"
          % p.returncode)
    one_error_line(p, "data past EOF: convert")
    p = kimg("check", img, ok=None)
    check(p.returncode == 2, "data cluster past EOF: check exited %d"
          % p.returncode)

    img = case("data_over_l1")
    patch(img, L["l2"], "Q", L["l1"] | (1 << 63))
    digest = sha(img)
    p = run([WRITER, img, "w:0:4096:9", "f"], ok=None)
    check(p.returncode == 1 and "metadata" in p.err,
          "a write onto the L1 table was not refused: %d %s"
          % (p.returncode, p.err))
    check(sha(img) == digest, "the refused write changed the image")
    p = kimg("check", img, ok=None)
    check(p.returncode == 2, "data over L1: check exited %d" % p.returncode)

    img = case("bad_compressed")
    patch(img, L["l2"], "Q", (1 << 62) | (L["data"] + 100))
    p = kimg("convert", "-O", "raw", img, img + ".raw", ok=None)
    check(p.returncode == 1 and "decompress" in p.err,
          "garbage compressed cluster: %d %s" % (p.returncode, p.err))

    img = case("refblock_past_eof")
    patch(img, L["reft"], "Q", 1 << 40)
    expect_refused(img, "refcount block past EOF", read_ok=True,
                   check_rc=(2,))

    img = case("corrupt_bit")
    patch(img, 72, "Q", 1 << 1)
    p = kimg("info", img, ok=None)
    check(p.returncode == 0 and "corrupt: true" in p.out,
          "an image marked corrupt cannot be inspected")
    expect_refused(img, "corrupt bit", read_ok=True, check_rc=(0,))

    # Header extension longer than the cluster.
    img = case("long_extension")
    hl = field(img, 100, "I")
    patch(img, hl, "I", 0x12345678)
    patch(img, hl + 4, "I", 0xffffff00)
    expect_refused(img, "huge header extension")

    # Backing chains: loops, self-reference, missing file, too deep.
    a = os.path.join(d, "loop-a.qcow2")
    b = os.path.join(d, "loop-b.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-u", "-b", "loop-b.qcow2", "-F",
         "qcow2", a, "1M")
    kimg("create", "-q", "-f", "qcow2", "-u", "-b", "loop-a.qcow2", "-F",
         "qcow2", b, "1M")
    for args in (["convert", "-O", "raw", a, a + ".raw"],
                 ["info", "--backing-chain", a], ["map", a],
                 ["compare", a, b]):
        p = kimg(*args, ok=None)
        no_signal(p, "loop: " + args[0])
        want = 2 if args[0] == "compare" else 1
        check(p.returncode == want and "loop" in p.err,
              "backing loop, %s: %d %s" % (args[0], p.returncode, p.err))
        one_error_line(p, "loop: " + args[0])
    s = os.path.join(d, "self.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-u", "-b", "self.qcow2", "-F",
         "qcow2", s, "1M")
    p = kimg("convert", "-O", "raw", s, s + ".raw", ok=None)
    check(p.returncode == 1 and "loop" in p.err, "self-backed image: " + p.err)
    m = os.path.join(d, "orphan.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-u", "-b", "missing.qcow2", "-F",
         "qcow2", m, "1M")
    p = kimg("convert", "-O", "raw", m, m + ".raw", ok=None)
    check(p.returncode == 1 and "missing.qcow2" in p.err,
          "missing backing file: " + p.err)
    prev = os.path.join(d, "deep0.qcow2")
    kimg("create", "-q", "-f", "qcow2", prev, "1M")
    for i in range(1, 70):
        cur = os.path.join(d, "deep%d.qcow2" % i)
        kimg("create", "-q", "-f", "qcow2", "-u", "-b",
             os.path.basename(prev), "-F", "qcow2", cur, "1M")
        prev = cur
    p = kimg("convert", "-O", "raw", prev, prev + ".raw", ok=None)
    check(p.returncode == 1 and "deeper" in p.err,
          "too deep backing chain: %d %s" % (p.returncode, p.err))
    one_error_line(p, "deep chain: convert")

    # Absurd sizes and options at creation.
    for args in (["-f", "qcow2", "x.qcow2", "1E"], ["-f", "raw", "x.raw", "1E"],
                 ["-f", "qcow2", "-o", "cluster_size=1000", "x.qcow2", "1M"],
                 ["-f", "qcow2", "-o", "cluster_size=4M", "x.qcow2", "1M"],
                 ["-f", "qcow2", "-o", "refcount_bits=3", "x.qcow2", "1M"],
                 ["-f", "qcow2", "-o", "compat=0.9", "x.qcow2", "1M"],
                 ["-f", "qcow2", "-o", "nonsense=1", "x.qcow2", "1M"],
                 ["-f", "qcow2", "x.qcow2", "12Q"],
                 ["-f", "vmdk", "x.vmdk", "1M"]):
        p = run([KIMG, "create", "-q"] + [a if not a.startswith("x.") else
                                         os.path.join(d, a) for a in args],
                ok=None)
        check(p.returncode == 1, "create %s exited %d" % (args, p.returncode))
        check(p.err.startswith("kestrel-img: "), "create %s: %r"
              % (args, p.err))

    # Seeded random damage to the metadata: no crash, no hang.
    rng = random.Random(7)
    meta = [(0, 512), (L["l1"], 64), (L["l2"], 64), (L["reft"], 32),
            (L["refblock"], 64)]
    img = os.path.join(d, "fuzz.qcow2")
    for i in range(150):
        shutil.copyfile(good, img)
        data = bytearray(read_file(img))
        for _ in range(rng.randrange(1, 6)):
            base, span = rng.choice(meta)
            pos = base + rng.randrange(span)
            data[pos] = rng.randrange(256)
        with open(img, "wb") as f:
            f.write(data)
        for args in (["info", "--output=json", img],
                     ["convert", "-O", "raw", img, img + ".raw"],
                     ["check", img], ["map", "--output=json", img]):
            p = kimg(*args, ok=None, timeout=30)
            no_signal(p, "fuzz case %d, %s" % (i, args[0]))
            check(p.returncode in (0, 1, 2, 3, 63),
                  "fuzz case %d, %s exited %d" % (i, args[0], p.returncode))
        p = run([WRITER, img, "w:0:4096:1", "w:2097152:70000:2", "f"],
                ok=None, timeout=30)
        no_signal(p, "fuzz case %d, write" % i)
        if os.path.exists(img + ".raw"):
            os.unlink(img + ".raw")

finish()
