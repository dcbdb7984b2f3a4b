"""Paths every module shares, the progress log and the MiB formatter."""

import os
import sys

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH_DIR)
LUA_DIR = os.path.join(BENCH_DIR, "lua")
SCRIPT = os.path.join(LUA_DIR, "tmf629.lua")
API_PATH = "/tmf-api/customerManagement/v4"


def log(msg):
    """One progress line on standard error (the report goes to stdout)."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def fmt_mib(kb):
    """kB as MiB with one decimal, or n/a."""
    return "n/a" if kb is None else "%.1f" % (kb / 1024)
