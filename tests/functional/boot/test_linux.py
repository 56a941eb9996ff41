"""Boot the Debian kernel with the busybox initramfs to a shell, on the
accelerator given as argument: run commands at the prompt, check the CPUs of
-smp 2, the sha256 of a known file and the HPET among the clocksources, then
`poweroff -f` (exit 0), and `reboot -f` with -no-reboot (exits)."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import guest_assets  # noqa: E402
from vm import VM, Timeout, skip  # noqa: E402

kestrel, accel = sys.argv[1], sys.argv[2]
kernel_kind = sys.argv[3] if len(sys.argv) > 3 else "bzImage"
try:
    kernel = guest_assets.debian_kernel() if kernel_kind == "bzImage" else guest_assets.debian_vmlinux()
    initrd = guest_assets.busybox_initramfs()
except guest_assets.MissingAsset as e:
    skip(str(e))

BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "600"))
argv = [kestrel, "-accel", accel, "-m", "512", "-smp", "2", "-nographic",
        "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1"]

with VM(argv + ["-no-reboot"]) as vm:
    try:
        vm.wait_for(guest_assets.INIT_MARKER, BOOT_TIMEOUT)
        vm.wait_for(r"guest# ", 120)
    except Timeout as e:
        if accel == "kvm" and ("KVM internal error" in vm.text() or "emulation failure" in vm.text()):
            skip("this host's KVM cannot run a stock Linux kernel: " + vm.text()[-300:])
        raise
    # A loaded host can make the kernel print a console message (e.g.
    # "hrtimer: interrupt took ...") into a command's output: look for the
    # answer's own line.
    release = vm.run("uname -r")
    print("uname -r:", release)
    want_release = os.path.basename(guest_assets.debian_kernel())[len("vmlinuz-"):]
    assert want_release in release.splitlines(), (release, want_release)
    ncpu = vm.run("grep -c ^processor /proc/cpuinfo")
    assert "2" in [line.strip() for line in ncpu.splitlines()], "cpuinfo shows %r CPUs" % ncpu
    want = hashlib.sha256(guest_assets.known_file_bytes()).hexdigest()
    got = vm.run("sha256sum /data/known.bin")
    assert any(line.startswith(want) for line in got.splitlines()), \
        "sha256 %r, want %s" % (got, want)
    clocksources = vm.run("cat /sys/devices/system/clocksource/clocksource0/"
                          "available_clocksource")
    print("clocksources:", clocksources)
    assert "hpet" in clocksources.split(), "no HPET clocksource: %r" % clocksources
    vm.send("poweroff -f\n")
    status = vm.wait_exit(120)
    assert status == 0, "poweroff exit status %d" % status

with VM(argv + ["-no-reboot"]) as vm:
    vm.wait_for(r"guest# ", BOOT_TIMEOUT)
    vm.send("reboot -f\n")
    status = vm.wait_exit(120)
    assert status == 0, "reboot with -no-reboot: exit status %d" % status
print("Linux booted to a shell under %s, commands ran, poweroff and reboot exited" % accel)
