"""wrk: its command line for bench/lua/tmf629.lua, the script's
`BENCHJSON {...}` summary line, and the figures derived from one slice
(rate, errors, stuck connections, server CPU and context switches per
request, other load on the machine), plus the slice's progress line."""

import json
import os
import re

from .common import LUA_DIR, SCRIPT

SUMMARY_RE = re.compile(r"^BENCHJSON (.*)$", re.M)


def command(url, scenario, conns, seconds, timeout_s, seed, extra=None):
    """One-thread wrk running scenario at conns connections for seconds
    (rounded to whole seconds, at least 1); extra are KEY=VALUE script
    arguments."""
    return (["wrk", "-t1", "-c%d" % conns, "-d%ds" % max(1, int(round(seconds))),
             "--timeout", "%ds" % timeout_s, "-s", SCRIPT, url, "--",
             "scenario=" + scenario, "seed=%d" % seed] + (extra or []))


def environment():
    """wrk's environment: the script finds common.lua through BENCH_LUA_DIR."""
    return dict(os.environ, BENCH_LUA_DIR=LUA_DIR)


def parse_summary(stdout):
    """The script's summary (dict) from wrk's standard output, or None when
    there is no BENCHJSON line."""
    m = SUMMARY_RE.search(stdout)
    return json.loads(m.group(1)) if m else None


def add_slice_figures(r, scenario, conns):
    """Adds to a parsed summary: seconds (the active time when the script
    stopped early), rps, socket_errors, stalled and error_total."""
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
    return r


def add_server_figures(r, before, after, client_cpu_s, wall_s):
    """Adds the server's CPU, context switches per request, RSS and the
    cores other processes used, from procfs snapshots taken around the
    slice, the CPU wrk used (client_cpu_s) and the slice's wall time."""
    if before.cpu_s is not None and after.cpu_s is not None:
        r["server_cpu_s"] = after.cpu_s - before.cpu_s
        r["server_cpu_us_per_req"] = (1e6 * r["server_cpu_s"] / r["requests"]
                                      if r["requests"] else None)
    else:
        r["server_cpu_s"] = None
        r["server_cpu_us_per_req"] = None
    r["ctx_switches_per_req"] = (
        (after.ctx_switches - before.ctx_switches) / r["requests"]
        if before.ctx_switches is not None and after.ctx_switches is not None
        and r["requests"] else None)
    other = (after.busy_s - before.busy_s) - client_cpu_s - (r["server_cpu_s"] or 0)
    r["other_cores_busy"] = max(0.0, other / wall_s) if wall_s > 0 else None
    r["rss_kb_before"] = before.rss_kb
    r["rss_kb_after"] = after.rss_kb
    return r


def progress_line(step, total, r):
    """The line printed after every measured slice."""
    lat = r["latency_us"]
    return ("[%3d/%d] %-11s c=%-4d %-8s %10.0f req/s  p50 %7.2f ms  "
            "p99 %7.2f ms  errors %d%s" % (
                step, total, r["scenario"], r["connections"], r["target"],
                r["rps"], lat["p50"] / 1000, lat["p99"] / 1000,
                r["error_total"],
                "  (other load %.2f cores)" % r["other_cores_busy"]
                if r["other_cores_busy"] and r["other_cores_busy"] > 0.3
                else ""))
