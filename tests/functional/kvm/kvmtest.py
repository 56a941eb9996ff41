"""Helpers for the KVM functional tests: skip (exit 77) when this host has no
usable /dev/kvm, and run one test kernel under `kestrel -accel kvm` with its
serial console on stdio and isa-debug-exit, returning status and output."""
import errno
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vm import VM, Timeout, skip  # noqa: E402,F401

KVM_DEVICE = "/dev/kvm"

# Status of a kernel that passed / failed: isa-debug-exit turns a write of V
# into exit status (V << 1) | 1, and the kernels write 0x10 / 0x11.
PASS = (0x10 << 1) | 1
FAIL = (0x11 << 1) | 1


def require_kvm():
    """Skip the test unless /dev/kvm exists and can be opened read-write."""
    if not os.path.exists(KVM_DEVICE):
        skip(KVM_DEVICE + " not found: this host has no KVM")
    try:
        fd = os.open(KVM_DEVICE, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            skip("no permission to open %s (join its group)" % KVM_DEVICE)
        skip("cannot open %s: %s" % (KVM_DEVICE, e.strerror))
    os.close(fd)


def kestrel_argv(kestrel, kernel, append=None, smp=None, extra=(),
                 accel="kvm"):
    argv = [kestrel, "-accel", accel, "-kernel", kernel, "-nographic",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if smp:
        argv += ["-smp", str(smp)]
    if append is not None:
        argv += ["-append", append]
    return argv + list(extra)


def run_kernel(argv, timeout=120.0):
    """Run until the emulator exits; return (status, output text)."""
    with VM(argv) as vm:
        try:
            status = vm.wait_exit(timeout)
        except Timeout:
            raise AssertionError("%s did not exit within %.0f s; output:\n%s" % (
                " ".join(argv), timeout, vm.text()[-3000:]))
        return status, vm.text().replace("\r", "")
