"""Drive an emulator process (Kestrel or QEMU) over its serial console on
stdio: start it, wait for text, type commands, collect the exit status.

Timeouts are generous (tests share a busy 2-core machine); nothing asserts
on timing.
"""
import os
import re
import select
import signal
import subprocess
import sys
import time

SKIP = 77


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


class Timeout(Exception):
    pass


class VM:
    def __init__(self, argv, env=None, log_path=None):
        self.argv = list(argv)
        self.out = b""
        self.pos = 0
        self.log = open(log_path, "wb") if log_path else None
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _pump(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        try:
            data = self.proc.stdout.read()
        except BlockingIOError:
            return False
        if not data:
            return None
        self.out += data
        if self.log:
            self.log.write(data)
            self.log.flush()
        return True

    def text(self):
        return self.out.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=120.0):
        """Wait until regex pattern appears after the last match; return the
        match.  Raises Timeout (with the tail of the output) otherwise."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no %r within %.0f s; output ends with:\n%s" % (
                    pattern, timeout, self.out[-2000:].decode("utf-8", "replace")))
            if self._pump(min(left, 1.0)) is None:
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise Timeout("process exited (status %s) before %r; output ends with:\n%s" % (
                    self.proc.wait(), pattern, self.out[-2000:].decode("utf-8", "replace")))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def run(self, command, prompt=r"guest# ", timeout=120.0):
        """Type a shell command and return what it printed before the next
        prompt (the echoed command line removed)."""
        self.send(command + "\n")
        start = self.pos
        m = self.wait_for(prompt, timeout)
        chunk = self.out[start:m.start()].decode("utf-8", "replace")
        lines = chunk.replace("\r", "").split("\n")
        if lines and command.strip() in lines[0]:
            lines = lines[1:]
        return "\n".join(lines).strip()

    def wait_exit(self, timeout=120.0):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("process did not exit within %.0f s" % timeout)
            self._pump(min(left, 0.5))
        while self._pump(0) is True:
            pass
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
