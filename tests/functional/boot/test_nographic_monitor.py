"""Where the monitor goes with -nographic and an explicit -serial, as in
QEMU: on the terminal when nothing else claims it (-serial null), nowhere
with -monitor none or -qmp, and an error when -serial stdio already holds
the terminal.  Runs against Kestrel or qemu-system-x86_64 (the reference).

usage: test_nographic_monitor.py EMULATOR HELLO-KERNEL
"""
import subprocess
import sys

emulator, kernel = sys.argv[1], sys.argv[2]
EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def run(args, stdin, timeout=60):
    try:
        p = subprocess.run([emulator, "-nographic", "-kernel", kernel] + args,
                           input=stdin, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, ""


# -serial null: the monitor is on the terminal; -S keeps the guest paused.
rc, out, err = run(["-serial", "null", "-S"], "info status\nquit\n")
assert rc == 0, "rc %r\n%s%s" % (rc, out, err)
assert "VM status: paused" in out, out

# -serial stdio holds the terminal: no room for the monitor.
rc, out, err = run(["-serial", "stdio", "-S"], "quit\n", timeout=30)
assert rc == 1, "rc %r\n%s%s" % (rc, out, err)
assert "cannot use stdio by multiple character devices" in err, err

# -monitor none, or a QMP monitor: nothing reads the terminal; the guest
# runs and exits through isa-debug-exit.
for extra in (["-monitor", "none"], ["-qmp", "null"]):
    rc, out, err = run(["-serial", "null"] + extra + EXIT, "info status\n")
    assert rc is not None and rc != 0, "%s: rc %r\n%s%s" % (extra, rc, out, err)
    assert "VM status" not in out, "%s: a monitor answered:\n%s" % (extra, out)

# A mon: serial port is the monitor: none is added on the terminal.
rc, out, err = run(["-serial", "null", "-serial", "mon:stdio"] + EXIT, "")
assert rc is not None and rc != 0, "rc %r\n%s%s" % (rc, out, err)
print("monitor placement with -nographic and -serial matches QEMU")
