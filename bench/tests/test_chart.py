"""chart.py: chart.dat and chart.gp from the rows of a recorded run."""

import os
import tempfile
import unittest

from tmfbench.chart import gnuplot_script, write_chart_data

from . import load_results


class ChartDataTest(unittest.TestCase):
    def test_one_block_per_scenario_with_http_ceiling_or_nan(self):
        res = load_results()
        with tempfile.TemporaryDirectory() as d:
            dat = os.path.join(d, "chart.dat")
            blocks = write_chart_data(dat, res["rows"],
                                      ["get", "patch", "create", "mixed"])
            with open(dat) as f:
                lines = f.read().splitlines()
        self.assertEqual(blocks, ["get", "create", "mixed"])
        self.assertEqual(lines[:3], ["# get", "1 1189.7 4.168 11193.5",
                                     "16 32496.0 4.389 35529.9"])
        self.assertIn("1 38.0 28.150 NaN", lines)


class GnuplotScriptTest(unittest.TestCase):
    def test_ceiling_line_drawn_from_the_get_block(self):
        gp = gnuplot_script("c.dat", "c.png", ["create", "get"])
        self.assertIn("'c.dat' index 1 using 1:4 with linespoints dt 2 lc rgb "
                      "'gray40' title 'HTTP ceiling (get script)'", gp)
        self.assertIn("set output 'c.png'", gp)

    def test_no_ceiling_line_without_get(self):
        self.assertNotIn("HTTP ceiling", gnuplot_script("c.dat", "c.png",
                                                        ["create"]))


if __name__ == "__main__":
    unittest.main()
