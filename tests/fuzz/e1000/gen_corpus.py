"""Write a seed corpus for fuzz-e1000 into the folder given, then run the
replayer over it: hand-made inputs that reach each descriptor form (legacy,
context + data, TSO with good and bad contexts, receive into the ring, ring
registers pointed outside RAM) and seeded random mutations of them.

usage: gen_corpus.py REPLAYER FOLDER"""
import os
import random
import struct
import subprocess
import sys

replayer, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder, exist_ok=True)

# Register indices into fuzz-e1000.c's table.
TDT, RDT, TDH, RDH, TDBAL, RDBAL = 22, 17, 21, 16, 18, 13


def op(kind, sel, value):
    return struct.pack("<BBI", kind, sel, value & 0xffffffff)


def ram_with(descs):
    ram = bytearray(4096)
    for addr, blob in descs:
        ram[addr:addr + len(blob)] = blob
    return ram


def legacy(buf, length, cmd):
    return struct.pack("<QHBBBBH", buf, length, 0, cmd, 0, 0, 0)


def context(ipcss, ipcso, ipcse, tucss, tucso, tucse, paylen, tucmd, hdr, mss):
    return struct.pack("<BBHBBHIBBH", ipcss, ipcso, ipcse, tucss, tucso, tucse,
                       paylen | (0 << 20), tucmd | 0x20, 0, hdr)[:14] + \
        struct.pack("<H", mss)


def data_desc(buf, length, dcmd, popts):
    return struct.pack("<QIBBBB", buf, length | (1 << 20), dcmd | 0x20, 0,
                       popts, 0) + b"\0\0"


frame = bytes(range(256)) * 4
seeds = []
# Legacy frames, one spanning two descriptors.
ram = ram_with([(0x100, legacy(0x800, 60, 0) + legacy(0x83c, 40, 0x09) +
                 legacy(0x900, 100, 0x0d)), (0x800, frame[:300])])
seeds.append(ram + op(0, TDT, 3) + op(1, 0, 0))
# Context + TSO data descriptors (a valid IPv4/TCP header, MSS 100).
hdr = bytearray(54)
hdr[12:14] = b"\x08\x00"
hdr[14] = 0x45
hdr[23] = 6
hdr[46] = 0x50
ram = ram_with([(0x100, context(14, 24, 33, 34, 50, 0, 400, 0x07, 54, 100) +
                 data_desc(0x800, 54 + 400, 0x0d, 3)), (0x800, bytes(hdr) + frame[:400])])
seeds.append(ram + op(0, TDT, 2))
# The same with a context whose offsets point past the header.
ram = ram_with([(0x100, context(200, 250, 0, 240, 255, 0, 400, 0x07, 60, 0) +
                 data_desc(0x800, 0xfffff, 0x0d, 3))])
seeds.append(ram + op(0, TDT, 2))
# Frames received into the ring, the ring filling, RDT moved back and forth.
ram = ram_with([(0x200, b"".join(struct.pack("<Q", 0x1000 + 0x100 * i) + bytes(8)
                                 for i in range(8)))])
seeds.append(ram + op(0, RDT, 7) + op(2, 0, 1500) + op(2, 0, 60) + op(2, 0, 2000) +
             op(0, RDT, 2) + op(3, 0, 0) + op(2, 0, 100) + op(3, 0, 0) + op(0, RDT, 500))
# Rings and buffers outside RAM.
ram = ram_with([(0x100, legacy(0xfffffffffffff000, 0xffff, 0x09))])
seeds.append(ram + op(0, TDT, 1) + op(0, TDBAL, 0xfffff000) + op(0, TDT, 5) +
             op(0, RDBAL, 0xfffffff0) + op(0, RDT, 3) + op(2, 0, 100))

rng = random.Random(6)
count = 0
for i, s in enumerate(seeds):
    with open(os.path.join(folder, "seed-%d" % i), "wb") as f:
        f.write(s)
    for j in range(40):
        m = bytearray(s)
        for _ in range(rng.randint(1, 24)):
            m[rng.randrange(len(m))] = rng.randrange(256)
        if rng.random() < 0.3:
            m += bytes(rng.randrange(256) for _ in range(6 * rng.randint(1, 20)))
        with open(os.path.join(folder, "mut-%d-%d" % (i, j)), "wb") as f:
            f.write(m)
        count += 1
for j in range(40):
    with open(os.path.join(folder, "random-%d" % j), "wb") as f:
        f.write(bytes(rng.randrange(256) for _ in range(rng.randint(0, 6000))))
sys.exit(subprocess.call([replayer, folder]))
