"""Linux on IDE: boot the Debian kernel with the busybox initramfs (ata_piix,
sd_mod, sr_mod, ext4, isofs) and an ext4 data disk made with `mke2fs -d`
on the PIIX3 IDE controller, plus an ISO 9660 CD-ROM (genisoimage) on the
secondary master, as a user would:

  test_ide_linux.py EMULATOR ACCEL raw|qcow2

raw: the disk is -drive if=ide (primary master), Linux uses bus-master DMA.
qcow2: the disk is -drive if=none + -device ide-hd,bus=ide.0,unit=1 (the
primary slave), and the kernel runs with libata.dma=0, so every transfer,
disk and CD-ROM, is PIO.

In the guest: mount both, check the sha256 of the files, write new files,
sync, unmount, power off.  On the host: the image passes `qemu-img check`
and `e2fsck -fn`, and `debugfs` reads the new files back with the right
contents.  EMULATOR may be Debian's qemu-system-x86_64 (the reference that
validates the test itself).
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

emulator, accel, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "900"))
CMD_TIMEOUT = 600

for tool in ("mke2fs", "debugfs", "e2fsck", "qemu-img", "genisoimage"):
    if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
        skip("%s is not installed (scripts/debian-packages)" % tool)
try:
    kernel = guest_assets.test_kernel()
    initrd = guest_assets.busybox_initramfs(
        modules=["ata_piix", "sd_mod", "sr_mod", "crc32c_generic", "ext4",
                 "isofs"])
except guest_assets.MissingAsset as e:
    skip(str(e))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True).stdout


rng = random.Random(5)
files = {
    "hello.txt": b"hello from the host\n" * 100,
    "sub/random.bin": bytes(rng.getrandbits(8) for _ in range(1536 * 1024)),
}
new_text = b"kestrel-ide\n" * 30000  # what `yes kestrel-ide | head -c` writes
new_text = new_text[:300000]
cd_file = bytes(rng.getrandbits(8) for _ in range(600 * 1024))

work = tempfile.mkdtemp(prefix="kestrel-ide-")
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
    if fmt == "qcow2":
        disk = os.path.join(work, "disk.qcow2")
        run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, disk)
        os.unlink(raw)
    isodir = os.path.join(work, "iso")
    os.makedirs(isodir)
    with open(os.path.join(isodir, "data.bin"), "wb") as f:
        f.write(cd_file)
    iso = os.path.join(work, "cd.iso")
    run("genisoimage", "-quiet", "-R", "-o", iso, isodir)

    append = "console=ttyS0 panic=-1"
    argv = [emulator, "-accel", accel, "-m", "512", "-nographic",
            "-no-reboot", "-kernel", kernel, "-initrd", initrd]
    if "qemu" not in os.path.basename(emulator):
        argv += ["-cpu", "kestrel-dev"]
    if fmt == "qcow2":
        append += " libata.dma=0"
        argv += ["-drive", "if=none,id=data,format=qcow2,file=" + disk,
                 "-device", "ide-hd,drive=data,bus=ide.0,unit=1"]
    else:
        argv += ["-drive", "if=ide,format=raw,file=" + disk]
    argv += ["-cdrom", iso, "-append", append]

    with VM(argv) as vm:
        try:
            vm.wait_for(guest_assets.INIT_MARKER, BOOT_TIMEOUT)
            vm.wait_for(r"guest# ", 120)
        except Timeout:
            print(vm.text()[-3000:])
            raise
        vm.run("for i in $(seq 100); do [ -b /dev/sda ] && [ -b /dev/sr0 ] "
               "&& break; sleep 0.2; done", timeout=CMD_TIMEOUT)
        print(vm.run("dmesg | grep -E 'ata[0-9]|scsi|sd |sr '",
                     timeout=CMD_TIMEOUT))
        out = vm.run("mkdir -p /mnt /cdrom && mount -t ext4 /dev/sda /mnt "
                     "&& echo MOUNTED", timeout=CMD_TIMEOUT)
        assert "MOUNTED" in out, out
        for name, data in files.items():
            got = vm.run("sha256sum /mnt/" + name, timeout=CMD_TIMEOUT)
            assert (sha(data) + "  ") in got, "%s: %r" % (name, got)
        vm.run("yes kestrel-ide | head -c 300000 > /mnt/new.txt",
               timeout=CMD_TIMEOUT)
        vm.run("cp /mnt/sub/random.bin /mnt/copy.bin", timeout=CMD_TIMEOUT)
        vm.run("sync", timeout=CMD_TIMEOUT)
        out = vm.run("umount /mnt && echo UNMOUNTED", timeout=CMD_TIMEOUT)
        assert "UNMOUNTED" in out, out

        out = vm.run("mount -t iso9660 -o ro /dev/sr0 /cdrom && echo MOUNTED",
                     timeout=CMD_TIMEOUT)
        assert "MOUNTED" in out, out
        got = vm.run("sha256sum /cdrom/data.bin", timeout=CMD_TIMEOUT)
        assert (sha(cd_file) + "  ") in got, "CD-ROM file: %r" % got
        vm.run("umount /cdrom", timeout=CMD_TIMEOUT)
        vm.send("poweroff -f\n")
        status = vm.wait_exit(CMD_TIMEOUT)
        assert status == 0, "poweroff: exit status %d" % status

    if fmt == "qcow2":
        run("qemu-img", "check", "-q", disk)
        raw = os.path.join(work, "check.raw")
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", disk, raw)
    subprocess.run(["e2fsck", "-fn", raw], check=True, capture_output=True)
    got = run("debugfs", "-R", "cat /new.txt", raw)
    assert got == new_text, "new.txt from the host: %d bytes" % len(got)
    got = run("debugfs", "-R", "cat /copy.bin", raw)
    assert sha(got) == sha(files["sub/random.bin"]), "copy.bin differs"
    print("IDE %s (%s): files read and written by Linux, image checked on "
          "the host; ISO read from the CD-ROM" % (fmt, "DMA" if fmt == "raw"
                                                  else "PIO"))
finally:
    shutil.rmtree(work, ignore_errors=True)
