"""The server under test: start a fresh tmf629d, ask any TMF629 server for
its customer count, and wait until it is idle after a slice."""

import http.client
import os
import time
import urllib.parse

from . import procfs
from .common import API_PATH, REPO, log
from .procs import pinned


def start_service(procs, a, data_dir, out_dir, cpus):
    """Starts tmf629d on 127.0.0.1 with a free port and data in data_dir
    (options a: bin_dir, service_bin, config_file, map_size, service_arg).
    Returns (Popen, its command line without pinning, API base URL)."""
    binary = os.path.join(a.bin_dir, "tmf629d")
    if a.service_bin:
        binary = a.service_bin
    if not os.access(binary, os.X_OK):
        raise RuntimeError("service binary not found: %s (build target "
                           "tmf629d, or use --target URL)" % binary)
    os.makedirs(data_dir, exist_ok=True)
    cmd = [binary]
    cfg = a.config_file or os.path.join(REPO, "config", "tmf629d.ini")
    if os.path.exists(cfg):
        cmd.append("--config-file=" + cfg)
    cmd += ["--tmf.address=127.0.0.1", "--tmf.port=0",
            "--tmf.data-dir=" + data_dir, "--tmf.log-level=warning",
            # room for every create of a long run (the default is 1GiB)
            "--tmf.map-size=" + a.map_size]
    cmd += a.service_arg
    log("bench: starting " + " ".join(cmd))
    p, m = procs.start(
        "tmf629d", pinned(cmd, cpus),
        stdout_path=os.path.join(out_dir, "service.log"),
        ready_re=r"listening on (http://\S+)", timeout=60)
    url = m.group(1).rstrip("/")
    if not url.endswith(API_PATH):
        url += API_PATH
    log("bench: service at %s (pid %d)" % (url, p.pid))
    return p, cmd, url


def list_one(base_url, timeout):
    """GET <base>/customer?limit=1&fields=id: (status, X-Total-Count or
    None), or None when the server cannot be reached."""
    u = urllib.parse.urlparse(base_url)
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        conn.request("GET", u.path.rstrip("/") + "/customer?limit=1&fields=id")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status, resp.getheader("X-Total-Count")
    except (OSError, http.client.HTTPException):
        return None


def probe(base_url, timeout=2.0):
    """True when a one-item list is answered 2xx within timeout."""
    got = list_one(base_url, timeout)
    return got is not None and 200 <= got[0] < 300


def row_count(base_url, timeout=5.0):
    """The server's customer count (X-Total-Count of a one-item list),
    or None when it does not say."""
    got = list_one(base_url, timeout)
    try:
        return int(got[1]) if got and got[1] is not None else None
    except ValueError:
        return None


def settle(pid, max_s, probe_url=None):
    """Waits (bounded) until the server is idle, so that requests still
    queued from one slice do not eat into the next. Idle = under 10 % of a
    core for two 0.2 s samples in a row AND (with probe_url) a plain
    `GET /customer?limit=1` -- which queues behind list scans in the
    service -- answers within 2 s. Returns the wait in seconds."""
    t0 = time.monotonic()
    quiet = 0
    prev = procfs.cpu_seconds(pid)
    while prev is not None and time.monotonic() - t0 < max_s:
        time.sleep(0.2)
        cur = procfs.cpu_seconds(pid)
        if cur is None:
            break
        quiet = quiet + 1 if cur - prev < 0.02 else 0
        prev = cur
        if quiet >= 2:
            if not probe_url or probe(probe_url):
                break
            quiet = 0
    return time.monotonic() - t0
