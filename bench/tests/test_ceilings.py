"""ceilings.py on recorded ceiling_lmdb output and results.json."""

import unittest

from tmfbench.ceilings import lmdb_rate, parse_lmdb_output

from . import load_results, read_data


class ParseLmdbTest(unittest.TestCase):
    def test_one_entry_per_batch_size(self):
        got = parse_lmdb_output(read_data("lmdb_ceiling.txt"))
        self.assertEqual([d["batch"] for d in got], [1, 8])
        self.assertEqual(got[1]["prefill"], 100)
        self.assertAlmostEqual(got[1]["puts_per_s"], 17386.3)
        self.assertAlmostEqual(got[1]["commits_per_s"], 2173.3)
        self.assertAlmostEqual(got[0]["commit_p50_us"], 243.1)

    def test_other_lines_are_ignored(self):
        text = "prefilling 100 rows\n" + read_data("lmdb_ceiling.txt")
        self.assertEqual(len(parse_lmdb_output(text)), 2)


class LmdbRateTest(unittest.TestCase):
    def setUp(self):
        self.lmdb = load_results()["lmdb_ceiling"]

    def test_the_run_right_before_the_slice(self):
        self.assertAlmostEqual(lmdb_rate(self.lmdb, 16, "delete", 16), 2042.6)
        self.assertAlmostEqual(lmdb_rate(self.lmdb, 1, "create", 1), 262.6)

    def test_any_run_at_that_batch_when_none_matches(self):
        # batch 1 ran before create c=1, create c=16, delete c=1, delete c=16
        self.assertAlmostEqual(lmdb_rate(self.lmdb, 1, "patch", 64), 134.45)

    def test_never_measured(self):
        self.assertIsNone(lmdb_rate(self.lmdb, 256, "create", 256))


if __name__ == "__main__":
    unittest.main()
