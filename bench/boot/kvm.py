"""bench/boot, KVM part: Kestrel and Debian's qemu-system-x86_64, both with
-accel kvm, on the repo's test kernels (tests/kernels), alternating, several
runs each:

- start-up latency: process start to exit of the `hello` kernel (it prints a
  line and leaves through isa-debug-exit);
- port-I/O round trip: cycles per `inl` from port 0x80 handled in userspace,
  as measured by the `iobench` kernel with the TSC; and, to separate the
  emulator's share from the hypervisor's, `inb` from 0x80 and from 0x40 (the
  8254, which KVM serves in the kernel for both);
- peak RSS of each process in the start-up runs;
- virtio notify: cycles per 16-bit write to a virtio-blk-pci queue's notify
  address (`virtio-blk` kernel, bench=1), which both serve with an
  ioeventfd (no exit to user space), next to a write of a common
  configuration register (always an exit); and Kestrel with ioeventfd=off.
  QEMU's device is made modern-only (disable-legacy=on), as Kestrel's is.

QEMU runs with -nodefaults (no NIC option ROM, no VGA), its fastest
configuration for this guest, and its default CPU model (-cpu host aborts on
some nested hosts); it boots through SeaBIOS and its Multiboot option ROM,
which is how QEMU loads a -kernel.
"""
import os
import re
import shutil
import tempfile

import runner

EXIT_DEVICE = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
PASS_STATUS = 33


def kestrel_argv(kestrel, kernel, append):
    return [kestrel, "-accel", "kvm", "-m", "128", "-nographic",
            "-kernel", kernel, "-append", append] + EXIT_DEVICE


def qemu_argv(qemu, kernel, append):
    return [qemu, "-accel", "kvm", "-m", "128",
            "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-kernel", kernel, "-append", append] + EXIT_DEVICE


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return "cannot open /dev/kvm: %s" % e.strerror
    os.close(fd)
    return None


def _cycles(result, who):
    m = re.search(r"iobench: (\d+) cycles per in[bwl]", result.output)
    if not m or result.status != PASS_STATUS:
        raise RuntimeError("%s iobench failed (status %d):\n%s" % (
            who, result.status, result.output[-1500:]))
    return int(m.group(1))


def _notify(result, who):
    m = re.search(r"virtio-blk: (\d+) cycles per notify write, (\d+) per "
                  r"common", result.output)
    if not m or result.status != PASS_STATUS:
        raise RuntimeError("%s virtio-blk bench failed (status %d):\n%s" % (
            who, result.status, result.output[-1500:]))
    return int(m.group(1)), int(m.group(2))


def virtio_args(image, who, ioeventfd=True):
    dev = "virtio-blk-pci,drive=d0"
    if who == "qemu":
        dev += ",disable-legacy=on"
    if not ioeventfd:
        dev += ",ioeventfd=off"
    return ["-drive", "if=none,id=d0,format=raw,file=" + image,
            "-device", dev]


# iobench runs: name -> command line.  0x80 is served by the emulator in
# userspace; 0x40 (the 8254) by KVM itself under both, which gives the cost of
# the exit alone, so the difference is the emulator's own share.
IO_RUNS = {
    "inl80": "rounds=20000 port=0x80 size=4",
    "inb80": "rounds=20000 port=0x80 size=1",
    "inb40": "rounds=20000 port=0x40 size=1",
}


def run(build, runs, out):
    """Print the KVM benchmark table to out; return a dict of the medians."""
    why = kvm_usable()
    if why:
        out.write("kvm: skipped (%s)\n" % why)
        return None
    kestrel = os.path.join(build, "kestrel")
    if not os.path.exists(kestrel):
        kestrel = os.path.join(build, "system", "kestrel")
    kernels = os.path.join(build, "tests", "kernels")
    hello = os.path.join(kernels, "hello.elf")
    iobench = os.path.join(kernels, "iobench.elf")
    vblk = os.path.join(kernels, "virtio-blk.elf")
    qemu = shutil.which("qemu-system-x86_64")
    for path in (kestrel, hello, iobench, vblk):
        if not os.path.exists(path):
            out.write("kvm: skipped (%s not built)\n" % path)
            return None
    if not qemu:
        out.write("kvm: skipped (qemu-system-x86_64 not installed)\n")
        return None

    keys = ["start", "rss", "notify", "cfgwrite", "notify_off"] + list(IO_RUNS)
    samples = {who: {k: [] for k in keys} for who in ("kestrel", "qemu")}
    tmp = tempfile.TemporaryDirectory(prefix="kestrel-bench-boot-")
    image = os.path.join(tmp.name, "disk.raw")
    with open(image, "wb") as f:
        f.truncate(1 << 20)
    for i in range(runs):
        order = ["kestrel", "qemu"] if i % 2 == 0 else ["qemu", "kestrel"]
        for who in order:
            mk = kestrel_argv if who == "kestrel" else qemu_argv
            exe = kestrel if who == "kestrel" else qemu
            r = runner.run(mk(exe, hello, "exit=0x10"))
            if r.status != PASS_STATUS:
                raise RuntimeError("%s hello failed (status %d):\n%s" % (
                    who, r.status, r.output[-1500:]))
            samples[who]["start"].append(r.seconds)
            samples[who]["rss"].append(r.maxrss_kib)
            for name, append in IO_RUNS.items():
                samples[who][name].append(_cycles(runner.run(
                    mk(exe, iobench, append)), who))
            n, c = _notify(runner.run(mk(exe, vblk, "bench=1") +
                                      virtio_args(image, who)), who)
            samples[who]["notify"].append(n)
            samples[who]["cfgwrite"].append(c)
            if who == "kestrel":
                n, _ = _notify(runner.run(mk(exe, vblk, "bench=1") +
                                          virtio_args(image, who, False)), who)
                samples[who]["notify_off"].append(n)
            else:
                samples[who]["notify_off"].append(0)
    tmp.cleanup()

    med = {who: {k: runner.median(v) for k, v in s.items()}
           for who, s in samples.items()}
    k, q = med["kestrel"], med["qemu"]
    k["user"] = k["inb80"] - k["inb40"]
    q["user"] = q["inb80"] - q["inb40"]
    out.write("KVM, %d runs each, alternating; medians\n" % runs)
    row = "  %-40s %12s %12s %7s %7s\n"
    out.write(row % ("", "Kestrel", "QEMU", "K/Q", "target"))

    def line(label, kv, qv, fmt, target=""):
        out.write(row % (label, fmt % kv, fmt % qv,
                         "%.2f" % runner.ratio(kv, qv), target))

    line("start-up: hello, start to exit (ms)", k["start"] * 1e3,
         q["start"] * 1e3, "%.1f", "<=0.50")
    line("port I/O: inl 0x80, cycles", k["inl80"], q["inl80"], "%.0f", "<=0.50")
    line("  inb 0x80 (emulator), cycles", k["inb80"], q["inb80"], "%.0f")
    line("  inb 0x40 (in-kernel 8254), cycles", k["inb40"], q["inb40"], "%.0f")
    line("  emulator's share (0x80 - 0x40), cycles", k["user"], q["user"],
         "%.0f")
    line("virtio notify write (ioeventfd), cycles", k["notify"],
         q["notify"], "%.0f", "<=1.00")
    line("  common-config write (exit), cycles", k["cfgwrite"], q["cfgwrite"],
         "%.0f")
    line("peak RSS: hello, -m 128 (MiB)", k["rss"] / 1024, q["rss"] / 1024,
         "%.1f")
    out.write("  Kestrel's virtio notify write with ioeventfd=off (an exit): "
              "%.0f cycles\n" % k["notify_off"])
    return med
