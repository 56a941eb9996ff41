"""Shared pieces of the network functional tests: booting the Debian kernel
with a busybox initramfs that loads the NIC's driver, configuring the
guest's interface (DHCP with a small udhcpc script, or a static address),
and small host-side servers.

The tests take the emulator as their first argument, so their logic can be
checked against qemu-system-x86_64 as well as Kestrel."""
import os
import socket
import sys
import threading
import http.server

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import guest_assets  # noqa: E402
from vm import VM, Timeout, skip  # noqa: E402,F401

BOOT_TIMEOUT = float(os.environ.get("KESTREL_BOOT_TIMEOUT", "900"))
CMD_TIMEOUT = float(os.environ.get("KESTREL_CMD_TIMEOUT", "300"))

MODULES = {
    "e1000": ["e1000"],
    "virtio-net-pci": ["virtio_pci", "virtio_net"],
}

# udhcpc runs this with the lease in its environment.
DHCP_SCRIPT = ("#!/bin/sh\\n"
               "case $1 in bound|renew) ;; *) exit 0;; esac\\n"
               "ifconfig $interface $ip netmask $subnet up\\n"
               "route add default gw $router dev $interface\\n"
               "mkdir -p /etc; echo nameserver $dns > /etc/resolv.conf\\n")


def parse_args():
    if len(sys.argv) < 4:
        sys.exit("usage: %s EMULATOR ACCEL MODEL" % sys.argv[0])
    emulator, accel, model = sys.argv[1], sys.argv[2], sys.argv[3]
    if model not in MODULES:
        sys.exit("unknown NIC model " + model)
    return emulator, accel, model


def assets(model):
    try:
        return guest_assets.test_kernel(), guest_assets.busybox_initramfs(
            modules=MODULES[model])
    except guest_assets.MissingAsset as e:
        skip(str(e))


def boot(emulator, accel, model, net_args, log_name=None):
    kernel, initrd = assets(model)
    argv = [emulator, "-accel", accel, "-m", "512", "-nographic",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 net.ifnames=0"] + net_args
    log = None
    if log_name and os.environ.get("KESTREL_TEST_LOG_DIR"):
        log = os.path.join(os.environ["KESTREL_TEST_LOG_DIR"], log_name)
    vm = VM(argv, log_path=log)
    try:
        vm.wait_for(guest_assets.INIT_MARKER, BOOT_TIMEOUT)
        vm.wait_for(r"guest# ", CMD_TIMEOUT)
        vm.run("dmesg -n 1", timeout=CMD_TIMEOUT)  # keep the console quiet
    except Timeout:
        vm.kill()
        raise
    return vm


def dhcp(vm):
    """Configure eth0 with udhcpc; return the address it got."""
    vm.run("printf '%s' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh" % DHCP_SCRIPT,
           timeout=CMD_TIMEOUT)
    out = vm.run("ifconfig eth0 up; udhcpc -i eth0 -n -q -t 10 -s /tmp/dhcp.sh 2>&1; "
                 "ip -4 addr show eth0", timeout=CMD_TIMEOUT)
    print(out)
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("inet "):
            return line.split()[1].split("/")[0]
    return None


def static_ip(vm, addr):
    vm.run("ifconfig eth0 %s netmask 255.255.255.0 up" % addr,
           timeout=CMD_TIMEOUT)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FileServer:
    """An HTTP server (on the host's loopback by default) serving one file."""

    def __init__(self, data, host="127.0.0.1"):
        payload = data

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
