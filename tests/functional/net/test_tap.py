"""The tap backend inside a network namespace the test makes (so the host's
own network is never touched): a tap interface with 192.168.77.1, the
guest at 192.168.77.2 pings it and fetches a file from an HTTP server bound
to the tap's address; its sha256 must match.  Skipped, saying why, where a
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
server = FileServer(data, "192.168.77.1")
vm = boot(emulator, accel, model,
          ["-netdev", "tap,id=n0,ifname=ktap0,script=no,downscript=no",
           "-device", "%s,netdev=n0" % model], "tap-%s.log" % model)
try:
    static_ip(vm, "192.168.77.2")
    out = vm.run("ping -c 3 -W 10 192.168.77.1", timeout=CMD_TIMEOUT)
    assert " 0% packet loss" in out, "ping: %r" % out
    out = vm.run("wget -q -O /tmp/f http://192.168.77.1:%d/f && sha256sum /tmp/f"
                 % server.port, timeout=CMD_TIMEOUT * 2)
    assert hashlib.sha256(data).hexdigest() in out, "wget: %r" % out
finally:
    vm.kill()
    server.close()
print("tap netdev with %s: ping and wget sha256 ok" % model)
