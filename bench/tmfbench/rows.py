"""From slices to rows: one row per (scenario, connections) with the
service's median slice, the error counts of all its slices, and the ratio
to its ceiling (the median of the per-pair ratios for HTTP-bound
scenarios and for create-hub1, whose reference is the same creates without
a subscription; the LMDB rate batched at the connection count and at batch
1 for storage-bound ones; none for events-N, whose rows carry the event
sink's figures)."""

import statistics

from .ceilings import lmdb_rate
from .scenarios import CEILING, HTTP_BOUND


def build_rows(slices, lmdb, scenarios, connections):
    """Rows in scenario order, then connection order; points without a
    service slice are left out."""
    rows = []
    for s in scenarios:
        for c in connections:
            svc = [r for r in slices if r["scenario"] == s
                   and r["connections"] == c and r["target"] == "service"]
            if not svc:
                continue
            ceil = [r for r in slices if r["scenario"] == s
                    and r["connections"] == c and r["target"] == "ceiling"]
            med = sorted(svc, key=lambda r: r["rps"])[len(svc) // 2]
            row = _service_row(s, c, svc, med)
            if s in HTTP_BOUND:
                _add_http_ceiling(row, med, ceil)
            elif CEILING.get(s) == "baseline":
                base = [r for r in slices if r["scenario"] == s
                        and r["connections"] == c and r["target"] == "baseline"]
                _add_baseline(row, med, base)
                _add_hub(row, med, svc)
                # the ratio a saturated core would give: CPU per create
                # without / with (the steadiest figure on a shared machine)
                b, h = row["baseline_cpu_us_per_create"], row["cpu_us_per_create"]
                row["cpu_ratio"] = b / h if b and h else None
            elif CEILING.get(s) == "events":
                row.update(ceiling_kind="events", ceiling_rps=None, ratio=None)
                _add_hub(row, med, svc)
            else:
                _add_lmdb_ceiling(row, med, lmdb)
            rows.append(row)
    return rows


def _service_row(s, c, svc, med):
    """The service's figures: med's rate, latency and CPU; errors summed."""
    return {"scenario": s, "connections": c, "rps": med["rps"],
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


def _add_http_ceiling(row, med, ceil):
    """The ceiling_http slices of this point and the per-pair ratios."""
    row["ceiling_kind"] = "http"
    row["ceiling_rps"] = statistics.median(r["rps"] for r in ceil) if ceil else None
    row["ceiling_p99_us"] = statistics.median(
        r["latency_us"]["p99"] for r in ceil) if ceil else None
    pr = med.get("pair_ratios") or []
    row["ratio"] = statistics.median(pr) if pr else None
    row["ratio_min"] = min(pr) if pr else None
    row["ratio_max"] = max(pr) if pr else None
    cpu = [r["server_cpu_us_per_req"] for r in ceil if r["server_cpu_us_per_req"]]
    row["ceiling_cpu_us_per_req"] = statistics.median(cpu) if cpu else None


def _add_lmdb_ceiling(row, med, lmdb):
    """Raw LMDB batched at the connection count, and at batch 1."""
    s, c = row["scenario"], row["connections"]
    lr = lmdb_rate(lmdb, c, s, c)
    l1 = lmdb_rate(lmdb, 1, s, c)
    row["ceiling_kind"] = "lmdb"
    row["ceiling_rps"] = lr
    row["ratio"] = med["rps"] / lr if lr else None
    row["lmdb_batch1_rps"] = l1
    row["x_batch1"] = med["rps"] / l1 if l1 else None


def _median_slice(slices):
    return sorted(slices, key=lambda r: r["rps"])[len(slices) // 2]


def _add_baseline(row, med, base):
    """The same creates without a subscription: their median rate, the
    per-pair ratios, the store sizes each side met, CPU per create, and
    the baseline slices' errors (they are the service's too)."""
    row["ceiling_kind"] = "baseline"
    row["ceiling_rps"] = statistics.median(r["rps"] for r in base) if base else None
    pr = med.get("pair_ratios") or []
    row["ratio"] = statistics.median(pr) if pr else None
    row["ratio_min"] = min(pr) if pr else None
    row["ratio_max"] = max(pr) if pr else None
    row["baseline_store_rows"] = [r.get("store_rows") for r in base]
    row["non2xx"] += sum(r["non2xx"] for r in base)
    row["socket_errors"] += sum(r["socket_errors"] + r.get("stalled", 0)
                                for r in base)
    row["statuses"] += [x for r in base for x in r["statuses"]]
    mb = _median_slice(base) if base else None
    row["baseline_cpu_us_per_create"] = mb.get("cpu_us_per_create") if mb else None
    row["baseline_created"] = mb.get("created") if mb else None
    row["baseline_threads"] = mb.get("threads") if mb else None


def _add_hub(row, med, svc):
    """The event sink's figures of the median slice, the events missing
    over all slices, and the service's CPU per create (slice + drain)."""
    row["store_rows"] = [r.get("store_rows") for r in svc]
    row["created"] = med.get("created")
    row["cpu_us_per_create"] = med.get("cpu_us_per_create")
    row["threads"] = med.get("threads")
    row["hub"] = med.get("hub")
    row["events_missing"] = sum(max(0, r["hub"]["expected"] - r["hub"]["events"])
                                for r in svc if r.get("hub"))
