"""Boot one of the repo's test kernels and check its serial output and exit
status (used by the sanitizer build: a whole guest boot under ASan/UBSan).

usage: test_kernel_boot.py KESTREL KERNEL ACCEL [EXTRA-ARGUMENTS...]"""
import os
import subprocess
import sys

kestrel, kernel, accel = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4:]
if accel == "kvm" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
    print("SKIP: /dev/kvm is missing or not accessible")
    sys.exit(77)
p = subprocess.run([kestrel, "-accel", accel, "-smp", "2", "-nographic",
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-kernel", kernel] + extra, stdin=subprocess.DEVNULL,
                   capture_output=True, text=True, timeout=300)
print(p.stdout)
print(p.stderr, file=sys.stderr)
if accel == "kvm" and "/dev/kvm" in p.stderr and p.returncode == 1:
    print("SKIP: KVM is not usable here: " + p.stderr.strip())
    sys.exit(77)
# The nested KVM of some hosts (kvm_pvm) runs guest kernel code in its
# instruction emulator, which cannot emulate every system instruction (call
# gates, task switches...): that is the host's limit, not the kernel's.
if accel.startswith("kvm") and "emulation failure" in p.stderr:
    print("SKIP: this host's KVM cannot emulate what the kernel does: " +
          p.stderr.strip().splitlines()[-1])
    sys.exit(77)
# A kernel that finds the host's CPU unable to run it says why and exits
# with EXIT_SKIP: (0x12 << 1) | 1.  Only KVM's CPU may be unable.
if accel.startswith("kvm") and p.returncode == 37:
    reason = [l for l in p.stdout.splitlines() if "SKIP" in l]
    print("SKIP: " + (reason[-1] if reason else "the kernel could not run here"))
    sys.exit(77)
# The kernels exit through isa-debug-exit with 0x10 on success: (0x10 << 1) | 1.
ok = "PASS" in p.stdout and p.returncode == 33 and "ERROR: AddressSanitizer" not in p.stderr \
    and "runtime error" not in p.stderr
sys.exit(0 if ok else 1)
