"""Root file system on virtio-blk: an ext4 image (made with `mke2fs -d`)
holds busybox and an /init; the busybox initramfs only loads virtio_pci,
virtio_blk and ext4, mounts the device named by root= and switches to it,
as a distribution's initramfs would:

  test_virtio_root.py EMULATOR ACCEL

In the guest (running from the disk): / is /dev/vda, a file on the disk
has the right sha256, programs run from the disk, a new file is written,
synced, and the guest powers off.  On the host: `e2fsck -fn` and `debugfs`
find the file system clean and the new file there.
"""
import hashlib
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import guest_assets  # noqa: E402
from vm import VM, Timeout, skip  # noqa: E402

emulator, accel = sys.argv[1], sys.argv[2]
BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "900"))
CMD_TIMEOUT = 600
ROOT_MARKER = "KESTREL-ROOT-READY"

for tool in ("mke2fs", "debugfs", "e2fsck"):
    if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
        skip("%s is not installed (scripts/debian-packages)" % tool)
if not os.path.exists("/bin/busybox"):
    skip("no /bin/busybox: install busybox-static")

# The initramfs: after /init loaded the modules, /autorun mounts root= and
# switches to it.
SWITCH = """#!/bin/busybox sh
root=$(sed -n 's/.* root=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
for i in $(seq 150); do [ -b "$root" ] && break; sleep 0.2; done
mkdir -p /newroot
mount -t ext4 -o rw "$root" /newroot || exec sh
umount /sys /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /init
"""
# The disk's /init.
DISK_INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "%s $(grep ' / ' /proc/mounts | cut -d' ' -f1-3)"
export PS1='guest# '
exec setsid cttyhack sh
""" % ROOT_MARKER

try:
    kernel = guest_assets.test_kernel()
    initrd = guest_assets.busybox_initramfs(
        extra_files=[("autorun", stat.S_IFREG | 0o755, SWITCH.encode())],
        modules=["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"])
except guest_assets.MissingAsset as e:
    skip(str(e))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True).stdout


payload = bytes(random.Random(11).getrandbits(8) for _ in range(2 * 1024 * 1024))
work = tempfile.mkdtemp(prefix="kestrel-vroot-")
try:
    tree = os.path.join(work, "tree")
    for d in ("bin", "dev", "proc", "sys", "tmp", "data"):
        os.makedirs(os.path.join(tree, d))
    shutil.copy("/bin/busybox", os.path.join(tree, "bin", "busybox"))
    os.symlink("busybox", os.path.join(tree, "bin", "sh"))
    with open(os.path.join(tree, "init"), "w") as f:
        f.write(DISK_INIT)
    os.chmod(os.path.join(tree, "init"), 0o755)
    with open(os.path.join(tree, "data", "payload.bin"), "wb") as f:
        f.write(payload)
    disk = os.path.join(work, "root.raw")
    run("mke2fs", "-q", "-t", "ext4", "-d", tree, "-F", disk, "96M")

    argv = [emulator, "-accel", accel, "-m", "512", "-nographic", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd,
            "-drive", "file=%s,format=raw,if=virtio" % disk,
            "-append", "console=ttyS0 panic=-1 root=/dev/vda"]
    if "qemu" not in os.path.basename(emulator):
        argv += ["-cpu", "kestrel-dev"]

    with VM(argv) as vm:
        try:
            line = vm.wait_for(ROOT_MARKER + r".*", BOOT_TIMEOUT)
            vm.wait_for(r"guest# ", 120)
        except Timeout:
            print(vm.text()[-3000:])
            raise
        assert "/dev/vda / ext4" in vm.text(), vm.text()[-500:]
        got = vm.run("sha256sum /data/payload.bin", timeout=CMD_TIMEOUT)
        assert (sha(payload) + "  ") in got, got
        # Programs from the disk: busybox applets installed on it at boot.
        out = vm.run("ls -l /bin/sha256sum && /bin/busybox echo FROM-DISK",
                     timeout=CMD_TIMEOUT)
        assert "FROM-DISK" in out, out
        vm.run("echo written-on-root > /data/new.txt && sync",
               timeout=CMD_TIMEOUT)
        vm.run("mount -o remount,ro / && echo RO", timeout=CMD_TIMEOUT)
        vm.send("poweroff -f\n")
        status = vm.wait_exit(CMD_TIMEOUT)
        assert status == 0, "poweroff: exit status %d" % status

    subprocess.run(["e2fsck", "-fn", disk], check=True, capture_output=True)
    got = run("debugfs", "-R", "cat /data/new.txt", disk)
    assert got == b"written-on-root\n", got
    print("root on virtio-blk under %s: switched to /dev/vda, ran programs "
          "from it, wrote a file the host reads back" % accel)
finally:
    shutil.rmtree(work, ignore_errors=True)
