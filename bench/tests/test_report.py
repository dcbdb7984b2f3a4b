"""report.py: report.md rendered from the results.json of a recorded run."""

import copy
import os
import tempfile
import unittest

from tmfbench.perf import parse_top
from tmfbench.report import render_report, write_report

from . import load_hub_results, load_results, read_data


def render(res, errors=0, ceil_errors=0, chart="/r/chart.png"):
    return render_report(res, res["rows"], res["targets"], errors, ceil_errors,
                         chart)


class RecordedReportTest(unittest.TestCase):
    def setUp(self):
        self.res = load_results()
        self.text = render(self.res)
        self.lines = self.text.splitlines()

    def test_header(self):
        self.assertEqual(self.lines[0], "# TMF629 load benchmark report")
        self.assertIn("- Scenarios get,create,delete,mixed; connections 1,16; "
                      "1.0 s per slice; 1 ceiling/service pair(s) per point; "
                      "500 customers loaded (1117 creates/s while loading)",
                      self.lines)
        self.assertIn("- Pinning: servers on cpu 0, wrk on cpu 1", self.lines)
        self.assertNotIn("THIS RUN HAD ERRORS", self.text)

    def test_summary_at_the_connection_count_nearest_64(self):
        self.assertIn("| get | 16 | 32496 | 0.91 | HTTP 35530/s | 4.39 | 0 |",
                      self.lines)
        self.assertIn("| create | 16 | 494 | 0.24 | LMDB batch 16: 2053/s "
                      "| 44.07 | 0 |", self.lines)

    def test_result_rows(self):
        self.assertIn("| get | 1 | 1190 | 11194 (HTTP) | 0.11 | 0.14 | 3.94 | "
                      "4.17 | 5.23 | 0 | 0 | 91.7 | 3.0 | 1.76 |", self.lines)
        self.assertIn("| create | 16 | 494 | 2053 (LMDB b16) | 0.24; 3.7× b1 | "
                      "27.90 | 43.91 | 44.07 | 45.87 | 0 | 0 | 121.0 | 0.9 | "
                      "1.93 |", self.lines)
        self.assertIn("Note: mixed c=16: other processes used 0.56 cores "
                      "during the pair", self.lines)

    def test_open_loop_rows(self):
        self.assertIn("| 16 | 16248 | 50 % | 16179 | 3.08 | 8.29 | 12.29 | "
                      "15.86 | 16.64 | 6.99 | 0 | 255 |", self.lines)

    def test_ceilings(self):
        self.assertIn("Method check: a second, identical `ceiling_http` measured "
                      "exactly like the service (`get`, c=16, ABBA pairs) gives "
                      "a ratio of **1.273** (pairs: 1.273); the distance from "
                      "1.000 is the resolution of these ratios.", self.lines)
        self.assertIn("10 ceiling/service pair(s) were repeated because other "
                      "processes used more than 0.30 cores during them.",
                      self.lines)
        self.assertIn("HTTP ceiling CPU per request (median over its slices): "
                      "c=1 39.0 µs, c=16 12.8 µs.", self.lines)
        self.assertIn("| 16 | delete c=16 | 11592 | 2043 | 128 | 7.93 | 8.07 |",
                      self.lines)

    def test_target_verdicts(self):
        self.assertIn("| create: >= 0.5 x raw LMDB batched at c=64 | c=16: "
                      "494/s = 0.24 x LMDB batch 16 (2053 puts/s) | **MISSED** |",
                      self.lines)
        self.assertIn("| mixed: >= 0.4 x HTTP ceiling (c=64), no errors | c=16: "
                      "0.45 x ceiling, 0 errors in all mixed runs | met |",
                      self.lines)
        self.assertTrue(any(line.startswith("| memory bounded")
                            and line.endswith("| info |") for line in self.lines))

    def test_memory(self):
        self.assertIn("| delete | 12.5 | 59.9 | 4.3 | 35.6 | 24.2 |", self.lines)
        self.assertIn("Start 6.9 MiB, after load 10.3 MiB, end 87.3 MiB.",
                      self.lines)

    def test_chart_only_when_drawn(self):
        self.assertIn("![throughput and p99 vs connections](chart.png)",
                      self.lines)
        self.assertNotIn("## Chart", render(self.res, chart=None))

    def test_write_report_writes_the_rendered_text(self):
        with tempfile.TemporaryDirectory() as d:
            write_report(d, self.res, self.res["rows"], self.res["targets"], 0,
                         0, "/r/chart.png")
            with open(os.path.join(d, "report.md")) as f:
                self.assertEqual(f.read(), self.text)


class ErrorsTest(unittest.TestCase):
    def test_banner_and_bold_counts(self):
        res = copy.deepcopy(load_results())
        get16 = res["rows"][1]
        get16["non2xx"] = 3
        get16["statuses"] = [{"404": 3}]
        lines = render(res, errors=3, ceil_errors=1).splitlines()
        self.assertEqual(lines[2], "> **!!! THIS RUN HAD ERRORS: 3 failed "
                         "requests against the service, 1 against the ceiling. "
                         "Throughput of runs with errors is not comparable. !!!**")
        self.assertIn("| get | 16 | 32496 | 0.91 | HTTP 35530/s | 4.39 | **3** |",
                      lines)
        self.assertIn('Non-2xx statuses seen: get c=16 [{"404": 3}]', lines)


class OptionalSectionsTest(unittest.TestCase):
    def setUp(self):
        self.res = copy.deepcopy(load_results())

    def test_profile(self):
        self.res["profiles"] = [{
            "scenario": "get", "connections": 4, "data": "perf-get-c4.data",
            "threads": parse_top(read_data("perf_comm.txt"), 6),
            "dsos": parse_top(read_data("perf_dso.txt"), 2),
            "symbols": parse_top(read_data("perf_sym.txt"), 2) + [(0.5, "a|b")]}]
        lines = render(self.res).splitlines()
        self.assertIn("**get, c=4** (`perf-get-c4.data`): threads tmf629d 75%, "
                      "caf.multiplexer 25%; libraries [kernel.kallsyms] 64%, "
                      "tmf629d 13%", lines)
        self.assertIn("| 26.7 | `[k] finish_task_switch.isra.0` |", lines)
        self.assertIn("| 0.5 | `a\\|b` |", lines)

    def test_micro_benchmarks_skip_aggregates(self):
        self.res["micro"] = {"benchmarks": [
            {"name": "BM_parse", "run_type": "iteration", "time_unit": "ns",
             "real_time": 6400.0},
            {"name": "BM_parse_mean", "run_type": "aggregate",
             "time_unit": "ns", "real_time": 6400.0},
            {"name": "BM_patch", "time_unit": "us", "real_time": 2.5}]}
        text = render(self.res)
        self.assertIn("| BM_parse | 6.40 µs | 156,250 |", text)
        self.assertIn("| BM_patch | 2.50 µs | 400,000 |", text)
        self.assertNotIn("BM_parse_mean", text)

    def test_idle_memory_and_notes(self):
        self.res["rss_kb"].update(after_idle=51200, idle_wait_s=75.0,
                                  after_idle_detail={"VmRSS": 51200,
                                                     "RssAnon": 10240,
                                                     "RssFile": 40960})
        self.res["notes"] = ["openloop not built; open-loop probe skipped"]
        lines = render(self.res).splitlines()
        self.assertIn("| idle 75 s | | 50.0 | | 10.0 | 40.0 |", lines)
        self.assertIn("Start 6.9 MiB, after load 10.3 MiB, end 87.3 MiB, "
                      "after 75 s idle 50.0 MiB.", lines)
        self.assertEqual(lines[-1],
                         "Note: openloop not built; open-loop probe skipped")


class HubReportTest(unittest.TestCase):
    """The event hub section of a recorded hub run."""

    def setUp(self):
        self.res = load_hub_results()
        self.lines = render(self.res).splitlines()

    def test_write_path_table(self):
        self.assertIn("| 64 | 1481 | 978 | 0.66 | 38870 / 43507 | "
                      "107.8 / 194.0 | 0.56 |", self.lines)
        self.assertIn("| 16 | 466 | 470 | 1.01 | 19898 / 21335 | "
                      "153.1 / 274.2 | 0.56 |", self.lines)

    def test_events_table(self):
        self.assertIn("| events-10 | 10 | 64 | 867 | 27400 / 27400 | 3705 | "
                      "4.32 | 2467.0 | 4055.0 | 4546.3 | 4650.7 | 20.4 |",
                      self.lines)
        self.assertIn("| create-hub1 | 1 | 64 | 978 | 3041 / 3041 | 1180 | "
                      "0.03 | 48.7 | 85.1 | 499.8 | 511.5 | 26.3 |", self.lines)

    def test_threads_table_names_the_writer_and_the_curl_thread(self):
        self.assertIn("| caf.multiplexer (9222) | notifier HTTP client "
                      "(libcurl) | 0.0 | 49.3 | +49.3 |", self.lines)
        self.assertIn("| caf.actor (9216) | store writer (busiest detached "
                      "actor) | 41.0 | 46.0 | +5.1 |", self.lines)
        self.assertIn("| all threads | | 107.8 | 194.0 | +86.2 |", self.lines)

    def test_summary_and_result_rows(self):
        self.assertIn("| create-hub1 | 64 | 978 | 0.66 | no subscription: "
                      "1481 creates/s | 499.95 | 0 |", self.lines)
        self.assertIn("| events-10 | 64 | 867 | - | events: 3705/s to 10 "
                      "subscription(s) | 428.67 | 0 |", self.lines)
        self.assertIn("| create-hub1 | 64 | 978 | 1481 (no sub) | 0.66 | "
                      "52.32 | 233.69 | 499.95 | 500.12 | 0 | 0 | 194.8 | 0.5 | "
                      "1.75 |", self.lines)
        self.assertIn("| events-1 | 64 | 1306 | - | - | 43.37 | 58.45 | 167.21 "
                      "| 167.53 | 0 | 0 | 192.1 | 0.4 | 1.69 |", self.lines)

    def test_method_names_the_sink_and_its_cpu(self):
        text = "\n".join(self.lines)
        self.assertIn("(query `eventType=CustomerCreateEvent`)", text)
        self.assertIn("pinned with wrk (cpu 1)", text)

    def test_missing_events_in_bold(self):
        res = copy.deepcopy(self.res)
        row = [r for r in res["rows"] if r["scenario"] == "events-1"][0]
        row["hub"]["events"] = 1200
        row["hub"]["complete"] = False
        self.assertIn("| events-1 | 1 | 16 | 401 | **1200 / 1232** | 406 | "
                      "0.02 | 29.2 | 51.9 | 217.7 | 217.8 | 24.4 |",
                      render(res).splitlines())

    def test_no_hub_section_without_hub_scenarios(self):
        self.assertNotIn("## Event hub", render(load_results()))


if __name__ == "__main__":
    unittest.main()
