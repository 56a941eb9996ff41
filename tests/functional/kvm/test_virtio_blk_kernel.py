"""Run tests/kernels/virtio-blk (a small virtio-blk driver: modern PCI
transport, one queue, MSI-X) against a raw image, then check from the host
that what the guest wrote is in the image file and nothing else changed.

usage: test_virtio_blk_kernel.py KESTREL KERNEL ACCEL [DEVICE-PROPS]

ACCEL is kvm, kvm,kernel-irqchip=off or tcg.  Under kvm with the in-kernel
irqchip the device's queue notifications are ioeventfds and its interrupts
irqfds; with kernel-irqchip=off interrupts go through the userspace APIC;
DEVICE-PROPS "ioeventfd=off" turns both shortcuts off (KVM_SIGNAL_MSI for
the interrupts).  Skips (77) where /dev/kvm is missing or cannot run the
kernel.  Also runs against qemu-system-x86_64 (-accel tcg or kvm) to check
the test itself.
"""
import os
import re
import sys
import tempfile

from kvmtest import PASS, kestrel_argv, require_kvm, run_kernel, skip

SECTOR = 512
IMAGE_SECTORS = 2048
HOST_SECTORS = 128          # sectors 0..127 hold host_pattern
GUEST_FIRST, GUEST_COUNT = 128, 64


def host_pattern(sector):
    return bytes((sector * 29 + i * 3 + 0x5a) & 0xff for i in range(SECTOR))


def kernel_pattern(sector):
    return bytes((sector * 17 + i * 5 + 0xc3) & 0xff for i in range(SECTOR))


def make_image(path):
    with open(path, "wb") as f:
        for s in range(HOST_SECTORS):
            f.write(host_pattern(s))
        f.truncate(IMAGE_SECTORS * SECTOR)


def check_image(path):
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) == IMAGE_SECTORS * SECTOR, len(data)
    for s in range(IMAGE_SECTORS):
        got = data[s * SECTOR:(s + 1) * SECTOR]
        if s < HOST_SECTORS:
            want = host_pattern(s)
        elif s < GUEST_FIRST + GUEST_COUNT:
            want = kernel_pattern(s)
        else:
            want = bytes(SECTOR)
        assert got == want, "sector %d of the image is not what it should " \
            "be (%s)" % (s, "written by the guest" if GUEST_FIRST <= s <
                         GUEST_FIRST + GUEST_COUNT else "untouched")


def main():
    kestrel, kernel, accel = sys.argv[1:4]
    props = sys.argv[4] if len(sys.argv) > 4 else ""
    if accel.startswith("kvm"):
        require_kvm()
    with tempfile.TemporaryDirectory(prefix="kestrel-vblk-kernel-") as d:
        image = os.path.join(d, "disk.raw")
        make_image(image)
        device = "virtio-blk-pci,drive=d0" + ("," + props if props else "")
        argv = kestrel_argv(kestrel, kernel, accel=accel, extra=[
            "-drive", "if=none,id=d0,format=raw,file=" + image,
            "-device", device])
        status, out = run_kernel(argv, timeout=240)
        if status == 1 and accel.startswith("kvm") and "KVM" in out and \
                "virtio-blk:" not in out:
            skip("this host's KVM cannot run the test kernel: " +
                 out.strip().splitlines()[-1])
        assert "virtio-blk: PASS" in out and "WRONG" not in out, out
        assert status == PASS, "exit status %d; output:\n%s" % (status, out)
        check_image(image)
    cost = re.search(r"(\d+) cycles per notify write, (\d+) per common", out)
    irqs = re.search(r"(\d+) queue interrupts", out)
    print("virtio-blk kernel: ok under -accel %s%s; %s; %s queue interrupts; "
          "guest data in the image file" % (
              accel, " (" + props + ")" if props else "",
              "notify write %s cycles vs %s for a common-config write" %
              cost.groups() if cost else "no timing",
              irqs.group(1) if irqs else "?"))


if __name__ == "__main__":
    main()
