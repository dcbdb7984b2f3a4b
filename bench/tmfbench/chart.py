"""chart.png: throughput and closed-loop p99 against connections, one line
per scenario (and the HTTP ceiling of the get script), drawn by gnuplot
from chart.dat and chart.gp, which stay in the result folder."""

import os
import shutil
import subprocess

from .common import log


def write_chart_data(path, rows, scenarios):
    """chart.dat: one gnuplot data block per scenario that has rows
    (connections, req/s, p99 ms, HTTP ceiling req/s or NaN); returns the
    scenarios written, in block order."""
    blocks = []
    with open(path, "w") as f:
        for s in scenarios:
            rs = sorted([r for r in rows if r["scenario"] == s],
                        key=lambda r: r["connections"])
            if not rs:
                continue
            f.write("# %s\n" % s)
            for r in rs:
                f.write("%d %.1f %.3f %s\n" % (
                    r["connections"], r["rps"], r["latency_us"]["p99"] / 1000,
                    "%.1f" % r["ceiling_rps"]
                    if r.get("ceiling_kind") == "http" and r.get("ceiling_rps")
                    else "NaN"))
            f.write("\n\n")
            blocks.append(s)
    return blocks


def gnuplot_script(dat, png, blocks):
    """The gnuplot commands drawing png from dat's blocks."""
    plots_t, plots_l = [], []
    for i, s in enumerate(blocks):
        plots_t.append("'%s' index %d using 1:2 with linespoints lw 2 title '%s'"
                       % (dat, i, s))
        plots_l.append("'%s' index %d using 1:3 with linespoints lw 2 title '%s'"
                       % (dat, i, s))
    if "get" in blocks:
        plots_t.append("'%s' index %d using 1:4 with linespoints dt 2 lc rgb "
                       "'gray40' title 'HTTP ceiling (get script)'"
                       % (dat, blocks.index("get")))
    return "\n".join([
        "set terminal pngcairo size 1400,560 font 'sans,10'",
        "set output '%s'" % png,
        "set multiplot layout 1,2 title 'TMF629 service under wrk (closed loop), "
        "throughput and p99 vs connections'",
        "set logscale x 2", "set grid", "set key bottom right",
        "set xlabel 'connections'", "set ylabel 'requests/s'",
        "set logscale y 10", "set format y '%.0s%c'",
        "set title 'throughput (log scale)'",
        "plot " + ", ".join(plots_t),
        "set format y '%g'", "set key top left",
        "set ylabel 'p99 latency (ms, log)'", "set title 'p99 latency (closed loop)'",
        "plot " + ", ".join(plots_l),
        "unset multiplot"])


def write_chart(out_dir, rows, scenarios):
    """Draws out_dir/chart.png; returns its path, or None without gnuplot,
    without rows, or when gnuplot fails."""
    if not shutil.which("gnuplot"):
        return None
    dat = os.path.join(out_dir, "chart.dat")
    blocks = write_chart_data(dat, rows, scenarios)
    if not blocks:
        return None
    png = os.path.join(out_dir, "chart.png")
    gp = os.path.join(out_dir, "chart.gp")
    with open(gp, "w") as f:
        f.write(gnuplot_script(dat, png, blocks) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr[-500:])
        return None
    return png
