"""Tests of the scale mode's pure parts: percentiles, the queries it
sends and the report table."""

import random
import unittest

from tmfbench import scale


class ScaleTest(unittest.TestCase):
    def test_percentile_is_nearest_rank(self):
        xs = list(range(1, 101))
        self.assertEqual(scale.percentile(xs, 50), 50)
        self.assertEqual(scale.percentile(xs, 99), 99)
        self.assertEqual(scale.percentile([3.0], 99), 3.0)
        self.assertIsNone(scale.percentile([], 50))

    def test_queries_stay_inside_the_size(self):
        rnd = random.Random(1)
        for _ in range(100):
            q = scale.query_of("name=Customer%20{i:07d}&offset={deep}",
                               1000, rnd)
            number = int(q.split("%20")[1][:7])
            self.assertLess(number, 1000)
            self.assertTrue(q.endswith("offset=900"))
        q = scale.query_of("name.regex=%5ECustomer%20{j:06d}", 1000, rnd)
        self.assertLess(int(q[-6:]), 100)

    def test_report_has_a_row_per_scenario_and_marks_errors(self):
        r = {"requests": 3, "statuses": {200: 2, 504: 1}, "total": "5",
             "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0, "max_ms": 3.0,
             "cpu_ms_per_request": 0.5, "peak_heap_mib": 2.0}
        results = {10: {name: r for name, _, _, _ in scale.SCENARIOS}}

        class Args:
            server_cpus = "0"
        text = scale.report(Args(), [10], results)
        rows = [l for l in text.splitlines() if l.startswith("| ") and
                "p50" not in l]
        self.assertEqual(len(rows), len(scale.SCENARIOS))
        self.assertIn("1.00 / 3.00 ({504: 1}) | 0.50 | 2.0", rows[0])


if __name__ == "__main__":
    unittest.main()
