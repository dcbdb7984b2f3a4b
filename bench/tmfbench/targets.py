"""The targets of the bench issue, as data, and their verdicts on a run's
rows. A target names a scenario, the figure it is judged on ("ratio": ×
its ceiling; "x_batch1": × raw LMDB at one commit per write), the
threshold, and optional limits on p99 and errors, at the connection count
nearest `connections`. Checks that are not per scenario: no scenario may
fall below SCALING_FLOOR × its peak at a higher connection count; every
event of a hub slice must reach every subscription; the event throughput
and delay of events-N, and the service's memory, are reported (no
verdict)."""

from dataclasses import dataclass
from typing import Optional

from .common import fmt_mib


@dataclass(frozen=True)
class Target:
    scenario: str
    measure: str                  # row key: "ratio" or "x_batch1"
    at_least: float
    text: str                     # the target as the report states it
    measured: str                 # str.format template over measured_values()
    max_p99_ms: Optional[float] = None
    no_errors: bool = False       # no error in any slice of the scenario
    connections: int = 64


TARGETS = (
    Target("get", "ratio", 0.5, max_p99_ms=2.0,
           text="get: >= 0.5 x HTTP ceiling, p99 < 2 ms at c=64",
           measured="c={c}: {ratio:.2f} x ceiling, p99 {p99_ms:.2f} ms "
                    "(ceiling's p99 {ceiling_p99_ms:.2f} ms){openloop}"),
    Target("create", "ratio", 0.5,
           text="create: >= 0.5 x raw LMDB batched at c=64",
           measured="c={c}: {rps:.0f}/s = {ratio:.2f} x LMDB batch {c} "
                    "({ceiling_rps:.0f} puts/s)"),
    Target("create", "x_batch1", 5,
           text="create: >= 5 x one commit per write",
           measured="{x_batch1:.1f} x LMDB batch 1 ({lmdb_batch1_rps:.0f} "
                    "commits/s)"),
    Target("create-hub1", "ratio", 0.8,
           text="create-hub1: creates/s with one matching hub subscription "
                ">= 0.8 x without (c=64, same run, same store size)",
           measured="c={c}: {rps:.0f}/s with, {ceiling_rps:.0f}/s without: "
                    "{ratio:.2f} x (by CPU per create: {cpu_ratio:.2f} x)"),
    Target("mixed", "ratio", 0.4, no_errors=True,
           text="mixed: >= 0.4 x HTTP ceiling (c=64), no errors",
           measured="c={c}: {ratio:.2f} x ceiling, {errors} errors in all "
                    "mixed runs"),
)

SCALING_FLOOR = 0.8


def nearest_row(rows, scenario, connections):
    """The scenario's row at the connection count nearest connections."""
    cands = [r for r in rows if r["scenario"] == scenario]
    if not cands:
        return None
    return min(cands, key=lambda r: abs(r["connections"] - connections))


def measured_values(row, rows, openloop):
    """The figures a Target's template may use (missing ones as 0)."""
    ol = [d for d in openloop if d["connections"] == row["connections"]]
    return {
        "c": row["connections"],
        "rps": row["rps"],
        "ratio": row["ratio"] or 0,
        "ceiling_rps": row["ceiling_rps"] or 0,
        "x_batch1": row.get("x_batch1") or 0,
        "lmdb_batch1_rps": row.get("lmdb_batch1_rps") or 0,
        "cpu_ratio": row.get("cpu_ratio") or 0,
        "p99_ms": row["latency_us"]["p99"] / 1000,
        "ceiling_p99_ms": (row.get("ceiling_p99_us") or 0) / 1000,
        "errors": sum(r["non2xx"] + r["socket_errors"] for r in rows
                      if r["scenario"] == row["scenario"]),
        "openloop": "".join(
            "; open loop at %.0f req/s: p99 %.2f ms from intended send" % (
                d["offered_rps"], d["latency_from_intended_us"]["p99"] / 1000)
            for d in ol),
    }


def judge(target, row, rows, openloop):
    """The verdict of one Target on its row: {target, measured, met}."""
    v = measured_values(row, rows, openloop)
    met = v[target.measure] >= target.at_least
    if target.max_p99_ms is not None:
        met = met and v["p99_ms"] < target.max_p99_ms
    if target.no_errors:
        met = met and v["errors"] == 0
    return {"target": target.text, "measured": target.measured.format(**v),
            "met": met}


def scaling_target(rows, scenarios, connections):
    """No scenario falls below SCALING_FLOOR × its peak rate at a higher
    connection count."""
    bad = []
    for s in scenarios:
        rs = sorted([r for r in rows if r["scenario"] == s],
                    key=lambda r: r["connections"])
        if len(rs) < 2:
            continue
        peak_i = max(range(len(rs)), key=lambda i: rs[i]["rps"])
        for r in rs[peak_i + 1:]:
            if r["rps"] < SCALING_FLOOR * rs[peak_i]["rps"]:
                bad.append("%s c=%d %.0f < %g x peak %.0f (c=%d)" % (
                    s, r["connections"], r["rps"], SCALING_FLOOR,
                    rs[peak_i]["rps"], rs[peak_i]["connections"]))
    return {"target": "scaling %s: no drop > %d%% from peak" % (
                "c=" + ",".join(map(str, connections)),
                round(100 * (1 - SCALING_FLOOR))),
            "measured": "; ".join(bad) if bad else "no collapse",
            "met": not bad}


def memory_target(rss):
    """The service's RSS at start, after the load, after each scenario and
    after the idle wait (information, no verdict)."""
    after = [v["after_kb"] for v in rss.values()
             if isinstance(v, dict) and v.get("after_kb")]
    return {"target": "memory bounded (RSS sampled around each scenario)",
            "measured": "start %s MiB, after load %s MiB, max after a scenario "
                        "%s MiB, end %s MiB%s" % (
                            fmt_mib(rss.get("start")),
                            fmt_mib(rss.get("after_load")),
                            fmt_mib(max(after or [0])),
                            fmt_mib(rss.get("end")),
                            ", after %.0f s idle %s MiB" % (
                                rss["idle_wait_s"], fmt_mib(rss["after_idle"]))
                            if rss.get("after_idle") else ""),
            "met": None}


def delivery_target(rows):
    """Every committed create of a hub slice reached every subscription
    (within --hub-drain-timeout); None when no hub scenario ran."""
    hub_rows = [r for r in rows if r.get("hub")]
    if not hub_rows:
        return None
    short = ["%s c=%d: %d missing" % (r["scenario"], r["connections"],
                                      r["events_missing"])
             for r in hub_rows if r["events_missing"]]
    return {"target": "hub: every committed create's event reaches every "
                      "subscription",
            "measured": "; ".join(short) if short else
                        "all delivered (%d slices)" % len(hub_rows),
            "met": not short}


def events_info(rows, scenario, connections=64):
    """events-N at the connection count nearest 64: events/s and delay
    (information, no verdict)."""
    row = nearest_row(rows, scenario, connections)
    if not row or not row.get("hub"):
        return None
    h = row["hub"]
    return {"target": "%s: event throughput and delay (%d subscription%s)" % (
                scenario, h["subscriptions"],
                "" if h["subscriptions"] == 1 else "s"),
            "measured": "c=%d: %s events/s (%.0f creates/s), delay from "
                        "eventTime p50 %.1f ms, p99 %.1f ms" % (
                            row["connections"],
                            "%.0f" % h["events_per_s"]
                            if h["events_per_s"] else "-",
                            row["rps"], h["delay_ms"]["p50"],
                            h["delay_ms"]["p99"]),
            "met": None}


def evaluate(rows, openloop, scenarios, connections, rss=None):
    """Every verdict in report order: the TARGETS whose scenario ran,
    scaling, event delivery and throughput when a hub scenario ran, and
    memory when the service's pid was known (rss given)."""
    out = []
    for t in TARGETS:
        row = nearest_row(rows, t.scenario, t.connections)
        if row:
            out.append(judge(t, row, rows, openloop))
    out.append(scaling_target(rows, scenarios, connections))
    for extra in [delivery_target(rows)] + [
            events_info(rows, s) for s in ("events-1", "events-10")]:
        if extra:
            out.append(extra)
    if rss is not None:
        out.append(memory_target(rss))
    return out
