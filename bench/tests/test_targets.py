"""targets.py: the target table and its verdicts."""

import unittest

from tmfbench import targets
from tmfbench.scenarios import CEILING

from . import load_hub_results, load_results


def made_row(scenario, conns, rps, ratio, p99_us=1000, non2xx=0,
             socket_errors=0, **more):
    r = {"scenario": scenario, "connections": conns, "rps": rps,
         "ratio": ratio, "ceiling_rps": rps / ratio if ratio else None,
         "latency_us": {"p99": p99_us}, "non2xx": non2xx,
         "socket_errors": socket_errors}
    r.update(more)
    return r


def verdicts(rows, openloop=(), conns=(1, 64)):
    got = targets.evaluate(rows, list(openloop), ["get", "create", "mixed"],
                           list(conns))
    return {t["target"]: t for t in got}


GET = "get: >= 0.5 x HTTP ceiling, p99 < 2 ms at c=64"
CREATE = "create: >= 0.5 x raw LMDB batched at c=64"
CREATE_B1 = "create: >= 5 x one commit per write"
MIXED = "mixed: >= 0.4 x HTTP ceiling (c=64), no errors"
HUB1 = ("create-hub1: creates/s with one matching hub subscription >= 0.8 x "
        "without (c=64, same run, same store size)")
DELIVERY = "hub: every committed create's event reaches every subscription"


class TableTest(unittest.TestCase):
    def test_every_target_judges_a_figure_its_scenario_has(self):
        for t in targets.TARGETS:
            kind = CEILING[t.scenario]
            allowed = {"ratio"} | ({"x_batch1"} if kind == "lmdb" else set())
            self.assertIn(t.measure, allowed, t.text)


class RecordedRunTest(unittest.TestCase):
    def test_same_verdicts_as_the_recorded_run(self):
        res = load_results()
        o = res["options"]
        got = targets.evaluate(res["rows"], res["openloop"], o["scenarios"],
                               o["connections"], rss=res["rss_kb"])
        self.assertEqual(got, res["targets"])


class RecordedHubRunTest(unittest.TestCase):
    def test_same_verdicts_as_the_recorded_run(self):
        res = load_hub_results()
        o = res["options"]
        got = targets.evaluate(res["rows"], res["openloop"], o["scenarios"],
                               o["connections"], rss=res["rss_kb"])
        self.assertEqual(got, res["targets"])

    def test_hub_verdicts(self):
        res = load_hub_results()
        got = {t["target"]: t for t in targets.evaluate(
            res["rows"], [], res["options"]["scenarios"], [16, 64])}
        self.assertEqual(got[HUB1]["measured"],
                         "c=64: 978/s with, 1481/s without: 0.66 x "
                         "(by CPU per create: 0.56 x)")
        self.assertFalse(got[HUB1]["met"])
        self.assertEqual(got[DELIVERY],
                         {"target": DELIVERY, "met": True,
                          "measured": "all delivered (6 slices)"})
        ev10 = got["events-10: event throughput and delay (10 subscriptions)"]
        self.assertIsNone(ev10["met"])
        self.assertEqual(ev10["measured"],
                         "c=64: 3705 events/s (867 creates/s), delay from "
                         "eventTime p50 2467.0 ms, p99 4546.3 ms")


def hub_row(ratio, scenario="create-hub1", conns=64, missing=0, subs=1):
    return made_row(scenario, conns, 8000 * ratio if ratio else 900, ratio,
                    cpu_ratio=0.5, events_missing=missing,
                    hub={"subscriptions": subs, "events_per_s": 900.4,
                         "delay_ms": {"p50": 10.04, "p99": 20.06}})


class HubTest(unittest.TestCase):
    def verdicts(self, rows):
        got = targets.evaluate(rows, [], ["create-hub1", "events-1"], [64])
        return {t["target"]: t for t in got}

    def test_met_at_0_8(self):
        t = self.verdicts([hub_row(0.8)])[HUB1]
        self.assertTrue(t["met"])
        self.assertEqual(t["measured"], "c=64: 6400/s with, 8000/s without: "
                         "0.80 x (by CPU per create: 0.50 x)")

    def test_missed_below_0_8(self):
        self.assertFalse(self.verdicts([hub_row(0.79)])[HUB1]["met"])

    def test_missing_events_miss_delivery(self):
        t = self.verdicts([hub_row(0.9, missing=3),
                           hub_row(None, "events-1", 16)])[DELIVERY]
        self.assertFalse(t["met"])
        self.assertEqual(t["measured"], "create-hub1 c=64: 3 missing")

    def test_events_info(self):
        t = self.verdicts([hub_row(None, "events-1", 16)])[
            "events-1: event throughput and delay (1 subscription)"]
        self.assertEqual(t["measured"], "c=16: 900 events/s (900 creates/s), "
                         "delay from eventTime p50 10.0 ms, p99 20.1 ms")

    def test_no_hub_verdicts_without_hub_rows(self):
        got = self.verdicts([made_row("get", 64, 50000, 0.5)])
        self.assertNotIn(DELIVERY, got)
        self.assertNotIn(HUB1, got)


class GetTest(unittest.TestCase):
    def test_met_at_the_thresholds(self):
        t = verdicts([made_row("get", 64, 50000, 0.5, p99_us=1999)])[GET]
        self.assertTrue(t["met"])
        self.assertEqual(t["measured"],
                         "c=64: 0.50 x ceiling, p99 2.00 ms (ceiling's p99 0.00 ms)")

    def test_missed_below_the_ratio(self):
        self.assertFalse(verdicts([made_row("get", 64, 49000, 0.49)])[GET]["met"])

    def test_missed_at_2_ms(self):
        t = verdicts([made_row("get", 64, 90000, 0.9, p99_us=2000)])[GET]
        self.assertFalse(t["met"])

    def test_judged_at_the_connection_count_nearest_64(self):
        rows = [made_row("get", 16, 90000, 0.9), made_row("get", 48, 10000, 0.1),
                made_row("get", 256, 90000, 0.9)]
        t = verdicts(rows, conns=(16, 48, 256))[GET]
        self.assertTrue(t["measured"].startswith("c=48: 0.10 x ceiling"))
        self.assertFalse(t["met"])

    def test_open_loop_figures_at_that_connection_count(self):
        ol = [{"connections": 64, "offered_rps": 40000.4,
               "latency_from_intended_us": {"p99": 1234}},
              {"connections": 16, "offered_rps": 1.0,
               "latency_from_intended_us": {"p99": 1}}]
        t = verdicts([made_row("get", 64, 80000, 0.8)], ol)[GET]
        self.assertTrue(t["measured"].endswith(
            "; open loop at 40000 req/s: p99 1.23 ms from intended send"))


class CreateTest(unittest.TestCase):
    def rows(self, ratio, x_batch1):
        return [made_row("create", 64, 20000, ratio, x_batch1=x_batch1,
                         lmdb_batch1_rps=20000 / x_batch1)]

    def test_both_met(self):
        v = verdicts(self.rows(0.5, 5.0))
        self.assertTrue(v[CREATE]["met"])
        self.assertTrue(v[CREATE_B1]["met"])
        self.assertEqual(v[CREATE]["measured"],
                         "c=64: 20000/s = 0.50 x LMDB batch 64 (40000 puts/s)")
        self.assertEqual(v[CREATE_B1]["measured"],
                         "5.0 x LMDB batch 1 (4000 commits/s)")

    def test_group_commit_missed(self):
        v = verdicts(self.rows(0.7, 4.9))
        self.assertTrue(v[CREATE]["met"])
        self.assertFalse(v[CREATE_B1]["met"])


class MixedTest(unittest.TestCase):
    def test_met(self):
        self.assertTrue(verdicts([made_row("mixed", 64, 40000, 0.4)])[MIXED]["met"])

    def test_an_error_at_any_connection_count_misses_it(self):
        rows = [made_row("mixed", 1, 4000, 0.4, socket_errors=1),
                made_row("mixed", 64, 40000, 0.45)]
        t = verdicts(rows)[MIXED]
        self.assertFalse(t["met"])
        self.assertEqual(t["measured"],
                         "c=64: 0.45 x ceiling, 1 errors in all mixed runs")


class ScalingTest(unittest.TestCase):
    def test_drop_after_the_peak(self):
        rows = [made_row("get", 1, 1000, 0.5), made_row("get", 64, 10000, 0.5),
                made_row("get", 256, 7999, 0.5)]
        t = verdicts(rows, conns=(1, 64, 256))["scaling c=1,64,256: no drop > 20% from peak"]
        self.assertFalse(t["met"])
        self.assertEqual(t["measured"], "get c=256 7999 < 0.8 x peak 10000 (c=64)")

    def test_rising_or_small_drop_is_no_collapse(self):
        rows = [made_row("get", 1, 1000, 0.5), made_row("get", 64, 10000, 0.5),
                made_row("get", 256, 8000, 0.5)]
        t = verdicts(rows, conns=(1, 64, 256))["scaling c=1,64,256: no drop > 20% from peak"]
        self.assertTrue(t["met"])
        self.assertEqual(t["measured"], "no collapse")


class OtherTargetsTest(unittest.TestCase):
    def test_scenarios_not_run_have_no_verdict(self):
        v = verdicts([made_row("get", 64, 50000, 0.5)])
        self.assertNotIn(CREATE, v)
        self.assertNotIn(MIXED, v)

    def test_memory_is_information_only(self):
        rss = {"start": 7168, "after_load": 10240, "end": 20480,
               "get": {"before_kb": 10240, "after_kb": 30720},
               "after_idle": 9216, "idle_wait_s": 75}
        (t,) = [t for t in targets.evaluate([], [], [], [1], rss=rss)
                if t["target"].startswith("memory")]
        self.assertIsNone(t["met"])
        self.assertEqual(t["measured"],
                         "start 7.0 MiB, after load 10.0 MiB, max after a scenario "
                         "30.0 MiB, end 20.0 MiB, after 75 s idle 9.0 MiB")

    def test_no_memory_verdict_without_the_service_pid(self):
        got = targets.evaluate([], [], [], [1])
        self.assertFalse(any(t["target"].startswith("memory") for t in got))


if __name__ == "__main__":
    unittest.main()
