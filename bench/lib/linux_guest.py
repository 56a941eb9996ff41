"""The Linux guest the benchmarks share: the Debian kernel with the busybox
initramfs of tests/functional/guest_assets.py, whose /init prints the init
marker and runs /autorun.  run() starts one emulator process, times process
start -> init marker on the host clock, lets the caller measure more while
the guest runs, waits for the guest's power-off and takes the process's peak
RSS (wait4).  Used by bench/boot (the Linux boot row) and bench/cpu."""
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "functional"))
import guest_assets  # noqa: E402
import vm as vmlib  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
POWEROFF_AUTORUN = "#!/bin/sh\npoweroff -f\n"
# The command line both emulators get after -accel and -kernel.
RAM_MIB = 512
COMMON_ARGS = ["-M", "pc", "-m", str(RAM_MIB), "-nographic", "-no-reboot"]
APPEND = "console=ttyS0 quiet"


def initramfs(autorun=POWEROFF_AUTORUN):
    """The busybox initramfs with /autorun (default: power off at once)."""
    return guest_assets.busybox_initramfs(
        extra_files=[("autorun", 0o100755, autorun.encode())])


def argv(exe, accel, kernel, initrd):
    return [exe, "-accel", accel, "-kernel", kernel] + COMMON_ARGS + [
        "-initrd", initrd, "-append", APPEND]


def run(cmd, timeout, env=None, during=None):
    """One run: a dict with "boot" (seconds from process start to the init
    marker), whatever during(vm, result) adds, "rss" (peak MiB), "mips"
    (Kestrel's KESTREL_TCG_STATS, when printed), or "error"."""
    res = {}
    with vmlib.VM(cmd, env=env) as v:
        try:
            v.wait_for(guest_assets.INIT_MARKER, timeout)
            res["boot"] = time.monotonic() - v.started
            if during:
                during(v, res)
            deadline = time.monotonic() + timeout
            while True:
                pid, status, ru = os.wait4(v.proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    raise vmlib.Timeout("no exit after poweroff -f")
                v._pump(0.2)
            res["rss"] = ru.ru_maxrss / 1024.0
            v.proc.returncode = os.waitstatus_to_exitcode(status)
            mips = re.findall(rb"tcg: .* (\d+) MIPS/cpu-s", v.out)
            if mips:
                res["mips"] = float(mips[-1])
        except vmlib.Timeout as e:
            res["error"] = str(e).splitlines()[0]
    return res


def own_rss(pid, ram_mib):
    """MiB resident in the process outside the guest's RAM (the one anonymous
    mapping of exactly ram_mib MiB, in both emulators with -M pc below 3 GiB):
    the emulator's own memory, by /proc/PID/smaps; None if it cannot tell."""
    total, guest, size = 0, None, 0
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                head = line.split()
                if re.match(r"^[0-9a-f]+-[0-9a-f]+$", head[0]):
                    lo, hi = (int(x, 16) for x in head[0].split("-"))
                    size = hi - lo
                    inode = head[4] if len(head) > 4 else "0"
                elif head[0] == "Rss:":
                    kib = int(head[1])
                    total += kib
                    if size == ram_mib << 20 and inode == "0" and guest is None:
                        guest = kib
    except OSError:
        return None
    if guest is None:
        return None
    return (total - guest) / 1024.0


def median(runs, key):
    vals = [r[key] for r in runs if key in r]
    return statistics.median(vals) if vals else float("nan")


def ratio(a, b):
    return a / b if b == b and b else float("nan")


def fmt(x, unit):
    return "%8.2f %s" % (x, unit) if x == x else "%8s %s" % ("n/a", unit)
