"""Samples of a server process and of the machine from /proc: CPU time
(utime+stime of all threads), VmRSS/RssAnon/RssFile, context switches summed
over the threads, and the machine's busy time. Every reader returns None
(or an empty dict) when the process is gone. `root` is /proc except in the
tests, which read recorded copies."""

import os
from collections import namedtuple

CLK_TCK = os.sysconf("SC_CLK_TCK")
PROC = "/proc"

Snapshot = namedtuple("Snapshot", "cpu_s rss_kb ctx_switches busy_s")


def stat_cpu_ticks(stat_text):
    """utime+stime, in clock ticks, from the text of /proc/PID/stat. The
    command name (field 2) may hold spaces and parentheses, so the fields
    are counted after its last ')'."""
    fields = stat_text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid, root=PROC):
    """utime+stime of a process (all threads), seconds."""
    try:
        with open("%s/%d/stat" % (root, pid)) as f:
            return stat_cpu_ticks(f.read()) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def memory_kb(pid, root=PROC):
    """VmRSS, RssAnon (heap: actors, documents) and RssFile (mostly LMDB's
    memory map, reclaimable) of a process, kB."""
    out = {}
    try:
        with open("%s/%d/status" % (root, pid)) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in ("VmRSS", "RssAnon", "RssFile"):
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    return out


def rss_kb(pid, root=PROC):
    """VmRSS of a process, kB."""
    return memory_kb(pid, root).get("VmRSS")


def ctx_switches(pid, root=PROC):
    """Context switches (voluntary + involuntary) summed over all threads."""
    total = 0
    try:
        tasks = os.listdir("%s/%d/task" % (root, pid))
    except OSError:
        return None
    for t in tasks:
        try:
            with open("%s/%d/task/%s/status" % (root, pid, t)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def machine_busy_s(root=PROC):
    """Non-idle CPU time of the whole machine since boot (all cpus), seconds:
    user+nice+system+irq+softirq+steal of /proc/stat's first line."""
    with open(root + "/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


def snapshot(pid, root=PROC):
    """CPU, RSS and context switches of pid (None without a pid), and the
    machine's busy time: what a slice compares before and after."""
    if not pid:
        return Snapshot(None, None, None, machine_busy_s(root))
    return Snapshot(cpu_seconds(pid, root), rss_kb(pid, root),
                    ctx_switches(pid, root), machine_busy_s(root))


# -- per thread ---------------------------------------------------------------

# Idle system calls of the service's threads on x86_64 (/proc/TID/syscall
# while the thread waits): they tell apart threads that share a name.
# CAF 0.17 names its scheduler worker `caf.multiplexer`, and a thread
# started from it (the notifier's libcurl thread) inherits that name; so
# does the middleman's I/O thread of a cluster node (epoll).
_POLL_SYSCALLS = {"7", "271"}        # poll, ppoll: curl_multi_poll
_EPOLL_SYSCALLS = {"232", "281", "441"}  # epoll_wait, epoll_pwait(2): asio


def thread_cpu(pid, root=PROC):
    """{tid: (name, utime+stime seconds)} of every thread of a process;
    {} when it is gone."""
    out = {}
    try:
        tasks = os.listdir("%s/%d/task" % (root, pid))
    except OSError:
        return out
    for t in tasks:
        try:
            with open("%s/%d/task/%s/stat" % (root, pid, t)) as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.find("(") + 1:text.rfind(")")]
        try:
            out[int(t)] = (name, stat_cpu_ticks(text) / CLK_TCK)
        except (IndexError, ValueError):
            pass
    return out


def thread_role(pid, tid, name, root=PROC):
    """What a thread of tmf629d is, from its name and, where names are
    shared, the system call it waits in (read while the service is idle;
    x86_64 numbers, anything else gives the name's generic role)."""
    syscall = None
    try:
        with open("%s/%d/task/%d/syscall" % (root, pid, tid)) as f:
            syscall = f.read().split(" ", 1)[0].strip()
    except OSError:
        pass
    if tid == pid:
        return "main thread"
    if name == "caf.multiplexer":
        if syscall in _POLL_SYSCALLS:
            return "notifier HTTP client (libcurl)"
        if syscall in _EPOLL_SYSCALLS:
            # a cluster node: CAF's middleman (BASP connections to peers)
            return "CAF middleman I/O (cluster links)"
        return "CAF worker"
    if name == "http.sweep":
        return "HTTP gateway sweep"
    if name == "caf.clock":
        return "CAF clock"
    if name == "caf.actor":
        return "detached actor (store writer, readers, loader)"
    if syscall in _EPOLL_SYSCALLS or name == "tmf629d":
        return "RESTinio I/O"
    return name


def thread_roles(pid, root=PROC):
    """{tid: role} of every thread (see thread_role)."""
    return {tid: thread_role(pid, tid, name, root)
            for tid, (name, _) in thread_cpu(pid, root).items()}


def thread_cpu_delta(before, after, roles=None):
    """Per-thread CPU between two thread_cpu() samples, busiest first:
    [{"tid", "name", "role", "cpu_s"}]; threads that started in between
    count from zero, threads that ended are left out."""
    out = []
    for tid, (name, cpu) in after.items():
        prev = before.get(tid, (name, 0.0))[1]
        out.append({"tid": tid, "name": name,
                    "role": (roles or {}).get(tid, name),
                    "cpu_s": round(cpu - prev, 6)})
    out.sort(key=lambda d: (-d["cpu_s"], d["tid"]))
    return out
