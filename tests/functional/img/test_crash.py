"""Kill a writer at many points and check what is left.

img-writer writes self-describing blocks (magic, block index, generation,
pattern) at random with a fixed seed, logging each operation before it
starts and each completed flush.  It kills itself with SIGKILL just before
its Nth write-like system call, so every run stops at a different point,
also in the middle of metadata updates.  Afterwards:
  * qemu-img check finds no corruption (leaked clusters are allowed);
  * every block reads as zeroes or as a valid block of its own index
    (no stale or foreign data), and as what the last completed flush left
    or something written after it.
With lazy refcounts the image may need repair: Kestrel repairs it when
opening it read-write, after which qemu-img check must be clean.
"""
import os
import random
import struct

from imgtest import (WRITER, check, finish, kestrel_raw, kimg, need_tools,
                     qemu_raw, qimg, run, workdir)

need_tools()
if not WRITER:
    print("SKIP: IMG_WRITER not set")
    raise SystemExit(77)

MAGIC = b"KSTRLBLK"


def expected_block(idx, gen, size):
    """What img-writer stores: header, then one 64-bit value repeated."""
    x = (((idx << 32) | gen) * 0x9E3779B97F4A7C15 + 1) & (2**64 - 1)
    body = struct.pack("<Q", x) * ((size - 16) // 8)
    return MAGIC + struct.pack("<II", idx, gen) + body


def allowed_states(log_text):
    """For each block, the states it may show: a generation or 0 (zero).

    A write sets a block to its generation and a zero-write to 0; a discard
    is advice, so the block may keep its data or read as zero.  What a
    completed flush left must be seen, or anything written after it.
    """
    current = {}
    committed = {}
    later = {}
    for line in log_text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "F":
            committed = {idx: set(states) for idx, states in current.items()}
            later = {}
            continue
        first, count = int(f[1]), int(f[2])
        for idx in range(first, first + count):
            if f[0] == "W":
                current[idx] = {int(f[3])}
            elif f[0] == "Z":
                current[idx] = {0}
            else:
                current[idx] = current.get(idx, {0}) | {0}
            later.setdefault(idx, set()).update(current[idx])
    allowed = {}
    for idx in set(committed) | set(later):
        allowed[idx] = committed.get(idx, {0}) | later.get(idx, set())
    return allowed


def verify(image, log_path, block_size, label):
    data = kestrel_raw(image)
    check(data == qemu_raw(image),
          "%s: kestrel-img and qemu-img read the image differently" % label)
    with open(log_path) as f:
        allowed = allowed_states(f.read())
    zero = bytes(block_size)
    cache = {}
    bad = 0
    for idx in range(len(data) // block_size):
        blk = data[idx * block_size:(idx + 1) * block_size]
        ok_states = allowed.get(idx, {0})
        if blk == zero:
            state = 0
        elif blk[:8] == MAGIC:
            bidx, gen = struct.unpack("<II", blk[8:16])
            key = (bidx, gen)
            if key not in cache:
                cache[key] = expected_block(bidx, gen, block_size)
            if bidx != idx or blk != cache[key]:
                state = -1
            else:
                state = gen
        else:
            state = -1
        if state not in ok_states:
            bad += 1
            if bad <= 3:
                check(False, "%s: block %d shows state %d, allowed %s"
                      % (label, idx, state, sorted(ok_states)))
    return bad == 0


def full_run_syscalls(image, args):
    p = run([WRITER, "--crash"] + args + [image])
    return int(p.out.split()[-1])


def crash_series(d, label, create_opts, size, block_size, cache, kills,
                 seed, lazy=False):
    image = os.path.join(d, label + ".qcow2")
    log = os.path.join(d, label + ".log")
    args = ["--seed", str(seed), "--ops", "300", "--block-size",
            str(block_size), "--cache", cache, "--log", log]
    kimg("create", "-q", "-f", "qcow2", "-o", create_opts, image, size)
    total = full_run_syscalls(image, args)
    qimg("check", image)
    rng = random.Random(seed)
    points = sorted(rng.sample(range(1, total + 1), min(kills, total)))
    for n in points:
        kimg("create", "-q", "-f", "qcow2", "-o", create_opts, image, size)
        p = run([WRITER, "--crash", "--kill-after", str(n)] + args + [image],
                ok=None)
        check(p.returncode == -9, "%s: writer was not killed at %d (%d: %s)"
              % (label, n, p.returncode, p.err))
        where = "%s killed before syscall %d of %d" % (label, n, total)
        if lazy:
            # Opening read-write repairs the refcounts of a dirty image.
            run([WRITER, image])
        c = qimg("check", image, ok=None)
        if not check(c.returncode in (0, 3), "%s: qemu-img check exited %d:"
                     " %s %s" % (where, c.returncode, c.out, c.err)):
            continue
        verify(image, log, block_size, where)
    print("%s: %d kill points checked (of %d system calls)"
          % (label, len(points), total))


with workdir() as d:
    # 512-byte clusters: refcount blocks and table growth happen often.
    crash_series(d, "c512", "cluster_size=512", "16M", 1024, "unsafe", 30, 11)
    # 64 KiB clusters, 4 KiB blocks: partial-cluster copy-on-write;
    # writeback cache so that the barriers (fdatasync) are in the path.
    crash_series(d, "c64k", "cluster_size=64k", "48M", 4096, "writeback", 12,
                 12)
    # Lazy refcounts: refcounts may lag; the dirty bit makes Kestrel repair.
    crash_series(d, "lazy", "cluster_size=4k,lazy_refcounts=on", "16M", 4096,
                 "unsafe", 10, 13, lazy=True)

finish()
