"""perf.py on recorded `perf report --stdio -g none` output of tmf629d."""

import unittest

from tmfbench.perf import parse_top

from . import read_data


class ParseTopTest(unittest.TestCase):
    def test_threads(self):
        self.assertEqual(parse_top(read_data("perf_comm.txt"), 6),
                         [(75.0, "tmf629d"), (25.0, "caf.multiplexer")])

    def test_threads_by_id_keep_same_named_threads_apart(self):
        # `--sort pid` of a create slice with one hub subscription: the CAF
        # worker and the notifier's libcurl thread are both caf.multiplexer
        self.assertEqual(parse_top(read_data("perf_pid.txt"), 8),
                         [(28.17, "4038:caf.multiplexer"),
                          (25.61, "4047:caf.multiplexer"),
                          (24.66, "4041:caf.actor"), (21.5, "4045:tmf629d"),
                          (0.06, "4039:caf.clock")])

    def test_first_n_libraries(self):
        got = parse_top(read_data("perf_dso.txt"), 3)
        self.assertEqual(got, [(64.44, "[kernel.kallsyms]"), (12.78, "tmf629d"),
                               (10.28, "libc.so.6")])

    def test_symbols_cut_to_110_characters(self):
        got = parse_top(read_data("perf_sym.txt"), 15)
        self.assertEqual(len(got), 15)
        self.assertEqual(got[0], (26.67, "[k] finish_task_switch.isra.0"))
        hashtable = got[8]
        self.assertAlmostEqual(hashtable[0], 1.11)
        self.assertEqual(len(hashtable[1]), 110)
        self.assertTrue(hashtable[1].startswith("[.] std::_Hashtable<"))


if __name__ == "__main__":
    unittest.main()
