"""report.md: the Markdown report of a run, rendered from the results
(the dict written to results.json), its rows and its target verdicts.
Also the method paragraph the report and results.json carry."""

import json
import os
import statistics

from .common import fmt_mib

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
    "count (so a busy disk hits both alike). get/get-fields/list-filter/mixed are "
    "divided by the HTTP ceiling, create/patch/delete by the LMDB ceiling batched "
    "at the connection count. "
    "Errors = non-2xx responses (counted in the script) + socket errors "
    "(connect/read/write/timeout) + connections that got no answer at all during "
    "a slice (stuck). After every service slice the driver waits (bounded) until "
    "the service is idle, so a backlog left by one slice does not slow the next; "
    "a long wait is noted.")


def write_report(out_dir, result, rows, targets, errors, ceil_errors, chart):
    """Writes out_dir/report.md."""
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(render_report(result, rows, targets, errors, ceil_errors, chart))


def render_report(result, rows, targets, errors, ceil_errors, chart):
    """The whole report; chart is the chart's path or None."""
    lines = (_header(result, errors, ceil_errors)
             + _summary(result, rows)
             + ["**Method.** " + result["method"] + "\n"]
             + _results(rows)
             + _openloop(result.get("openloop") or [])
             + _hub(rows, result.get("event_sink"))
             + _ceilings(result)
             + _targets(targets)
             + _memory(result["rss_kb"])
             + _chart(chart)
             + _profiles(result.get("profiles") or [])
             + _micro(result.get("micro"))
             + ["Note: " + n for n in result["notes"]])
    return "\n".join(lines) + "\n"


def _bold_if(n):
    return ("**%d**" % n) if n else "0"


def _header(result, errors, ceil_errors):
    w = ["# TMF629 load benchmark report\n"]
    if errors or ceil_errors:
        w.append("> **!!! THIS RUN HAD ERRORS: %d failed requests against the "
                 "service, %d against the ceiling. Throughput of runs with errors "
                 "is not comparable. !!!**\n" % (errors, ceil_errors))
    env = result["environment"]
    w.append("- When: %s to %s (UTC)" % (result["started"], result["finished"]))
    w.append("- Machine: %s, %s cores, kernel %s, load average at end %s" % (
        env.get("cpu", "?"), env.get("nproc"), env.get("kernel"),
        " ".join(env.get("loadavg", []))))
    w.append("- Commit: %s; target: %s" % (env.get("git", "?"),
                                            result["service_url"]))
    if result.get("service_cmd"):
        w.append("- Service: `%s`" % " ".join(result["service_cmd"]))
    pin = result["pinning"]
    w.append("- Pinning: %s" % ("servers on cpu %s, wrk on cpu %s" % (
        pin["server_cpus"], pin["client_cpus"]) if pin["server_cpus"] else "none"))
    o = result["options"]
    w.append("- Scenarios %s; connections %s; %.1f s per slice; %d ceiling/service "
             "pair(s) per point; %d customers loaded (%.0f creates/s while "
             "loading)\n" % (
                 ",".join(o["scenarios"]), ",".join(map(str, o["connections"])),
                 o["duration"], o["pairs"], result["load"]["requests"],
                 result["load"]["rps"]))
    return w


def _summary(result, rows):
    """Every scenario at the connection count nearest 64."""
    if not rows:
        return []
    w = ["## Summary (connection count nearest 64)\n",
         "| scenario | conns | req/s | × ceiling | ceiling | p99 ms | errors |",
         "|---|---:|---:|---:|---|---:|---:|"]
    for sc in result["options"]["scenarios"]:
        cand = [r for r in rows if r["scenario"] == sc]
        if not cand:
            continue
        r = min(cand, key=lambda r: abs(r["connections"] - 64))
        if r["ceiling_kind"] == "http" and r["ceiling_rps"]:
            ceiling = "HTTP %.0f/s" % r["ceiling_rps"]
        elif r["ceiling_kind"] == "baseline" and r["ceiling_rps"]:
            ceiling = "no subscription: %.0f creates/s" % r["ceiling_rps"]
        elif r["ceiling_kind"] == "events" and r.get("hub"):
            ceiling = "events: %s/s to %d subscription(s)" % (
                _num(r["hub"]["events_per_s"]), r["hub"]["subscriptions"])
        elif r["ceiling_rps"]:
            ceiling = "LMDB batch %d: %.0f/s" % (r["connections"], r["ceiling_rps"])
        else:
            ceiling = "-"
        w.append("| %s | %d | %.0f | %s | %s | %.2f | %s |" % (
            sc, r["connections"], r["rps"],
            "%.2f" % r["ratio"] if r["ratio"] is not None else "-",
            ceiling, r["latency_us"]["p99"] / 1000,
            _bold_if(r["non2xx"] + r["socket_errors"])))
    w.append("")
    return w


def _num(v, fmt="%.0f"):
    return fmt % v if v is not None else "-"


def _ceiling_and_ratio(r):
    if r["ceiling_kind"] == "events":
        return "-", "-"
    if r["ceiling_kind"] == "baseline":
        ceil = "%.0f (no sub)" % r["ceiling_rps"] if r["ceiling_rps"] else "-"
        ratio = "%.2f" % r["ratio"] if r["ratio"] is not None else "-"
        if r.get("ratio_min") is not None and r["ratio_min"] != r["ratio_max"]:
            ratio += " (%.2f–%.2f)" % (r["ratio_min"], r["ratio_max"])
        return ceil, ratio
    if r["ceiling_kind"] == "http":
        ceil = "%.0f (HTTP)" % r["ceiling_rps"] if r["ceiling_rps"] else "-"
        ratio = "%.2f" % r["ratio"] if r["ratio"] is not None else "-"
        if r.get("ratio_min") is not None and r["ratio_min"] != r["ratio_max"]:
            ratio += " (%.2f–%.2f)" % (r["ratio_min"], r["ratio_max"])
    else:
        ceil = ("%.0f (LMDB b%d)" % (r["ceiling_rps"], r["connections"])
                if r["ceiling_rps"] else "-")
        ratio = ("%.2f; %.1f× b1" % (r["ratio"], r["x_batch1"])
                 if r["ratio"] is not None and r.get("x_batch1") else "-")
    return ceil, ratio


def _results(rows):
    w = ["## Results\n",
         "| scenario | conns | req/s | ceiling req/s | ratio | p50 ms | p90 ms | "
         "p99 ms | p99.9 ms | non-2xx | socket err / stuck | server CPU µs/req | "
         "ctx switches/req | other load (cores) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lat = r["latency_us"]
        ceil, ratio = _ceiling_and_ratio(r)
        w.append("| %s | %d | %.0f | %s | %s | %.2f | %.2f | %.2f | %.2f | %s | "
                 "%s | %s | %s | %s |" % (
                     r["scenario"], r["connections"], r["rps"], ceil, ratio,
                     lat["p50"] / 1000, lat["p90"] / 1000, lat["p99"] / 1000,
                     lat["p999"] / 1000, _bold_if(r["non2xx"]),
                     _bold_if(r["socket_errors"]),
                     "%.1f" % r["cpu_us_per_req"] if r["cpu_us_per_req"] else "-",
                     "%.1f" % r["ctx_switches_per_req"]
                     if r.get("ctx_switches_per_req") is not None else "-",
                     "%.2f" % r["other_cores_busy"]
                     if r["other_cores_busy"] is not None else "-"))
    for r in rows:
        if r.get("note"):
            w.append("\nNote: %s c=%d: %s" % (r["scenario"], r["connections"],
                                              r["note"]))
    statuses = [r for r in rows if r["statuses"]]
    if statuses:
        w.append("\nNon-2xx statuses seen: " + "; ".join(
            "%s c=%d %s" % (r["scenario"], r["connections"],
                            json.dumps(r["statuses"])) for r in statuses))
    return w


def _openloop(ol):
    if not ol:
        return []
    w = ["\n## Open-loop GET latency (bench/openloop, constant rate)\n",
         "Requests are due at fixed times whatever the server does; latency "
         "counts from the INTENDED send time, so queueing and stalls are not "
         "hidden (no coordinated omission). Offered rate = a fraction of the "
         "closed-loop `get` throughput at the same connection count.\n",
         "| conns | offered req/s | % of closed loop | achieved req/s | p50 ms | "
         "p90 ms | p99 ms | p99.9 ms | max ms | p99 from actual send ms | "
         "errors+unfinished | max backlog |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for d in ol:
        li, ls = d["latency_from_intended_us"], d["latency_from_send_us"]
        w.append("| %d | %.0f | %.0f %% | %.0f | %.2f | %.2f | %.2f | %.2f | "
                 "%.2f | %.2f | %s | %d |" % (
                     d["connections"], d["offered_rps"],
                     d["fraction_of_closed_loop"] * 100, d["achieved_rps"],
                     li["p50"] / 1000, li["p90"] / 1000, li["p99"] / 1000,
                     li["p999"] / 1000, li["max"] / 1000, ls["p99"] / 1000,
                     _bold_if(d["non2xx"] + d["socket_errors"] + d["unfinished"]),
                     d["max_backlog"]))
    return w


HUB_METHOD = (
    "Each hub slice is a plain `create` slice (same script) while the "
    "service holds N subscriptions (query `{query}`) whose callbacks are "
    "paths of `bench/event_sink`, a RESTinio receiver with one I/O thread "
    "pinned with wrk (cpu {cpus}): it stands for other systems, so its CPU "
    "is not charged to the service's core. The subscriptions are made right "
    "before the slice and deleted after it. After the slice the driver waits "
    "(at most --hub-drain-timeout) until the sink counted every event: "
    "created x N, created = the service's X-Total-Count after minus before. "
    "events/s = events received / (last receipt - first receipt). Delay = "
    "receipt time minus the event's `eventTime` (wall clock on both sides; "
    "the service sets eventTime when it hands the write to the store writer, "
    "so the delay includes the group commit and its fsync; eventTime has "
    "millisecond resolution, truncated, so delays read up to 1 ms high). "
    "create-hub1 pairs a slice without subscription (baseline) and one with "
    "one subscription, back to back, in ABBA order over the pairs and behind "
    "the noise gate; the ratio is the median of the per-pair ratios. Both "
    "sides of a pair create into nearly the same store: the table gives the "
    "rows each slice met. CPU per create is the service's (all threads) over "
    "the slice, the settle and the drain, divided by the creates committed.")


def _threads_table(row):
    """Per-thread CPU per create, baseline vs one subscription."""
    base = {t["tid"]: t for t in row.get("baseline_threads") or []}
    hub = {t["tid"]: t for t in row.get("threads") or []}
    if not base or not hub or not row.get("created") \
            or not row.get("baseline_created"):
        return []
    per_b = 1e6 / row["baseline_created"]
    per_h = 1e6 / row["created"]
    writer = max((t for t in base.values()
                  if t["role"].startswith("detached actor")),
                 key=lambda t: t["cpu_s"], default=None)
    lines = ["\nService CPU per create by thread at c=%d (slice + settle + "
             "drain; µs per committed create):\n" % row["connections"],
             "| thread (tid) | role | without subscription | with one | "
             "difference |",
             "|---|---|---:|---:|---:|"]
    tids = sorted(set(base) | set(hub),
                  key=lambda t: -(hub.get(t, {}).get("cpu_s", 0) * per_h))
    tot_b = tot_h = 0.0
    for tid in tids:
        b = base.get(tid, {}).get("cpu_s", 0.0) * per_b
        h = hub.get(tid, {}).get("cpu_s", 0.0) * per_h
        tot_b += b
        tot_h += h
        if b < 0.05 and h < 0.05:
            continue
        t = hub.get(tid) or base.get(tid)
        role = t["role"]
        if writer is not None and tid == writer["tid"]:
            role = "store writer (busiest detached actor)"
        lines.append("| %s (%d) | %s | %.1f | %.1f | %+.1f |" % (
            t["name"], tid, role, b, h, h - b))
    lines.append("| all threads | | %.1f | %.1f | %+.1f |" % (
        tot_b, tot_h, tot_h - tot_b))
    return lines


def _hub(rows, sink):
    """The event hub: write-path cost, event throughput and delay, and
    where the extra CPU goes."""
    pair_rows = [r for r in rows if r["ceiling_kind"] == "baseline"]
    ev_rows = [r for r in rows if r.get("hub")]
    if not pair_rows and not ev_rows:
        return []
    w = ["\n## Event hub\n"]
    if sink:
        w.append(HUB_METHOD.format(query=sink.get("query"),
                                   cpus=sink.get("cpus") or "any") + "\n")
    if pair_rows:
        w += ["Write path: creates/s without and with one matching "
              "subscription (target: with >= 0.8 x without). CPU ratio = CPU "
              "per create without / with: the throughput ratio a saturated "
              "core would show, and the steadiest figure on a shared "
              "machine.\n",
              "| conns | creates/s without | creates/s with one | ratio | "
              "rows met without / with | CPU µs/create without / with | "
              "CPU ratio (without / with) |",
              "|---:|---:|---:|---:|---|---|---:|"]
        for r in pair_rows:
            ratio = "%.2f" % r["ratio"] if r["ratio"] is not None else "-"
            if r.get("ratio_min") is not None and r["ratio_min"] != r["ratio_max"]:
                ratio += " (%.2f–%.2f)" % (r["ratio_min"], r["ratio_max"])
            w.append("| %d | %s | %.0f | %s | %s / %s | %s / %s | %s |" % (
                r["connections"], _num(r["ceiling_rps"]), r["rps"], ratio,
                ", ".join(_num(x) for x in r.get("baseline_store_rows") or []),
                ", ".join(_num(x) for x in r.get("store_rows") or []),
                _num(r.get("baseline_cpu_us_per_create"), "%.1f"),
                _num(r.get("cpu_us_per_create"), "%.1f"),
                _num(r.get("cpu_ratio"), "%.2f")))
    if ev_rows:
        w += ["\nEvents delivered to the sink (the median slice of each "
              "point):\n",
              "| scenario | subs | conns | creates/s | events received / "
              "expected | events/s | last event after slice end s | delay "
              "p50 ms | p90 ms | p99 ms | max ms | sink CPU µs/event |",
              "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in ev_rows:
            h = r["hub"]
            d = h["delay_ms"]
            got = "%d / %d" % (h["events"], h["expected"])
            if not h["complete"]:
                got = "**%s**" % got
            w.append("| %s | %d | %d | %.0f | %s | %s | %s | %.1f | %.1f | "
                     "%.1f | %.1f | %s |" % (
                         r["scenario"], h["subscriptions"], r["connections"],
                         r["rps"], got, _num(h["events_per_s"]),
                         _num(h["tail_s"], "%.2f"), d["p50"], d["p90"],
                         d["p99"], d["max"],
                         _num(h.get("sink_cpu_us_per_event"), "%.1f")))
    if pair_rows:
        row = min(pair_rows, key=lambda r: abs(r["connections"] - 64))
        w += _threads_table(row)
    w.append("")
    return w


def _ceilings(result):
    w = ["\n## Ceilings (same run)\n"]
    ctl = result.get("control")
    if ctl and ctl.get("median") is not None:
        w.append("Method check: a second, identical `ceiling_http` measured "
                 "exactly like the service (`get`, c=%d, ABBA pairs) gives a "
                 "ratio of **%.3f** (pairs: %s); the distance from 1.000 is the "
                 "resolution of these ratios.\n" % (
                     ctl["connections"], ctl["median"],
                     ", ".join("%.3f" % r for r in ctl["ratios"])))
    if result.get("repeated_pairs"):
        w.append("%d ceiling/service pair(s) were repeated because other "
                 "processes used more than %.2f cores during them.\n" % (
                     result["repeated_pairs"], result["options"]["noise_gate"]))
    by_c = {}
    for sl in result["slices"]:
        if sl["target"] == "ceiling" and sl["server_cpu_us_per_req"]:
            by_c.setdefault(sl["connections"], []).append(
                sl["server_cpu_us_per_req"])
    if by_c:
        w.append("HTTP ceiling CPU per request (median over its slices): %s.\n"
                 % ", ".join("c=%d %.1f µs" % (c, statistics.median(v))
                             for c, v in sorted(by_c.items())))
    w.append("| LMDB puts per txn | measured before | rows already stored | "
             "puts/s | commits/s | commit p50 ms | commit p99 ms |")
    w.append("|---:|---|---:|---:|---:|---:|---:|")
    for d in result["lmdb_ceiling"]:
        w.append("| %d | %s | %d | %.0f | %.0f | %.2f | %.2f |" % (
            d["batch"], d["pass"], d.get("prefill", 0), d["puts_per_s"],
            d["commits_per_s"], d["commit_p50_us"] / 1000,
            d["commit_p99_us"] / 1000))
    return w


def _targets(targets):
    w = ["\n## Targets\n", "| target | measured | verdict |", "|---|---|---|"]
    for t in targets:
        v = "met" if t["met"] else ("info" if t["met"] is None else "**MISSED**")
        w.append("| %s | %s | %s |" % (t["target"], t["measured"], v))
    return w


def _memory(rss):
    w = ["\n## Service memory (VmRSS)\n",
         "RssAnon is the heap (actors, documents, malloc caches); RssFile is "
         "mostly LMDB's memory map (file pages, reclaimable).\n",
         "| scenario | RSS before (MiB) | RSS after (MiB) | anon before | "
         "anon after | file after |",
         "|---|---:|---:|---:|---:|---:|"]
    for k, v in rss.items():
        if isinstance(v, dict) and "before_kb" in v:
            w.append("| %s | %s | %s | %s | %s | %s |" % (
                k, fmt_mib(v["before_kb"]), fmt_mib(v["after_kb"]),
                fmt_mib(v.get("anon_before_kb")), fmt_mib(v.get("anon_after_kb")),
                fmt_mib(v.get("file_after_kb"))))
    idle = rss.get("after_idle_detail")
    if idle:
        w.append("| idle %.0f s | | %s | | %s | %s |" % (
            rss["idle_wait_s"], fmt_mib(idle.get("VmRSS")),
            fmt_mib(idle.get("RssAnon")), fmt_mib(idle.get("RssFile"))))
    w.append("\nStart %s MiB, after load %s MiB, end %s MiB%s.\n" % (
        fmt_mib(rss.get("start")), fmt_mib(rss.get("after_load")),
        fmt_mib(rss.get("end")),
        ", after %.0f s idle %s MiB" % (rss["idle_wait_s"],
                                        fmt_mib(rss["after_idle"]))
        if rss.get("after_idle") else ""))
    return w


def _chart(chart):
    if not chart:
        return []
    return ["## Chart\n",
            "![throughput and p99 vs connections](%s)\n" % os.path.basename(chart)]


def _profiles(profs):
    if not profs:
        return []
    w = ["## Where the service spends its CPU (perf record -g, one slice each)\n",
         "`perf report -i <file> --no-children` in the result folder shows "
         "more. Threads are `tid:name`. CAF 0.17 names its scheduler worker "
         "threads `caf.multiplexer`, and the notifier's libcurl thread, "
         "started from the worker, inherits that name (the per-thread table "
         "of the event hub section tells them apart); detached actors (store "
         "writer, readers, loader) run on `caf.actor`; `caf.clock` serves "
         "timeouts.\n"]
    for pr in profs:
        w.append("**%s, c=%d** (`%s`): threads %s; libraries %s\n" % (
            pr["scenario"], pr["connections"], pr["data"],
            ", ".join("%s %.0f%%" % (n, v) for v, n in pr["threads"]),
            ", ".join("%s %.0f%%" % (n, v) for v, n in pr["dsos"])))
        w.append("| self % | symbol |")
        w.append("|---:|---|")
        for v, n in pr["symbols"]:
            w.append("| %.1f | `%s` |" % (v, n.replace("|", "\\|")))
        w.append("")
    return w


def _micro(micro):
    if not micro:
        return []
    w = ["## Micro-benchmarks (Google Benchmark, bench/micro_bench.cpp)\n",
         "| benchmark | time per op | ops/s |", "|---|---:|---:|"]
    for b in micro.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[
            b.get("time_unit", "ns")]
        t = b["real_time"] * scale
        w.append("| %s | %.2f µs | %s |" % (
            b["name"], t * 1e6, "{:,.0f}".format(1 / t) if t > 0 else "-"))
    w.append("")
    return w
