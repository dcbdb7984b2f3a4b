"""results.json: the machine the run was on, the error totals that decide
the exit status, and the file itself."""

import json
import os
import socket
import subprocess

from .common import REPO


def environment():
    """cpus, kernel, host, load average, cpu model, git commit, wrk version
    (each left out when it cannot be read)."""
    env = {"nproc": os.cpu_count(), "kernel": os.uname().release,
           "host": socket.gethostname()}
    try:
        with open("/proc/loadavg") as f:
            env["loadavg"] = f.read().split()[:3]
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    env["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        env["git"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                                     "HEAD"], capture_output=True, text=True,
                                    timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        env["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True,
                                    text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    return env


def error_totals(rows, openloop, slices):
    """(failed requests against the service -- closed and open loop --,
    failed requests against the HTTP ceiling)."""
    errors = sum(r["non2xx"] + r["socket_errors"] for r in rows)
    errors += sum(d["non2xx"] + d["socket_errors"] + d["unfinished"]
                  for d in openloop)
    ceil_errors = sum(r["error_total"] for r in slices
                      if r["target"] == "ceiling")
    return errors, ceil_errors


def write_json(out_dir, result):
    """Writes out_dir/results.json."""
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
