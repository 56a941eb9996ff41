"""Boot the Debian kernel with the busybox initramfs (tests/functional/
guest_assets.py) under -accel kvm -smp 2 to a shell: `uname -r` is the
kernel's release, /proc/cpuinfo shows 2 CPUs, `poweroff -f` exits 0 and
`reboot -f` with -no-reboot exits.

Some hosts' KVM cannot run a stock kernel: the nested, paging-based kvm_pvm
module runs small kernels but leaves Linux hanging in its decompressor or
stopping with "KVM internal error ... emulation failure".  The test then says
so and skips (exit 77).  Where KVM is a regular one, no progress is a failure.

usage: test_linux_kvm.py KESTREL
"""
import os
import sys

from kvmtest import Timeout, VM, require_kvm, skip

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import guest_assets  # noqa: E402

kestrel = sys.argv[1]
require_kvm()
try:
    kernel = guest_assets.debian_kernel()
    initrd = guest_assets.busybox_initramfs()
except guest_assets.MissingAsset as e:
    skip(str(e))

PVM_HOST = os.path.exists("/sys/module/kvm_pvm")
# The kernel's first line comes within a few seconds under a working KVM, even
# on a loaded host; kvm_pvm hosts, which are known to hang, get a shorter wait.
PROGRESS_TIMEOUT = float(os.environ.get("KESTREL_KVM_PROGRESS_TIMEOUT",
                                        "30" if PVM_HOST else "120"))
BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "600"))

argv = [kestrel, "-accel", "kvm", "-m", "512", "-smp", "2", "-nographic",
        "-kernel", kernel, "-initrd", initrd,
        "-append", "console=ttyS0 panic=-1", "-no-reboot"]


def host_cannot_run_linux(vm, what):
    """Skip if the output or the host explain why Linux does not run."""
    text = vm.text()
    for line in text.splitlines():
        if "KVM internal error" in line or "emulation failure" in line:
            skip("this host's KVM cannot run a stock Linux kernel (%s): %s" % (
                what, line.strip()))
    if PVM_HOST:
        skip("this host's KVM is the nested kvm_pvm module, which does not run "
             "a stock Linux kernel: %s" % what)


def boot_to_shell(vm):
    try:
        vm.wait_for(r"Linux version", PROGRESS_TIMEOUT)
    except Timeout as e:
        host_cannot_run_linux(vm, "no kernel output within %.0f s" % PROGRESS_TIMEOUT)
        raise AssertionError(str(e))
    try:
        vm.wait_for(guest_assets.INIT_MARKER, BOOT_TIMEOUT)
        vm.wait_for(r"guest# ", 120)
    except Timeout as e:
        host_cannot_run_linux(vm, "the kernel started but no shell came")
        raise AssertionError(str(e))


with VM(argv) as vm:
    boot_to_shell(vm)
    release = vm.run("uname -r")
    print("uname -r:", release)
    assert kernel.endswith("vmlinuz-" + release), (release, kernel)
    ncpu = vm.run("grep -c ^processor /proc/cpuinfo")
    assert ncpu.strip() == "2", "/proc/cpuinfo shows %r CPUs" % ncpu
    vm.send("poweroff -f\n")
    status = vm.wait_exit(120)
    assert status == 0, "poweroff -f: exit status %d" % status

with VM(argv) as vm:
    boot_to_shell(vm)
    vm.send("reboot -f\n")
    status = vm.wait_exit(120)
    assert status == 0, "reboot -f with -no-reboot: exit status %d" % status

print("Linux booted to a shell under KVM; uname, 2 CPUs, poweroff and reboot ok")
