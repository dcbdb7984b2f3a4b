#!/usr/bin/env python3
"""Load-benchmark driver for a TMF629 Customer Management v4 server.

Started by bench/run.sh (which builds the binaries first); see bench/README.md.
Python 3 standard library only. It starts (or targets) the service, starts
the HTTP ceiling server, runs the LMDB ceiling, loads data, runs the wrk
scenarios across connection counts, samples RSS/CPU of the service, stops
everything it started and writes report.md, results.json and chart.png.
"""

import argparse
import datetime as dt
import http.client
import ipaddress
import json
import math
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LUA_DIR = os.path.join(HERE, "lua")
SCRIPT = os.path.join(LUA_DIR, "tmf629.lua")
API_PATH = "/tmf-api/customerManagement/v4"

ALL_SCENARIOS = ["get", "get-fields", "list-filter", "patch", "create",
                 "delete", "mixed"]
# Which ceiling each scenario is compared with.
HTTP_BOUND = {"get", "get-fields", "list-filter", "mixed"}
STORAGE_BOUND = {"create", "patch", "delete"}

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def parse_duration(text):
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError("bad duration: " + text)
    v = float(m.group(1))
    unit = m.group(2) or "s"
    return v / 1000 if unit == "ms" else v * 60 if unit == "m" else v


def is_loopback(host):
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


# ---------------------------------------------------------------- processes

class Procs:
    """Every process this driver starts; all are stopped on exit."""

    def __init__(self):
        self.items = []

    def start(self, name, cmd, stdout_path=None, ready_re=None, timeout=30.0,
              env=None):
        log_f = open(stdout_path or os.devnull, "ab")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_f,
                             stdin=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        self.items.append((name, p))
        match = None
        if ready_re is not None:
            deadline = time.monotonic() + timeout
            buf = b""
            while match is None:
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
                            match = m
                            break
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

    def stop(self, p, grace=10.0):
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
        for name, p in reversed(self.items):
            self.stop(p)
        self.items = []


# ------------------------------------------------------------- /proc probes

def proc_cpu_s(pid):
    """utime+stime of a process (all threads), seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_mem_kb(pid):
    """VmRSS, RssAnon (heap: actors, documents) and RssFile (mostly LMDB's
    memory map, reclaimable) of a process, kB."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in ("VmRSS", "RssAnon", "RssFile"):
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    return out


def proc_ctx_switches(pid):
    """Context switches (voluntary + involuntary) summed over all threads."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def machine_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


# ---------------------------------------------------------------- the runs

class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = Procs()
        self.pin = a.pin and shutil.which("taskset") and os.cpu_count() >= 2
        self.server_cpus = a.server_cpus if self.pin else None
        self.client_cpus = a.client_cpus if self.pin else None
        self.slices = []
        self.lmdb = []
        self.micro = None
        self.openloop = []
        self.profiles = []
        self.repeated_pairs = 0
        self.control = None
        self.rss = {}
        self.notes = []
        self.step = 0
        self.total_steps = 0
        self.service_pid = None
        self.service_url = None
        self.ceiling_url = None

    def pinned(self, cmd, cpus):
        return (["taskset", "-c", cpus] + cmd) if cpus else cmd

    # -- wrk -------------------------------------------------------------
    def wrk(self, url, scenario, conns, seconds, extra=None, server_pid=None,
            label="", quiet=False, profile=False):
        cmd = self.pinned(
            ["wrk", "-t1", "-c%d" % conns, "-d%ds" % max(1, int(round(seconds))),
             "--timeout", "%ds" % self.a.timeout, "-s", SCRIPT, url, "--",
             "scenario=" + scenario, "seed=%d" % (int(time.time() * 1000) % 1000000)]
            + (extra or []), self.client_cpus)
        env = dict(os.environ, BENCH_LUA_DIR=LUA_DIR)
        cpu0 = proc_cpu_s(server_pid) if server_pid else None
        rss0 = proc_rss_kb(server_pid) if server_pid else None
        cs0 = proc_ctx_switches(server_pid) if server_pid else None
        busy0 = machine_busy_s()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        perf = self.start_perf(scenario, conns, server_pid, seconds) if profile else None
        try:
            out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                 timeout=seconds + self.a.timeout + 30)
        except subprocess.TimeoutExpired:
            raise RuntimeError("wrk did not finish in time: " + " ".join(cmd))
        finally:
            if perf:
                self.finish_perf(perf)
        wall = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy1 = machine_busy_s()
        cpu1 = proc_cpu_s(server_pid) if server_pid else None
        rss1 = proc_rss_kb(server_pid) if server_pid else None
        cs1 = proc_ctx_switches(server_pid) if server_pid else None
        m = re.search(r"^BENCHJSON (.*)$", out.stdout, re.M)
        if scenario == "load" and out.returncode == 0 and not m:
            # the load script exits wrk itself once it has its customers
            return {"requests": None, "seconds": wall, "wall": wall}
        if out.returncode != 0 or not m:
            raise RuntimeError("wrk failed (rc %d): %s\n%s%s" % (
                out.returncode, " ".join(cmd), out.stdout[-2000:],
                out.stderr[-2000:]))
        r = json.loads(m.group(1))
        dur = r["duration_us"] / 1e6
        active = r.get("stopped_early_active_s") or 0
        if active > 0:
            dur = active
        r["seconds"] = dur
        r["rps"] = r["requests"] / dur if dur > 0 else 0.0
        e = r["errors"]
        r["socket_errors"] = e["connect"] + e["read"] + e["write"] + e["timeout"]
        # wrk never counts requests still unanswered when the slice ends; a
        # slice with fewer answers than connections had some stuck for its
        # whole length: count those connections as failed.
        r["stalled"] = max(0, conns - r["requests"]) if scenario != "delete" else 0
        r["error_total"] = r["non2xx"] + r["socket_errors"] + r["stalled"]
        wrk_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        if cpu0 is not None and cpu1 is not None:
            r["server_cpu_s"] = cpu1 - cpu0
            r["server_cpu_us_per_req"] = (1e6 * (cpu1 - cpu0) / r["requests"]
                                          if r["requests"] else None)
        else:
            r["server_cpu_s"] = None
            r["server_cpu_us_per_req"] = None
        r["ctx_switches_per_req"] = (
            (cs1 - cs0) / r["requests"]
            if cs0 is not None and cs1 is not None and r["requests"] else None)
        other = (busy1 - busy0) - wrk_cpu - (r["server_cpu_s"] or 0)
        r["other_cores_busy"] = max(0.0, other / wall) if wall > 0 else None
        r["rss_kb_before"] = rss0
        r["rss_kb_after"] = rss1
        r["scenario"] = scenario
        r["connections"] = conns
        r["target"] = label
        if server_pid and label in ("service", "pool"):
            r["settle_s"] = self.settle(server_pid, probe_url=url)
            if r["settle_s"] > 1.0:
                r["note"] = ("service kept working %.1f s after the slice ended "
                             "(queued requests)" % r["settle_s"])
        if not quiet:
            self.step += 1
            lat = r["latency_us"]
            log("[%3d/%d] %-11s c=%-4d %-8s %10.0f req/s  p50 %7.2f ms  "
                "p99 %7.2f ms  errors %d%s" % (
                    self.step, self.total_steps, scenario, conns, label,
                    r["rps"], lat["p50"] / 1000, lat["p99"] / 1000,
                    r["error_total"],
                    "  (other load %.2f cores)" % r["other_cores_busy"]
                    if r["other_cores_busy"] and r["other_cores_busy"] > 0.3
                    else ""))
        return r

    def start_perf(self, scenario, conns, pid, seconds):
        """perf record -g on the server during (most of) one slice."""
        if not pid or not shutil.which("perf"):
            return None
        data = os.path.join(self.out, "perf-%s-c%d.data" % (scenario, conns))
        cmd = ["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o", data,
               "--", "sleep", "%.1f" % max(0.5, seconds - 0.5)]
        try:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, start_new_session=True)
        except OSError:
            return None
        return {"proc": p, "data": data, "scenario": scenario, "connections": conns}

    def finish_perf(self, perf):
        p = perf["proc"]
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            return
        if p.returncode != 0 or not os.path.exists(perf["data"]):
            self.notes.append("perf record failed (%s): %s" % (
                perf["scenario"], err.decode(errors="replace")[-200:]))
            return

        def top(sort, n):
            r = subprocess.run(["perf", "report", "-i", perf["data"], "--no-children",
                                "--sort", sort, "--stdio", "-g", "none"],
                               capture_output=True, text=True, timeout=120)
            rows = []
            for line in r.stdout.splitlines():
                m = re.match(r"\s+([0-9.]+)%\s+(.*\S)", line)
                if m:
                    rows.append((float(m.group(1)), m.group(2)[:110]))
                if len(rows) >= n:
                    break
            return rows
        try:
            self.profiles.append({"scenario": perf["scenario"],
                                  "connections": perf["connections"],
                                  "data": os.path.basename(perf["data"]),
                                  "threads": top("comm", 6), "dsos": top("dso", 6),
                                  "symbols": top("sym", 15)})
        except (OSError, subprocess.TimeoutExpired) as e:
            self.notes.append("perf report failed: %s" % e)

    def settle(self, pid, max_s=None, probe_url=None):
        """Waits (bounded) until the server is idle, so that requests still
        queued from one slice do not eat into the next. Idle = under 10 % of a
        core for two 0.2 s samples in a row AND (with probe_url) a plain
        `GET /customer?limit=1` -- which queues behind list scans in the
        service -- answers within 2 s. Returns the wait in seconds."""
        max_s = self.a.settle_timeout if max_s is None else max_s
        t0 = time.monotonic()
        quiet = 0
        prev = proc_cpu_s(pid)
        while prev is not None and time.monotonic() - t0 < max_s:
            time.sleep(0.2)
            cur = proc_cpu_s(pid)
            if cur is None:
                break
            quiet = quiet + 1 if cur - prev < 0.02 else 0
            prev = cur
            if quiet >= 2:
                if not probe_url or self.probe(probe_url):
                    break
                quiet = 0
        return time.monotonic() - t0

    @staticmethod
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

    @classmethod
    def probe(cls, base_url, timeout=2.0):
        got = cls.list_one(base_url, timeout)
        return got is not None and 200 <= got[0] < 300

    @classmethod
    def row_count(cls, base_url, timeout=5.0):
        """The server's customer count (X-Total-Count of a one-item list),
        or None when it does not say."""
        got = cls.list_one(base_url, timeout)
        try:
            return int(got[1]) if got and got[1] is not None else None
        except ValueError:
            return None

    # -- ceilings --------------------------------------------------------
    def run_lmdb_ceiling(self, tag, batches, scenario=None, conns=None):
        """Raw durable LMDB commits, run right before a storage-bound slice
        (same machine state) with batch 1 and batch = its connection count,
        into a B-tree holding as many rows as the service holds right now
        (inserting into 200k rows costs several times what inserting into
        an empty tree does)."""
        batches = sorted(set(batches))
        secs = self.a.lmdb_seconds
        rows = self.row_count(self.service_url)
        if rows is None:
            rows = 0
            note = ("the target did not report X-Total-Count: storage ceilings "
                    "were measured on an empty LMDB")
            if note not in self.notes:
                self.notes.append(note)
        cmd = self.pinned([os.path.join(self.a.bin_dir, "ceiling_lmdb"),
                           "--dir", os.path.join(self.tmp, "lmdb-ceiling"),
                           "--batch", ",".join(map(str, batches)),
                           "--seconds", "%.3f" % secs,
                           "--prefill", str(rows)], self.server_cpus)
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=len(batches) * (secs + 30) + 60)
        if out.returncode != 0:
            raise RuntimeError("ceiling_lmdb failed: " + out.stderr)
        for line in out.stdout.splitlines():
            if line.startswith("{"):
                d = json.loads(line)
                d["pass"] = tag
                d["scenario"] = scenario
                d["connections"] = conns
                self.lmdb.append(d)
                log("        LMDB ceiling %-14s batch %-4d %9.0f puts/s  commit p50 %.2f ms"
                    "  (%d rows)" % (tag, d["batch"], d["puts_per_s"],
                                     d["commit_p50_us"] / 1000, d.get("prefill", 0)))

    def lmdb_rate(self, batch, scenario=None, conns=None):
        v = [d["puts_per_s"] for d in self.lmdb if d["batch"] == batch
             and d["scenario"] == scenario and d["connections"] == conns]
        if not v:
            v = [d["puts_per_s"] for d in self.lmdb if d["batch"] == batch]
        return statistics.median(v) if v else None

    def start_ceiling_http(self):
        p, m = self.procs.start(
            "ceiling_http",
            self.pinned([os.path.join(self.a.bin_dir, "ceiling_http"),
                         "--address", "127.0.0.1", "--port", "0"],
                        self.server_cpus),
            stdout_path=os.path.join(self.out, "ceiling_http.log"),
            ready_re=r"listening on (http://\S+?)/?$")
        self.ceiling_pid = p.pid
        self.ceiling_url = m.group(1) + API_PATH
        log("bench: HTTP ceiling at " + self.ceiling_url)

    def start_service(self):
        binary = os.path.join(self.a.bin_dir, "tmf629d")
        if self.a.service_bin:
            binary = self.a.service_bin
        if not os.access(binary, os.X_OK):
            raise RuntimeError("service binary not found: %s (build target "
                               "tmf629d, or use --target URL)" % binary)
        data = os.path.join(self.tmp, "data")
        os.makedirs(data, exist_ok=True)
        cmd = [binary]
        cfg = self.a.config_file or os.path.join(REPO, "config", "tmf629d.ini")
        if os.path.exists(cfg):
            cmd.append("--config-file=" + cfg)
        cmd += ["--tmf.address=127.0.0.1", "--tmf.port=0",
                "--tmf.data-dir=" + data, "--tmf.log-level=warning",
                # room for every create of a long run (the default is 1GiB)
                "--tmf.map-size=" + self.a.map_size]
        cmd += self.a.service_arg
        log("bench: starting " + " ".join(cmd))
        p, m = self.procs.start(
            "tmf629d", self.pinned(cmd, self.server_cpus),
            stdout_path=os.path.join(self.out, "service.log"),
            ready_re=r"listening on (http://\S+)", timeout=60)
        self.service_pid = p.pid
        self.service_proc = p
        self.service_cmd = cmd
        url = m.group(1).rstrip("/")
        if not url.endswith(API_PATH):
            url += API_PATH
        self.service_url = url
        log("bench: service at %s (pid %d)" % (url, p.pid))

    # -- data ------------------------------------------------------------
    def load(self):
        n = self.a.load
        self.ids_file = os.path.join(self.tmp, "ids.txt")
        self.names_file = os.path.join(self.tmp, "names.txt")
        groups = max(1, n // 20)  # each name shared by ~20 customers
        with open(self.names_file, "w") as f:
            for i in range(groups):
                f.write("Load Customer %04d\n" % i)
        open(self.ids_file, "w").close()
        log("bench: loading %d customers (%d distinct names) ..." % (n, groups))
        r = self.wrk(self.service_url, "load", 32, self.a.load_timeout,
                     ["names=" + self.names_file, "out=" + self.ids_file,
                      "count=%d" % n], server_pid=self.service_pid,
                     label="load", quiet=True)
        with open(self.ids_file) as f:
            ids = [l for l in f.read().split("\n") if l]
        r = {"requests": len(ids), "seconds": r["seconds"],
             "rps": len(ids) / r["seconds"] if r["seconds"] else 0,
             "error_total": None, "statuses": r.get("statuses")}
        log("bench: loaded %d customers in %.1f s (%.0f creates/s incl. wrk start)"
            % (len(ids), r["seconds"], r["rps"]))
        self.load_result = r
        if len(ids) < 0.9 * n:
            raise RuntimeError("loading created only %d of %d customers "
                               "(statuses %s)" % (len(ids), n, r["statuses"]))
        self.rss["after_load"] = proc_rss_kb(self.service_pid) if self.service_pid else None

    # -- main ------------------------------------------------------------
    def plan_steps(self):
        n = 0
        for s in self.a.scenarios:
            per = self.a.pairs * 2 if s in HTTP_BOUND else 1
            n += per * len(self.a.connections)
        self.total_steps = n

    def run(self):
        a = self.a
        stamp = dt.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        self.out = a.out or os.path.join(HERE, "results", stamp)
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="tmf629-bench-", dir=a.tmp_dir)
        self.started = dt.datetime.utcnow()
        self.plan_steps()
        log("bench: results -> %s; pinning: %s" % (
            self.out, "server cpu %s, wrk cpu %s" % (self.server_cpus,
                                                     self.client_cpus)
            if self.pin else "off"))
        try:
            if not a.skip_micro:
                self.run_micro()
            self.start_ceiling_http()
            if a.target:
                self.service_url = a.target.rstrip("/")
                self.service_pid = a.target_pid
                log("bench: target %s (not started by bench)" % self.service_url)
            else:
                self.start_service()
            self.rss["start"] = proc_rss_kb(self.service_pid) if self.service_pid else None
            self.load()
            # warm-up (unmeasured): every loaded customer is touched
            self.wrk(self.service_url, "get", 16, min(2.0, a.duration),
                     ["ids=" + self.ids_file], label="warmup", quiet=True)
            self.wrk(self.ceiling_url, "get", 16, 1.0,
                     ["ids=" + self.ids_file], label="warmup", quiet=True)
            if a.control:
                self.run_control()
            self.created_file = os.path.join(self.tmp, "created.txt")
            open(self.created_file, "w").close()
            self.delete_offset = 0
            for s in a.scenarios:
                self.run_scenario(s)
                if s == "get" and a.openloop:
                    self.run_openloop()
            self.rss["end"] = proc_rss_kb(self.service_pid) if self.service_pid else None
            if a.idle_wait > 0 and self.service_pid:
                log("bench: idle for %.0f s (passivation), then RSS again ..." % a.idle_wait)
                time.sleep(a.idle_wait)
                self.rss["after_idle"] = proc_rss_kb(self.service_pid)
                self.rss["after_idle_detail"] = proc_mem_kb(self.service_pid)
                self.rss["idle_wait_s"] = a.idle_wait
                log("bench: RSS %s -> %s MiB after %.0f s idle" % (
                    fmt_mib(self.rss["end"]), fmt_mib(self.rss["after_idle"]),
                    a.idle_wait))
        finally:
            self.procs.stop_all()
            if not a.keep_tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
        self.finished = dt.datetime.utcnow()
        return self.write_outputs()

    def scenario_args(self, s):
        if s == "create":
            return ["out=" + self.created_file]
        if s == "delete":
            return ["ids=" + self.created_file, "offset=%d" % self.delete_offset]
        if s == "list-filter":
            return ["names=" + self.names_file]
        return ["ids=" + self.ids_file, "names=" + self.names_file]

    def ensure_delete_pool(self, c):
        with open(self.created_file) as f:
            have = sum(1 for l in f if l.strip()) - self.delete_offset
        need = int(self.a.duration * (40000 if c > 1 else 4000))
        for _ in range(4):
            if have >= need:
                break
            log("bench: delete pool has %d ids, creating more (unmeasured) ..."
                % have)
            self.wrk(self.service_url, "create", 64, self.a.duration,
                     ["out=" + self.created_file], server_pid=self.service_pid,
                     label="pool", quiet=True)
            with open(self.created_file) as f:
                have = sum(1 for l in f if l.strip()) - self.delete_offset

    def run_pair(self, s, c, args, i, profile=False, service_url=None,
                 service_pid=None, label="service"):
        """One ceiling slice and one service slice back to back (order
        alternates with i: ABBA). Repeated (bounded) when other processes
        used more than --noise-gate cores during either slice."""
        a = self.a
        service_url = service_url or self.service_url
        service_pid = service_pid or self.service_pid
        for attempt in range(a.noise_retries + 1):
            order = ["ceiling", "service"] if i % 2 == 0 else ["service", "ceiling"]
            res = {}
            for who in order:
                if who == "ceiling":
                    res[who] = self.wrk(self.ceiling_url, s, c, a.duration, args,
                                        server_pid=self.ceiling_pid, label="ceiling")
                else:
                    res[who] = self.wrk(service_url, s, c, a.duration, args,
                                        server_pid=service_pid, label=label,
                                        profile=profile and attempt == 0)
            noise = max(r["other_cores_busy"] or 0 for r in res.values())
            if noise <= a.noise_gate:
                break
            if attempt < a.noise_retries:
                self.repeated_pairs += 1
                self.total_steps += 2
                log("bench: other processes used %.2f cores during this pair "
                    "(gate %.2f): repeating it" % (noise, a.noise_gate))
            else:
                res["service"]["note"] = "; ".join(filter(None, [
                    res["service"].get("note"),
                    "other processes used %.2f cores during the pair" % noise]))
        return res

    def run_control(self):
        """Method check: a second, identical ceiling server measured exactly
        like the service. Its ratio should be 1.0; the spread is the noise."""
        c = min(self.a.connections, key=lambda x: abs(x - 64))
        p, m = self.procs.start(
            "ceiling_http_control",
            self.pinned([os.path.join(self.a.bin_dir, "ceiling_http"),
                         "--address", "127.0.0.1", "--port", "0"],
                        self.server_cpus),
            stdout_path=os.path.join(self.out, "ceiling_control.log"),
            ready_re=r"listening on (http://\S+?)/?$")
        url = m.group(1) + API_PATH
        ratios = []
        self.total_steps += 2 * self.a.pairs
        for i in range(self.a.pairs):
            res = self.run_pair("get", c, ["ids=" + self.ids_file], i,
                                service_url=url, service_pid=p.pid,
                                label="control")
            if res["ceiling"]["rps"] > 0:
                ratios.append(res["service"]["rps"] / res["ceiling"]["rps"])
        self.procs.stop(p)
        self.control = {"connections": c, "ratios": ratios,
                        "median": statistics.median(ratios) if ratios else None}
        log("bench: method check: ceiling vs identical ceiling at c=%d: ratio %s"
            % (c, ", ".join("%.3f" % r for r in ratios)))

    def check_service_alive(self):
        p = getattr(self, "service_proc", None)
        if p is not None and p.poll() is not None:
            raise RuntimeError("the service exited with status %s during the run "
                               "(see %s)" % (p.returncode,
                                             os.path.join(self.out, "service.log")))

    def run_scenario(self, s):
        self.check_service_alive()
        a = self.a
        prof_c = (min(a.connections, key=lambda c: abs(c - a.perf_connections))
                  if a.perf else None)
        rss_before = proc_rss_kb(self.service_pid) if self.service_pid else None
        mem_before = proc_mem_kb(self.service_pid) if self.service_pid else {}
        for c in a.connections:
            if s == "delete":
                self.ensure_delete_pool(c)
            args = self.scenario_args(s)
            if s in HTTP_BOUND:
                pair_ratios, svc, ceil = [], [], []
                for i in range(a.pairs):
                    res = self.run_pair(s, c, args, i, profile=(c == prof_c and i == 0))
                    svc.append(res["service"])
                    ceil.append(res["ceiling"])
                    if res["ceiling"]["rps"] > 0:
                        pair_ratios.append(res["service"]["rps"] / res["ceiling"]["rps"])
                for r in ceil:
                    self.slices.append(r)
                for r in svc:
                    r["pair_ratios"] = pair_ratios
                    self.slices.append(r)
            else:
                self.run_lmdb_ceiling("%s c=%d" % (s, c), [1, c], s, c)
                r = self.wrk(self.service_url, s, c, a.duration, args,
                             server_pid=self.service_pid, label="service",
                             profile=(c == prof_c))
                if s == "delete":
                    consumed = sum(x.get("consumed", 0) for x in r["extra"])
                    self.delete_offset += consumed
                    if r.get("stopped_early_active_s"):
                        r["note"] = "; ".join(filter(None, [
                            r.get("note"),
                            "delete pool used up after %.2f s" % r["seconds"]]))
                self.slices.append(r)
        self.check_service_alive()
        rss_after = proc_rss_kb(self.service_pid) if self.service_pid else None
        mem_after = proc_mem_kb(self.service_pid) if self.service_pid else {}
        self.rss[s] = {"before_kb": rss_before, "after_kb": rss_after,
                       "anon_before_kb": mem_before.get("RssAnon"),
                       "anon_after_kb": mem_after.get("RssAnon"),
                       "file_after_kb": mem_after.get("RssFile")}
        if self.service_pid:
            log("bench: %s: service RSS %s -> %s MiB" % (
                s, fmt_mib(rss_before), fmt_mib(rss_after)))

    def run_openloop(self):
        """Constant-rate GETs (bench/openloop) at fractions of the closed-loop
        get throughput: latency from the INTENDED send time."""
        exe = os.path.join(self.a.bin_dir, "openloop")
        if not os.access(exe, os.X_OK):
            self.notes.append("openloop not built; open-loop probe skipped")
            return
        u = urllib.parse.urlparse(self.service_url)
        for c in self.a.connections:
            if c < 2:
                continue
            svc = [r for r in self.slices if r["scenario"] == "get"
                   and r["connections"] == c and r["target"] == "service"]
            if not svc:
                continue
            closed = statistics.median(r["rps"] for r in svc)
            for frac in self.a.openloop:
                rate = max(100.0, closed * frac)
                cmd = self.pinned([exe, "--host", u.hostname, "--port", str(u.port),
                                   "--base", u.path, "--ids", self.ids_file,
                                   "--connections", str(c), "--rate", "%.0f" % rate,
                                   "--seconds", "%.1f" % self.a.duration],
                                  self.client_cpus)
                cpu0 = proc_cpu_s(self.service_pid) if self.service_pid else None
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     timeout=self.a.duration + 30)
                cpu1 = proc_cpu_s(self.service_pid) if self.service_pid else None
                if out.returncode != 0 or not out.stdout.startswith("{"):
                    self.notes.append("openloop failed: " + out.stderr[-300:])
                    return
                d = json.loads(out.stdout)
                d["fraction_of_closed_loop"] = frac
                d["closed_loop_rps"] = closed
                d["scenario"] = "get"
                d["server_cpu_us_per_req"] = (
                    1e6 * (cpu1 - cpu0) / d["completed"]
                    if cpu0 is not None and cpu1 is not None and d["completed"] else None)
                self.openloop.append(d)
                li = d["latency_from_intended_us"]
                log("        open loop   get c=%-4d %9.0f req/s offered (%.0f%% of "
                    "closed loop): p50 %.2f ms, p99 %.2f ms from intended send, "
                    "errors %d" % (c, rate, frac * 100, li["p50"] / 1000,
                                   li["p99"] / 1000,
                                   d["non2xx"] + d["socket_errors"] + d["unfinished"]))

    def run_micro(self):
        exe = os.path.join(self.a.bin_dir, "micro_bench")
        if not os.access(exe, os.X_OK):
            self.notes.append("micro_bench not built; micro-benchmarks skipped")
            log("bench: micro_bench not built, skipping micro-benchmarks")
            return
        log("bench: micro-benchmarks ...")
        out = subprocess.run(self.pinned([exe, "--benchmark_format=json",
                                          "--benchmark_min_time=%s" % self.a.micro_min_time],
                                         self.server_cpus),
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            self.notes.append("micro_bench failed: " + out.stderr[-500:])
            log("bench: micro_bench failed: " + out.stderr[-500:])
            return
        self.micro = json.loads(out.stdout)

    # -- outputs ---------------------------------------------------------
    def rows(self):
        """One row per (scenario, connections): the service figures, median
        over pairs, with the ceilings."""
        rows = []
        for s in self.a.scenarios:
            for c in self.a.connections:
                svc = [r for r in self.slices if r["scenario"] == s
                       and r["connections"] == c and r["target"] == "service"]
                if not svc:
                    continue
                ceil = [r for r in self.slices if r["scenario"] == s
                        and r["connections"] == c and r["target"] == "ceiling"]
                med = sorted(svc, key=lambda r: r["rps"])[len(svc) // 2]
                row = {"scenario": s, "connections": c, "rps": med["rps"],
                       "latency_us": med["latency_us"],
                       "requests": sum(r["requests"] for r in svc),
                       "non2xx": sum(r["non2xx"] for r in svc),
                       "socket_errors": sum(r["socket_errors"] + r.get("stalled", 0)
                                            for r in svc),
                       "statuses": [x for r in svc for x in r["statuses"]],
                       "cpu_us_per_req": med["server_cpu_us_per_req"],
                       "ctx_switches_per_req": med.get("ctx_switches_per_req"),
                       "other_cores_busy": med["other_cores_busy"],
                       "note": "; ".join(sorted({r["note"] for r in svc
                                                 if r.get("note")}))}
                if s in HTTP_BOUND:
                    row["ceiling_kind"] = "http"
                    row["ceiling_rps"] = statistics.median(r["rps"] for r in ceil) if ceil else None
                    row["ceiling_p99_us"] = statistics.median(
                        r["latency_us"]["p99"] for r in ceil) if ceil else None
                    pr = med.get("pair_ratios") or []
                    row["ratio"] = statistics.median(pr) if pr else None
                    row["ratio_min"] = min(pr) if pr else None
                    row["ratio_max"] = max(pr) if pr else None
                    row["ceiling_cpu_us_per_req"] = statistics.median(
                        r["server_cpu_us_per_req"] for r in ceil
                        if r["server_cpu_us_per_req"]) if ceil and any(
                        r["server_cpu_us_per_req"] for r in ceil) else None
                else:
                    row["ceiling_kind"] = "lmdb"
                    lr = self.lmdb_rate(c, s, c)
                    l1 = self.lmdb_rate(1, s, c)
                    row["ceiling_rps"] = lr
                    row["ratio"] = med["rps"] / lr if lr else None
                    row["lmdb_batch1_rps"] = l1
                    row["x_batch1"] = med["rps"] / l1 if l1 else None
                rows.append(row)
        return rows

    def targets(self, rows):
        def row(s, c=64):
            cands = [r for r in rows if r["scenario"] == s]
            if not cands:
                return None
            return min(cands, key=lambda r: abs(r["connections"] - c))

        t = []
        g = row("get")
        if g:
            ok = (g["ratio"] or 0) >= 0.5 and g["latency_us"]["p99"] < 2000
            ol = [d for d in self.openloop if d["connections"] == g["connections"]]
            ol_txt = "".join("; open loop at %.0f req/s: p99 %.2f ms from intended send" % (
                d["offered_rps"], d["latency_from_intended_us"]["p99"] / 1000) for d in ol)
            t.append({"target": "get: >= 0.5 x HTTP ceiling, p99 < 2 ms at c=64",
                      "measured": "c=%d: %.2f x ceiling, p99 %.2f ms (ceiling's p99 %.2f ms)" % (
                          g["connections"], g["ratio"] or 0,
                          g["latency_us"]["p99"] / 1000,
                          (g.get("ceiling_p99_us") or 0) / 1000) + ol_txt,
                      "met": ok})
        cr = row("create")
        if cr:
            ok1 = (cr["ratio"] or 0) >= 0.5
            ok2 = (cr["x_batch1"] or 0) >= 5
            t.append({"target": "create: >= 0.5 x raw LMDB batched at c=64",
                      "measured": "c=%d: %.0f/s = %.2f x LMDB batch %d (%.0f puts/s)" % (
                          cr["connections"], cr["rps"], cr["ratio"] or 0,
                          cr["connections"], cr["ceiling_rps"] or 0),
                      "met": ok1})
            t.append({"target": "create: >= 5 x one commit per write",
                      "measured": "%.1f x LMDB batch 1 (%.0f commits/s)" % (
                          cr["x_batch1"] or 0, cr["lmdb_batch1_rps"] or 0),
                      "met": ok2})
        mx = row("mixed")
        if mx:
            mixed_err = sum(r["non2xx"] + r["socket_errors"] for r in rows
                            if r["scenario"] == "mixed")
            t.append({"target": "mixed: >= 0.4 x HTTP ceiling (c=64), no errors",
                      "measured": "c=%d: %.2f x ceiling, %d errors in all mixed runs" % (
                          mx["connections"], mx["ratio"] or 0, mixed_err),
                      "met": (mx["ratio"] or 0) >= 0.4 and mixed_err == 0})
        # scaling: after the peak, never below 0.8 x peak
        bad = []
        for s in self.a.scenarios:
            rs = sorted([r for r in rows if r["scenario"] == s],
                        key=lambda r: r["connections"])
            if len(rs) < 2:
                continue
            peak_i = max(range(len(rs)), key=lambda i: rs[i]["rps"])
            for r in rs[peak_i + 1:]:
                if r["rps"] < 0.8 * rs[peak_i]["rps"]:
                    bad.append("%s c=%d %.0f < 0.8 x peak %.0f (c=%d)" % (
                        s, r["connections"], r["rps"], rs[peak_i]["rps"],
                        rs[peak_i]["connections"]))
        t.append({"target": "scaling %s: no drop > 20%% from peak" % (
                      "c=" + ",".join(map(str, self.a.connections))),
                  "measured": "; ".join(bad) if bad else "no collapse",
                  "met": not bad})
        if self.service_pid:
            rss = [v["after_kb"] for k, v in self.rss.items()
                   if isinstance(v, dict) and v.get("after_kb")]
            rss = rss or [0]
            mx_rss = max(rss) if rss else None
            t.append({"target": "memory bounded (RSS sampled around each scenario)",
                      "measured": "start %s MiB, after load %s MiB, max after a scenario %s MiB, end %s MiB%s" % (
                          fmt_mib(self.rss.get("start")),
                          fmt_mib(self.rss.get("after_load")), fmt_mib(mx_rss),
                          fmt_mib(self.rss.get("end")),
                          ", after %.0f s idle %s MiB" % (
                              self.rss["idle_wait_s"], fmt_mib(self.rss["after_idle"]))
                          if self.rss.get("after_idle") else ""),
                      "met": None})
        return t

    def write_outputs(self):
        rows = self.rows()
        targets = self.targets(rows)
        errors = sum(r["non2xx"] + r["socket_errors"] for r in rows)
        errors += sum(d["non2xx"] + d["socket_errors"] + d["unfinished"]
                      for d in self.openloop)
        ceil_errors = sum(r["error_total"] for r in self.slices
                          if r["target"] == "ceiling")
        env = environment()
        result = {
            "started": self.started.isoformat() + "Z",
            "finished": self.finished.isoformat() + "Z",
            "environment": env,
            "options": {k: v for k, v in vars(self.a).items()},
            "method": METHOD,
            "service_url": self.service_url,
            "service_cmd": getattr(self, "service_cmd", None),
            "pinning": {"server_cpus": self.server_cpus,
                        "client_cpus": self.client_cpus},
            "lmdb_ceiling": self.lmdb,
            "load": {k: self.load_result[k] for k in ("requests", "rps", "seconds",
                                                      "error_total")},
            "rows": rows,
            "slices": self.slices,
            "rss_kb": self.rss,
            "targets": targets,
            "errors_total": errors,
            "ceiling_errors_total": ceil_errors,
            "micro": self.micro,
            "openloop": self.openloop,
            "profiles": self.profiles,
            "control": self.control,
            "repeated_pairs": self.repeated_pairs,
            "notes": self.notes,
        }
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(result, f, indent=1)
        chart = write_chart(self.out, rows, self.a.scenarios)
        write_report(self.out, result, rows, targets, errors, ceil_errors, chart)
        log("")
        with open(os.path.join(self.out, "report.md")) as f:
            sys.stdout.write(f.read())
        log("\nbench: report %s" % os.path.join(self.out, "report.md"))
        if errors or ceil_errors:
            log("\n!!! THIS RUN HAD ERRORS: %d failed requests against the service, "
                "%d against the ceiling (see report) !!!" % (errors, ceil_errors))
            return 0 if self.a.allow_errors else 3
        return 0


METHOD = (
    "Load generator: wrk 4.1 (Debian), one thread pinned to its own core, "
    "Lua script bench/lua/tmf629.lua. wrk is CLOSED-LOOP: each connection sends "
    "its next request only after the previous answer, so the latency percentiles "
    "are saturation latencies measured from the actual send on a busy connection "
    "(they include server-side queueing, but not the coordinated-omission delay a "
    "fixed-rate client would see); the c=1 row is the unloaded round trip. "
    "Ceilings are measured in the same run: HTTP ceiling = bench/ceiling_http "
    "(RESTinio 0.6.16, 1 I/O thread, answers a stored 1008-byte customer JSON to "
    "every request), driven by the SAME script and connection count right before "
    "(or after, alternating per pair) each service slice on the same pinned core; "
    "storage ceiling = bench/ceiling_lmdb, raw durable LMDB commits (default sync) "
    "of the same document under random ids of the service's length, N puts per "
    "write transaction on one thread, into an LMDB first filled (untimed) with as "
    "many rows as the service reports in X-Total-Count at that moment (a B-tree of "
    "200k rows takes inserts several times slower than an empty one), measured "
    "right before each create/patch/delete slice with N = 1 and N = its connection "
    "count (so a busy disk hits both alike). get/get-fields/list-filter/mixed are divided by the HTTP "
    "ceiling, create/patch/delete by the LMDB ceiling batched at the connection count. "
    "Errors = non-2xx responses (counted in the script) + socket errors "
    "(connect/read/write/timeout) + connections that got no answer at all during "
    "a slice (stuck). After every service slice the driver waits (bounded) until "
    "the service is idle, so a backlog left by one slice does not slow the next; "
    "a long wait is noted.")


def fmt_mib(kb):
    return "n/a" if kb is None else "%.1f" % (kb / 1024)


def environment():
    env = {"nproc": os.cpu_count(), "kernel": os.uname().release,
           "host": socket.gethostname()}
    try:
        env["loadavg"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    try:
        for line in open("/proc/cpuinfo"):
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


def write_chart(out, rows, scenarios):
    if not shutil.which("gnuplot"):
        return None
    dat = os.path.join(out, "chart.dat")
    blocks = []
    with open(dat, "w") as f:
        for s in scenarios:
            rs = sorted([r for r in rows if r["scenario"] == s],
                        key=lambda r: r["connections"])
            if not rs:
                continue
            f.write("# %s\n" % s)
            for r in rs:
                f.write("%d %.1f %.3f %s\n" % (r["connections"], r["rps"],
                                               r["latency_us"]["p99"] / 1000,
                                               "%.1f" % r["ceiling_rps"]
                                               if r.get("ceiling_kind") == "http"
                                               and r.get("ceiling_rps") else "NaN"))
            f.write("\n\n")
            blocks.append(s)
    if not blocks:
        return None
    png = os.path.join(out, "chart.png")
    plots_t, plots_l = [], []
    for i, s in enumerate(blocks):
        plots_t.append("'%s' index %d using 1:2 with linespoints lw 2 title '%s'"
                       % (dat, i, s))
        plots_l.append("'%s' index %d using 1:3 with linespoints lw 2 title '%s'"
                       % (dat, i, s))
    if "get" in blocks:
        plots_t.append("'%s' index %d using 1:4 with linespoints dt 2 lc rgb 'gray40' "
                       "title 'HTTP ceiling (get script)'" % (dat, blocks.index("get")))
    gp = "\n".join([
        "set terminal pngcairo size 1400,560 font 'sans,10'",
        "set output '%s'" % png,
        "set multiplot layout 1,2 title 'TMF629 service under wrk (closed loop), "
        "throughput and p99 vs connections'",
        "set logscale x 2", "set grid", "set key bottom right",
        "set xlabel 'connections'", "set ylabel 'requests/s'",
        "set logscale y 10", "set format y '%.0s%c'",
        "set title 'throughput (log scale)'",
        "plot " + ", ".join(plots_t),
        "set format y '%g'", "set key top left",
        "set ylabel 'p99 latency (ms, log)'", "set title 'p99 latency (closed loop)'",
        "plot " + ", ".join(plots_l),
        "unset multiplot"])
    with open(os.path.join(out, "chart.gp"), "w") as f:
        f.write(gp + "\n")
    r = subprocess.run(["gnuplot", os.path.join(out, "chart.gp")],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr[-500:])
        return None
    return png


def write_report(out, result, rows, targets, errors, ceil_errors, chart):
    L = []
    w = L.append
    w("# TMF629 load benchmark report\n")
    if errors or ceil_errors:
        w("> **!!! THIS RUN HAD ERRORS: %d failed requests against the service, "
          "%d against the ceiling. Throughput of runs with errors is not "
          "comparable. !!!**\n" % (errors, ceil_errors))
    env = result["environment"]
    w("- When: %s to %s (UTC)" % (result["started"], result["finished"]))
    w("- Machine: %s, %s cores, kernel %s, load average at end %s" % (
        env.get("cpu", "?"), env.get("nproc"), env.get("kernel"),
        " ".join(env.get("loadavg", []))))
    w("- Commit: %s; target: %s" % (env.get("git", "?"), result["service_url"]))
    if result.get("service_cmd"):
        w("- Service: `%s`" % " ".join(result["service_cmd"]))
    pin = result["pinning"]
    w("- Pinning: %s" % ("servers on cpu %s, wrk on cpu %s" % (
        pin["server_cpus"], pin["client_cpus"]) if pin["server_cpus"] else "none"))
    o = result["options"]
    w("- Scenarios %s; connections %s; %.1f s per slice; %d ceiling/service pair(s) "
      "per point; %d customers loaded (%.0f creates/s while loading)\n" % (
          ",".join(o["scenarios"]), ",".join(map(str, o["connections"])),
          o["duration"], o["pairs"], result["load"]["requests"],
          result["load"]["rps"]))
    # headline: every scenario at the connection count nearest 64
    if rows:
        w("## Summary (connection count nearest 64)\n")
        w("| scenario | conns | req/s | × ceiling | ceiling | p99 ms | errors |")
        w("|---|---:|---:|---:|---|---:|---:|")
        for sc in o["scenarios"]:
            cand = [r for r in rows if r["scenario"] == sc]
            if not cand:
                continue
            r = min(cand, key=lambda r: abs(r["connections"] - 64))
            n_err = r["non2xx"] + r["socket_errors"]
            w("| %s | %d | %.0f | %s | %s | %.2f | %s |" % (
                sc, r["connections"], r["rps"],
                "%.2f" % r["ratio"] if r["ratio"] is not None else "-",
                "HTTP %.0f/s" % r["ceiling_rps"] if r["ceiling_kind"] == "http"
                and r["ceiling_rps"] else
                ("LMDB batch %d: %.0f/s" % (r["connections"], r["ceiling_rps"])
                 if r["ceiling_rps"] else "-"),
                r["latency_us"]["p99"] / 1000,
                "**%d**" % n_err if n_err else "0"))
        w("")
    w("**Method.** " + result["method"] + "\n")
    w("## Results\n")
    w("| scenario | conns | req/s | ceiling req/s | ratio | p50 ms | p90 ms | p99 ms "
      "| p99.9 ms | non-2xx | socket err / stuck | server CPU µs/req | ctx switches/req "
      "| other load (cores) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lat = r["latency_us"]
        if r["ceiling_kind"] == "http":
            ceil = "%.0f (HTTP)" % r["ceiling_rps"] if r["ceiling_rps"] else "-"
            ratio = "%.2f" % r["ratio"] if r["ratio"] is not None else "-"
            if r.get("ratio_min") is not None and r["ratio_min"] != r["ratio_max"]:
                ratio += " (%.2f–%.2f)" % (r["ratio_min"], r["ratio_max"])
        else:
            ceil = "%.0f (LMDB b%d)" % (r["ceiling_rps"], r["connections"]) \
                if r["ceiling_rps"] else "-"
            ratio = ("%.2f; %.1f× b1" % (r["ratio"], r["x_batch1"])
                     if r["ratio"] is not None and r.get("x_batch1") else "-")
        err_mark = lambda n: ("**%d**" % n) if n else "0"
        w("| %s | %d | %.0f | %s | %s | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["connections"], r["rps"], ceil, ratio,
            lat["p50"] / 1000, lat["p90"] / 1000, lat["p99"] / 1000,
            lat["p999"] / 1000, err_mark(r["non2xx"]),
            err_mark(r["socket_errors"]),
            "%.1f" % r["cpu_us_per_req"] if r["cpu_us_per_req"] else "-",
            "%.1f" % r["ctx_switches_per_req"] if r.get("ctx_switches_per_req") is not None else "-",
            "%.2f" % r["other_cores_busy"] if r["other_cores_busy"] is not None else "-"))
    notes = [r for r in rows if r.get("note")]
    for r in notes:
        w("\nNote: %s c=%d: %s" % (r["scenario"], r["connections"], r["note"]))
    statuses = [r for r in rows if r["statuses"]]
    if statuses:
        w("\nNon-2xx statuses seen: " + "; ".join(
            "%s c=%d %s" % (r["scenario"], r["connections"],
                            json.dumps(r["statuses"])) for r in statuses))
    ol = result.get("openloop") or []
    if ol:
        w("\n## Open-loop GET latency (bench/openloop, constant rate)\n")
        w("Requests are due at fixed times whatever the server does; latency counts "
          "from the INTENDED send time, so queueing and stalls are not hidden "
          "(no coordinated omission). Offered rate = a fraction of the closed-loop "
          "`get` throughput at the same connection count.\n")
        w("| conns | offered req/s | % of closed loop | achieved req/s | p50 ms | p90 ms "
          "| p99 ms | p99.9 ms | max ms | p99 from actual send ms | errors+unfinished "
          "| max backlog |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for d in ol:
            li, ls = d["latency_from_intended_us"], d["latency_from_send_us"]
            w("| %d | %.0f | %.0f %% | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %d |" % (
                d["connections"], d["offered_rps"], d["fraction_of_closed_loop"] * 100,
                d["achieved_rps"], li["p50"] / 1000, li["p90"] / 1000, li["p99"] / 1000,
                li["p999"] / 1000, li["max"] / 1000, ls["p99"] / 1000,
                (lambda n: "**%d**" % n if n else "0")(
                    d["non2xx"] + d["socket_errors"] + d["unfinished"]),
                d["max_backlog"]))
    w("\n## Ceilings (same run)\n")
    ctl = result.get("control")
    if ctl and ctl.get("median") is not None:
        w("Method check: a second, identical `ceiling_http` measured exactly like the "
          "service (`get`, c=%d, ABBA pairs) gives a ratio of **%.3f** (pairs: %s); "
          "the distance from 1.000 is the resolution of these ratios.\n" % (
              ctl["connections"], ctl["median"],
              ", ".join("%.3f" % r for r in ctl["ratios"])))
    if result.get("repeated_pairs"):
        w("%d ceiling/service pair(s) were repeated because other processes used more "
          "than %.2f cores during them.\n" % (result["repeated_pairs"],
                                               result["options"]["noise_gate"]))
    by_c = {}
    for sl in result["slices"]:
        if sl["target"] == "ceiling" and sl["server_cpu_us_per_req"]:
            by_c.setdefault(sl["connections"], []).append(sl["server_cpu_us_per_req"])
    if by_c:
        w("HTTP ceiling CPU per request (median over its slices): %s.\n" % ", ".join(
            "c=%d %.1f µs" % (c, statistics.median(v)) for c, v in sorted(by_c.items())))
    w("| LMDB puts per txn | measured before | rows already stored | puts/s | commits/s | commit p50 ms | commit p99 ms |")
    w("|---:|---|---:|---:|---:|---:|---:|")
    for d in result["lmdb_ceiling"]:
        w("| %d | %s | %d | %.0f | %.0f | %.2f | %.2f |" % (
            d["batch"], d["pass"], d.get("prefill", 0), d["puts_per_s"],
            d["commits_per_s"], d["commit_p50_us"] / 1000,
            d["commit_p99_us"] / 1000))
    w("\n## Targets\n")
    w("| target | measured | verdict |")
    w("|---|---|---|")
    for t in targets:
        v = "met" if t["met"] else ("info" if t["met"] is None else "**MISSED**")
        w("| %s | %s | %s |" % (t["target"], t["measured"], v))
    w("\n## Service memory (VmRSS)\n")
    w("RssAnon is the heap (actors, documents, malloc caches); RssFile is mostly "
      "LMDB's memory map (file pages, reclaimable).\n")
    w("| scenario | RSS before (MiB) | RSS after (MiB) | anon before | anon after | file after |")
    w("|---|---:|---:|---:|---:|---:|")
    for k, v in result["rss_kb"].items():
        if isinstance(v, dict) and "before_kb" in v:
            w("| %s | %s | %s | %s | %s | %s |" % (
                k, fmt_mib(v["before_kb"]), fmt_mib(v["after_kb"]),
                fmt_mib(v.get("anon_before_kb")), fmt_mib(v.get("anon_after_kb")),
                fmt_mib(v.get("file_after_kb"))))
    idle = result["rss_kb"].get("after_idle_detail")
    if idle:
        w("| idle %.0f s | | %s | | %s | %s |" % (
            result["rss_kb"]["idle_wait_s"], fmt_mib(idle.get("VmRSS")),
            fmt_mib(idle.get("RssAnon")), fmt_mib(idle.get("RssFile"))))
    w("\nStart %s MiB, after load %s MiB, end %s MiB%s.\n" % (
        fmt_mib(result["rss_kb"].get("start")),
        fmt_mib(result["rss_kb"].get("after_load")),
        fmt_mib(result["rss_kb"].get("end")),
        ", after %.0f s idle %s MiB" % (result["rss_kb"]["idle_wait_s"],
                                        fmt_mib(result["rss_kb"]["after_idle"]))
        if result["rss_kb"].get("after_idle") else ""))
    if chart:
        w("## Chart\n")
        w("![throughput and p99 vs connections](%s)\n" % os.path.basename(chart))
    profs = result.get("profiles") or []
    if profs:
        w("## Where the service spends its CPU (perf record -g, one slice each)\n")
        w("`perf report -i <file> --no-children` in the result folder shows more. "
          "CAF 0.17 names its scheduler worker threads `caf.multiplexer`; "
          "detached actors run on `caf.actor`; `caf.clock` serves timeouts.\n")
        for pr in profs:
            w("**%s, c=%d** (`%s`): threads %s; libraries %s\n" % (
                pr["scenario"], pr["connections"], pr["data"],
                ", ".join("%s %.0f%%" % (n, v) for v, n in pr["threads"]),
                ", ".join("%s %.0f%%" % (n, v) for v, n in pr["dsos"])))
            w("| self % | symbol |")
            w("|---:|---|")
            for v, n in pr["symbols"]:
                w("| %.1f | `%s` |" % (v, n.replace("|", "\\|")))
            w("")
    micro = result.get("micro")
    if micro:
        w("## Micro-benchmarks (Google Benchmark, bench/micro_bench.cpp)\n")
        w("| benchmark | time per op | ops/s |")
        w("|---|---:|---:|")
        for b in micro.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            unit = b.get("time_unit", "ns")
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
            t = b["real_time"] * scale
            w("| %s | %.2f µs | %s |" % (b["name"], t * 1e6,
                                          "{:,.0f}".format(1 / t) if t > 0 else "-"))
        w("")
    for n in result["notes"]:
        w("Note: " + n)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin-dir", required=True,
                   help="folder with ceiling_http, ceiling_lmdb, [micro_bench, tmf629d]")
    p.add_argument("--service-bin", help="service binary (default BIN_DIR/tmf629d)")
    p.add_argument("--map-size", default="8GiB", help="service LMDB map size")
    p.add_argument("--config-file", help="service config (default config/tmf629d.ini if present)")
    p.add_argument("--service-arg", action="append", default=[],
                   help="extra service argument, e.g. --service-arg=--tmf.foo=1")
    p.add_argument("--target", help="benchmark an already running server: its API base URL, "
                   "e.g. http://127.0.0.1:8080/tmf-api/customerManagement/v4")
    p.add_argument("--target-pid", type=int, help="pid of --target (for RSS/CPU)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --target")
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    p.add_argument("--connections", default="1,16,64,256")
    p.add_argument("--duration", type=parse_duration, default=3.0,
                   help="per slice, whole seconds (wrk), e.g. 3s")
    p.add_argument("--pairs", type=int, default=2,
                   help="ceiling/service slice pairs per point (ABBA order)")
    p.add_argument("--load", type=int, default=10000, help="customers loaded first")
    p.add_argument("--load-timeout", type=float, default=60.0)
    p.add_argument("--timeout", type=int, default=5, help="wrk request timeout, s")
    p.add_argument("--noise-gate", type=float, default=0.3,
                   help="repeat a ceiling/service pair when other processes used "
                   "more than this many cores during it")
    p.add_argument("--noise-retries", type=int, default=2)
    p.add_argument("--no-control", dest="control", action="store_false",
                   help="skip the method check (ceiling vs an identical ceiling)")
    p.add_argument("--perf", action="store_true",
                   help="perf record -g the service during one slice of every "
                   "scenario (the connection count nearest --perf-connections) "
                   "and put the hottest threads/symbols in the report")
    p.add_argument("--perf-connections", type=int, default=64)
    p.add_argument("--idle-wait", type=float, default=0.0,
                   help="after the scenarios, leave the service idle this many "
                   "seconds and sample its RSS again (shows passivation; the "
                   "service's idle-timeout is 60 s by default)")
    p.add_argument("--settle-timeout", type=float, default=60.0,
                   help="after each service slice wait at most this long for the "
                   "service to go idle (drain queued requests)")
    p.add_argument("--lmdb-seconds", type=float, default=1.5,
                   help="seconds per LMDB ceiling batch size (run before each "
                   "create/patch/delete slice)")
    p.add_argument("--out", help="result folder (default bench/results/<UTC stamp>)")
    p.add_argument("--tmp-dir", help="parent of the temporary data folder")
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--server-cpus", default="0")
    p.add_argument("--client-cpus", default="1")
    p.add_argument("--skip-micro", action="store_true")
    p.add_argument("--openloop", default="0.5,0.8",
                   help="after `get`: constant-rate GET probes at these fractions "
                   "of the closed-loop get throughput (empty: off)")
    p.add_argument("--micro-min-time", default="0.2")
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even when requests failed")
    a = p.parse_args()
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    bad = [s for s in a.scenarios if s not in ALL_SCENARIOS]
    if bad:
        p.error("unknown scenario(s) %s; known: %s" % (bad, ",".join(ALL_SCENARIOS)))
    a.scenarios = [s for s in ALL_SCENARIOS if s in a.scenarios]
    try:
        a.openloop = [float(x) for x in a.openloop.split(",") if x.strip()]
    except ValueError:
        p.error("--openloop takes a comma list of fractions, e.g. 0.5,0.8")
    try:
        a.connections = sorted({int(x) for x in a.connections.split(",") if x.strip()})
    except ValueError:
        p.error("--connections takes a comma list of integers")
    if not a.connections or min(a.connections) < 1:
        p.error("--connections must be >= 1")
    if a.target:
        u = urllib.parse.urlparse(a.target)
        if u.scheme != "http" or not u.hostname:
            p.error("--target must be an http:// URL")
        if not is_loopback(u.hostname) and not a.allow_remote:
            p.error("--target %s is not a loopback address; pass --allow-remote "
                    "to load a remote server" % u.hostname)
    if not shutil.which("wrk"):
        p.error("wrk not found (apt-get install wrk)")
    b = Bench(a)

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        rc = b.run()
    except KeyboardInterrupt:
        log("bench: interrupted; everything started was stopped")
        return 130
    except RuntimeError as e:
        log("bench: FAILED: %s" % e)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
