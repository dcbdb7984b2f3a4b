"""procfs.py on /proc files recorded from a running tmf629d (pid 9003,
nine threads), from a tmf629d with the event hub after a create slice with
one subscription (pid 29423: task/*/stat and the idle task/*/syscall of
its ten threads) and from a process named `tmf) odd (name` (pid 10247)."""

import unittest

from tmfbench import procfs

from . import data_path, read_data

ROOT = data_path("proc")


class CpuTest(unittest.TestCase):
    def test_utime_plus_stime_in_ticks(self):
        self.assertEqual(procfs.stat_cpu_ticks(read_data("proc/9003/stat")),
                         25 + 52)

    def test_command_name_with_parentheses_and_spaces(self):
        self.assertEqual(procfs.stat_cpu_ticks(read_data("proc/10247/stat")),
                         44 + 11)

    def test_seconds(self):
        self.assertAlmostEqual(procfs.cpu_seconds(9003, ROOT),
                               77 / procfs.CLK_TCK)

    def test_gone_process(self):
        self.assertIsNone(procfs.cpu_seconds(1, ROOT))


class MemoryTest(unittest.TestCase):
    def test_rss_split_into_heap_and_file_map(self):
        self.assertEqual(procfs.memory_kb(9003, ROOT),
                         {"VmRSS": 8784, "RssAnon": 1580, "RssFile": 7204})

    def test_rss(self):
        self.assertEqual(procfs.rss_kb(9003, ROOT), 8784)

    def test_gone_process(self):
        self.assertEqual(procfs.memory_kb(1, ROOT), {})
        self.assertIsNone(procfs.rss_kb(1, ROOT))


class ContextSwitchTest(unittest.TestCase):
    def test_summed_over_every_thread(self):
        # voluntary + nonvoluntary of the nine task/*/status files
        self.assertEqual(procfs.ctx_switches(9003, ROOT), 34135)

    def test_gone_process(self):
        self.assertIsNone(procfs.ctx_switches(1, ROOT))


class MachineTest(unittest.TestCase):
    def test_busy_is_everything_but_idle_and_iowait(self):
        # cpu  56261 0 7960 55808 840 0 609 120 0 0
        busy_ticks = 56261 + 0 + 7960 + 0 + 609 + 120
        self.assertAlmostEqual(procfs.machine_busy_s(ROOT),
                               busy_ticks / procfs.CLK_TCK)

    def test_snapshot(self):
        s = procfs.snapshot(9003, ROOT)
        self.assertEqual((s.rss_kb, s.ctx_switches), (8784, 34135))
        self.assertAlmostEqual(s.cpu_s, 77 / procfs.CLK_TCK)

    def test_snapshot_without_pid_has_only_the_machine(self):
        s = procfs.snapshot(None, ROOT)
        self.assertEqual((s.cpu_s, s.rss_kb, s.ctx_switches), (None,) * 3)
        self.assertAlmostEqual(s.busy_s, procfs.machine_busy_s(ROOT))


class ThreadTest(unittest.TestCase):
    def test_cpu_per_thread(self):
        got = procfs.thread_cpu(29423, ROOT)
        self.assertEqual(len(got), 10)
        self.assertEqual(got[29433][0], "caf.multiplexer")
        self.assertAlmostEqual(got[29433][1], (39 + 26) / procfs.CLK_TCK)
        self.assertAlmostEqual(got[29432][1], (95 + 54) / procfs.CLK_TCK)
        self.assertAlmostEqual(got[29428][1], (27 + 104) / procfs.CLK_TCK)
        self.assertEqual(procfs.thread_cpu(1, ROOT), {})

    def test_roles_from_names_and_idle_system_calls(self):
        roles = procfs.thread_roles(29423, ROOT)
        self.assertEqual(roles[29423], "main thread")
        self.assertEqual(roles[29425], "CAF worker")          # futex
        self.assertEqual(roles[29433], "notifier HTTP client (libcurl)")  # poll
        self.assertEqual(roles[29432], "RESTinio I/O")        # epoll_wait
        self.assertEqual(roles[29426], "CAF clock")
        self.assertEqual(roles[29428],
                         "detached actor (store writer, readers, loader)")

    def test_roles_of_a_cluster_node(self):
        # n1 of `scripts/cluster.sh up 2`, idle: the middleman's I/O thread
        # shares the worker's name and waits in epoll_wait
        roles = procfs.thread_roles(25999, ROOT)
        self.assertEqual(len(roles), 13)
        self.assertEqual(roles[26017], "CAF worker")                 # futex
        self.assertEqual(roles[26020], "CAF middleman I/O (cluster links)")
        self.assertEqual(roles[26041], "notifier HTTP client (libcurl)")
        self.assertEqual(roles[26040], "RESTinio I/O")
        self.assertEqual(roles[26038], "HTTP gateway sweep")
        self.assertEqual(roles[26018], "CAF clock")

    def test_shared_name_without_syscall_file_is_the_worker(self):
        # pid 9003 was recorded without task/*/syscall
        self.assertEqual(procfs.thread_role(9003, 9005, "caf.multiplexer", ROOT),
                         "CAF worker")

    def test_delta_busiest_first_new_threads_from_zero(self):
        before = {1: ("a", 1.0), 2: ("b", 2.0), 3: ("gone", 5.0)}
        after = {1: ("a", 1.5), 2: ("b", 4.0), 4: ("new", 0.25)}
        got = procfs.thread_cpu_delta(before, after, {2: "writer"})
        self.assertEqual(got, [
            {"tid": 2, "name": "b", "role": "writer", "cpu_s": 2.0},
            {"tid": 1, "name": "a", "role": "a", "cpu_s": 0.5},
            {"tid": 4, "name": "new", "role": "new", "cpu_s": 0.25}])


if __name__ == "__main__":
    unittest.main()
