"""Run one of the repo's test kernels (tests/kernels) under -accel kvm (or
the software CPU) and check what it prints on COM1 and its isa-debug-exit
status.

usage: test_kvm_kernel.py KESTREL KERNEL NAME [kernel-irqchip=off | tcg]
"""
import re
import sys

from kvmtest import PASS, kestrel_argv, require_kvm, run_kernel


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, "no %r in the output:\n%s" % (pattern, text)
    return int(m.group(1))


def check_hello(kestrel, kernel, accel):
    # The status is the kernel's choice (exit=0x2a -> (0x2a << 1) | 1).
    status, out = run_kernel(kestrel_argv(kestrel, kernel, append="exit=0x2a",
                                          accel=accel))
    assert "hello: Hello from a Kestrel test kernel" in out, out
    assert status == 0x55, "exit status %d, want 85; output:\n%s" % (status, out)


def check_fwcfg(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(
        kestrel, kernel, append="fwcfg-test-arg=42", smp=2,
        extra=["-m", "256"], accel=accel))
    assert "fwcfg: signature 'QEMU'" in out, out
    assert number(r"fwcfg: cpus (\d+)", out) == 2, out
    assert number(r"fwcfg: ram (\d+) MiB", out) == 256, out
    m = re.search(r"fwcfg: cmdline '([^']*)'", out)
    assert m and "fwcfg-test-arg=42" in m.group(1), out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_pit(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(kestrel, kernel, accel=accel))
    assert number(r"pit: (\d+) ticks through the PIC", out) > 0, out
    assert number(r"pit: (\d+) ticks through the IOAPIC", out) > 0, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_lapic_timer(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(kestrel, kernel, accel=accel))
    assert number(r"lapic-timer: (\d+) one-shot ticks", out) == 1, out
    assert number(r"lapic-timer: (\d+) periodic ticks", out) > 1, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_smp(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(kestrel, kernel, smp=4, accel=accel),
                             timeout=180)
    assert "smp: 4 CPUs" in out, out
    for apic_id in (1, 2, 3):
        assert "smp: APIC ID %d started" % apic_id in out, out
    assert "smp: 3 of 3 APs started" in out, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_iobench(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(kestrel, kernel, append="rounds=2000",
                                          accel=accel))
    assert number(r"iobench: (\d+) cycles per inl", out) > 0, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_longmode(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(kestrel, kernel, accel=accel))
    assert "longmode: running 64-bit code" in out, out
    assert "= 0x123456789123456789" in out, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_reset(kestrel, kernel, accel):
    # Three resets (port 0xcf9, the i8042, a triple fault), each after the
    # kernel disturbed the PIC, IOAPIC, LAPIC, PIT, TSC and kvmclock; every
    # boot checks the power-on state.  Two vCPUs: the AP is reset too.
    status, out = run_kernel(kestrel_argv(kestrel, kernel, smp=2, accel=accel),
                             timeout=180)
    for boot in range(4):
        assert "reset: boot %d: power-on state ok" % boot in out, out
    assert "resetting through a triple fault" in out, out
    assert "reset: 3 resets, power-on state after each" in out, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


def check_hpet(kestrel, kernel, accel):
    status, out = run_kernel(kestrel_argv(kestrel, kernel, accel=accel),
                             timeout=180)
    assert "ACPI HPET table at 0xfed00000: ok" in out, out
    assert "timer 0 on IRQ0 through I/O APIC pin 2: ok" in out, out
    assert "timer 1 one-shot on IRQ8, RTC cut off: ok" in out, out
    assert "timer 2 level-triggered on GSI 20: ok" in out, out
    assert status == PASS, "exit status %d; output:\n%s" % (status, out)


CHECKS = {
    "hello": check_hello,
    "fwcfg": check_fwcfg,
    "pit": check_pit,
    "lapic-timer": check_lapic_timer,
    "smp": check_smp,
    "iobench": check_iobench,
    "longmode": check_longmode,
    "reset": check_reset,
    "hpet": check_hpet,
}


def main():
    kestrel, kernel, name = sys.argv[1:4]
    accel = "kvm"
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    if mode == "kernel-irqchip=off":
        # The userspace PIC/IOAPIC/LAPIC/PIT with KVM running the CPU.
        accel = "kvm,kernel-irqchip=off"
    if mode == "tcg":
        accel = "tcg"
    else:
        require_kvm()
    CHECKS[name](kestrel, kernel, accel)
    print("%s: ok under -accel %s" % (name, accel))


if __name__ == "__main__":
    main()
