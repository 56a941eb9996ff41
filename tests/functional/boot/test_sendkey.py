"""Keys typed through the monitor reach the guest's PS/2 keyboard: HMP
`sendkey` (names, combinations, QEMU key numbers) and QMP `send-key`, read by
the kbd test kernel through the i8042 with translation on (set 1), off (set
2) and with the keyboard switched to set 1.

usage: test_sendkey.py KESTREL KBD-KERNEL [ACCEL]
"""
import json
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vm import VM, skip  # noqa: E402

kestrel, kernel = sys.argv[1], sys.argv[2]
accel = sys.argv[3] if len(sys.argv) > 3 else "tcg"
if accel.startswith("kvm") and not os.access("/dev/kvm", os.R_OK | os.W_OK):
    skip("/dev/kvm is missing or not accessible")


def connect(path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.settimeout(60)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def read_until(s, token):
    data = b""
    while token not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError("socket closed; got %r" % data)
        data += chunk
    return data.decode("utf-8", "replace")


class Hmp:
    def __init__(self, path):
        self.s = connect(path)
        read_until(self.s, b"(kestrel) ")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return read_until(self.s, b"(kestrel) ")


class Qmp:
    def __init__(self, path):
        self.s = connect(path)
        self.f = self.s.makefile("rb")
        json.loads(self.f.readline())
        assert "return" in self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.s.sendall(json.dumps(req).encode() + b"\n")
        while True:
            r = json.loads(self.f.readline())
            if "event" not in r:
                return r


def qcodes(*names):
    return [{"type": "qcode", "data": n} for n in names]


def phase_bytes(vm, n):
    m = vm.wait_for(r"kbd: phase %d:([ 0-9a-f]*)\r?\n" % n, 120)
    return m.group(1).decode().split()


with tempfile.TemporaryDirectory() as d:
    mon_path, qmp_path = os.path.join(d, "mon.sock"), os.path.join(d, "qmp.sock")
    argv = [kestrel, "-accel", accel, "-serial", "stdio",
            "-monitor", "unix:%s,server=on,wait=off" % mon_path,
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel]
    with VM(argv) as vm:
        hmp, qmp = Hmp(mon_path), Qmp(qmp_path)

        # Translation on: the guest reads set 1.
        vm.wait_for(r"kbd: phase 1 ready", 120)
        for keys in ("a", "shift-b", "ctrl-alt-delete", "esc"):
            out = hmp.cmd("sendkey " + keys)
            assert "sendkey:" not in out, out
        got = phase_bytes(vm, 1)
        assert got == ("1e 9e 2a 30 b0 aa 1d 38 e0 53 e0 d3 b8 9d 01 81").split(), (got, vm.text()[-1500:])

        # Translation off: set 2, typed through QMP.
        vm.wait_for(r"kbd: phase 2 ready", 120)
        for keys in (["a"], ["shift", "b"], ["up"], ["esc"]):
            r = qmp.cmd("send-key", keys=qcodes(*keys), **{"hold-time": 10})
            assert "return" in r, r
        got = phase_bytes(vm, 2)
        assert got == ("1c f0 1c 12 32 f0 32 f0 12 e0 75 e0 f0 75 76 f0 76").split(), (got, vm.text()[-1500:])

        # The keyboard in set 1: QEMU key numbers (0x10 is q, 0xc8 up).
        vm.wait_for(r"kbd: phase 3 ready", 120)
        for keys in ("0x10", "0xc8", "esc"):
            out = hmp.cmd("sendkey " + keys)
            assert "sendkey:" not in out, out
        got = phase_bytes(vm, 3)
        assert got == "10 90 e0 48 e0 c8 01 81".split(), (got, vm.text()[-1500:])

        status = vm.wait_exit(120)
        assert status == (0x10 << 1) | 1, "exit status %d:\n%s" % (status, vm.text())
print("sendkey and send-key reach the guest's keyboard under %s" % accel)
