"""Cluster mode (--cluster N): N tmf629d nodes on this machine, started
by scripts/cluster.sh, every node pinned to the server cpus and wrk to the
client cpus. Three comparisons, each measured in ABBA pairs in the same
run, at every connection count:

- get-local / get-forwarded: GETs sent to n1 for customers n1 owns vs
  customers the other nodes own (every request one cross-node hop): the
  cost of a forwarded request against a local one;
- get-one / get-spread: GETs of random customers (any owner) sent to n1
  alone vs spread over all nodes (one wrk per node, the connections
  split);
- create-one / create-spread: creates sent to n1 alone vs spread.

Every slice reports the requests/s summed over its wrk processes, the
server CPU µs per request summed over ALL nodes (from /proc; a forwarded
request costs on two nodes) and the latency percentiles; a pair gives the
ratios B/A of these. The pure parts (node lines, connection split,
combining wrk processes, pair ratios, the report section) are tested in
bench/tests/test_cluster.py."""

import os
import resource
import statistics
import subprocess
import time

from . import procfs, service, wrk
from .common import REPO, log
from .procs import pinned

SCRIPT = os.path.join(REPO, "scripts", "cluster.sh")

# The comparisons: (name, reference scenario A, compared scenario B, what
# the ratio B/A says).
COMPARISONS = [
    ("forwarding", "get-local", "get-forwarded",
     "GET sent to n1: customers owned by the other nodes (one cross-node "
     "hop each) vs customers n1 owns"),
    ("spreading reads", "get-one", "get-spread",
     "GET of random customers: spread over every node vs all sent to n1"),
    ("spreading creates", "create-one", "create-spread",
     "POST /customer: spread over every node vs all sent to n1 (creates "
     "are always local)"),
]

SCENARIOS = [s for _, a, b, _ in COMPARISONS for s in (a, b)]

# The tmf629.lua scenario behind each cluster scenario.
SCRIPT_SCENARIO = {"get-local": "get", "get-forwarded": "get",
                   "get-one": "get", "get-spread": "get",
                   "create-one": "create", "create-spread": "create"}

SPREAD = {"get-spread", "create-spread"}


# -- pure parts -----------------------------------------------------------------

def parse_nodes(text):
    """The `node <name> <pid> <base-url>` lines of cluster.sh up/start:
    [{"name", "pid", "url"}] in order; other lines are ignored."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] == "node" and words[2].isdigit():
            out.append({"name": words[1], "pid": int(words[2]),
                        "url": words[3].rstrip("/")})
    return out


def split_connections(conns, nodes):
    """conns connections over `nodes` wrk processes as evenly as possible,
    the first ones getting one more; None when there are fewer connections
    than nodes (no spread possible)."""
    if conns < nodes:
        return None
    return [conns // nodes + (1 if i < conns % nodes else 0)
            for i in range(nodes)]


def wrapper_script(binary, cpus):
    """A shell script that runs binary pinned to cpus (or as is): what
    cluster.sh starts as $TMF629D, so every node, and every thread it
    starts, runs on the server cpus from its first instruction."""
    line = ('exec taskset -c %s "%s" "$@"' % (cpus, binary) if cpus
            else 'exec "%s" "$@"' % binary)
    return "#!/bin/sh\n" + line + "\n"


def combine(parts):
    """One slice from the wrk processes that ran side by side (each with
    add_slice_figures applied): requests, errors and req/s summed; p50 and
    p90 the request-weighted mean of the parts'; p99 and p99.9 the largest
    part's (an upper bound of the combined percentile)."""
    if len(parts) == 1:
        return dict(parts[0], processes=1)
    total = sum(p["requests"] for p in parts)

    def weighted(key):
        if total == 0:
            return max(p["latency_us"][key] for p in parts)
        return sum(p["latency_us"][key] * p["requests"] for p in parts) / total

    statuses = [x for p in parts for x in p.get("statuses") or []]
    return {
        "requests": total,
        "seconds": max(p["seconds"] for p in parts),
        "rps": sum(p["rps"] for p in parts),
        "non2xx": sum(p["non2xx"] for p in parts),
        "socket_errors": sum(p["socket_errors"] for p in parts),
        "stalled": sum(p["stalled"] for p in parts),
        "error_total": sum(p["error_total"] for p in parts),
        "statuses": statuses,
        "latency_us": {"p50": weighted("p50"), "p90": weighted("p90"),
                       "p99": max(p["latency_us"]["p99"] for p in parts),
                       "p999": max(p["latency_us"]["p999"] for p in parts)},
        "processes": len(parts),
    }


def add_cluster_cpu(r, before, after, client_cpu_s, busy_s, wall_s):
    """Adds the nodes' CPU to a combined slice: before/after are {name:
    cpu seconds} around it, busy_s the machine's busy time during it.
    server_cpu_us_per_req sums every node (a forwarded request costs on
    the receiving node and on the owner); per_node keeps each node's
    share."""
    per_node = {}
    for name, b in before.items():
        a = after.get(name)
        per_node[name] = (a - b) if a is not None and b is not None else None
    known = [v for v in per_node.values() if v is not None]
    total = sum(known) if len(known) == len(per_node) else None
    r["server_cpu_s"] = total
    r["server_cpu_us_per_req"] = (1e6 * total / r["requests"]
                                  if total is not None and r["requests"]
                                  else None)
    r["node_cpu_us_per_req"] = {
        name: (1e6 * v / r["requests"] if v is not None and r["requests"]
               else None) for name, v in per_node.items()}
    other = busy_s - client_cpu_s - (total or 0)
    r["other_cores_busy"] = max(0.0, other / wall_s) if wall_s > 0 else None
    return r


def _ratio(b, a):
    return b / a if a and b is not None else None


def pair_ratios(a, b):
    """Ratios B/A of one pair: req/s, CPU µs/req, p50 and p99."""
    return {"rps": _ratio(b["rps"], a["rps"]),
            "cpu": _ratio(b.get("server_cpu_us_per_req"),
                          a.get("server_cpu_us_per_req")),
            "p50": _ratio(b["latency_us"]["p50"], a["latency_us"]["p50"]),
            "p99": _ratio(b["latency_us"]["p99"], a["latency_us"]["p99"])}


def _median(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def _median_slice(slices):
    s = sorted(slices, key=lambda r: r["rps"])
    return s[len(s) // 2] if s else None


def summarize(slices, connections):
    """One row per comparison and connection count that has pairs: the
    median slice of A and of B (req/s, CPU µs/req, p50, p99, errors) and
    the median over the pairs of each ratio B/A, with its range."""
    rows = []
    for name, sa, sb, what in COMPARISONS:
        for c in connections:
            pairs = {}
            for r in slices:
                if r["connections"] == c and r["scenario"] in (sa, sb):
                    pairs.setdefault(r["pair"], {})[r["scenario"]] = r
            done = [p for p in pairs.values() if sa in p and sb in p]
            if not done:
                continue
            ratios = [pair_ratios(p[sa], p[sb]) for p in done]
            row = {"comparison": name, "a": sa, "b": sb, "what": what,
                   "connections": c, "pairs": len(done)}
            for side, s in (("a", sa), ("b", sb)):
                med = _median_slice([p[s] for p in done])
                row[side + "_rps"] = med["rps"]
                row[side + "_cpu_us"] = med.get("server_cpu_us_per_req")
                row[side + "_p50_us"] = med["latency_us"]["p50"]
                row[side + "_p99_us"] = med["latency_us"]["p99"]
                row[side + "_errors"] = sum(p[s]["error_total"] for p in done)
            for k in ("rps", "cpu", "p50", "p99"):
                vals = [x[k] for x in ratios if x[k] is not None]
                row["ratio_" + k] = _median(vals)
                row["ratio_%s_range" % k] = ((min(vals), max(vals))
                                             if vals else None)
            cpu_a, cpu_b = row["a_cpu_us"], row["b_cpu_us"]
            row["extra_cpu_us"] = (cpu_b - cpu_a
                                   if cpu_a is not None and cpu_b is not None
                                   else None)
            rows.append(row)
    return rows


def _fmt(v, f="%.0f"):
    return f % v if v is not None else "-"


def _fmt_ratio(row, k):
    v = row["ratio_" + k]
    if v is None:
        return "-"
    text = "%.2f" % v
    rng = row["ratio_%s_range" % k]
    if rng and "%.2f" % rng[0] != "%.2f" % rng[1]:
        text += " (%.2f–%.2f)" % rng
    return text


CLUSTER_METHOD = (
    "{n} tmf629d nodes started by `scripts/cluster.sh up {n}` on 127.0.0.1 "
    "(CAF remoting over loopback{tls}), every node pinned to cpu {server} "
    "(they share it, so spreading cannot add cores: it shows what the "
    "cluster costs per request) and every wrk process to cpu {client}. "
    "Customers were loaded through each node in turn, so each node owns "
    "the ones it created (creates are local). get-local and get-forwarded "
    "both go to n1, with the ids n1 owns or the ids the others own; "
    "get-one/create-one go to n1, get-spread/create-spread to every node "
    "at once (one wrk each, the connections split, so they need at least "
    "{n} connections). Each comparison runs in pairs A,B then B,A (ABBA) at "
    "every connection count; a ratio is the median of the per-pair ratios "
    "B/A (range in brackets). CPU µs/req is the CPU of ALL nodes "
    "(utime+stime from /proc) during the slice divided by its requests: a "
    "forwarded request is charged on the receiving node and on the owner. "
    "req/s and CPU are sums over the wrk processes of a slice; its p50 is "
    "their request-weighted mean and its p99 the largest of theirs (an "
    "upper bound). wrk is closed-loop: the p99 are saturation latencies, "
    "and c=1 gives the unloaded round trip.")


def thread_costs(r):
    """{(node, role): CPU µs per request} of a slice with per-thread
    samples (threads of one role on one node added up)."""
    out = {}
    if not r.get("requests"):
        return out
    for node, threads in (r.get("threads") or {}).items():
        for t in threads:
            key = (node, t["role"])
            out[key] = out.get(key, 0.0) + 1e6 * t["cpu_s"] / r["requests"]
    return out


def forwarding_threads(slices, near=64):
    """Where a forwarded GET's CPU goes: the median get-local and
    get-forwarded slices at the connection count nearest `near`, as rows
    (node, role, local µs/req, forwarded µs/req), the largest forwarded
    first; (connections, rows), or None without such slices."""
    fwd = [r for r in slices if r["scenario"] == "get-forwarded"
           and r.get("threads")]
    if not fwd:
        return None
    c = min({r["connections"] for r in fwd}, key=lambda x: abs(x - near))
    a = _median_slice([r for r in slices if r["scenario"] == "get-local"
                       and r["connections"] == c and r.get("threads")])
    b = _median_slice([r for r in fwd if r["connections"] == c])
    if a is None or b is None:
        return None
    ca, cb = thread_costs(a), thread_costs(b)
    rows = [(node, role, ca.get((node, role), 0.0), cb.get((node, role), 0.0))
            for node, role in set(ca) | set(cb)]
    rows.sort(key=lambda x: (-x[3], x[0], x[1]))
    return c, rows


def render_section(cluster):
    """The report's cluster section (a list of lines)."""
    rows = cluster.get("rows") or []
    w = ["\n## Cluster (%d nodes)\n" % cluster["nodes"],
         CLUSTER_METHOD.format(n=cluster["nodes"],
                               tls=", TLS" if cluster.get("tls") else "",
                               server=cluster.get("server_cpus") or "any",
                               client=cluster.get("client_cpus") or "any")
         + "\n"]
    if not rows:
        w.append("No pair was measured.\n")
        return w
    fwd = [r for r in rows if r["comparison"] == "forwarding"]
    if fwd:
        w += ["### A forwarded request against a local one\n",
              "| conns | local req/s | forwarded req/s | req/s ratio | "
              "CPU µs/req local | forwarded | CPU ratio | extra CPU µs per "
              "forwarded request | p50 ms local / forwarded | p99 ms local | "
              "p99 ms forwarded | p99 ratio | errors |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
              "---:|"]
        for r in fwd:
            w.append("| %d | %s | %s | %s | %s | %s | %s | %s | %.2f / %.2f | "
                     "%.2f | %.2f | %s | %d |" % (
                         r["connections"], _fmt(r["a_rps"]), _fmt(r["b_rps"]),
                         _fmt_ratio(r, "rps"), _fmt(r["a_cpu_us"], "%.1f"),
                         _fmt(r["b_cpu_us"], "%.1f"), _fmt_ratio(r, "cpu"),
                         _fmt(r["extra_cpu_us"], "%+.1f"),
                         r["a_p50_us"] / 1000, r["b_p50_us"] / 1000,
                         r["a_p99_us"] / 1000, r["b_p99_us"] / 1000,
                         _fmt_ratio(r, "p99"),
                         r["a_errors"] + r["b_errors"]))
        w.append("")
    where = forwarding_threads(cluster.get("slices") or [])
    if where:
        c, trows = where
        w += ["Where the CPU of a GET goes, by node and thread, at c=%d (the "
              "median slices; µs per request, threads of one role on one "
              "node added up; n1 receives every request):\n" % c,
              "| node | thread | local | forwarded | difference |",
              "|---|---|---:|---:|---:|"]
        tot_a = tot_b = 0.0
        for node, role, ua, ub in trows:
            tot_a += ua
            tot_b += ub
            if ua < 0.3 and ub < 0.3:
                continue
            w.append("| %s | %s | %.1f | %.1f | %+.1f |" % (
                node, role, ua, ub, ub - ua))
        w.append("| all | | %.1f | %.1f | %+.1f |" % (tot_a, tot_b,
                                                      tot_b - tot_a))
        w.append("")
    spread = [r for r in rows if r["comparison"] != "forwarding"]
    if spread:
        w += ["### One node against all nodes\n",
              "| requests | conns | req/s to n1 | req/s spread | req/s ratio | "
              "CPU µs/req n1 | spread | CPU ratio | p99 ms n1 | p99 ms spread | "
              "p99 ratio | errors |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in spread:
            w.append("| %s | %d | %s | %s | %s | %s | %s | %s | %.2f | %.2f | "
                     "%s | %d |" % (
                         r["a"].split("-")[0].upper(), r["connections"],
                         _fmt(r["a_rps"]), _fmt(r["b_rps"]),
                         _fmt_ratio(r, "rps"), _fmt(r["a_cpu_us"], "%.1f"),
                         _fmt(r["b_cpu_us"], "%.1f"), _fmt_ratio(r, "cpu"),
                         r["a_p99_us"] / 1000, r["b_p99_us"] / 1000,
                         _fmt_ratio(r, "p99"),
                         r["a_errors"] + r["b_errors"]))
        w.append("")
    statuses = [(s["scenario"], s["connections"], s["statuses"])
                for s in cluster.get("slices") or [] if s.get("statuses")]
    if statuses:
        w.append("Non-2xx statuses seen: " + "; ".join(
            "%s c=%d %s" % x for x in statuses) + "\n")
    return w


def render_report(result):
    """report.md of a cluster run."""
    env = result["environment"]
    cl = result["cluster"]
    errors = result["errors_total"]
    w = ["# TMF629 cluster benchmark report\n"]
    if errors:
        w.append("> **!!! THIS RUN HAD ERRORS: %d failed requests. Figures of "
                 "runs with errors are not comparable. !!!**\n" % errors)
    w.append("- When: %s to %s (UTC)" % (result["started"], result["finished"]))
    w.append("- Machine: %s, %s cores, kernel %s, load average at end %s" % (
        env.get("cpu", "?"), env.get("nproc"), env.get("kernel"),
        " ".join(env.get("loadavg", []))))
    w.append("- Commit: %s; command: `%s`" % (env.get("git", "?"),
                                              result.get("command", "")))
    w.append("- Nodes: %s" % ", ".join(
        "%s %s" % (n["name"], n["url"]) for n in cl["node_list"]))
    w.append("- Connections %s; %.1f s per slice; %d pair(s) per point; %d "
             "customers loaded (%s per node)\n" % (
                 ",".join(map(str, result["options"]["connections"])),
                 result["options"]["duration"], result["options"]["pairs"],
                 cl["loaded"], ", ".join("%s %d" % kv for kv in
                                         sorted(cl["loaded_per_node"].items()))))
    w += render_section(cl)
    if cl.get("repeated_pairs"):
        w.append("%d pair(s) were repeated because other processes used more "
                 "than %.2f cores during them.\n" % (
                     cl["repeated_pairs"], result["options"]["noise_gate"]))
    noisy = [s for s in cl.get("slices") or []
             if (s.get("other_cores_busy") or 0) > result["options"]["noise_gate"]]
    if noisy:
        w.append("Note: other processes used more than %.2f cores during %d "
                 "of %d slices (largest %.2f): read the ratios, not the "
                 "absolute figures.\n" % (
                     result["options"]["noise_gate"], len(noisy),
                     len(cl["slices"]),
                     max(s["other_cores_busy"] for s in noisy)))
    w += ["Note: " + n for n in result.get("notes") or []]
    return "\n".join(w) + "\n"


# -- processes ------------------------------------------------------------------

class Cluster:
    """The nodes of one run: started with cluster.sh up (pinned through a
    wrapper script), stopped with cluster.sh down."""

    def __init__(self, n, binary, work_dir, out_dir, cpus, extra_args):
        self.n = n
        self.dir = os.path.join(work_dir, "cluster")
        self.out_dir = out_dir
        self.nodes = []
        self.wrapper = os.path.join(work_dir, "tmf629d-pinned")
        with open(self.wrapper, "w") as f:
            f.write(wrapper_script(binary, cpus))
        os.chmod(self.wrapper, 0o755)
        self.extra_args = extra_args

    def up(self):
        cmd = ["bash", SCRIPT, "up", str(self.n), self.dir] + self.extra_args
        log("bench: starting the cluster: " + " ".join(cmd))
        out = subprocess.run(cmd, env=dict(os.environ, TMF629D=self.wrapper),
                             capture_output=True, text=True, timeout=120)
        self.nodes = parse_nodes(out.stdout)
        if out.returncode != 0 or len(self.nodes) != self.n:
            self.down()
            raise RuntimeError("cluster.sh up %d failed (rc %d): %s%s" % (
                self.n, out.returncode, out.stdout[-2000:],
                out.stderr[-2000:]))
        for nd in self.nodes:
            log("bench: node %s pid %d at %s" % (nd["name"], nd["pid"],
                                                  nd["url"]))

    def down(self):
        if not os.path.exists(os.path.join(self.dir, "nodes")):
            return
        subprocess.run(["bash", SCRIPT, "down", self.dir],
                       capture_output=True, text=True, timeout=60)
        # keep the nodes' logs with the results
        for name in [n["name"] for n in self.nodes]:
            src = os.path.join(self.dir, name, "log")
            if os.path.exists(src):
                with open(src, "rb") as f, open(os.path.join(
                        self.out_dir, "cluster-%s.log" % name), "wb") as g:
                    g.write(f.read())

    def alive(self):
        return all(procfs.cpu_seconds(n["pid"]) is not None
                   for n in self.nodes)

    def cpu(self):
        return {n["name"]: procfs.cpu_seconds(n["pid"]) for n in self.nodes}


class ClusterBench:
    """The measurements of --cluster N (see the module's docstring)."""

    def __init__(self, a, tmp, out, server_cpus, client_cpus, binary):
        self.a = a
        self.tmp = tmp
        self.out = out
        self.server_cpus = server_cpus
        self.client_cpus = client_cpus
        extra = ["--tmf.map-size=" + a.map_size] + list(a.service_arg)
        self.cluster = Cluster(a.cluster, binary, tmp, out, server_cpus, extra)
        self.slices = []
        self.notes = []
        self.repeated_pairs = 0
        self.roles = {}
        self.loaded_per_node = {}
        self.seed = int(time.time()) % 100000

    def next_seed(self):
        self.seed += 1
        return self.seed

    def run(self):
        """Starts the cluster, loads, measures; returns the cluster part of
        results.json. The cluster is stopped whatever happens."""
        try:
            self.cluster.up()
            self.load()
            self.warm_up()
            for c in self.a.connections:
                for name, sa, sb, _ in COMPARISONS:
                    if sb in SPREAD and split_connections(c, self.a.cluster) is None:
                        note = ("%s at c=%d skipped: spreading needs at least "
                                "%d connections" % (name, c, self.a.cluster))
                        self.notes.append(note)
                        continue
                    for i in range(self.a.pairs):
                        self.slices.extend(self.gated_pair(sa, sb, c, i))
                if not self.cluster.alive():
                    raise RuntimeError("a cluster node exited during the run "
                                       "(see cluster-*.log)")
        finally:
            self.cluster.down()
        return {"nodes": self.a.cluster, "node_list": self.cluster.nodes,
                "server_cpus": self.server_cpus,
                "client_cpus": self.client_cpus,
                "tls": any("cluster.tls=true" in x for x in self.a.service_arg),
                "loaded": sum(self.loaded_per_node.values()),
                "loaded_per_node": self.loaded_per_node,
                "repeated_pairs": self.repeated_pairs,
                "slices": self.slices,
                "rows": summarize(self.slices, self.a.connections)}

    def gated_pair(self, sa, sb, c, i):
        """Slices A and B back to back, A first when i is even (ABBA over
        a point's pairs). Repeated (at most --noise-retries times) when
        other processes used more than --noise-gate cores during either;
        a pair that stays disturbed is noted on its slices."""
        a = self.a
        for attempt in range(a.noise_retries + 1):
            order = [sa, sb] if i % 2 == 0 else [sb, sa]
            got = []
            for s in order:
                r = self.slice(s, c)
                r["pair"] = i
                got.append(r)
            noise = max(r["other_cores_busy"] or 0 for r in got)
            if noise <= a.noise_gate:
                break
            if attempt < a.noise_retries:
                self.repeated_pairs += 1
                log("bench: other processes used %.2f cores during this pair "
                    "(gate %.2f): repeating it" % (noise, a.noise_gate))
            else:
                for r in got:
                    r["note"] = "; ".join(filter(None, [
                        r.get("note"), "other processes used %.2f cores "
                        "during the pair" % noise]))
        return got

    def ids_file(self, name):
        return os.path.join(self.tmp, "ids-%s.txt" % name)

    def load(self):
        """--load customers, created through each node in turn (each node
        owns what it created)."""
        names_file = os.path.join(self.tmp, "names.txt")
        with open(names_file, "w") as f:
            for i in range(max(1, self.a.load // 20)):
                f.write("Load Customer %04d\n" % i)
        per = max(1, self.a.load // self.a.cluster)
        for nd in self.cluster.nodes:
            path = self.ids_file(nd["name"])
            open(path, "w").close()
            cmd = pinned(wrk.command(nd["url"], "load", 32, self.a.load_timeout,
                                     self.a.timeout, self.next_seed(),
                                     ["names=" + names_file, "out=" + path,
                                      "count=%d" % per]), self.client_cpus)
            subprocess.run(cmd, env=wrk.environment(), capture_output=True,
                           text=True, timeout=self.a.load_timeout + 60)
            with open(path) as f:
                got = sum(1 for line in f if line.strip())
            self.loaded_per_node[nd["name"]] = got
            log("bench: loaded %d customers through %s" % (got, nd["name"]))
            if got < 0.9 * per:
                raise RuntimeError("loading through %s created only %d of %d "
                                   "customers" % (nd["name"], got, per))
        first = self.cluster.nodes[0]["name"]
        self.local_ids = self.ids_file(first)
        self.remote_ids = os.path.join(self.tmp, "ids-remote.txt")
        self.all_ids = os.path.join(self.tmp, "ids-all.txt")
        with open(self.remote_ids, "w") as rem, open(self.all_ids, "w") as al:
            for nd in self.cluster.nodes:
                with open(self.ids_file(nd["name"])) as f:
                    text = f.read()
                al.write(text)
                if nd["name"] != first:
                    rem.write(text)

    def warm_up(self):
        """Every loaded customer read once through n1 (unmeasured), so that
        every owner holds its customers in memory."""
        self.run_wrk([self.cluster.nodes[0]["url"]], "get", [16],
                     max(2.0, self.a.duration), ["ids=" + self.all_ids])
        for n in self.cluster.nodes:
            service.settle(n["pid"], self.a.settle_timeout)
        # threads are named from the system calls they idle in: now
        self.roles = {n["name"]: procfs.thread_roles(n["pid"])
                      for n in self.cluster.nodes}

    def args_of(self, s, k):
        if s == "get-local":
            return ["ids=" + self.local_ids]
        if s == "get-forwarded":
            return ["ids=" + self.remote_ids]
        if s in ("get-one", "get-spread"):
            return ["ids=" + self.all_ids]
        return ["out=" + os.path.join(self.tmp, "created-%d.txt" % k)]

    def run_wrk(self, urls, scenario, conns, seconds, args_for):
        """wrk processes side by side (one per url); returns their parsed,
        figured summaries. args_for is a list of script arguments, or a
        function of the process index giving them."""
        procs = []
        for k, (url, c) in enumerate(zip(urls, conns)):
            args = args_for(k) if callable(args_for) else args_for
            cmd = pinned(wrk.command(url, scenario, c, seconds, self.a.timeout,
                                     self.next_seed(), args), self.client_cpus)
            procs.append((cmd, c, subprocess.Popen(
                cmd, env=wrk.environment(), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)))
        parts = []
        for cmd, c, p in procs:
            try:
                out, err = p.communicate(timeout=seconds + self.a.timeout + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                raise RuntimeError("wrk did not finish in time: " + " ".join(cmd))
            r = wrk.parse_summary(out)
            if p.returncode != 0 or r is None:
                raise RuntimeError("wrk failed (rc %d): %s\n%s%s" % (
                    p.returncode, " ".join(cmd), out[-2000:], err[-2000:]))
            parts.append(wrk.add_slice_figures(r, scenario, c))
        return parts

    def slice(self, s, c):
        """One measured slice of cluster scenario s at c connections."""
        nodes = self.cluster.nodes
        if s in SPREAD:
            conns = split_connections(c, len(nodes))
            urls = [n["url"] for n in nodes]
        else:
            conns = [c]
            urls = [nodes[0]["url"]]
        threads0 = {n["name"]: procfs.thread_cpu(n["pid"]) for n in nodes}
        cpu0 = self.cluster.cpu()
        busy0 = procfs.machine_busy_s()
        t0 = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        parts = self.run_wrk(urls, SCRIPT_SCENARIO[s], conns, self.a.duration,
                             lambda k: self.args_of(s, k))
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.monotonic() - t0
        cpu1 = self.cluster.cpu()
        busy1 = procfs.machine_busy_s()
        threads1 = {n["name"]: procfs.thread_cpu(n["pid"]) for n in nodes}
        r = combine(parts)
        client = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        add_cluster_cpu(r, cpu0, cpu1, client, busy1 - busy0, wall)
        r["scenario"] = s
        r["connections"] = c
        r["wrk_connections"] = conns
        r["threads"] = {
            name: procfs.thread_cpu_delta(threads0[name], threads1.get(name, {}),
                                          self.roles.get(name))
            for name in threads0}
        settle = max(service.settle(n["pid"], self.a.settle_timeout)
                     for n in nodes)
        if settle > 1.0:
            r["note"] = "the nodes kept working %.1f s after the slice" % settle
        log("        cluster %-13s c=%-4d %9.0f req/s  CPU %6s µs/req (all "
            "nodes)  p50 %6.2f ms  p99 %6.2f ms  errors %d%s" % (
                s, c, r["rps"], _fmt(r["server_cpu_us_per_req"], "%.1f"),
                r["latency_us"]["p50"] / 1000, r["latency_us"]["p99"] / 1000,
                r["error_total"],
                "  (other load %.2f cores)" % r["other_cores_busy"]
                if (r["other_cores_busy"] or 0) > self.a.noise_gate else ""))
        return r
