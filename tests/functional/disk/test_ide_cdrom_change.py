"""CD-ROM media change on IDE, as a user does it from the monitor:

  test_ide_cdrom_change.py EMULATOR ACCEL

Boot the Debian kernel with -cdrom first.iso; the guest mounts it and checks
a file; the monitor (on a Unix socket) says `change ide1-cd0 second.iso`;
the guest mounts the new disc and finds the second file; `eject ide1-cd0`
leaves the drive empty and the guest's mount fails.  EMULATOR may be Debian's
qemu-system-x86_64 (the reference that validates the test itself).
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import guest_assets  # noqa: E402
from vm import VM, Timeout, skip  # noqa: E402

emulator, accel = sys.argv[1], sys.argv[2]
BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "900"))
CMD_TIMEOUT = 600

if not shutil.which("genisoimage"):
    skip("genisoimage is not installed (scripts/debian-packages)")
try:
    kernel = guest_assets.test_kernel()
    initrd = guest_assets.busybox_initramfs(modules=["ata_piix", "sr_mod",
                                                     "isofs"])
except guest_assets.MissingAsset as e:
    skip(str(e))


def make_iso(work, name, data):
    d = os.path.join(work, name + ".d")
    os.makedirs(d)
    with open(os.path.join(d, name + ".txt"), "wb") as f:
        f.write(data)
    iso = os.path.join(work, name + ".iso")
    subprocess.run(["genisoimage", "-quiet", "-R", "-o", iso, d], check=True)
    return iso


def monitor(path, command):
    """Send one HMP command on a fresh connection; return what came back."""
    deadline = time.monotonic() + 60
    s = socket.socket(socket.AF_UNIX)
    while True:
        try:
            s.connect(path)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    s.settimeout(60)
    out = b""
    while b"(qemu)" not in out and b"(kestrel)" not in out:
        chunk = s.recv(4096)
        assert chunk, "monitor closed: %r" % out
        out += chunk
    prompt = b"(qemu)" if b"(qemu)" in out else b"(kestrel)"
    s.sendall(command.encode() + b"\n")
    reply = b""
    while prompt not in reply:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    s.close()
    return reply.decode("utf-8", "replace")


first = b"the first disc\n" * 1000
second = b"the second disc, changed from the monitor\n" * 2000
work = tempfile.mkdtemp(prefix="kestrel-cd-")
try:
    iso1 = make_iso(work, "first", first)
    iso2 = make_iso(work, "second", second)
    mon = os.path.join(work, "mon.sock")
    argv = [emulator, "-accel", accel, "-m", "512", "-nographic",
            "-no-reboot", "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1", "-cdrom", iso1,
            "-monitor", "unix:%s,server=on,wait=off" % mon]
    if "qemu" not in os.path.basename(emulator):
        argv += ["-cpu", "kestrel-dev"]
    with VM(argv) as vm:
        try:
            vm.wait_for(guest_assets.INIT_MARKER, BOOT_TIMEOUT)
            vm.wait_for(r"guest# ", 120)
        except Timeout:
            print(vm.text()[-3000:])
            raise
        vm.run("mkdir -p /cdrom; for i in $(seq 100); do [ -b /dev/sr0 ] "
               "&& break; sleep 0.2; done", timeout=CMD_TIMEOUT)

        def mount_and_hash(name):
            out = vm.run("mount -t iso9660 -o ro /dev/sr0 /cdrom && "
                         "sha256sum /cdrom/%s.txt; umount /cdrom" % name,
                         timeout=CMD_TIMEOUT)
            return out

        out = mount_and_hash("first")
        assert hashlib.sha256(first).hexdigest() in out, out

        reply = monitor(mon, "change ide1-cd0 %s raw" % iso2)
        assert "rror" not in reply and "not" not in reply, reply
        # The first commands after the change may see the unit attention.
        vm.run("dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null; "
               "sleep 1", timeout=CMD_TIMEOUT)
        out = mount_and_hash("second")
        assert hashlib.sha256(second).hexdigest() in out, out

        reply = monitor(mon, "eject ide1-cd0")
        assert "rror" not in reply and "not" not in reply, reply
        out = vm.run("mount -t iso9660 -o ro /dev/sr0 /cdrom && echo MOUNTED",
                     timeout=CMD_TIMEOUT)
        assert "MOUNTED" not in out, "mounted an ejected drive: %r" % out

        vm.send("poweroff -f\n")
        status = vm.wait_exit(CMD_TIMEOUT)
        assert status == 0, "poweroff: exit status %d" % status
    print("CD-ROM: first disc read, changed and ejected from the monitor")
finally:
    shutil.rmtree(work, ignore_errors=True)
