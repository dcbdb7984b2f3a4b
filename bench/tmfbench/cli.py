"""Command line of bench/bench.py: the options, their checks, and the exit
status (0 ok, 3 requests failed unless --allow-errors, 1 any other failure,
130 interrupted, 2 bad options)."""

import argparse
import ipaddress
import re
import shutil
import signal
import socket
import urllib.parse

from .common import log
from .runner import Bench
from .scenarios import ALL_SCENARIOS, DEFAULT_SCENARIOS, HUB_SCENARIOS

DESCRIPTION = "Load-benchmark driver for a TMF629 Customer Management v4 server."


def parse_duration(text):
    """'3s', '500ms', '1m' or a bare number of seconds -> seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError("bad duration: " + text)
    v = float(m.group(1))
    unit = m.group(2) or "s"
    return v / 1000 if unit == "ms" else v * 60 if unit == "m" else v


def is_loopback(host):
    """True for localhost, a loopback literal, or a name resolving only to
    loopback addresses."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def build_parser():
    p = argparse.ArgumentParser(description=DESCRIPTION)
    p.add_argument("--bin-dir", required=True,
                   help="folder with ceiling_http, ceiling_lmdb, [event_sink, "
                   "openloop, micro_bench, tmf629d]")
    p.add_argument("--service-bin", help="service binary (default BIN_DIR/tmf629d)")
    p.add_argument("--map-size", default="8GiB", help="service LMDB map size")
    p.add_argument("--config-file", help="service config (default config/tmf629d.ini if present)")
    p.add_argument("--service-arg", action="append", default=[],
                   help="extra service argument, e.g. --service-arg=--tmf.foo=1")
    p.add_argument("--target", help="benchmark an already running server: its API base URL, "
                   "e.g. http://127.0.0.1:8080/tmf-api/customerManagement/v4")
    p.add_argument("--target-pid", type=int, help="pid of --target (for RSS/CPU)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --target")
    p.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                   help="comma list, run in the order %s; the event hub's "
                   "scenarios (%s) only run when named, e.g. --scenarios "
                   "create,%s" % (",".join(ALL_SCENARIOS),
                                  ",".join(HUB_SCENARIOS),
                                  ",".join(HUB_SCENARIOS)))
    p.add_argument("--connections", default="1,16,64,256")
    p.add_argument("--duration", type=parse_duration, default=3.0,
                   help="per slice, whole seconds (wrk), e.g. 3s")
    p.add_argument("--pairs", type=int, default=2,
                   help="ceiling/service slice pairs per point (ABBA order)")
    p.add_argument("--load", type=int, default=10000, help="customers loaded first")
    p.add_argument("--load-timeout", type=float, default=60.0)
    p.add_argument("--timeout", type=int, default=5, help="wrk request timeout, s")
    p.add_argument("--noise-gate", type=float, default=0.3,
                   help="repeat a ceiling/service pair when other processes used "
                   "more than this many cores during it")
    p.add_argument("--noise-retries", type=int, default=2)
    p.add_argument("--no-control", dest="control", action="store_false",
                   help="skip the method check (ceiling vs an identical ceiling)")
    p.add_argument("--perf", action="store_true",
                   help="perf record -g the service during one slice of every "
                   "scenario (the connection count nearest --perf-connections) "
                   "and put the hottest threads/symbols in the report")
    p.add_argument("--perf-connections", type=int, default=64)
    p.add_argument("--idle-wait", type=float, default=0.0,
                   help="after the scenarios, leave the service idle this many "
                   "seconds and sample its RSS again (shows passivation; the "
                   "service's idle-timeout is 60 s by default)")
    p.add_argument("--settle-timeout", type=float, default=60.0,
                   help="after each service slice wait at most this long for the "
                   "service to go idle (drain queued requests)")
    p.add_argument("--lmdb-seconds", type=float, default=1.5,
                   help="seconds per LMDB ceiling batch size (run before each "
                   "create/patch/delete slice)")
    p.add_argument("--hub-drain-timeout", type=float, default=60.0,
                   help="after a hub slice wait at most this long for the "
                   "event sink to receive every event of it (also stops when "
                   "its count does not move for 10 s)")
    p.add_argument("--out", help="result folder (default bench/results/<UTC stamp>)")
    p.add_argument("--tmp-dir", help="parent of the temporary data folder")
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--server-cpus", default="0")
    p.add_argument("--client-cpus", default="1")
    p.add_argument("--skip-micro", action="store_true")
    p.add_argument("--openloop", default="0.5,0.8",
                   help="after `get`: constant-rate GET probes at these fractions "
                   "of the closed-loop get throughput (empty: off)")
    p.add_argument("--micro-min-time", default="0.2")
    p.add_argument("--cluster", type=int, default=0, metavar="N",
                   help="cluster mode instead of the single-node scenarios: "
                   "N nodes started by scripts/cluster.sh, GET and create "
                   "sent to one node vs spread over all, and a forwarded GET "
                   "vs a local one (CPU of all nodes per request, p99), as "
                   "ratios in ABBA pairs; --service-arg goes to every node")
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even when requests failed")
    return p


def parse_args(argv=None):
    """The options, with --scenarios, --connections and --openloop turned
    into lists (scenarios in run order, connections sorted and unique);
    exits with status 2 on a bad value."""
    p = build_parser()
    a = p.parse_args(argv)
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    bad = [s for s in a.scenarios if s not in ALL_SCENARIOS]
    if bad:
        p.error("unknown scenario(s) %s; known: %s" % (bad, ",".join(ALL_SCENARIOS)))
    a.scenarios = [s for s in ALL_SCENARIOS if s in a.scenarios]
    try:
        a.openloop = [float(x) for x in a.openloop.split(",") if x.strip()]
    except ValueError:
        p.error("--openloop takes a comma list of fractions, e.g. 0.5,0.8")
    try:
        a.connections = sorted({int(x) for x in a.connections.split(",") if x.strip()})
    except ValueError:
        p.error("--connections takes a comma list of integers")
    if not a.connections or min(a.connections) < 1:
        p.error("--connections must be >= 1")
    if a.target:
        u = urllib.parse.urlparse(a.target)
        if u.scheme != "http" or not u.hostname:
            p.error("--target must be an http:// URL")
        if not is_loopback(u.hostname) and not a.allow_remote:
            p.error("--target %s is not a loopback address; pass --allow-remote "
                    "to load a remote server" % u.hostname)
    if a.cluster:
        if a.cluster < 2:
            p.error("--cluster takes the number of nodes, at least 2")
        if a.target:
            p.error("--cluster starts its own nodes: it does not take --target")
    if not shutil.which("wrk"):
        p.error("wrk not found (apt-get install wrk)")
    return a


def main(argv=None):
    """Runs the benchmark; returns the exit status."""
    b = Bench(parse_args(argv))

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return b.run()
    except KeyboardInterrupt:
        log("bench: interrupted; everything started was stopped")
        return 130
    except RuntimeError as e:
        log("bench: FAILED: %s" % e)
        return 1
