"""`perf record -g` on the server during one slice, and the hottest
threads (as `tid:name`), libraries and symbols from `perf report`."""

import os
import re
import shutil
import subprocess

TOP_RE = re.compile(r"\s+([0-9.]+)%\s+(.*\S)")


def start(out_dir, scenario, conns, pid, seconds):
    """Starts perf record on pid for (most of) a slice of this length;
    None when there is no pid, no perf, or it cannot start."""
    if not pid or not shutil.which("perf"):
        return None
    data = os.path.join(out_dir, "perf-%s-c%d.data" % (scenario, conns))
    cmd = ["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o", data,
           "--", "sleep", "%.1f" % max(0.5, seconds - 0.5)]
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
    except OSError:
        return None
    return {"proc": p, "data": data, "scenario": scenario, "connections": conns}


def parse_top(report_stdout, n):
    """The first n (percent, name) rows of `perf report --stdio -g none`,
    names cut to 110 characters."""
    rows = []
    for line in report_stdout.splitlines():
        m = TOP_RE.match(line)
        if m:
            rows.append((float(m.group(1)), m.group(2)[:110]))
        if len(rows) >= n:
            break
    return rows


def _top(data, sort, n):
    r = subprocess.run(["perf", "report", "-i", data, "--no-children",
                        "--sort", sort, "--stdio", "-g", "none"],
                       capture_output=True, text=True, timeout=120)
    return parse_top(r.stdout, n)


def finish(perf, notes):
    """Waits for perf record (started by start()) and summarises its data:
    the profile dict, or None with the reason appended to notes."""
    p = perf["proc"]
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    if p.returncode != 0 or not os.path.exists(perf["data"]):
        notes.append("perf record failed (%s): %s" % (
            perf["scenario"], err.decode(errors="replace")[-200:]))
        return None
    try:
        return {"scenario": perf["scenario"],
                "connections": perf["connections"],
                "data": os.path.basename(perf["data"]),
                # by thread id: threads that share a name (the CAF worker
                # and the notifier's libcurl thread) stay apart
                "threads": _top(perf["data"], "pid", 8),
                "dsos": _top(perf["data"], "dso", 6),
                "symbols": _top(perf["data"], "sym", 15)}
    except (OSError, subprocess.TimeoutExpired) as e:
        notes.append("perf report failed: %s" % e)
        return None
