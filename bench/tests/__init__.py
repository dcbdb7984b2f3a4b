"""Tests of the bench package (tmfbench) on recorded output in data/:
wrk runs of bench/lua/tmf629.lua, /proc samples, perf report and
ceiling_lmdb output, and the results.json of a short bench run.

Run from the repository root:
    python3 -m unittest discover -s bench/tests -t bench
"""

import json
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def data_path(*parts):
    return os.path.join(DATA, *parts)


def read_data(name):
    with open(data_path(name)) as f:
        return f.read()


def load_results():
    """results.json of `bench/run.sh --duration 1s --connections 1,16
    --pairs 1 --load 500 --scenarios get,create,delete,mixed --skip-micro`
    on a busy 2-core VM (bench.py before the split into tmfbench)."""
    return json.loads(read_data("results.json"))


def load_hub_results():
    """results.json of `bench/run.sh --no-build --scenarios
    create,create-hub1,events-1,events-10 --connections 16,64 --duration 3s
    --pairs 1` on a 2-core VM busy with compilers (other load about 1.8
    cores): creates were disk-bound (commit p50 8 ms)."""
    return json.loads(read_data("results_hub.json"))
