"""Real guests for the functional tests, built from Debian's packages.

- the Debian kernel (linux-image-amd64): /boot/vmlinuz-*, and the uncompressed
  vmlinux (with its PVH entry note) extracted from it;
- a busybox initramfs (busybox-static) whose /init mounts the usual file
  systems, loads the kernel modules the test asked for (virtio_blk, e1000...:
  copied from /lib/modules of the same kernel with their dependencies),
  prints a marker line and starts a shell on the console (or runs /autorun
  instead, when the caller put one in the archive).

Assets are cached under the build folder (KESTREL_ASSET_DIR or
build/guest-assets) and rebuilt when their inputs change.
"""
import glob
import gzip
import hashlib
import io
import lzma
import os
import stat
import struct
import sys

INIT_MARKER = "KESTREL-INIT-READY"

INIT_SCRIPT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /lib/modules/load-order 2>/dev/null); do insmod /lib/modules/$m; done
echo "%s $(cut -d' ' -f1 /proc/uptime)"
export PS1='guest# '
[ -x /autorun ] && exec /autorun
exec setsid cttyhack sh
""" % INIT_MARKER


def asset_dir():
    d = os.environ.get("KESTREL_ASSET_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "build", "guest-assets")
    os.makedirs(d, exist_ok=True)
    return os.path.abspath(d)


class MissingAsset(Exception):
    """A Debian package the test needs is not installed."""


def debian_kernel():
    """Path of the newest Debian bzImage in /boot."""
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    if not kernels:
        raise MissingAsset("no /boot/vmlinuz-*: install linux-image-amd64")
    return kernels[-1]


def test_kernel():
    """The kernel the functional tests boot: the PVH vmlinux (the same Debian
    kernel without its decompressor, which the software CPU would otherwise
    spend most of a boot in).  test_linux.py boots the bzImage too."""
    return debian_vmlinux()


def known_file_bytes():
    """Deterministic 1 MiB file placed in the initramfs as /data/known.bin."""
    out = bytearray()
    state = 0x12345678
    while len(out) < (1 << 20):
        state = (state * 1103515245 + 12345) & 0xffffffff
        out += struct.pack("<I", state)
    return bytes(out)


def _cpio_entry(name, mode, data=b"", ino=1):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    blob = hdr + name_b
    blob += b"\0" * ((4 - len(blob) % 4) % 4)
    blob += data
    blob += b"\0" * ((4 - len(blob) % 4) % 4)
    return blob


def build_cpio(files):
    """files: list of (name, mode, data). Returns a newc archive."""
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate(files, start=1):
        out.write(_cpio_entry(name, mode, data, ino))
    out.write(_cpio_entry("TRAILER!!!", 0, b"", 0))
    return out.getvalue()


def kernel_modules(names):
    """(path-in-initramfs, data) of the modules `names` (e.g. "virtio_blk")
    of the Debian kernel and everything they depend on, in load order."""
    version = os.path.basename(debian_kernel())[len("vmlinuz-"):]
    root = os.path.join("/lib/modules", version)
    dep_file = os.path.join(root, "modules.dep")
    if not os.path.exists(dep_file):
        raise MissingAsset("no %s: install linux-image-amd64" % dep_file)
    deps = {}
    with open(dep_file) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    by_name = {}
    for mod in deps:
        base = os.path.basename(mod).split(".ko")[0]
        by_name[base.replace("-", "_")] = mod
    order = []

    def visit(mod):
        if mod in order:
            return
        for dep in deps[mod]:
            visit(dep)
        order.append(mod)

    for name in names:
        mod = by_name.get(name.replace("-", "_"))
        if mod is None:
            raise MissingAsset("kernel %s has no module %s" % (version, name))
        visit(mod)
    out = []
    for mod in order:
        if not mod.endswith(".ko"):
            raise MissingAsset("compressed module %s not supported" % mod)
        with open(os.path.join(root, mod), "rb") as f:
            out.append((os.path.basename(mod), f.read()))
    return out


def busybox_initramfs(extra_files=(), modules=()):
    """Path of a gzip'ed initramfs with busybox, /init and /data/known.bin;
    `modules` (names such as "virtio_blk", "e1000", "ata_piix") are loaded
    by /init, with their dependencies, before the marker line."""
    bb = "/bin/busybox"
    if not os.path.exists(bb):
        raise MissingAsset("no /bin/busybox: install busybox-static")
    with open(bb, "rb") as f:
        bb_data = f.read()
    if b"GLIBC" in bb_data[:4096] or b"ld-linux" in bb_data[:8192]:
        raise MissingAsset("/bin/busybox is dynamically linked: install busybox-static")
    d = stat.S_IFDIR | 0o755
    r = stat.S_IFREG
    files = [
        ("bin", d, b""), ("dev", d, b""), ("proc", d, b""), ("sys", d, b""),
        ("data", d, b""), ("tmp", d, b""),
        ("bin/busybox", r | 0o755, bb_data),
        ("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        ("init", r | 0o755, INIT_SCRIPT.encode()),
        ("data/known.bin", r | 0o644, known_file_bytes()),
        ("dev/console", stat.S_IFCHR | 0o600, b""),
    ]
    if modules:
        mods = kernel_modules(modules)
        files.append(("lib", d, b""))
        files.append(("lib/modules", d, b""))
        for name, data in mods:
            files.append(("lib/modules/" + name, r | 0o644, data))
        order = "".join(name + "\n" for name, _ in mods).encode()
        files.append(("lib/modules/load-order", r | 0o644, order))
    files.extend(extra_files)
    key = hashlib.sha256()
    for name, mode, data in files:
        key.update(name.encode() + b"%o" % mode + hashlib.sha256(data).digest())
    path = os.path.join(asset_dir(), "initramfs-%s.cpio.gz" % key.hexdigest()[:16])
    if not os.path.exists(path):
        archive = build_cpio(files)
        # /dev/console must be a char device 5:1 for the kernel's console.
        tmp = path + ".tmp"
        with gzip.open(tmp, "wb", compresslevel=6) as f:
            f.write(_fix_console(archive))
        os.replace(tmp, path)
    return path


def _fix_console(archive):
    # rdevmajor/rdevminor of dev/console: rewrite the header fields in place.
    marker = b"dev/console\0"
    i = archive.find(marker)
    hdr = i - 110
    fields = bytearray(archive[hdr:hdr + 110])
    fields[6 + 9 * 8:6 + 10 * 8] = b"%08X" % 5
    fields[6 + 10 * 8:6 + 11 * 8] = b"%08X" % 1
    return archive[:hdr] + bytes(fields) + archive[hdr + 110:]


def debian_vmlinux():
    """The uncompressed ELF kernel inside the Debian bzImage (it carries the
    PVH entry note), extracted once and cached."""
    bz = debian_kernel()
    st = os.stat(bz)
    path = os.path.join(asset_dir(), "vmlinux-%s-%d" % (os.path.basename(bz), st.st_mtime))
    if os.path.exists(path):
        return path
    with open(bz, "rb") as f:
        img = f.read()
    setup_sects = img[0x1f1] or 4
    off, length = struct.unpack_from("<II", img, 0x248)
    payload = img[(setup_sects + 1) * 512 + off:][:length]
    if payload.startswith(b"\xfd7zXZ\x00"):
        data = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        data = gzip.GzipFile(fileobj=io.BytesIO(payload)).read()
    else:
        raise MissingAsset("cannot unpack %s: compression %r not supported" % (bz, payload[:6]))
    if not data.startswith(b"\x7fELF"):
        raise MissingAsset("unpacked kernel of %s is not ELF" % bz)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    print("kernel   ", debian_kernel())
    print("vmlinux  ", debian_vmlinux())
    print("initramfs", busybox_initramfs())
    print("modules  ", [n for n, _ in kernel_modules(["virtio_blk", "virtio_pci", "ata_piix", "sd_mod", "e1000", "virtio_net", "ext4"])])
    sys.exit(0)
