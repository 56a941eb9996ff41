"""Bad IDE options get one clear error line and exit status 1, never a
crash; good ones start the machine (the test kernel prints and exits).

  test_ide_bad_input.py KESTREL HELLO_KERNEL
"""
import os
import subprocess
import sys
import tempfile

kestrel, hello = sys.argv[1], sys.argv[2]

work = tempfile.mkdtemp(prefix="kestrel-ide-bad-")
disk = os.path.join(work, "disk.raw")
disk2 = os.path.join(work, "disk2.raw")
tiny = os.path.join(work, "tiny.raw")
with open(disk, "wb") as f:
    f.truncate(1 << 20)
with open(disk2, "wb") as f:
    f.truncate(1 << 20)
with open(tiny, "wb") as f:
    f.write(b"x" * 100)

base = [kestrel, "-nographic", "-kernel", hello, "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04"]
bad = [
    (["-device", "ide-hd"], "drive property not set"),
    (["-device", "ide-hd,drive=nosuch"], "no drive with id 'nosuch'"),
    (["-drive", "if=none,id=c,media=cdrom,format=raw,file=" + disk,
      "-device", "ide-hd,drive=c"], "is a CD-ROM"),
    (["-device", "ide-cd,bus=ide.2"], "bus 'ide.2' not found"),
    (["-device", "ide-cd,unit=2"], "unit 2 does not exist"),
    (["-hda", disk, "-device", "ide-cd,bus=ide.0,unit=0"],
     "already in use"),
    (["-drive", "if=none,id=d,format=raw,file=" + disk, "-device",
      "ide-hd,drive=d", "-device", "ide-hd,drive=d"], "already in use"),
    (["-drive", "if=none,id=t,format=raw,file=" + tiny, "-device",
      "ide-hd,drive=t"], "at least 512 bytes"),
    (["-drive", "if=none,id=u,format=raw,file=" + disk], "not used"),
    (["-cdrom", os.path.join(work, "missing.iso")], "missing.iso"),
    (["-device", "ide-cd", "-device", "ide-cd", "-device", "ide-cd",
      "-device", "ide-cd", "-device", "ide-cd"], "no free IDE slot"),
]
failures = 0
try:
    for extra, want in bad:
        r = subprocess.run(base + extra, capture_output=True, text=True,
                           timeout=60)
        lines = [ln for ln in r.stderr.splitlines() if "warning" not in ln]
        ok = (r.returncode == 1 and len(lines) == 1 and want in lines[0]
              and lines[0].startswith("kestrel: "))
        print("%s %s -> %d %r" % ("ok  " if ok else "FAIL", " ".join(extra),
                                  r.returncode, r.stderr.strip()))
        failures += not ok

    good = [
        ["-hda", disk],
        ["-drive", "file=%s,format=raw,if=ide,index=3" % disk],
        ["-drive", "if=none,id=d,format=raw,file=" + disk,
         "-device", "ide-hd,drive=d,bus=ide.1,unit=1,serial=ABC,model=M"],
        ["-device", "ide-cd"],
        ["-cdrom", disk, "-snapshot", "-hda", disk],
    ]
    for extra in good:
        r = subprocess.run(base + ["-drive", "if=none,id=ro,format=raw,"
                                   "readonly=on,file=" + disk2, "-device",
                                   "ide-hd,drive=ro"] + extra,
                           capture_output=True, text=True, timeout=120)
        ok = "Hello" in r.stdout and r.returncode != 1
        print("%s %s -> %d" % ("ok  " if ok else "FAIL", " ".join(extra),
                               r.returncode))
        failures += not ok
finally:
    for p in (disk, disk2, tiny):
        os.unlink(p)
    os.rmdir(work)
sys.exit(1 if failures else 0)
