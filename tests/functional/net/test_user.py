"""User networking (libslirp) with a NIC model, on the emulator given as
argument: udhcpc gets 10.0.2.15 from slirp's DHCP server; the guest fetches
a file with wget from an HTTP server on the host's loopback (through
10.0.2.2) and its sha256 matches; a hostfwd rule lets the host connect to
`nc -l` in the guest and exchange data both ways.

usage: test_user.py EMULATOR ACCEL MODEL    (MODEL: e1000, virtio-net-pci)"""
import hashlib
import os
import socket
import time

from nettest import (CMD_TIMEOUT, FileServer, boot, dhcp, free_port,
                     parse_args)

emulator, accel, model = parse_args()
host_port = free_port()
data = os.urandom(3 * 1024 * 1024 + 123)
want = hashlib.sha256(data).hexdigest()
server = FileServer(data)
net = ["-nic", "user,model=%s,hostfwd=tcp:127.0.0.1:%d-:7777" % (model, host_port)]
vm = boot(emulator, accel, model, net, "user-%s.log" % model)
try:
    addr = dhcp(vm)
    assert addr == "10.0.2.15", "DHCP gave %r" % addr
    out = vm.run("wget -q -O /tmp/f http://10.0.2.2:%d/file && sha256sum /tmp/f"
                 % server.port, timeout=CMD_TIMEOUT * 2)
    assert want in out, "wget: %r, want sha256 %s" % (out, want)

    # hostfwd: the host talks to nc listening in the guest.
    vm.run("echo hello-from-guest | nc -l -p 7777 > /tmp/in &")
    to_guest = os.urandom(200 * 1024)
    deadline = time.monotonic() + CMD_TIMEOUT
    got = b""
    while True:
        try:
            with socket.create_connection(("127.0.0.1", host_port), 30) as c:
                c.settimeout(CMD_TIMEOUT)
                c.sendall(to_guest)
                c.shutdown(socket.SHUT_WR)
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    got += chunk
        except (ConnectionError, socket.timeout):
            pass
        if got or time.monotonic() > deadline:
            break
        time.sleep(2)  # nc may not be listening yet
    assert got.strip() == b"hello-from-guest", "from the guest: %r" % got[:100]
    out = vm.run("sleep 1; sha256sum /tmp/in", timeout=CMD_TIMEOUT)
    assert hashlib.sha256(to_guest).hexdigest() in out, \
        "guest received %r" % out
finally:
    vm.kill()
    server.close()
print("user network with %s: DHCP 10.0.2.15, wget sha256 ok, hostfwd both ways ok"
      % model)
