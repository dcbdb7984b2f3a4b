"""rows.py: slices of a recorded run, and made-up slices for the medians."""

import unittest

from tmfbench.rows import build_rows

from . import load_hub_results, load_results


def made_slice(target, rps, p99=1000, non2xx=0, socket_errors=0, stalled=0,
               note=None, pair_ratios=None, cpu=10.0, scenario="get", conns=64):
    s = {"scenario": scenario, "connections": conns, "target": target,
         "rps": rps, "requests": int(rps), "non2xx": non2xx,
         "socket_errors": socket_errors, "stalled": stalled,
         "statuses": [{"404": non2xx}] if non2xx else [],
         "latency_us": {"p50": p99 // 2, "p90": p99, "p99": p99, "p999": p99},
         "server_cpu_us_per_req": cpu, "ctx_switches_per_req": 1.0,
         "other_cores_busy": 0.0}
    if note:
        s["note"] = note
    if pair_ratios is not None:
        s["pair_ratios"] = pair_ratios
    return s


class RecordedRunTest(unittest.TestCase):
    def setUp(self):
        self.res = load_results()
        o = self.res["options"]
        self.rows = build_rows(self.res["slices"], self.res["lmdb_ceiling"],
                               o["scenarios"], o["connections"])

    def test_same_rows_as_the_recorded_run(self):
        self.assertEqual(self.rows, self.res["rows"])

    def test_http_bound_ratio_is_the_pair_ratio(self):
        get16 = self.rows[1]
        self.assertEqual((get16["scenario"], get16["connections"]), ("get", 16))
        self.assertEqual(get16["ceiling_kind"], "http")
        self.assertAlmostEqual(get16["ceiling_rps"], 35529.863204843896)
        self.assertAlmostEqual(get16["ratio"], 32496.006251514656 / 35529.863204843896)

    def test_storage_bound_ratio_uses_the_lmdb_run_before_the_slice(self):
        create16 = self.rows[3]
        self.assertEqual((create16["scenario"], create16["connections"]),
                         ("create", 16))
        self.assertEqual(create16["ceiling_kind"], "lmdb")
        self.assertEqual(create16["ceiling_rps"], 2053.0)
        self.assertAlmostEqual(create16["ratio"], 493.6885502079264 / 2053.0)
        self.assertAlmostEqual(create16["x_batch1"], 493.6885502079264 / 133.0)


class MadeUpSlicesTest(unittest.TestCase):
    def test_median_slice_and_summed_errors(self):
        slices = [made_slice("ceiling", 1000, p99=500),
                  made_slice("ceiling", 3000, p99=700),
                  made_slice("ceiling", 2000, p99=600),
                  made_slice("service", 300, p99=9000, non2xx=2),
                  made_slice("service", 500, p99=3000, stalled=1, note="b"),
                  made_slice("service", 400, p99=4000, socket_errors=3,
                             note="a", cpu=25.0)]
        (row,) = build_rows(slices, [], ["get"], [64])
        self.assertEqual(row["rps"], 400)
        self.assertEqual(row["latency_us"]["p99"], 4000)
        self.assertEqual(row["cpu_us_per_req"], 25.0)
        self.assertEqual(row["non2xx"], 2)
        self.assertEqual(row["socket_errors"], 4)
        self.assertEqual(row["statuses"], [{"404": 2}])
        self.assertEqual(row["note"], "a; b")
        self.assertEqual(row["ceiling_rps"], 2000)
        self.assertEqual(row["ceiling_p99_us"], 600)

    def test_ratio_range_over_pairs(self):
        slices = [made_slice("ceiling", 1000),
                  made_slice("service", 450, pair_ratios=[0.3, 0.5, 0.45])]
        (row,) = build_rows(slices, [], ["get"], [64])
        self.assertEqual((row["ratio"], row["ratio_min"], row["ratio_max"]),
                         (0.45, 0.3, 0.5))

    def test_without_lmdb_ceiling_no_ratio(self):
        slices = [made_slice("service", 500, scenario="create")]
        (row,) = build_rows(slices, [], ["create"], [64])
        self.assertIsNone(row["ceiling_rps"])
        self.assertIsNone(row["ratio"])
        self.assertIsNone(row["x_batch1"])

    def test_points_without_service_slice_are_left_out(self):
        slices = [made_slice("ceiling", 1000, conns=16),
                  made_slice("service", 500, conns=64)]
        rows = build_rows(slices, [], ["get", "mixed"], [16, 64])
        self.assertEqual([(r["scenario"], r["connections"]) for r in rows],
                         [("get", 64)])


class RecordedHubRunTest(unittest.TestCase):
    def setUp(self):
        self.res = load_hub_results()
        o = self.res["options"]
        self.rows = build_rows(self.res["slices"], self.res["lmdb_ceiling"],
                               o["scenarios"], o["connections"])
        self.by = {(r["scenario"], r["connections"]): r for r in self.rows}

    def test_same_rows_as_the_recorded_run(self):
        self.assertEqual(self.rows, self.res["rows"])

    def test_create_hub1_against_its_baseline(self):
        r = self.by[("create-hub1", 64)]
        self.assertEqual(r["ceiling_kind"], "baseline")
        self.assertAlmostEqual(r["rps"], 978.419554981789)
        self.assertAlmostEqual(r["ceiling_rps"], 1480.7633524508205)
        self.assertAlmostEqual(r["ratio"], 978.419554981789 / 1480.7633524508205)
        self.assertEqual((r["baseline_store_rows"], r["store_rows"]),
                         ([38870], [43507]))
        self.assertEqual((r["baseline_created"], r["created"]), (4637, 3041))
        self.assertAlmostEqual(r["cpu_ratio"], 107.82833728703903 / 194.01512660309112)
        self.assertEqual(r["hub"]["events"], 3041)
        self.assertEqual(r["events_missing"], 0)

    def test_events_rows_have_no_ceiling(self):
        r = self.by[("events-10", 64)]
        self.assertEqual((r["ceiling_kind"], r["ceiling_rps"], r["ratio"]),
                         ("events", None, None))
        self.assertEqual((r["hub"]["subscriptions"], r["hub"]["events"]),
                         (10, 27400))
        self.assertAlmostEqual(r["hub"]["events_per_s"], 3705.0213186188107)

    def test_plain_create_keeps_its_lmdb_ceiling(self):
        self.assertEqual(self.by[("create", 64)]["ceiling_kind"], "lmdb")


def hub_slice(target, rps, events=100, expected=100, **kw):
    s = made_slice(target, rps, scenario="create-hub1", **kw)
    s.update(store_rows=1000, created=int(rps), cpu_us_per_create=50.0,
             threads=[])
    if target == "service":
        s["hub"] = {"events": events, "expected": expected}
    return s


class MadeUpHubSlicesTest(unittest.TestCase):
    def test_baseline_errors_count_as_the_service_s(self):
        slices = [hub_slice("baseline", 1000, non2xx=2, stalled=1),
                  hub_slice("service", 800, socket_errors=1,
                            pair_ratios=[0.8])]
        (row,) = build_rows(slices, [], ["create-hub1"], [64])
        self.assertEqual((row["non2xx"], row["socket_errors"]), (2, 2))
        self.assertEqual(row["statuses"], [{"404": 2}])
        self.assertEqual(row["ratio"], 0.8)

    def test_missing_events_summed_over_slices(self):
        slices = [hub_slice("baseline", 1000),
                  hub_slice("service", 800, events=90, pair_ratios=[0.8, 0.7]),
                  hub_slice("service", 700, events=100, expected=103,
                            pair_ratios=[0.8, 0.7])]
        (row,) = build_rows(slices, [], ["create-hub1"], [64])
        self.assertEqual(row["events_missing"], 13)
        self.assertEqual((row["ratio_min"], row["ratio_max"]), (0.7, 0.8))

    def test_no_cpu_ratio_without_cpu_figures(self):
        base = hub_slice("baseline", 1000)
        base["cpu_us_per_create"] = None
        (row,) = build_rows([base, hub_slice("service", 800, pair_ratios=[0.8])],
                            [], ["create-hub1"], [64])
        self.assertIsNone(row["cpu_ratio"])


if __name__ == "__main__":
    unittest.main()
