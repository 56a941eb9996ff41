"""`-accel kvm` where KVM cannot be used must print one clear line and exit
with status 1.  Two cases, each in a private mount namespace (needs root and
unshare(1)): /dev/kvm missing (an empty tmpfs over /dev) and /dev/kvm not
permitted (the test runs Kestrel as user nobody).  Skips, saying why, where
it cannot set these up.

usage: test_kvm_unavailable.py KESTREL KERNEL
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vm import skip  # noqa: E402

kestrel, kernel = (os.path.abspath(a) for a in sys.argv[1:3])

if os.geteuid() != 0 or not shutil.which("unshare"):
    skip("needs root and unshare(1) to hide /dev/kvm from Kestrel")
probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
if probe.returncode != 0:
    skip("cannot create a mount namespace here: %s" % probe.stderr.decode().strip())


def check(cmd, want, what):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert p.returncode == 1, "%s: exit status %d, stderr:\n%s" % (what, p.returncode, err)
    assert len(lines) == 1, "%s: want one line on stderr, got:\n%s" % (what, err)
    assert lines[0].startswith("kestrel: ") and want in lines[0], \
        "%s: unexpected message %r" % (what, lines[0])
    print("%s: %s" % (what, lines[0]))


args = ["-accel", "kvm", "-kernel", kernel, "-nographic"]
# /dev/kvm absent: a fresh tmpfs over /dev, visible to this process only.
check(["unshare", "--mount", "sh", "-c",
       'mount -t tmpfs none /dev && exec "$0" "$@"', kestrel] + args,
      "/dev/kvm not found", "missing /dev/kvm")

if os.path.exists("/dev/kvm") and (os.stat("/dev/kvm").st_mode & 0o006) == 0:
    nobody = shutil.which("setpriv")
    if nobody:
        check(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               kestrel] + args, "no permission to open /dev/kvm", "no permission")
    else:
        print("setpriv(1) missing: permission case not checked")
else:
    print("/dev/kvm is absent or world-accessible: permission case not checked")
