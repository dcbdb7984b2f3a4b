"""The two ceilings measured in the same run: ceiling_http (a minimal
RESTinio server answering a stored customer, driven by wrk like the
service) and ceiling_lmdb (raw durable LMDB commits, one JSON line per
batch size), and the LMDB rate a storage-bound slice is divided by."""

import json
import os
import statistics
import subprocess

from .common import API_PATH
from .procs import pinned


def start_ceiling_http(procs, bin_dir, out_dir, cpus, name="ceiling_http",
                       log_name="ceiling_http.log"):
    """Starts ceiling_http on 127.0.0.1 with a free port; returns
    (Popen, API base URL)."""
    p, m = procs.start(
        name,
        pinned([os.path.join(bin_dir, "ceiling_http"),
                "--address", "127.0.0.1", "--port", "0"], cpus),
        stdout_path=os.path.join(out_dir, log_name),
        ready_re=r"listening on (http://\S+?)/?$")
    return p, m.group(1) + API_PATH


def parse_lmdb_output(stdout):
    """ceiling_lmdb's JSON lines, one per batch size: batch, prefill, puts,
    commits, seconds, puts_per_s, commits_per_s, commit_p50_us,
    commit_p99_us."""
    return [json.loads(line) for line in stdout.splitlines()
            if line.startswith("{")]


def run_lmdb(bin_dir, lmdb_dir, batches, seconds, prefill_rows, cpus):
    """Runs ceiling_lmdb for each batch size (seconds each) into a fresh
    environment first filled with prefill_rows documents; returns its
    parsed lines."""
    cmd = pinned([os.path.join(bin_dir, "ceiling_lmdb"),
                  "--dir", lmdb_dir,
                  "--batch", ",".join(map(str, batches)),
                  "--seconds", "%.3f" % seconds,
                  "--prefill", str(prefill_rows)], cpus)
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=len(batches) * (seconds + 30) + 60)
    if out.returncode != 0:
        raise RuntimeError("ceiling_lmdb failed: " + out.stderr)
    return parse_lmdb_output(out.stdout)


def lmdb_rate(lmdb, batch, scenario=None, conns=None):
    """Median puts/s at this batch size, measured before this scenario's
    slice at conns connections; any run at that batch size when there is
    none; None when the batch size was never measured."""
    v = [d["puts_per_s"] for d in lmdb if d["batch"] == batch
         and d["scenario"] == scenario and d["connections"] == conns]
    if not v:
        v = [d["puts_per_s"] for d in lmdb if d["batch"] == batch]
    return statistics.median(v) if v else None
