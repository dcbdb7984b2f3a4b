"""wrk.py on recorded wrk output of bench/lua/tmf629.lua."""

import unittest

from tmfbench import wrk
from tmfbench.common import SCRIPT
from tmfbench.procfs import Snapshot

from . import read_data


def slice_of(name, scenario, conns):
    return wrk.add_slice_figures(wrk.parse_summary(read_data(name)),
                                 scenario, conns)


class ParseSummaryTest(unittest.TestCase):
    def test_reads_the_benchjson_line_among_wrk_text(self):
        r = wrk.parse_summary(read_data("wrk_get_404.txt"))
        self.assertEqual(r["requests"], 27442)
        self.assertEqual(r["duration_us"], 2008232)
        self.assertEqual(r["non2xx"], 7685)
        self.assertEqual(r["statuses"], [{"404": 7600}])
        self.assertEqual(r["latency_us"]["p50"], 180)
        self.assertEqual(r["latency_us"]["p99"], 7690)
        self.assertEqual(r["latency_us"]["p999"], 12144)

    def test_load_run_has_no_summary(self):
        # the load scenario ends wrk itself before done() prints BENCHJSON
        self.assertIsNone(wrk.parse_summary(read_data("wrk_load.txt")))


class SliceFiguresTest(unittest.TestCase):
    def test_rate_is_requests_over_wrk_duration(self):
        r = slice_of("wrk_get_404.txt", "get", 4)
        self.assertAlmostEqual(r["seconds"], 2.008232)
        self.assertAlmostEqual(r["rps"], 27442 / 2.008232)

    def test_non2xx_count_as_errors(self):
        r = slice_of("wrk_get_404.txt", "get", 4)
        self.assertEqual(r["socket_errors"], 0)
        self.assertEqual(r["stalled"], 0)
        self.assertEqual(r["error_total"], 7685)

    def test_socket_errors_and_connections_without_answer(self):
        # a server that closes every connection: read errors, 0 answers
        r = slice_of("wrk_read_errors.txt", "get", 2)
        self.assertEqual(r["socket_errors"], 17028)
        self.assertEqual(r["stalled"], 2)
        self.assertEqual(r["error_total"], 17030)
        self.assertEqual(r["rps"], 0.0)

    def test_every_kind_of_socket_error_counts(self):
        r = wrk.parse_summary(read_data("wrk_get_404.txt"))
        r["errors"].update(connect=1, read=2, write=4, timeout=8)
        self.assertEqual(wrk.add_slice_figures(r, "get", 4)["socket_errors"], 15)

    def test_server_that_never_answers_is_counted_as_stuck(self):
        # wrk reports no error at all when no request completes
        r = slice_of("wrk_stuck.txt", "get", 2)
        self.assertEqual(r["requests"], 0)
        self.assertEqual(r["socket_errors"], 0)
        self.assertEqual(r["error_total"], 2)

    def test_delete_pool_used_up_uses_the_active_time(self):
        r = slice_of("wrk_delete_early.txt", "delete", 4)
        self.assertAlmostEqual(r["seconds"], 0.399955)
        self.assertAlmostEqual(r["rps"], 63 / 0.399955)
        self.assertEqual(r["extra"], [{"consumed": 60}])

    def test_delete_is_never_stalled(self):
        r = wrk.add_slice_figures(wrk.parse_summary(read_data("wrk_stuck.txt")),
                                  "delete", 2)
        self.assertEqual(r["stalled"], 0)


class ServerFiguresTest(unittest.TestCase):
    def test_cpu_and_context_switches_per_request(self):
        r = {"requests": 1000}
        wrk.add_server_figures(r, Snapshot(10.0, 8000, 500, 100.0),
                               Snapshot(10.5, 9000, 2500, 101.8),
                               client_cpu_s=0.9, wall_s=1.0)
        self.assertAlmostEqual(r["server_cpu_s"], 0.5)
        self.assertAlmostEqual(r["server_cpu_us_per_req"], 500.0)
        self.assertAlmostEqual(r["ctx_switches_per_req"], 2.0)
        # 1.8 busy - 0.9 wrk - 0.5 server = 0.4 cores of other load
        self.assertAlmostEqual(r["other_cores_busy"], 0.4)
        self.assertEqual((r["rss_kb_before"], r["rss_kb_after"]), (8000, 9000))

    def test_without_a_server_pid_only_other_load(self):
        r = {"requests": 1000}
        wrk.add_server_figures(r, Snapshot(None, None, None, 100.0),
                               Snapshot(None, None, None, 102.0),
                               client_cpu_s=1.0, wall_s=2.0)
        self.assertIsNone(r["server_cpu_us_per_req"])
        self.assertIsNone(r["ctx_switches_per_req"])
        self.assertAlmostEqual(r["other_cores_busy"], 0.5)


class CommandTest(unittest.TestCase):
    def test_one_thread_whole_seconds_script_arguments(self):
        cmd = wrk.command("http://h/api", "get", 64, 2.6, 5, 123,
                          ["ids=/tmp/ids"])
        self.assertEqual(cmd, ["wrk", "-t1", "-c64", "-d3s", "--timeout", "5s",
                               "-s", SCRIPT, "http://h/api", "--",
                               "scenario=get", "seed=123", "ids=/tmp/ids"])

    def test_at_least_one_second(self):
        self.assertIn("-d1s", wrk.command("u", "get", 1, 0.2, 5, 1))


class ProgressLineTest(unittest.TestCase):
    def setUp(self):
        self.r = slice_of("wrk_get_404.txt", "get", 4)
        self.r.update(connections=4, scenario="get", target="service")

    def test_figures(self):
        self.r["other_cores_busy"] = 0.1
        self.assertEqual(wrk.progress_line(3, 10, self.r),
                         "[  3/10] get         c=4    service       13665 req/s"
                         "  p50    0.18 ms  p99    7.69 ms  errors 7685")

    def test_flags_other_load_above_a_third_of_a_core(self):
        self.r["other_cores_busy"] = 1.15
        self.assertTrue(wrk.progress_line(1, 1, self.r).endswith(
            "  (other load 1.15 cores)"))


if __name__ == "__main__":
    unittest.main()
