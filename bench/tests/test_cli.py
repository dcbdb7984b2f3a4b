"""cli.py: option parsing and checks."""

import argparse
import contextlib
import io
import unittest
from unittest import mock

from tmfbench import cli


def parse(*argv):
    with mock.patch.object(cli.shutil, "which", return_value="/usr/bin/wrk"):
        return cli.parse_args(["--bin-dir", "b"] + list(argv))


def exit_status_and_stderr(*argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), \
            mock.patch.object(cli.shutil, "which", return_value="/usr/bin/wrk"):
        try:
            cli.parse_args(["--bin-dir", "b"] + list(argv))
        except SystemExit as e:
            return e.code, err.getvalue()
    return None, err.getvalue()


class ParseArgsTest(unittest.TestCase):
    def test_defaults(self):
        a = parse()
        self.assertEqual(a.scenarios, ["get", "get-fields", "list-filter",
                                       "patch", "create", "delete", "mixed"])
        self.assertEqual(a.connections, [1, 16, 64, 256])
        self.assertEqual(a.openloop, [0.5, 0.8])
        self.assertEqual((a.duration, a.pairs, a.load), (3.0, 2, 10000))
        self.assertEqual(a.hub_drain_timeout, 60.0)

    def test_hub_scenarios_only_when_named_and_after_create(self):
        self.assertNotIn("create-hub1", parse().scenarios)
        self.assertEqual(parse("--scenarios",
                               "events-10,mixed,create-hub1,events-1,create,"
                               "delete").scenarios,
                         ["create", "create-hub1", "events-1", "events-10",
                          "delete", "mixed"])

    def test_scenarios_run_in_table_order(self):
        self.assertEqual(parse("--scenarios", "mixed, get,create").scenarios,
                         ["get", "create", "mixed"])

    def test_connections_sorted_and_unique(self):
        self.assertEqual(parse("--connections", "64,1,64").connections, [1, 64])

    def test_openloop_can_be_switched_off(self):
        self.assertEqual(parse("--openloop", "").openloop, [])

    def test_unknown_scenario(self):
        code, err = exit_status_and_stderr("--scenarios", "get,post")
        self.assertEqual(code, 2)
        self.assertIn("unknown scenario(s) ['post']", err)

    def test_connections_below_one(self):
        self.assertEqual(exit_status_and_stderr("--connections", "0,4")[0], 2)

    def test_remote_target_needs_allow_remote(self):
        code, err = exit_status_and_stderr("--target", "http://192.0.2.1:8080/x")
        self.assertEqual(code, 2)
        self.assertIn("not a loopback address", err)
        a = parse("--target", "http://192.0.2.1:8080/x", "--allow-remote")
        self.assertEqual(a.target, "http://192.0.2.1:8080/x")

    def test_target_must_be_http(self):
        self.assertEqual(exit_status_and_stderr(
            "--target", "https://127.0.0.1/x")[0], 2)

    def test_wrk_required(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), \
                mock.patch.object(cli.shutil, "which", return_value=None), \
                self.assertRaises(SystemExit):
            cli.parse_args(["--bin-dir", "b"])
        self.assertIn("wrk not found", err.getvalue())


class ScenarioTableTest(unittest.TestCase):
    def test_every_scenario_has_a_ceiling_kind(self):
        from tmfbench import scenarios
        self.assertEqual(set(scenarios.CEILING), set(scenarios.ALL_SCENARIOS))
        self.assertEqual(set(scenarios.HUB_SUBSCRIPTIONS),
                         set(scenarios.HUB_SCENARIOS))

    def test_hub_scenarios_drive_the_create_script(self):
        from tmfbench import scenarios
        for s in scenarios.HUB_SCENARIOS:
            self.assertEqual(scenarios.script_scenario(s), "create")
        self.assertEqual(scenarios.script_scenario("get"), "get")

    def test_the_script_knows_every_scenario_it_is_given(self):
        # tmf629.lua answers an unknown scenario with idle GETs: every
        # scenario the driver runs must be one of its branches
        from tmfbench import scenarios
        from tmfbench.common import SCRIPT
        with open(SCRIPT) as f:
            lua = f.read()
        for s in scenarios.ALL_SCENARIOS:
            self.assertIn('scenario == "%s"' % scenarios.script_scenario(s),
                          lua, s)


class DurationTest(unittest.TestCase):
    def test_units(self):
        self.assertEqual(cli.parse_duration("3s"), 3.0)
        self.assertEqual(cli.parse_duration("500ms"), 0.5)
        self.assertEqual(cli.parse_duration("2m"), 120.0)
        self.assertEqual(cli.parse_duration("1.5"), 1.5)

    def test_bad(self):
        with self.assertRaises(argparse.ArgumentTypeError):
            cli.parse_duration("3h")


class LoopbackTest(unittest.TestCase):
    def test_loopback_names_and_literals(self):
        for host in ("localhost", "127.0.0.1", "127.3.2.1", "[::1]"):
            self.assertTrue(cli.is_loopback(host), host)

    def test_other_addresses(self):
        for host in ("192.0.2.1", "[2001:db8::1]"):
            self.assertFalse(cli.is_loopback(host), host)


if __name__ == "__main__":
    unittest.main()
