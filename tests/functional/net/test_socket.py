"""Two VMs on one cable: -netdev socket,listen= in the first and connect=
in the second (QEMU's stream framing).  They ping each other and the second
sends a file to the first with nc; its sha256 must match.

usage: test_socket.py EMULATOR ACCEL MODEL [EMULATOR2]
(EMULATOR2, e.g. qemu-system-x86_64, runs the second VM: an interop test)"""
import hashlib
import sys

from nettest import CMD_TIMEOUT, boot, free_port, parse_args, static_ip
import guest_assets  # noqa: E402  (nettest put its folder on the path)

emulator, accel, model = parse_args()
emulator2 = sys.argv[4] if len(sys.argv) > 4 else emulator
port = free_port()
want = hashlib.sha256(guest_assets.known_file_bytes()).hexdigest()


def nic(mac):
    return ["-device", "%s,netdev=n0,mac=%s" % (model, mac)]


a = boot(emulator, accel, model,
         ["-netdev", "socket,id=n0,listen=127.0.0.1:%d" % port]
         + nic("52:54:00:00:00:01"), "socket-a.log")
b = None
try:
    b = boot(emulator2, accel, model,
             ["-netdev", "socket,id=n0,connect=127.0.0.1:%d" % port]
             + nic("52:54:00:00:00:02"), "socket-b.log")
    static_ip(a, "192.168.50.1")
    static_ip(b, "192.168.50.2")
    out = b.run("ping -c 3 -W 10 192.168.50.1", timeout=CMD_TIMEOUT)
    assert " 0% packet loss" in out, "b pings a: %r" % out
    out = a.run("ping -c 3 -W 10 192.168.50.2", timeout=CMD_TIMEOUT)
    assert " 0% packet loss" in out, "a pings b: %r" % out
    a.run("nc -l -p 5000 > /tmp/f &")
    b.run("sleep 2; nc 192.168.50.1 5000 < /data/known.bin", timeout=CMD_TIMEOUT)
    out = a.run("sleep 2; sha256sum /tmp/f", timeout=CMD_TIMEOUT)
    assert want in out, "a received %r, want %s" % (out, want)
finally:
    a.kill()
    if b:
        b.kill()
print("socket netdev with %s: ping both ways, file transfer sha256 ok" % model)
