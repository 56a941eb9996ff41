"""bench/boot, the Linux row: the Debian kernel (bzImage) with the busybox
initramfs, from process start to the init marker its /init prints, Kestrel
and QEMU on the same accelerator (tcg: this project's hosts cannot run Linux
under KVM), alternating; then /autorun powers off and the peak RSS is taken.
The guest and the measurement are bench/lib/linux_guest.py's, shared with
bench/cpu."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import linux_guest  # noqa: E402


def run(build, runs, out, accel="tcg", timeout=900.0):
    """Print the Linux boot rows to out; return the medians."""
    kestrel = os.path.join(build, "kestrel")
    for exe in (kestrel, linux_guest.QEMU):
        if not os.access(exe, os.X_OK):
            out.write("linux: skipped (%s not found)\n" % exe)
            return None
    try:
        kernel = linux_guest.guest_assets.debian_kernel()
        initrd = linux_guest.initramfs()
    except linux_guest.guest_assets.MissingAsset as e:
        out.write("linux: skipped (%s)\n" % e)
        return None
    samples = {"kestrel": [], "qemu": []}
    for i in range(runs):
        order = ["kestrel", "qemu"] if i % 2 == 0 else ["qemu", "kestrel"]
        for who in order:
            exe = kestrel if who == "kestrel" else linux_guest.QEMU
            r = linux_guest.run(linux_guest.argv(exe, accel, kernel, initrd),
                                timeout)
            if "error" in r:
                out.write("  %s run failed: %s\n" % (who, r["error"]))
            samples[who].append(r)
    k, q = samples["kestrel"], samples["qemu"]
    med = {who: {key: linux_guest.median(s, key) for key in ("boot", "rss")}
           for who, s in samples.items()}
    out.write("Linux (%s, bzImage + busybox initramfs, -m 512), %d runs each, "
              "alternating; medians\n" % (accel, runs))
    row = "  %-40s %12s %12s %7s\n"
    out.write(row % ("", "Kestrel", "QEMU", "K/Q"))
    for key, label, scale, fmt in (
            ("boot", "start to init marker (s)", 1, "%.2f"),
            ("rss", "peak RSS (MiB)", 1, "%.1f")):
        kv, qv = med["kestrel"][key] * scale, med["qemu"][key] * scale
        out.write(row % (label, fmt % kv, fmt % qv,
                         "%.2f" % linux_guest.ratio(kv, qv)))
    failed = sum("error" in r for r in k + q)
    if failed:
        out.write("  (%d of %d runs failed)\n" % (failed, len(k) + len(q)))
    return med
