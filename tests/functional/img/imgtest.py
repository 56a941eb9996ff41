"""Shared helpers for the kestrel-img functional tests.

Programs come from the environment set by meson (KESTREL_IMG, IMG_WRITER);
qemu-img and qemu-io come from Debian's qemu-utils.  A test exits 77 (meson's
"skipped") with a message when a tool it needs is missing.
"""
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

KIMG = os.environ.get("KESTREL_IMG")
WRITER = os.environ.get("IMG_WRITER")
QIMG = shutil.which("qemu-img")
QIO = shutil.which("qemu-io")

_failures = []


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def need_tools(qemu=True):
    if not KIMG or not os.path.exists(KIMG):
        skip("KESTREL_IMG does not point to a built kestrel-img")
    if qemu and (not QIMG or not QIO):
        skip("qemu-img/qemu-io not found (install Debian's qemu-utils)")


def check(cond, msg):
    """Records a failed expectation without stopping the test."""
    if not cond:
        _failures.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def finish():
    if _failures:
        print("%d failure(s)" % len(_failures))
        sys.exit(1)
    print("all passed")
    sys.exit(0)


def run(args, ok=(0,), timeout=120, check_rc=True):
    p = subprocess.run([str(a) for a in args], capture_output=True,
                       timeout=timeout)
    p.out = p.stdout.decode(errors="replace")
    p.err = p.stderr.decode(errors="replace")
    if check_rc and ok is not None and p.returncode not in ok:
        raise RuntimeError("%s exited %d (wanted %s)\nstdout: %s\nstderr: %s"
                           % (" ".join(map(str, args)), p.returncode, ok,
                              p.out, p.err))
    return p


def kimg(*args, ok=(0,), **kw):
    return run([KIMG] + list(args), ok=ok, **kw)


def qimg(*args, ok=(0,), **kw):
    return run([QIMG] + list(args), ok=ok, **kw)


def qio(image, *cmds, fmt="qcow2"):
    args = [QIO, "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    return run(args + [image])


def writer(image, *ops, ok=(0,), **kw):
    """Applies w:OFF:LEN:BYTE, z:OFF:LEN, d:OFF:LEN, f via the device API."""
    extra = []
    for k, v in kw.items():
        if v is True:
            extra.append("--" + k.replace("_", "-"))
        elif v not in (None, False):
            extra += ["--" + k.replace("_", "-"), str(v)]
    return run([WRITER] + extra + [image] + list(ops), ok=ok)


@contextlib.contextmanager
def workdir():
    d = tempfile.mkdtemp(prefix="kestrel-img-test-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def sha(path):
    return hashlib.sha256(read_file(path)).hexdigest()


def kestrel_raw(image, fmt=None, out=None):
    """The guest view of an image as read by kestrel-img convert."""
    out = out or image + ".k.raw"
    args = ["convert", "-O", "raw"]
    if fmt:
        args += ["-f", fmt]
    kimg(*(args + [image, out]))
    data = read_file(out)
    os.unlink(out)
    return data


def qemu_raw(image, fmt=None, out=None):
    out = out or image + ".q.raw"
    args = ["convert", "-O", "raw"]
    if fmt:
        args += ["-f", fmt]
    qimg(*(args + [image, out]))
    data = read_file(out)
    os.unlink(out)
    return data


def qemu_check_ok(image, allow_leaks=False):
    ok = (0, 3) if allow_leaks else (0,)
    p = qimg("check", image, ok=None)
    return check(p.returncode in ok, "qemu-img check %s exited %d: %s %s"
                 % (image, p.returncode, p.out, p.err))


def qemu_compare_ok(image, raw_path):
    p = qimg("compare", image, "-F", "raw", raw_path, ok=None)
    return check(p.returncode == 0, "qemu-img compare %s %s exited %d: %s"
                 % (image, raw_path, p.returncode, p.out.strip()))


def json_out(p):
    return json.loads(p.out)


class Mirror:
    """Expected guest contents, updated along with the writes made."""

    def __init__(self, size):
        self.data = bytearray(size)

    def write(self, off, length, byte):
        self.data[off:off + length] = bytes([byte]) * length
        return "w:%d:%d:%d" % (off, length, byte)

    def zero(self, off, length):
        self.data[off:off + length] = bytes(length)
        return "z:%d:%d" % (off, length)

    def resize(self, size):
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.data)
        return path
