"""kestrel-img speaks like qemu-img: the same output (human and JSON) and
exit statuses on the same files, for create, info, check (and repairs),
map, compare, measure, resize and commit; every option a command's --help
lists is accepted; -p shows progress.
"""
import os
import re
import shutil
import struct

from imgtest import (KIMG, check, finish, kimg, need_tools, qimg, run,
                     workdir, writer)

need_tools()
MB = 1 << 20


def same_output(args, label, ok=None, stderr=False):
    k = kimg(*args, ok=ok)
    q = qimg(*args, ok=ok)
    check(k.returncode == q.returncode, "%s: exit %d, qemu-img %d"
          % (label, k.returncode, q.returncode))
    check(k.out == q.out, "%s: stdout differs\n--- kestrel-img\n%s--- qemu-img"
          "\n%s" % (label, k.out, q.out))
    if stderr:
        check(k.err.replace("kestrel-img", "qemu-img") == q.err,
              "%s: stderr differs\n%s\n%s" % (label, k.err, q.err))
    return k


def refcount_entry_offset(path, cluster):
    with open(path, "rb") as f:
        hdr = f.read(104)
        reft = struct.unpack(">Q", hdr[48:56])[0]
        f.seek(reft)
        block = struct.unpack(">Q", f.read(8))[0]
    return block + 2 * cluster


def set_refcount(path, cluster, value):
    with open(path, "r+b") as f:
        f.seek(refcount_entry_offset(path, cluster))
        f.write(struct.pack(">H", value))


with workdir() as d:
    os.chdir(d)
    # create prints the same "Formatting" line.
    qimg("create", "-q", "-f", "qcow2", "b.qcow2", "64M")
    for opts in (["-f", "qcow2"], ["-f", "qcow2", "-o", "compat=0.10"],
                 ["-f", "qcow2", "-o",
                  "cluster_size=4k,lazy_refcounts=on,refcount_bits=8"],
                 ["-f", "qcow2", "-o", "preallocation=metadata"],
                 ["-f", "raw"], ["-f", "raw", "-o", "preallocation=falloc"]):
        same_output(["create"] + opts + ["x.img", "100M"], "create %s" % opts)
    same_output(["create", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2",
                 "x.img"], "create with a backing file")
    p = kimg("create", "-f", "qcow2", "-b", "b.qcow2", "x.img", ok=(1,))
    check("without backing format" in p.err, "-b without -F: " + p.err)

    # info on images kestrel made: human and JSON as qemu-img prints them.
    kimg("create", "-q", "-f", "qcow2", "a.qcow2", "64M")
    writer("a.qcow2", "w:0:3000000:1", "z:4194304:65536", "f")
    kimg("snapshot", "-c", "snap one", "a.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2",
         "o.qcow2")
    kimg("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "v2.qcow2", "1G")
    kimg("create", "-q", "-f", "raw", "r.raw", "10M")
    writer("r.raw", "w:1048576:65536:3", format="raw")
    for img in ("a.qcow2", "o.qcow2", "v2.qcow2", "r.raw"):
        same_output(["info", img], "info " + img)
        same_output(["info", "--output=json", img], "info --output=json " + img)
        same_output(["map", img], "map " + img)
        same_output(["map", "--output=json", img], "map --output=json " + img)
    same_output(["info", "--backing-chain", "o.qcow2"], "info --backing-chain")
    same_output(["info", "--backing-chain", "--output=json", "o.qcow2"],
                "info --backing-chain --output=json")
    same_output(["snapshot", "-l", "a.qcow2"], "snapshot -l")

    # check: clean, leaked, corrupted; repairs; JSON; exit statuses.
    same_output(["check", "a.qcow2"], "check (clean)", stderr=True)
    same_output(["check", "--output=json", "a.qcow2"], "check json (clean)")
    shutil.copyfile("a.qcow2", "leak.qcow2")
    set_refcount("leak.qcow2", 3, 2)
    same_output(["check", "leak.qcow2"], "check (leak)", stderr=True)
    same_output(["check", "--output=json", "leak.qcow2"], "check json (leak)")
    shutil.copyfile("leak.qcow2", "leak-q.qcow2")
    k = kimg("check", "-r", "leaks", "leak.qcow2")
    q = qimg("check", "-r", "leaks", "leak-q.qcow2")
    check(k.out == q.out, "check -r leaks output differs:\n%s\n%s"
          % (k.out, q.out))
    qimg("check", "leak.qcow2")
    shutil.copyfile("a.qcow2", "bad.qcow2")
    with open("bad.qcow2", "rb") as f:
        f.seek(40)
        l1 = struct.unpack(">Q", f.read(8))[0]
        f.seek(l1)
        l2 = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
    set_refcount("bad.qcow2", l2 // 65536, 0)
    same_output(["check", "bad.qcow2"], "check (corrupt)", ok=(2,))
    same_output(["check", "--output=json", "bad.qcow2"], "check json (corrupt)",
                ok=(2,))
    p = kimg("check", "-r", "leaks", "bad.qcow2", ok=(2,))
    p = kimg("check", "-r", "all", "bad.qcow2", ok=(0,))
    check("Double checking the fixed image now" in p.out,
          "check -r all did not report its repair: " + p.out)
    qimg("check", "bad.qcow2")
    p = kimg("check", "-f", "raw", "r.raw", ok=(63,))
    p = kimg("check", "missing.qcow2", ok=(1,))

    # compare: messages and exit statuses.
    kimg("create", "-q", "-f", "raw", "z1.raw", "10M")
    kimg("create", "-q", "-f", "raw", "z2.raw", "20M")
    kimg("convert", "-O", "qcow2", "r.raw", "r.qcow2")
    same_output(["compare", "r.raw", "r.qcow2"], "compare (identical)", ok=(0,))
    same_output(["compare", "r.raw", "z1.raw"], "compare (different)", ok=(1,))
    same_output(["compare", "z1.raw", "z2.raw"], "compare (sizes)", ok=(0,))
    same_output(["compare", "-s", "z1.raw", "z2.raw"], "compare -s (sizes)",
                ok=(1,))
    same_output(["compare", "r.raw", "missing.raw"], "compare (missing)",
                ok=(2,))

    # measure.
    for args in (["--size", "10G"], ["-o", "cluster_size=4k", "--size", "1G"],
                 ["a.qcow2"], ["r.raw"]):
        same_output(["measure", "-O", "qcow2"] + args, "measure %s" % args)
        same_output(["measure", "--output=json", "-O", "qcow2"] + args,
                    "measure json %s" % args)

    # resize and commit messages.
    kimg("create", "-q", "-f", "qcow2", "g.qcow2", "1M")
    check(kimg("resize", "g.qcow2", "+1M").out == "Image resized.\n",
          "resize message")
    p = kimg("resize", "g.qcow2", "-1M", ok=(1,))
    check("--shrink" in p.err, "shrink without --shrink: " + p.err)
    kimg("resize", "--shrink", "g.qcow2", "-1M")
    check(kimg("commit", "o.qcow2").out == "Image committed.\n",
          "commit message")

    # Progress.
    p = kimg("convert", "-p", "-O", "qcow2", "a.qcow2", "p.qcow2")
    check(p.out.endswith("(100.00/100%)\r\n") and p.out.startswith("    ("),
          "convert -p output: %r" % p.out[-60:])

    # Every command's --help tells the truth about its options.
    p = run([KIMG, "--help"])
    commands = re.findall(r"^  (\w+) ", p.out, re.M)
    check(len(commands) == 11, "kestrel-img --help lists %s" % commands)
    for cmd in commands:
        h = kimg(cmd, "--help").out
        check(h.startswith("Usage: kestrel-img %s" % cmd), cmd + " --help")
        synopsis = h.splitlines()[0]
        for opt in sorted(set(re.findall(r"\[(--?[\w-]+)", synopsis))):
            if opt in ("--help", "-h", "--", "-"):
                continue
            takes_arg = re.search(re.escape(opt) + r"[ =][a-z_]", synopsis)
            args = [opt + "=x" if opt.startswith("--") and takes_arg
                    else opt] + (["x"] if takes_arg and not
                                 opt.startswith("--") else [])
            r = run([KIMG, cmd] + args + ["no-such-file"], ok=None)
            check(r.returncode >= 0 and "invalid option" not in r.err and
                  "unrecognized option" not in r.err,
                  "%s: option %s listed in --help is not accepted: %s"
                  % (cmd, opt, r.err.strip()))
    check(run([KIMG], ok=None).returncode == 1, "no command: exit status")
    check(run([KIMG, "frobnicate"], ok=None).returncode == 1,
          "unknown command: exit status")

finish()
