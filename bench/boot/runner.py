"""Run one emulator process to completion and measure it: wall-clock time
from process start to exit, peak RSS (wait4 rusage), exit status and what it
printed.  Shared by the parts of bench/boot."""
import os
import statistics
import subprocess
import tempfile
import time


class Result:
    def __init__(self, seconds, maxrss_kib, status, output):
        self.seconds = seconds
        self.maxrss_kib = maxrss_kib
        self.status = status
        self.output = output


def run(argv, timeout=300.0):
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        deadline = start + timeout
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.0005)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace").replace("\r", "")
    return Result(seconds, rusage.ru_maxrss, proc.returncode, text)


def median(values):
    return statistics.median(values) if values else float("nan")


def ratio(a, b):
    return a / b if b else float("nan")
