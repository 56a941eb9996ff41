"""The tap backend inside a network namespace the test makes (so the host's
own network is never touched): a tap interface with 192.168.77.1, the
guest at 192.168.77.2 pings it and fetches a file from an HTTP server bound
in the namespace; its sha256 must match.  Skipped, saying why, where a
namespace or /dev/net/tun cannot be had.

usage: test_tap.py EMULATOR ACCEL MODEL"""
import hashlib
import os
import subprocess
import sys

from nettest import (CMD_TIMEOUT, FileServer, boot, parse_args, skip,
                     static_ip)

if os.environ.get("KESTREL_IN_NETNS") != "1":
    if not os.path.exists("/dev/net/tun"):
        skip("/dev/net/tun is missing")
    env = dict(os.environ, KESTREL_IN_NETNS="1")
    for prefix in (["unshare", "--net"], ["unshare", "--net", "--map-root-user"]):
        probe = subprocess.run(prefix + ["true"], capture_output=True)
        if probe.returncode == 0:
            sys.exit(subprocess.call(prefix + [sys.executable] + sys.argv, env=env))
    skip("cannot create a network namespace here: " +
         probe.stderr.decode(errors="replace").strip())

emulator, accel, model = parse_args()
setup = subprocess.run(
    "ip link set lo up && ip tuntap add dev ktap0 mode tap && "
    "ip addr add 192.168.77.1/24 dev ktap0 && ip link set ktap0 up",
    shell=True, capture_output=True)
if setup.returncode != 0:
    skip("cannot make a tap interface in the namespace: " +
         setup.stderr.decode(errors="replace").strip())
data = os.urandom(2 * 1024 * 1024 + 7)
server = FileServer(data)
vm = boot(emulator, accel, model,
          ["-netdev", "tap,id=n0,ifname=ktap0,script=no,downscript=no",
           "-device", "%s,netdev=n0" % model], "tap-%s.log" % model)
try:
    static_ip(vm, "192.168.77.2")
    out = vm.run("ping -c 3 -W 10 192.168.77.1", timeout=CMD_TIMEOUT)
    assert " 0% packet loss" in out, "ping: %r" % out
    # The server listens on the host's loopback; reach it through a tiny
    # forwarder bound to the tap address.
    fwd = subprocess.Popen([sys.executable, "-c", """
import socket, threading, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.168.77.1", 8080)); ls.listen(4)
def pipe(a, b):
    while True:
        d = a.recv(65536)
        if not d:
            b.shutdown(socket.SHUT_WR); return
        b.sendall(d)
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", %d))
    threading.Thread(target=pipe, args=(c, s), daemon=True).start()
    threading.Thread(target=pipe, args=(s, c), daemon=True).start()
""" % server.port])
    try:
        out = vm.run("wget -q -O /tmp/f http://192.168.77.1:8080/f && sha256sum /tmp/f",
                     timeout=CMD_TIMEOUT * 2)
    finally:
        fwd.kill()
    assert hashlib.sha256(data).hexdigest() in out, "wget: %r" % out
finally:
    vm.kill()
    server.close()
print("tap netdev with %s: ping and wget sha256 ok" % model)
