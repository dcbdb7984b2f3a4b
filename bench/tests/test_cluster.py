"""cluster.py: the output of scripts/cluster.sh (recorded in
cluster_up.txt), the connection split, combining wrk processes that ran
side by side, the nodes' CPU per request, the pair ratios and the report
section; and the --cluster option."""

import contextlib
import io
import os
import subprocess
import tempfile
import unittest
from unittest import mock

from tmfbench import cli, cluster, wrk

from . import read_data


def part(requests, rps, p50, p99, non2xx=0, seconds=3.0, statuses=None):
    """A wrk slice as add_slice_figures leaves it."""
    return {"requests": requests, "seconds": seconds, "rps": rps,
            "non2xx": non2xx, "socket_errors": 0, "stalled": 0,
            "error_total": non2xx, "statuses": statuses or [],
            "latency_us": {"p50": p50, "p90": p50 * 2, "p99": p99,
                           "p999": p99 * 2}}


def measured(scenario, conns, pair, rps, cpu_us, p50, p99, errors=0):
    r = part(int(rps * 3), rps, p50, p99, non2xx=errors)
    r.update(scenario=scenario, connections=conns, pair=pair,
             server_cpu_us_per_req=cpu_us)
    return r


class NodeLinesTest(unittest.TestCase):
    def test_recorded_output_of_cluster_sh_up(self):
        nodes = cluster.parse_nodes(read_data("cluster_up.txt"))
        self.assertEqual([n["name"] for n in nodes], ["n1", "n2", "n3"])
        self.assertTrue(all(n["pid"] > 1 for n in nodes))
        self.assertTrue(all(n["url"].startswith("http://127.0.0.1:")
                            and n["url"].endswith(
                                "/tmf-api/customerManagement/v4")
                            for n in nodes))

    def test_other_lines_are_ignored(self):
        text = ("cluster.sh: the nodes did not link within 30 s\n"
                "node n1 notapid http://x\n"
                "node n2 12 http://127.0.0.1:9/tmf-api/customerManagement/v4/\n")
        self.assertEqual(cluster.parse_nodes(text), [
            {"name": "n2", "pid": 12,
             "url": "http://127.0.0.1:9/tmf-api/customerManagement/v4"}])


class SplitTest(unittest.TestCase):
    def test_even_split_first_ones_get_the_rest(self):
        self.assertEqual(cluster.split_connections(64, 3), [22, 21, 21])
        self.assertEqual(cluster.split_connections(16, 3), [6, 5, 5])
        self.assertEqual(cluster.split_connections(3, 3), [1, 1, 1])
        self.assertEqual(sum(cluster.split_connections(256, 3)), 256)

    def test_fewer_connections_than_nodes_cannot_spread(self):
        self.assertIsNone(cluster.split_connections(1, 3))
        self.assertIsNone(cluster.split_connections(2, 3))


class WrapperTest(unittest.TestCase):
    def run_wrapper(self, cpus):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "w")
            with open(path, "w") as f:
                f.write(cluster.wrapper_script("/bin/echo", cpus))
            os.chmod(path, 0o755)
            return subprocess.run([path, "a b", "c"], capture_output=True,
                                  text=True, timeout=10)

    def test_passes_every_argument_through(self):
        self.assertEqual(self.run_wrapper(None).stdout, "a b c\n")

    def test_pins_with_taskset(self):
        text = cluster.wrapper_script("/x/tmf629d", "0")
        self.assertIn('exec taskset -c 0 "/x/tmf629d" "$@"', text)
        if os.path.exists("/usr/bin/taskset"):
            self.assertEqual(self.run_wrapper("0").stdout, "a b c\n")


class CombineTest(unittest.TestCase):
    def test_one_process_is_itself(self):
        r = wrk.add_slice_figures(wrk.parse_summary(read_data(
            "wrk_get_404.txt")), "get", 4)
        c = cluster.combine([r])
        self.assertEqual(c["requests"], 27442)
        self.assertEqual(c["latency_us"]["p99"], 7690)
        self.assertEqual(c["processes"], 1)

    def test_sums_rates_and_errors_and_bounds_p99(self):
        c = cluster.combine([
            part(300, 100.0, 1000, 5000, non2xx=2, statuses=[{"503": 2}]),
            part(100, 40.0, 3000, 9000, seconds=3.1)])
        self.assertEqual(c["requests"], 400)
        self.assertAlmostEqual(c["rps"], 140.0)
        self.assertEqual(c["non2xx"], 2)
        self.assertEqual(c["error_total"], 2)
        self.assertEqual(c["statuses"], [{"503": 2}])
        self.assertEqual(c["seconds"], 3.1)
        # p50: weighted by requests; p99: the largest part's
        self.assertAlmostEqual(c["latency_us"]["p50"], 1500.0)
        self.assertEqual(c["latency_us"]["p99"], 9000)
        self.assertEqual(c["latency_us"]["p999"], 18000)
        self.assertEqual(c["processes"], 2)


class CpuTest(unittest.TestCase):
    def test_cpu_of_all_nodes_per_request(self):
        r = part(1000, 333.0, 100, 200)
        cluster.add_cluster_cpu(r, {"n1": 10.0, "n2": 5.0, "n3": 1.0},
                                {"n1": 10.02, "n2": 5.01, "n3": 1.0},
                                client_cpu_s=0.5, busy_s=1.53, wall_s=3.0)
        self.assertAlmostEqual(r["server_cpu_us_per_req"], 30.0)
        self.assertAlmostEqual(r["node_cpu_us_per_req"]["n1"], 20.0)
        self.assertAlmostEqual(r["node_cpu_us_per_req"]["n2"], 10.0)
        self.assertAlmostEqual(r["node_cpu_us_per_req"]["n3"], 0.0)
        self.assertAlmostEqual(r["other_cores_busy"], 1.0 / 3.0)

    def test_a_node_gone_gives_no_total(self):
        r = part(1000, 333.0, 100, 200)
        cluster.add_cluster_cpu(r, {"n1": 1.0, "n2": 1.0}, {"n1": 1.5,
                                                             "n2": None},
                                0.0, 1.0, 1.0)
        self.assertIsNone(r["server_cpu_us_per_req"])
        self.assertIsNone(r["node_cpu_us_per_req"]["n2"])


class SummarizeTest(unittest.TestCase):
    def slices(self):
        return [
            # ABBA: pair 0 local first, pair 1 forwarded first
            measured("get-local", 16, 0, 10000, 20.0, 500, 1000),
            measured("get-forwarded", 16, 0, 5000, 50.0, 900, 3000),
            measured("get-forwarded", 16, 1, 6000, 44.0, 800, 2400),
            measured("get-local", 16, 1, 10000, 22.0, 480, 1200),
            measured("get-one", 16, 0, 8000, 30.0, 600, 2000, errors=1),
            measured("get-spread", 16, 0, 8800, 31.5, 580, 2200),
            # a pair cut short: not a ratio
            measured("create-one", 16, 0, 3000, 60.0, 4000, 9000),
        ]

    def test_ratios_are_medians_of_pair_ratios(self):
        rows = cluster.summarize(self.slices(), [1, 16])
        self.assertEqual([r["comparison"] for r in rows],
                         ["forwarding", "spreading reads"])
        fwd = rows[0]
        self.assertEqual((fwd["a"], fwd["b"], fwd["pairs"]),
                         ("get-local", "get-forwarded", 2))
        self.assertAlmostEqual(fwd["ratio_rps"], (0.5 + 0.6) / 2)
        self.assertAlmostEqual(fwd["ratio_cpu"], (2.5 + 2.0) / 2)
        self.assertEqual(fwd["ratio_cpu_range"], (2.0, 2.5))
        self.assertAlmostEqual(fwd["ratio_p99"], (3.0 + 2.0) / 2)
        # the median slices: the upper of two by req/s
        self.assertEqual(fwd["b_rps"], 6000)
        self.assertAlmostEqual(fwd["extra_cpu_us"], 44.0 - 22.0)
        spread = rows[1]
        self.assertAlmostEqual(spread["ratio_rps"], 1.1)
        self.assertAlmostEqual(spread["ratio_cpu"], 1.05)
        self.assertEqual(spread["a_errors"], 1)

    def test_missing_cpu_gives_no_cpu_ratio(self):
        s = self.slices()[:2]
        s[0]["server_cpu_us_per_req"] = None
        row = cluster.summarize(s, [16])[0]
        self.assertIsNone(row["ratio_cpu"])
        self.assertIsNone(row["extra_cpu_us"])
        self.assertIsNotNone(row["ratio_rps"])

    def test_section_shows_every_row(self):
        slices = self.slices()
        part_ = {"nodes": 3, "server_cpus": "0", "client_cpus": "1",
                 "slices": slices,
                 "rows": cluster.summarize(slices, [16])}
        text = "\n".join(cluster.render_section(part_))
        self.assertIn("## Cluster (3 nodes)", text)
        self.assertIn("pinned to cpu 0", text)
        self.assertIn("| 16 | 10000 | 6000 | 0.55 (0.50–0.60) | 22.0 | 44.0 | "
                      "2.25 (2.00–2.50) | +22.0 |", text)
        self.assertIn("| GET | 16 | 8000 | 8800 | 1.10 |", text)
        self.assertNotIn("| CREATE |", text)

    def test_section_without_pairs(self):
        text = "\n".join(cluster.render_section(
            {"nodes": 3, "rows": [], "slices": []}))
        self.assertIn("No pair was measured.", text)


class ClusterOptionTest(unittest.TestCase):
    def parse(self, *argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), mock.patch.object(
                cli.shutil, "which", return_value="/usr/bin/wrk"):
            try:
                return cli.parse_args(["--bin-dir", "b"] + list(argv)), None
            except SystemExit as e:
                return e.code, err.getvalue()

    def test_off_by_default(self):
        a, _ = self.parse()
        self.assertEqual(a.cluster, 0)

    def test_number_of_nodes(self):
        a, _ = self.parse("--cluster", "3")
        self.assertEqual(a.cluster, 3)

    def test_at_least_two_nodes(self):
        code, err = self.parse("--cluster", "1")
        self.assertEqual(code, 2)
        self.assertIn("at least 2", err)

    def test_no_target_in_cluster_mode(self):
        code, err = self.parse("--cluster", "3", "--target",
                               "http://127.0.0.1:1/x")
        self.assertEqual(code, 2)
        self.assertIn("does not take --target", err)


class GatedPairTest(unittest.TestCase):
    def bench(self, noises, retries=2):
        """A ClusterBench whose slices report the given other loads in
        turn (no process is started)."""
        a = mock.Mock(cluster=3, map_size="1GiB", service_arg=[],
                      noise_gate=0.3, noise_retries=retries)
        tmp = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        b = cluster.ClusterBench(a, tmp, tmp, "0", "1", "/bin/true")
        seq = iter(noises)
        calls = []

        def fake_slice(s, c):
            calls.append(s)
            return {"scenario": s, "connections": c,
                    "other_cores_busy": next(seq)}
        b.slice = fake_slice
        return b, calls

    def test_quiet_pair_runs_once_in_abba_order(self):
        b, calls = self.bench([0.1, 0.2, 0.0, 0.0])
        self.assertEqual([r["scenario"] for r in b.gated_pair("A", "B", 16, 0)],
                         ["A", "B"])
        self.assertEqual([r["scenario"] for r in b.gated_pair("A", "B", 16, 1)],
                         ["B", "A"])
        self.assertEqual(calls, ["A", "B", "B", "A"])
        self.assertEqual(b.repeated_pairs, 0)

    def test_noisy_pair_is_repeated_then_noted(self):
        b, calls = self.bench([0.5, 0.0, 0.0, 0.9, 0.4, 0.0])
        got = b.gated_pair("A", "B", 16, 0)
        self.assertEqual(len(calls), 6)
        self.assertEqual(b.repeated_pairs, 2)
        self.assertEqual([r["pair"] for r in got], [0, 0])
        self.assertIn("other processes used 0.40 cores", got[0]["note"])

    def test_a_quiet_repeat_is_kept(self):
        b, calls = self.bench([0.5, 0.0, 0.1, 0.1])
        got = b.gated_pair("A", "B", 16, 0)
        self.assertEqual(len(calls), 4)
        self.assertEqual(b.repeated_pairs, 1)
        self.assertNotIn("note", got[0])


class ThreadsTest(unittest.TestCase):
    def slice_with(self, scenario, conns, rps, threads):
        r = measured(scenario, conns, 0, rps, 1.0, 100, 200)
        r["requests"] = 1000
        r["threads"] = {node: [{"tid": i, "name": "x", "role": role,
                                "cpu_s": cpu}
                               for i, (role, cpu) in enumerate(ts)]
                        for node, ts in threads.items()}
        return r

    def slices(self):
        return [
            self.slice_with("get-local", 64, 100, {
                "n1": [("RESTinio I/O", 0.010), ("CAF worker", 0.005)],
                "n2": [("CAF worker", 0.0)]}),
            self.slice_with("get-forwarded", 64, 50, {
                "n1": [("RESTinio I/O", 0.012), ("CAF worker", 0.008),
                       ("CAF worker", 0.002), ("CAF clock", 0.0025)],
                "n2": [("CAF worker", 0.009), ("idle", 0.0001)]}),
            self.slice_with("get-forwarded", 16, 50, {"n1": []}),
        ]

    def test_costs_per_node_and_role(self):
        costs = cluster.thread_costs(self.slices()[1])
        self.assertAlmostEqual(costs[("n1", "CAF worker")], 10.0)
        self.assertAlmostEqual(costs[("n1", "CAF clock")], 2.5)
        self.assertAlmostEqual(costs[("n2", "CAF worker")], 9.0)

    def test_rows_at_the_count_nearest_64_largest_first(self):
        c, rows = cluster.forwarding_threads(self.slices())
        self.assertEqual(c, 64)
        self.assertEqual(rows[0][:2], ("n1", "RESTinio I/O"))
        by_key = {(n, r): (a, b) for n, r, a, b in rows}
        self.assertEqual(by_key[("n1", "CAF worker")], (5.0, 10.0))
        self.assertEqual(by_key[("n1", "CAF clock")], (0.0, 2.5))
        self.assertEqual(by_key[("n2", "CAF worker")], (0.0, 9.0))

    def test_table_in_the_section(self):
        slices = self.slices()
        text = "\n".join(cluster.render_section(
            {"nodes": 3, "slices": slices,
             "rows": cluster.summarize(slices, [16, 64])}))
        self.assertIn("| n2 | CAF worker | 0.0 | 9.0 | +9.0 |", text)
        self.assertIn("| all | | 15.0 | 33.6 | +18.6 |", text)
        self.assertNotIn("idle", text)  # below 0.3 µs on both sides

    def test_no_samples_no_table(self):
        self.assertIsNone(cluster.forwarding_threads([]))
