"""Linux on virtio-blk: boot the Debian kernel with the busybox initramfs
(virtio_pci, virtio_blk, ext4) and an ext4 data disk made with `mke2fs -d`,
as a user would:

  test_virtio_blk.py EMULATOR ACCEL raw|qcow2|snapshot

raw:      -drive file=disk.raw,format=raw,if=virtio
qcow2:    the disk converted to qcow2 (with kestrel-img when it sits next
          to EMULATOR, else qemu-img), given as -drive if=none plus
          -device virtio-blk-pci,drive=...,num-queues=2,serial=... on a
          2-vCPU guest (two request queues)
snapshot: the raw disk with -snapshot: the guest writes, the image must
          not change
legacy:   the raw disk on a transitional device (disable-legacy=off); the
          guest reloads virtio_pci with force_legacy=1, so Linux drives the
          legacy interface (I/O BAR 0; no VERSION_1 in the features)

In the guest: mount the disk, check the sha256 of its files, write new
files, sync, unmount, power off.  On the host: `debugfs` reads the new
files back, `e2fsck -fn` finds the file system clean, and the qcow2 image
passes `qemu-img check`.  EMULATOR may be Debian's qemu-system-x86_64 (the
reference that validates the test itself).
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import guest_assets  # noqa: E402
from vm import VM, Timeout, skip  # noqa: E402

emulator, accel, mode = sys.argv[1], sys.argv[2], sys.argv[3]
BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "900"))
CMD_TIMEOUT = 600

for tool in ("mke2fs", "debugfs", "e2fsck", "qemu-img"):
    if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
        skip("%s is not installed (scripts/debian-packages)" % tool)
try:
    kernel = guest_assets.test_kernel()
    initrd = guest_assets.busybox_initramfs(
        modules=["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"])
except guest_assets.MissingAsset as e:
    skip(str(e))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def image_tool():
    """kestrel-img when testing Kestrel from a build folder, else qemu-img."""
    here = os.path.dirname(os.path.abspath(emulator))
    for cand in (os.path.join(here, "tools", "kestrel-img", "kestrel-img"),
                 os.path.join(here, "kestrel-img")):
        if os.path.exists(cand):
            return cand
    return "qemu-img"


rng = random.Random(7)
files = {
    "hello.txt": b"hello from the host\n" * 200,
    "dir/random.bin": bytes(rng.getrandbits(8) for _ in range(3 * 1024 * 1024)),
    "dir/small.bin": bytes(rng.getrandbits(8) for _ in range(777)),
}
new_text = (b"kestrel-virtio\n" * 40000)[:500000]
SERIAL = "KESTREL-VDA-01"

work = tempfile.mkdtemp(prefix="kestrel-virtio-")
try:
    tree = os.path.join(work, "tree")
    for name, data in files.items():
        path = os.path.join(tree, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    raw = os.path.join(work, "disk.raw")
    run("mke2fs", "-q", "-t", "ext4", "-d", tree, "-F", raw, "64M")
    disk = raw
    smp = "1"
    argv_disk = ["-drive", "file=%s,format=raw,if=virtio" % raw]
    if mode == "qcow2":
        disk = os.path.join(work, "disk.qcow2")
        run(image_tool(), "convert", "-f", "raw", "-O", "qcow2", raw, disk)
        os.unlink(raw)
        smp = "2"
        argv_disk = ["-drive", "if=none,id=data,format=qcow2,file=" + disk,
                     "-device", "virtio-blk-pci,drive=data,num-queues=2,"
                     "serial=" + SERIAL]
    elif mode == "legacy":
        argv_disk = ["-drive", "if=none,id=data,format=raw,file=" + raw,
                     "-device", "virtio-blk-pci,drive=data,disable-legacy=off"]
    elif mode == "snapshot":
        argv_disk.append("-snapshot")
        before = sha(open(raw, "rb").read())

    argv = [emulator, "-accel", accel, "-m", "512", "-smp", smp, "-nographic",
            "-no-reboot", "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1"] + argv_disk
    if "qemu" not in os.path.basename(emulator):
        argv += ["-cpu", "kestrel-dev"]

    with VM(argv) as vm:
        try:
            vm.wait_for(guest_assets.INIT_MARKER, BOOT_TIMEOUT)
            vm.wait_for(r"guest# ", 120)
        except Timeout:
            print(vm.text()[-3000:])
            raise
        if mode == "legacy":
            vm.run("for i in $(seq 100); do [ -b /dev/vda ] && break; "
                   "sleep 0.2; done", timeout=CMD_TIMEOUT)
            out = vm.run("rmmod virtio_blk && rmmod virtio_pci && "
                         "insmod /lib/modules/virtio_pci.ko force_legacy=1 && "
                         "insmod /lib/modules/virtio_blk.ko && echo RELOADED",
                         timeout=CMD_TIMEOUT)
            assert "RELOADED" in out, out
        vm.run("for i in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.2; "
               "done", timeout=CMD_TIMEOUT)
        if mode == "legacy":
            feats = vm.run("cat /sys/bus/virtio/devices/virtio*/features",
                           timeout=CMD_TIMEOUT)
            bits = [w for w in feats.split() if len(w) == 64 and
                    set(w) <= set("01")]
            assert bits and bits[0][32] == "0", \
                "the legacy driver negotiated VERSION_1: %r" % feats
        print(vm.run("dmesg | grep -i virtio", timeout=CMD_TIMEOUT))
        if mode == "qcow2":
            mq = vm.run("ls /sys/block/vda/mq", timeout=CMD_TIMEOUT).split()
            assert len(mq) == 2, "request queues seen by Linux: %r" % mq
            serial = vm.run("cat /sys/block/vda/serial", timeout=CMD_TIMEOUT)
            assert SERIAL in serial, "serial: %r" % serial
        out = vm.run("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && "
                     "echo MOUNTED", timeout=CMD_TIMEOUT)
        assert "MOUNTED" in out, out
        for name, data in files.items():
            got = vm.run("sha256sum /mnt/" + name, timeout=CMD_TIMEOUT)
            assert (sha(data) + "  ") in got, "%s: %r" % (name, got)
        vm.run("yes kestrel-virtio | head -c 500000 > /mnt/new.txt",
               timeout=CMD_TIMEOUT)
        vm.run("cp /mnt/dir/random.bin /mnt/copy.bin", timeout=CMD_TIMEOUT)
        vm.run("rm /mnt/dir/small.bin", timeout=CMD_TIMEOUT)
        # fstrim sends discards (the device offers VIRTIO_BLK_F_DISCARD).
        print(vm.run("fstrim -v /mnt", timeout=CMD_TIMEOUT))
        vm.run("sync", timeout=CMD_TIMEOUT)
        got = vm.run("sha256sum /mnt/copy.bin", timeout=CMD_TIMEOUT)
        assert (sha(files["dir/random.bin"]) + "  ") in got, got
        out = vm.run("umount /mnt && echo UNMOUNTED", timeout=CMD_TIMEOUT)
        assert "UNMOUNTED" in out, out
        vm.send("poweroff -f\n")
        status = vm.wait_exit(CMD_TIMEOUT)
        assert status == 0, "poweroff: exit status %d" % status

    if mode == "snapshot":
        assert sha(open(raw, "rb").read()) == before, "-snapshot wrote the image"
        leftovers = [n for n in os.listdir(tempfile.gettempdir())
                     if n.startswith("kestrel-snapshot-")]
        print("snapshot: image unchanged; temporary overlays left: %d"
              % len(leftovers))
    else:
        if mode == "qcow2":
            run("qemu-img", "check", "-q", disk)
            raw = os.path.join(work, "check.raw")
            run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", disk, raw)
        subprocess.run(["e2fsck", "-fn", raw], check=True, capture_output=True)
        got = run("debugfs", "-R", "cat /new.txt", raw)
        assert got == new_text, "new.txt from the host: %d bytes" % len(got)
        got = run("debugfs", "-R", "cat /copy.bin", raw)
        assert sha(got) == sha(files["dir/random.bin"]), "copy.bin differs"
    print("virtio-blk %s under %s: files read and written by Linux, image "
          "checked on the host" % (mode, accel))
finally:
    shutil.rmtree(work, ignore_errors=True)
