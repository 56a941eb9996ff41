#!/usr/bin/env python3
"""Dump Kestrel's ACPI tables (test-hw-acpi --dump DIR) and check them with
ACPICA's iasl: every table disassembles without errors, and the disassembled
DSDT compiles back without errors or warnings.  Exit 77 (skipped) without iasl."""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    return p.returncode, p.stdout


def main():
    if len(sys.argv) != 2:
        print("usage: check-acpi-iasl.py TEST-HW-ACPI")
        return 2
    iasl = shutil.which("iasl")
    if not iasl:
        print("SKIP: iasl not installed (Debian package acpica-tools)")
        return 77
    with tempfile.TemporaryDirectory() as d:
        rc, out = run([os.path.abspath(sys.argv[1]), "--dump", d], d)
        if rc != 0:
            print("dumping the tables failed:\n" + out)
            return 1
        failed = False
        for sig in ("DSDT", "FACP", "APIC", "HPET"):
            rc, out = run([iasl, "-d", sig + ".dat"], d)
            errors = re.findall(r"(?im)^.*\berror\b.*$", out)
            if rc != 0 or errors or not os.path.exists(os.path.join(d, sig + ".dsl")):
                print(f"{sig}: iasl -d failed (rc {rc}):\n{out}")
                failed = True
            else:
                print(f"{sig}: disassembles cleanly")
        rc, out = run([iasl, "-p", "recompiled", "DSDT.dsl"], d)
        m = re.search(r"(\d+) Errors, (\d+) Warnings", out)
        if rc != 0 or not m or m.group(1) != "0" or m.group(2) != "0":
            print(f"DSDT: recompiling the disassembly failed (rc {rc}):\n{out}")
            failed = True
        else:
            print("DSDT: recompiles cleanly")
        if failed:
            with open(os.path.join(d, "DSDT.dsl")) as f:
                print(f.read())
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
