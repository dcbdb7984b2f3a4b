"""One benchmark run, start to finish: start the ceiling and the service
(or use --target), load customers, warm up, run the method check, every
scenario at every connection count (HTTP-bound ones in ceiling/service
ABBA pairs behind a noise gate, storage-bound ones right after an LMDB
ceiling, create-hub1 in pairs of creates without and with a hub
subscription, events-N with N subscriptions to the event sink), the
open-loop probe and the micro-benchmarks; stop everything it started and
write results.json, chart.png and report.md."""

import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from . import ceilings, cluster, hub, perf, procfs, service, wrk
from .chart import write_chart
from .common import BENCH_DIR, fmt_mib, log
from .procs import Procs, pinned
from .report import METHOD, write_report
from .results import environment, error_totals, write_json
from .rows import build_rows
from .scenarios import (HTTP_BOUND, HUB_SCENARIOS, HUB_SUBSCRIPTIONS, PAIRED,
                        script_scenario)
from .targets import evaluate

# Exit status of a run whose requests failed (without --allow-errors).
EXIT_ERRORS = 3


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
        self.service_proc = None
        self.service_cmd = None
        self.service_url = None
        self.ceiling_pid = None
        self.ceiling_url = None
        self.sink_pid = None
        self.sink_url = None
        self.roles = {}

    # -- one wrk slice -----------------------------------------------------
    def wrk(self, url, scenario, conns, seconds, extra=None, server_pid=None,
            label="", quiet=False, profile=False):
        """Runs one wrk slice and returns its figures (see wrk.py), sampling
        server_pid around it; a service slice then waits until the service
        is idle again."""
        cmd = pinned(wrk.command(url, script_scenario(scenario), conns, seconds,
                                 self.a.timeout,
                                 int(time.time() * 1000) % 1000000, extra),
                     self.client_cpus)
        # the event sink's CPU is the client side's, not other load
        helpers = [self.sink_pid] if self.sink_pid else []
        helper0 = [procfs.cpu_seconds(p) for p in helpers]
        before = procfs.snapshot(server_pid)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        prof = (perf.start(self.out, scenario, conns, server_pid, seconds)
                if profile else None)
        try:
            out = subprocess.run(cmd, env=wrk.environment(), capture_output=True,
                                 text=True, timeout=seconds + self.a.timeout + 30)
        except subprocess.TimeoutExpired:
            raise RuntimeError("wrk did not finish in time: " + " ".join(cmd))
        finally:
            if prof:
                got = perf.finish(prof, self.notes)
                if got:
                    self.profiles.append(got)
        wall = time.monotonic() - t0
        end_unix_s = time.time()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = procfs.snapshot(server_pid)
        helper1 = [procfs.cpu_seconds(p) for p in helpers]
        r = wrk.parse_summary(out.stdout)
        if scenario == "load" and out.returncode == 0 and r is None:
            # the load script exits wrk itself once it has its customers
            return {"requests": None, "seconds": wall, "wall": wall}
        if out.returncode != 0 or r is None:
            raise RuntimeError("wrk failed (rc %d): %s\n%s%s" % (
                out.returncode, " ".join(cmd), out.stdout[-2000:],
                out.stderr[-2000:]))
        wrk.add_slice_figures(r, scenario, conns)
        client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        if helpers:
            r["sink_cpu_s"] = sum(b - a for a, b in zip(helper0, helper1)
                                  if a is not None and b is not None)
            client_cpu += r["sink_cpu_s"]
        wrk.add_server_figures(r, before, after, client_cpu, wall)
        r["scenario"] = scenario
        r["connections"] = conns
        r["target"] = label
        r["end_unix_s"] = end_unix_s
        if server_pid and label in ("service", "pool", "baseline"):
            r["settle_s"] = service.settle(server_pid, self.a.settle_timeout,
                                           probe_url=url)
            if r["settle_s"] > 1.0:
                r["note"] = ("service kept working %.1f s after the slice ended "
                             "(queued requests)" % r["settle_s"])
        if not quiet:
            self.step += 1
            log(wrk.progress_line(self.step, self.total_steps, r))
        return r

    # -- ceilings ----------------------------------------------------------
    def run_lmdb_ceiling(self, tag, batches, scenario=None, conns=None):
        """Raw durable LMDB commits, run right before a storage-bound slice
        (same machine state) with batch 1 and batch = its connection count,
        into a B-tree holding as many rows as the service holds right now
        (inserting into 200k rows costs several times what inserting into
        an empty tree does)."""
        rows = service.row_count(self.service_url)
        if rows is None:
            rows = 0
            note = ("the target did not report X-Total-Count: storage ceilings "
                    "were measured on an empty LMDB")
            if note not in self.notes:
                self.notes.append(note)
        for d in ceilings.run_lmdb(self.a.bin_dir,
                                   os.path.join(self.tmp, "lmdb-ceiling"),
                                   sorted(set(batches)), self.a.lmdb_seconds,
                                   rows, self.server_cpus):
            d["pass"] = tag
            d["scenario"] = scenario
            d["connections"] = conns
            self.lmdb.append(d)
            log("        LMDB ceiling %-14s batch %-4d %9.0f puts/s  commit p50 %.2f ms"
                "  (%d rows)" % (tag, d["batch"], d["puts_per_s"],
                                 d["commit_p50_us"] / 1000, d.get("prefill", 0)))

    def start_ceiling_http(self):
        p, self.ceiling_url = ceilings.start_ceiling_http(
            self.procs, self.a.bin_dir, self.out, self.server_cpus)
        self.ceiling_pid = p.pid
        log("bench: HTTP ceiling at " + self.ceiling_url)

    def start_service(self):
        self.service_proc, self.service_cmd, self.service_url = \
            service.start_service(self.procs, self.a,
                                  os.path.join(self.tmp, "data"), self.out,
                                  self.server_cpus)
        self.service_pid = self.service_proc.pid

    def check_service_alive(self):
        p = self.service_proc
        if p is not None and p.poll() is not None:
            raise RuntimeError("the service exited with status %s during the run "
                               "(see %s)" % (p.returncode,
                                             os.path.join(self.out, "service.log")))

    def service_rss_kb(self):
        return procfs.rss_kb(self.service_pid) if self.service_pid else None

    # -- data --------------------------------------------------------------
    def load(self):
        """Creates --load customers through the API (names shared by about
        20 each, for list-filter) and keeps their ids for the scripts."""
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
            ids = [line for line in f.read().split("\n") if line]
        r = {"requests": len(ids), "seconds": r["seconds"],
             "rps": len(ids) / r["seconds"] if r["seconds"] else 0,
             "error_total": None, "statuses": r.get("statuses")}
        log("bench: loaded %d customers in %.1f s (%.0f creates/s incl. wrk start)"
            % (len(ids), r["seconds"], r["rps"]))
        self.load_result = r
        if len(ids) < 0.9 * n:
            raise RuntimeError("loading created only %d of %d customers "
                               "(statuses %s)" % (len(ids), n, r["statuses"]))
        self.rss["after_load"] = self.service_rss_kb()

    def scenario_args(self, s):
        if script_scenario(s) == "create":
            return ["out=" + self.created_file]
        if s == "delete":
            return ["ids=" + self.created_file, "offset=%d" % self.delete_offset]
        if s == "list-filter":
            return ["names=" + self.names_file]
        return ["ids=" + self.ids_file, "names=" + self.names_file]

    def delete_pool_size(self):
        with open(self.created_file) as f:
            return sum(1 for line in f if line.strip()) - self.delete_offset

    def ensure_delete_pool(self, c):
        """Tops up (unmeasured) the ids created by `create` that a delete
        slice at c connections may consume."""
        have = self.delete_pool_size()
        need = int(self.a.duration * (40000 if c > 1 else 4000))
        for _ in range(4):
            if have >= need:
                break
            log("bench: delete pool has %d ids, creating more (unmeasured) ..."
                % have)
            self.wrk(self.service_url, "create", 64, self.a.duration,
                     ["out=" + self.created_file], server_pid=self.service_pid,
                     label="pool", quiet=True)
            have = self.delete_pool_size()

    # -- main --------------------------------------------------------------
    def plan_steps(self):
        n = 0
        for s in self.a.scenarios:
            per = self.a.pairs * 2 if s in PAIRED else 1
            n += per * len(self.a.connections)
        self.total_steps = n

    def run(self):
        """The whole run; returns the exit status."""
        a = self.a
        if a.cluster:
            return self.run_cluster()
        stamp = dt.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        self.out = a.out or os.path.join(BENCH_DIR, "results", stamp)
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
            self.start_event_sink()
            if a.target:
                self.service_url = a.target.rstrip("/")
                self.service_pid = a.target_pid
                log("bench: target %s (not started by bench)" % self.service_url)
            else:
                self.start_service()
            self.rss["start"] = self.service_rss_kb()
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
            self.rss["end"] = self.service_rss_kb()
            if a.idle_wait > 0 and self.service_pid:
                self.idle_wait()
        finally:
            self.procs.stop_all()
            if not a.keep_tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
        self.finished = dt.datetime.utcnow()
        return self.write_outputs()

    def idle_wait(self):
        """Leaves the service idle for --idle-wait seconds (passivation),
        then samples its memory again."""
        a = self.a
        log("bench: idle for %.0f s (passivation), then RSS again ..." % a.idle_wait)
        time.sleep(a.idle_wait)
        self.rss["after_idle"] = procfs.rss_kb(self.service_pid)
        self.rss["after_idle_detail"] = procfs.memory_kb(self.service_pid)
        self.rss["idle_wait_s"] = a.idle_wait
        log("bench: RSS %s -> %s MiB after %.0f s idle" % (
            fmt_mib(self.rss["end"]), fmt_mib(self.rss["after_idle"]),
            a.idle_wait))

    def run_pair(self, s, c, args, i, profile=False, service_url=None,
                 service_pid=None, label="service"):
        """One ceiling slice and one service slice back to back (order
        alternates with i: ABBA). Repeated (bounded) when other processes
        used more than --noise-gate cores during either slice."""
        a = self.a
        service_url = service_url or self.service_url
        service_pid = service_pid or self.service_pid
        return self.gated_pair("ceiling", {
            "ceiling": lambda attempt: self.wrk(
                self.ceiling_url, s, c, a.duration, args,
                server_pid=self.ceiling_pid, label="ceiling"),
            "service": lambda attempt: self.wrk(
                service_url, s, c, a.duration, args, server_pid=service_pid,
                label=label, profile=profile and attempt == 0)}, i)

    def gated_pair(self, reference, run, i):
        """run[reference](attempt) and run["service"](attempt) back to back,
        the reference first when i is even (ABBA over a point's pairs).
        Repeated (at most --noise-retries times) when other processes used
        more than --noise-gate cores during either slice. Returns
        {reference: slice, "service": slice}."""
        a = self.a
        for attempt in range(a.noise_retries + 1):
            order = ([reference, "service"] if i % 2 == 0
                     else ["service", reference])
            res = {}
            for who in order:
                res[who] = run[who](attempt)
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
        p, url = ceilings.start_ceiling_http(
            self.procs, self.a.bin_dir, self.out, self.server_cpus,
            name="ceiling_http_control", log_name="ceiling_control.log")
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

    def run_scenario(self, s):
        """Scenario s at every connection count, with the service's memory
        before and after."""
        self.check_service_alive()
        a = self.a
        prof_c = (min(a.connections, key=lambda c: abs(c - a.perf_connections))
                  if a.perf else None)
        rss_before = self.service_rss_kb()
        mem_before = procfs.memory_kb(self.service_pid) if self.service_pid else {}
        for c in a.connections:
            if s == "delete":
                self.ensure_delete_pool(c)
            args = self.scenario_args(s)
            if s in HTTP_BOUND:
                self.run_http_point(s, c, args, profile=(c == prof_c))
            elif s == "create-hub1":
                self.run_hub_pairs(s, c, args, profile=(c == prof_c))
            elif s in HUB_SUBSCRIPTIONS:
                self.run_events_point(s, c, args, profile=(c == prof_c))
            else:
                self.run_storage_point(s, c, args, profile=(c == prof_c))
        self.check_service_alive()
        rss_after = self.service_rss_kb()
        mem_after = procfs.memory_kb(self.service_pid) if self.service_pid else {}
        self.rss[s] = {"before_kb": rss_before, "after_kb": rss_after,
                       "anon_before_kb": mem_before.get("RssAnon"),
                       "anon_after_kb": mem_after.get("RssAnon"),
                       "file_after_kb": mem_after.get("RssFile")}
        if self.service_pid:
            log("bench: %s: service RSS %s -> %s MiB" % (
                s, fmt_mib(rss_before), fmt_mib(rss_after)))

    def run_http_point(self, s, c, args, profile):
        """--pairs ceiling/service pairs; every service slice keeps the
        per-pair ratios of its point."""
        pair_ratios, svc, ceil = [], [], []
        for i in range(self.a.pairs):
            res = self.run_pair(s, c, args, i, profile=profile and i == 0)
            svc.append(res["service"])
            ceil.append(res["ceiling"])
            if res["ceiling"]["rps"] > 0:
                pair_ratios.append(res["service"]["rps"] / res["ceiling"]["rps"])
        self.slices.extend(ceil)
        for r in svc:
            r["pair_ratios"] = pair_ratios
            self.slices.append(r)

    # -- the event hub ------------------------------------------------------
    def start_event_sink(self):
        """Starts bench/event_sink (pinned with wrk: it stands for other
        systems, so its CPU is not charged to the service's core) when a
        hub scenario was asked for; without the binary those scenarios are
        skipped."""
        if not any(s in HUB_SCENARIOS for s in self.a.scenarios):
            return
        if not os.access(os.path.join(self.a.bin_dir, "event_sink"), os.X_OK):
            skipped = [s for s in self.a.scenarios if s in HUB_SCENARIOS]
            self.a.scenarios = [s for s in self.a.scenarios
                                if s not in HUB_SCENARIOS]
            self.plan_steps()
            self.notes.append("event_sink not built; %s skipped"
                              % ",".join(skipped))
            log("bench: event_sink not built, skipping " + ",".join(skipped))
            return
        p, self.sink_url = hub.start_event_sink(
            self.procs, self.a.bin_dir, self.out, self.client_cpus)
        self.sink_pid = p.pid
        log("bench: event sink at " + self.sink_url)

    def thread_sample(self):
        return procfs.thread_cpu(self.service_pid) if self.service_pid else {}

    def measured_create(self, s, c, args, label, subscriptions=0,
                        profile=False):
        """One create slice of hub scenario s. With subscriptions > 0 it
        first subscribes that many times to the event sink (one callback
        path each) and, after the slice, waits (--hub-drain-timeout at
        most) until the sink got every event of it, then removes the
        subscriptions, so later slices are not charged for them. The slice
        gets: the rows the store held before it (store_rows), the creates
        committed (created: X-Total-Count after minus before), per-thread
        CPU over slice + settle + drain (threads) and its sum per create
        (cpu_us_per_create), and with subscriptions the sink's figures
        (hub)."""
        ids = []
        stats = None
        try:
            if subscriptions:
                hub.sink_reset(self.sink_url)
                for k in range(subscriptions):
                    ids.append(hub.subscribe(self.service_url,
                                             "%s/sub%d" % (self.sink_url, k)))
            rows0 = service.row_count(self.service_url)
            threads0 = self.thread_sample()
            sink0 = procfs.cpu_seconds(self.sink_pid) if self.sink_pid else None
            r = self.wrk(self.service_url, s, c, self.a.duration, args,
                         server_pid=self.service_pid, label=label,
                         profile=profile)
            rows1 = service.row_count(self.service_url)
            created = (rows1 - rows0 if rows0 is not None and rows1 is not None
                       else r["requests"])
            if subscriptions:
                stats, waited = hub.wait_for_events(
                    self.sink_url, created * subscriptions,
                    self.a.hub_drain_timeout)
            threads1 = self.thread_sample()
            sink1 = procfs.cpu_seconds(self.sink_pid) if self.sink_pid else None
        finally:
            kept = [i for i in ids if not hub.unsubscribe(self.service_url, i)]
            if kept:
                self.notes.append("hub subscription(s) %s could not be deleted "
                                  "after %s c=%d" % (",".join(kept), s, c))
        r["store_rows"] = rows0
        r["created"] = created
        r["threads"] = procfs.thread_cpu_delta(threads0, threads1, self.roles)
        r["cpu_us_per_create"] = (
            1e6 * sum(t["cpu_s"] for t in r["threads"]) / created
            if created and r["threads"] else None)
        if subscriptions:
            f = hub.event_figures(stats, created * subscriptions,
                                  subscriptions, r["end_unix_s"], waited)
            f["sink_cpu_us_per_event"] = (
                1e6 * (sink1 - sink0) / f["events"]
                if f["events"] and sink0 is not None and sink1 is not None
                else None)
            r["hub"] = f
            if not f["complete"]:
                r["note"] = "; ".join(filter(None, [
                    r.get("note"),
                    "the sink got %d of %d events within %.0f s" % (
                        f["events"], f["expected"], f["waited_s"])]))
            log("        hub %2d sub(s): %d/%d events, %s events/s, delay "
                "p50 %.1f ms p99 %.1f ms, last event %.2f s after the slice"
                % (subscriptions, f["events"], f["expected"],
                   "%.0f" % f["events_per_s"] if f["events_per_s"] else "-",
                   f["delay_ms"]["p50"], f["delay_ms"]["p99"],
                   f["tail_s"] or 0))
        return r

    def refresh_roles(self):
        """Names the service's threads (from their idle system calls) while
        it is idle, before a hub scenario."""
        if self.service_pid:
            self.roles = procfs.thread_roles(self.service_pid)

    def run_hub_pairs(self, s, c, args, profile):
        """--pairs pairs of create slices without and with one matching
        subscription, back to back (ABBA, noise-gated like the ceiling
        pairs): the same service on nearly the same store."""
        self.refresh_roles()
        subs = HUB_SUBSCRIPTIONS[s]
        pair_ratios, svc, base = [], [], []
        for i in range(self.a.pairs):
            res = self.gated_pair("baseline", {
                "baseline": lambda attempt: self.measured_create(
                    s, c, args, "baseline"),
                "service": lambda attempt: self.measured_create(
                    s, c, args, "service", subscriptions=subs,
                    profile=profile and i == 0 and attempt == 0)}, i)
            svc.append(res["service"])
            base.append(res["baseline"])
            if res["baseline"]["rps"] > 0:
                pair_ratios.append(res["service"]["rps"] / res["baseline"]["rps"])
        self.slices.extend(base)
        for r in svc:
            r["pair_ratios"] = pair_ratios
            self.slices.append(r)

    def run_events_point(self, s, c, args, profile):
        """One create slice with N subscriptions to the sink."""
        self.refresh_roles()
        self.slices.append(self.measured_create(
            s, c, args, "service", subscriptions=HUB_SUBSCRIPTIONS[s],
            profile=profile))

    def run_storage_point(self, s, c, args, profile):
        """The LMDB ceiling at batch 1 and c, then one service slice."""
        self.run_lmdb_ceiling("%s c=%d" % (s, c), [1, c], s, c)
        r = self.wrk(self.service_url, s, c, self.a.duration, args,
                     server_pid=self.service_pid, label="service",
                     profile=profile)
        if s == "delete":
            self.delete_offset += sum(x.get("consumed", 0) for x in r["extra"])
            if r.get("stopped_early_active_s"):
                r["note"] = "; ".join(filter(None, [
                    r.get("note"),
                    "delete pool used up after %.2f s" % r["seconds"]]))
        self.slices.append(r)

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
                cmd = pinned([exe, "--host", u.hostname, "--port", str(u.port),
                              "--base", u.path, "--ids", self.ids_file,
                              "--connections", str(c), "--rate", "%.0f" % rate,
                              "--seconds", "%.1f" % self.a.duration],
                             self.client_cpus)
                cpu0 = procfs.cpu_seconds(self.service_pid) if self.service_pid else None
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     timeout=self.a.duration + 30)
                cpu1 = procfs.cpu_seconds(self.service_pid) if self.service_pid else None
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
        """bench/micro_bench (Google Benchmark), its JSON kept for the report."""
        exe = os.path.join(self.a.bin_dir, "micro_bench")
        if not os.access(exe, os.X_OK):
            self.notes.append("micro_bench not built; micro-benchmarks skipped")
            log("bench: micro_bench not built, skipping micro-benchmarks")
            return
        log("bench: micro-benchmarks ...")
        out = subprocess.run(pinned([exe, "--benchmark_format=json",
                                     "--benchmark_min_time=%s" % self.a.micro_min_time],
                                    self.server_cpus),
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            self.notes.append("micro_bench failed: " + out.stderr[-500:])
            log("bench: micro_bench failed: " + out.stderr[-500:])
            return
        self.micro = json.loads(out.stdout)

    # -- cluster mode -------------------------------------------------------
    def run_cluster(self):
        """--cluster N: the cluster's comparisons (tmfbench/cluster.py)
        instead of the single-node scenarios; returns the exit status."""
        a = self.a
        stamp = dt.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        self.out = a.out or os.path.join(BENCH_DIR, "results", stamp)
        os.makedirs(self.out, exist_ok=True)
        binary = a.service_bin or os.path.join(a.bin_dir, "tmf629d")
        if not os.access(binary, os.X_OK):
            raise RuntimeError("service binary not found: %s" % binary)
        self.tmp = tempfile.mkdtemp(prefix="tmf629-bench-", dir=a.tmp_dir)
        self.started = dt.datetime.utcnow()
        log("bench: cluster mode, %d nodes; results -> %s; pinning: %s" % (
            a.cluster, self.out, "nodes cpu %s, wrk cpu %s" % (
                self.server_cpus, self.client_cpus) if self.pin else "off"))
        try:
            cb = cluster.ClusterBench(a, self.tmp, self.out, self.server_cpus,
                                      self.client_cpus, binary)
            part = cb.run()
            self.notes += cb.notes
        finally:
            if not a.keep_tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
        self.finished = dt.datetime.utcnow()
        errors = sum(r["error_total"] for r in part["slices"])
        result = {
            "started": self.started.isoformat() + "Z",
            "finished": self.finished.isoformat() + "Z",
            "environment": environment(),
            "options": dict(vars(a)),
            "command": "bench/bench.py " + " ".join(sys.argv[1:]),
            "cluster": part,
            "errors_total": errors,
            "notes": self.notes,
        }
        write_json(self.out, result)
        with open(os.path.join(self.out, "report.md"), "w") as f:
            f.write(cluster.render_report(result))
        log("")
        with open(os.path.join(self.out, "report.md")) as f:
            sys.stdout.write(f.read())
        log("\nbench: report %s" % os.path.join(self.out, "report.md"))
        if errors:
            log("\n!!! THIS RUN HAD ERRORS: %d failed requests (see report) !!!"
                % errors)
            return 0 if a.allow_errors else EXIT_ERRORS
        return 0

    # -- outputs -----------------------------------------------------------
    def write_outputs(self):
        """results.json, chart.png and report.md; prints the report; returns
        the exit status (EXIT_ERRORS when requests failed)."""
        rows = build_rows(self.slices, self.lmdb, self.a.scenarios,
                          self.a.connections)
        targets = evaluate(rows, self.openloop, self.a.scenarios,
                           self.a.connections,
                           rss=self.rss if self.service_pid else None)
        errors, ceil_errors = error_totals(rows, self.openloop, self.slices)
        result = {
            "started": self.started.isoformat() + "Z",
            "finished": self.finished.isoformat() + "Z",
            "environment": environment(),
            "options": dict(vars(self.a)),
            "method": METHOD,
            "service_url": self.service_url,
            "service_cmd": self.service_cmd,
            "pinning": {"server_cpus": self.server_cpus,
                        "client_cpus": self.client_cpus},
            "event_sink": ({"url": self.sink_url, "query": hub.QUERY,
                            "cpus": self.client_cpus}
                           if self.sink_url else None),
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
        write_json(self.out, result)
        chart = write_chart(self.out, rows, self.a.scenarios)
        write_report(self.out, result, rows, targets, errors, ceil_errors, chart)
        log("")
        with open(os.path.join(self.out, "report.md")) as f:
            sys.stdout.write(f.read())
        log("\nbench: report %s" % os.path.join(self.out, "report.md"))
        if errors or ceil_errors:
            log("\n!!! THIS RUN HAD ERRORS: %d failed requests against the service, "
                "%d against the ceiling (see report) !!!" % (errors, ceil_errors))
            return 0 if self.a.allow_errors else EXIT_ERRORS
        return 0
