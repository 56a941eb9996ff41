"""Builds a seed corpus for the qcow2 fuzz target and replays it.

usage: gen_corpus.py KESTREL_IMG IMG_WRITER FUZZ_REPLAY OUTDIR

Seeds are small images made by kestrel-img (v2, v3, 512-byte clusters,
compressed clusters, snapshots, a backing file name, lazy refcounts) plus
seeded mutations of them: truncations and byte changes in the header and
tables.  The replay must finish without a crash.
"""
import os
import random
import shutil
import subprocess
import sys

kimg, writer, replay, out = sys.argv[1:5]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
work = out + ".work"
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


seeds = []
for name, opts in (("v3", "compat=1.1"), ("v2", "compat=0.10"),
                   ("c512", "cluster_size=512"), ("lazy", "lazy_refcounts=on"),
                   ("rc1", "refcount_bits=1"), ("c4k", "cluster_size=4k")):
    p = os.path.join(work, name + ".qcow2")
    sh(kimg, "create", "-q", "-f", "qcow2", "-o", opts, p, "2M")
    sh(writer, p, "w:0:70000:1", "w:1048576:4096:2", "z:65536:65536", "f")
    seeds.append(p)
raw = os.path.join(work, "data.raw")
with open(raw, "wb") as f:
    f.write(b"compressible " * 40000 + os.urandom(0) + bytes(500000))
comp = os.path.join(work, "comp.qcow2")
sh(kimg, "convert", "-c", "-O", "qcow2", "-o", "cluster_size=4k", raw, comp)
seeds.append(comp)
snap = os.path.join(work, "snap.qcow2")
sh(kimg, "create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", snap, "1M")
sh(writer, snap, "w:0:8192:3", "f")
sh(kimg, "snapshot", "-c", "one", snap)
sh(writer, snap, "w:4096:8192:4", "f")
seeds.append(snap)
back = os.path.join(work, "backed.qcow2")
sh(kimg, "create", "-q", "-f", "qcow2", "-u", "-b", "base.qcow2", "-F",
   "qcow2", "-o", "cluster_size=4k", back, "1M")
seeds.append(back)

rng = random.Random(2024)
count = 0
for seed in seeds:
    data = open(seed, "rb").read()
    base = os.path.basename(seed)
    shutil.copyfile(seed, os.path.join(out, base))
    count += 1
    for size in (0, 7, 72, 104, 512, len(data) // 2, len(data) - 1):
        with open(os.path.join(out, "%s.trunc%d" % (base, size)), "wb") as f:
            f.write(data[:size])
        count += 1
    for i in range(40):
        m = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            span = min(len(m), rng.choice((128, 512, 4096, len(m))))
            m[rng.randrange(span)] = rng.randrange(256)
        with open(os.path.join(out, "%s.mut%d" % (base, i)), "wb") as f:
            f.write(m)
        count += 1
shutil.rmtree(work, ignore_errors=True)
print("corpus: %d inputs in %s" % (count, out))
p = subprocess.run([replay, out], timeout=600)
sys.exit(p.returncode)
