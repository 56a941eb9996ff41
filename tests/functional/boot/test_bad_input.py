"""Bad input gets one clear error line and exit status 1, never a crash:
missing or unreadable kernel/initrd, a file that is not a kernel, -m larger
than the host, unknown options and device properties."""
import os
import subprocess
import sys
import tempfile

kestrel = sys.argv[1]
failures = []


def check(args, needle, status=1):
    p = subprocess.run([kestrel] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    err = p.stderr.strip()
    ok = p.returncode == status and needle in err and len(err.splitlines()) == 1
    print("%s kestrel %s -> %d: %s" % ("ok  " if ok else "FAIL", " ".join(args), p.returncode, err))
    if not ok:
        failures.append(args)


with tempfile.TemporaryDirectory() as d:
    junk = os.path.join(d, "junk.bin")
    with open(junk, "wb") as f:
        f.write(os.urandom(65536))
    unreadable = os.path.join(d, "secret")
    with open(unreadable, "wb") as f:
        f.write(b"x")
    os.chmod(unreadable, 0)
    tcg = ["-accel", "tcg", "-nographic"]
    check(tcg + ["-kernel", os.path.join(d, "missing")], "could not load kernel")
    check(tcg + ["-kernel", junk], "is not a Linux bzImage, a Multiboot image or an ELF kernel")
    check(tcg + ["-kernel", junk, "-initrd", os.path.join(d, "nope")], "")
    if os.geteuid() != 0:
        check(tcg + ["-kernel", unreadable], "could not load kernel")
    check(tcg + ["-m", "100T", "-kernel", junk], "more than the host")
    check(["-frobnicate"], "unknown option '-frobnicate'")
    check(["-m"], "needs an argument")
    check(["-smp", "0"], "-smp")
    check(tcg + ["-device", "isa-debug-exit,colour=red", "-kernel", junk], "no property 'colour'")
    check(tcg + ["-device", "no-such-device", "-kernel", junk], "not a valid device model name")
    check(["-initrd", junk], "only allowed with -kernel")

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("all bad inputs rejected cleanly")
