"""Child processes: start one and wait for its ready line, keep its output
flowing into a log file, stop it (SIGTERM, then SIGKILL), and stop
everything still running when the run ends. Also the CPU pinning prefix."""

import os
import re
import select
import signal
import subprocess
import threading
import time

from .common import log


def pinned(cmd, cpus):
    """cmd under `taskset -c CPUS`, or cmd itself when cpus is None."""
    return (["taskset", "-c", cpus] + cmd) if cpus else cmd


class Procs:
    """Every process this driver starts; all are stopped on exit."""

    def __init__(self):
        self.items = []

    def start(self, name, cmd, stdout_path=None, ready_re=None, timeout=30.0):
        """Starts cmd in its own session with stdout and stderr going to
        stdout_path. With ready_re, waits (at most timeout seconds) for a
        stdout line matching it. Returns (Popen, match or None)."""
        log_f = open(stdout_path or os.devnull, "ab")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_f,
                             stdin=subprocess.DEVNULL,
                             start_new_session=True)
        self.items.append(p)
        match = None
        if ready_re is not None:
            match = self._wait_ready(name, p, log_f, stdout_path, ready_re,
                                     timeout)
        # keep draining stdout so the child never blocks on a full pipe

        def drain():
            try:
                for chunk in iter(lambda: os.read(p.stdout.fileno(), 4096), b""):
                    log_f.write(chunk)
                    log_f.flush()
            except (OSError, ValueError):
                pass
        threading.Thread(target=drain, daemon=True).start()
        return p, match

    @staticmethod
    def _wait_ready(name, p, log_f, stdout_path, ready_re, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("%s did not become ready within %.0f s "
                                   "(see %s)" % (name, timeout, stdout_path))
            r, _, _ = select.select([p.stdout], [], [], min(left, 0.5))
            if p.poll() is not None and not r:
                raise RuntimeError("%s exited with %s before it was ready "
                                   "(see %s)" % (name, p.returncode,
                                                 stdout_path))
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    continue
                buf += chunk
                log_f.write(chunk)
                log_f.flush()
                for line in buf.decode(errors="replace").splitlines():
                    m = re.search(ready_re, line)
                    if m:
                        return m

    def stop(self, p, grace=10.0):
        """SIGTERM, then SIGKILL after grace seconds; returns the exit status."""
        if p.poll() is not None:
            return p.returncode
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            return None
        try:
            return p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log("bench: process %d ignored SIGTERM for %.0f s, killing it"
                % (p.pid, grace))
            p.kill()
            return p.wait()

    def stop_all(self):
        """Stops every started process, the last started first."""
        for p in reversed(self.items):
            self.stop(p)
        self.items = []
