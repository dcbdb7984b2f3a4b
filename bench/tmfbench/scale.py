"""Scale mode (bench/run.sh --scale): TMF630 list queries at 10k, 100k and
1M customers.

For each size it fills a data folder once with scale_loader (kept under
--scale-dir between runs, so a million customers are loaded only once),
starts tmf629d on it (pinned like the load benchmark), and times each
query from one client on one keep-alive connection: latency percentiles,
server CPU per request (utime+stime of the service over the requests) and
the service's peak heap (RssAnon, sampled every 5 ms while the query runs;
LMDB's file map is RssFile and not counted). Queries that read every
customer run with a 60 s request timeout, so that their real time shows
instead of a 504. Writes report.md and results.json.

    python3 -m tmfbench.scale --bin-dir DIR [--scale-dir DIR] [--sizes ...]
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from . import procfs
from .common import API_PATH, REPO, log
from .procs import Procs, pinned

# name, what it shows, query template ({i}: a random customer number,
# {j}: a random prefix number, {deep}: 90 % of the size), needs a full read
SCENARIOS = [
    ("indexed-eq", "indexed equality, `name=` limit=20",
     "name=Customer%20{i:07d}&limit=20", False),
    ("status-count", "`status=Approved` limit=20 with its count (a quarter)",
     "status=Approved&limit=20", False),
    ("non-indexed", "filter on a non-indexed attribute (2 %), limit=20",
     "contactMedium.characteristic.city=Lyon&limit=20", True),
    ("sort-indexed", "`sort=name&limit=20` (an index walk)",
     "sort=name&limit=20", False),
    ("sort-non-indexed", "`sort=creditProfile.creditScore&limit=20` "
     "(bounded top-k over a scan)",
     "sort=creditProfile.creditScore&limit=20", True),
    ("deep-offset", "`offset=` at 90 %, limit=20 (offset counted)",
     "offset={deep}&limit=20", False),
    ("deep-cursor", "the same page through the `next` link's cursor",
     None, False),
    ("regex-anchored", "`name.regex=^Customer 000042` (10 matches)",
     "name.regex=%5ECustomer%20{j:06d}&limit=20", False),
    ("cheap-during-scan", "indexed equality while scans run on the other "
     "readers", "name=Customer%20{i:07d}&limit=20", False),
]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin-dir", required=True,
                   help="folder with scale_loader (and tmf629d)")
    p.add_argument("--service-bin", help="tmf629d (default BIN_DIR/../tmf629d)")
    p.add_argument("--scale-dir", default=os.path.join(REPO, "build-bench",
                                                       "scale-data"),
                   help="where the data folders are kept between runs")
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--seconds", type=float, default=3.0,
                   help="time budget of a cheap query (more requests)")
    p.add_argument("--max-requests", type=int, default=400)
    p.add_argument("--slow-requests", type=int, default=3,
                   help="requests of a query that reads every customer")
    p.add_argument("--out", help="result folder (default bench/results/"
                   "scale-<UTC stamp>)")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--server-cpus", default="0")
    return p


class Client:
    """One keep-alive HTTP connection to the service."""

    def __init__(self, base_url, timeout=120.0):
        u = urllib.parse.urlparse(base_url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.timeout = timeout
        self.conn = None

    def get(self, query):
        """(status, headers dict lower-case, seconds)."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", self.path + "/customer?" + query)
                r = self.conn.getresponse()
                r.read()
                took = time.perf_counter() - t0
                return r.status, {k.lower(): v for k, v in r.getheaders()}, took
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


class HeapSampler:
    """The peak RssAnon of a process while it runs (every 5 ms)."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            kb = procfs.memory_kb(self.pid).get("RssAnon")
            if kb is not None:
                self.peak_kb = max(self.peak_kb, kb)
            self._stop.wait(0.005)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def percentile(xs, p):
    """The p-th percentile (nearest rank) of xs."""
    xs = sorted(xs)
    if not xs:
        return None
    rank = math.ceil(p / 100.0 * len(xs))
    return xs[max(0, min(len(xs), rank) - 1)]


def ensure_data(a, size):
    """The data folder of `size` customers, filled once."""
    folder = os.path.join(a.scale_dir, "customers-%d" % size)
    done = os.path.join(folder, "loaded")
    if os.path.exists(done):
        return folder
    os.makedirs(folder, exist_ok=True)
    log("scale: loading %d customers into %s (once) ..." % (size, folder))
    t0 = time.monotonic()
    subprocess.run([os.path.join(a.bin_dir, "scale_loader"), "--data", folder,
                    "--count", str(size)], check=True)
    with open(done, "w") as f:
        f.write("%d customers, loaded in %.0f s\n"
                % (size, time.monotonic() - t0))
    return folder


def start_service(procs, a, folder, out_dir, size):
    binary = a.service_bin or os.path.join(os.path.dirname(a.bin_dir),
                                           "tmf629d")
    cmd = [binary, "--config-file=" + os.path.join(REPO, "config",
                                                    "tmf629d.ini"),
           "--tmf.address=127.0.0.1", "--tmf.port=0",
           "--tmf.data-dir=" + folder, "--tmf.map-size=16GiB",
           "--tmf.log-level=warning", "--tmf.request-log-level=debug",
           "--tmf.request-timeout=60s"]
    p, m = procs.start("tmf629d", pinned(cmd, a.server_cpus if a.pin else None),
                       stdout_path=os.path.join(out_dir,
                                                "service-%d.log" % size),
                       ready_re=r"listening on (http://\S+)", timeout=120)
    url = m.group(1).rstrip("/")
    return p, url if url.endswith(API_PATH) else url + API_PATH


def query_of(template, size, rnd):
    return template.format(i=rnd.randrange(size),
                           j=rnd.randrange(max(1, size // 10)),
                           deep=size * 9 // 10)


def cursor_query(client, size):
    """The query of the `next` link of the page at 90 %."""
    _, headers, _ = client.get("offset=%d&limit=20" % (size * 9 // 10 - 20))
    m = re.search(r'<[^>]*\?([^>]*)>; rel="next"', headers.get("link", ""))
    if not m:
        raise RuntimeError("no next link at a deep offset")
    return m.group(1)


def measure(client, pid, make_query, slow, a):
    """Runs one scenario: latencies, CPU per request, peak heap."""
    times, statuses = [], {}
    total = None
    cpu0 = procfs.cpu_seconds(pid)
    budget = a.seconds if not slow else 1e9
    limit = a.max_requests if not slow else a.slow_requests
    t_end = time.monotonic() + budget
    with HeapSampler(pid) as heap:
        while len(times) < limit and time.monotonic() < t_end:
            status, headers, took = client.get(make_query())
            times.append(took)
            statuses[status] = statuses.get(status, 0) + 1
            total = headers.get("x-total-count", total)
    cpu = procfs.cpu_seconds(pid) - cpu0
    return {"requests": len(times), "statuses": statuses,
            "total": total,
            "p50_ms": percentile(times, 50) * 1e3,
            "p90_ms": percentile(times, 90) * 1e3,
            "p99_ms": percentile(times, 99) * 1e3,
            "max_ms": max(times) * 1e3,
            "cpu_ms_per_request": cpu * 1e3 / len(times),
            "peak_heap_mib": heap.peak_kb / 1024.0}


def scans_in_background(url, stop):
    """Keeps the readers busy with full scans until `stop` is set."""
    def loop():
        c = Client(url)
        while not stop.is_set():
            try:
                c.get("contactMedium.characteristic.city=Nice&limit=1")
            except OSError:
                return
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    return threads


def run_size(procs, a, size, out_dir):
    folder = ensure_data(a, size)
    p, url = start_service(procs, a, folder, out_dir, size)
    rnd = random.Random(size)
    client = Client(url)
    results = {}
    try:
        base_heap = procfs.memory_kb(p.pid).get("RssAnon", 0) / 1024.0
        for name, _, template, slow in SCENARIOS:
            if name == "deep-cursor":
                q = cursor_query(client, size)
                make = lambda q=q: q
            else:
                make = lambda t=template: query_of(t, size, rnd)
            for _ in range(2 if not slow else 1):  # warm up
                client.get(make())
            stop = threading.Event()
            bg = scans_in_background(url, stop) \
                if name == "cheap-during-scan" else []
            if bg:
                time.sleep(0.5)
            r = measure(client, p.pid, make, slow, a)
            stop.set()
            for t in bg:
                t.join(timeout=120)
            results[name] = r
            log("scale: %8d %-18s p50 %8.2f ms  p99 %8.2f ms  cpu %8.2f ms  "
                "heap %6.1f MiB  total %s  %s"
                % (size, name, r["p50_ms"], r["p99_ms"],
                   r["cpu_ms_per_request"], r["peak_heap_mib"], r["total"],
                   r["statuses"]))
        results["_heap_at_start_mib"] = base_heap
        results["_peak_rss_mib"] = procfs.memory_kb(p.pid).get("VmRSS", 0) / 1024.0
    finally:
        procs.stop(p)
    return results


def report(a, sizes, all_results):
    lines = ["# Scale: TMF630 queries at %s customers" % ", ".join(
        "{:,}".format(s) for s in sizes), "",
        "One client, one keep-alive connection, sequential requests; service "
        "pinned to cpu %s; `--tmf.request-timeout=60s`. Latency p50 / p99 in "
        "ms, server CPU per request in ms, peak heap (RssAnon) of the service "
        "while the query ran, in MiB." % a.server_cpus, ""]
    head = "| query | " + " | ".join(
        "{:,}: p50 / p99 | cpu | heap".format(s) for s in sizes) + " |"
    lines += [head, "|---|" + "---:|---:|---:|" * len(sizes)]
    for name, what, _, _ in SCENARIOS:
        cells = []
        for s in sizes:
            r = all_results[s].get(name)
            if not r:
                cells.append("n/a | n/a | n/a")
                continue
            bad = {k: v for k, v in r["statuses"].items() if k >= 300}
            cells.append("%.2f / %.2f%s | %.2f | %.1f"
                         % (r["p50_ms"], r["p99_ms"],
                            " (%s)" % bad if bad else "",
                            r["cpu_ms_per_request"], r["peak_heap_mib"]))
        lines.append("| %s: %s | %s |" % (name, what, " | ".join(cells)))
    lines.append("")
    for s in sizes:
        lines.append("- %s customers: heap %.1f MiB at start, VmRSS %.1f MiB "
                     "at the end (most of it LMDB's file map)."
                     % ("{:,}".format(s),
                        all_results[s].get("_heap_at_start_mib", 0),
                        all_results[s].get("_peak_rss_mib", 0)))
    return "\n".join(lines) + "\n"


def main(argv=None):
    a = build_parser().parse_args(argv)
    a.bin_dir = os.path.abspath(a.bin_dir)
    if a.service_bin:
        a.service_bin = os.path.abspath(a.service_bin)
    sizes = sorted({int(x) for x in a.sizes.split(",") if x.strip()})
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = a.out or os.path.join(REPO, "bench", "results", "scale-" + stamp)
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(a.scale_dir, exist_ok=True)
    procs = Procs()

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    results = {}
    try:
        for size in sizes:
            results[size] = run_size(procs, a, size, out_dir)
    except KeyboardInterrupt:
        log("scale: interrupted")
        return 130
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        log("scale: FAILED: %s" % e)
        return 1
    finally:
        procs.stop_all()
    text = report(a, sizes, results)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({str(k): v for k, v in results.items()}, f, indent=1)
    sys.stdout.write(text)
    log("scale: results in " + out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
