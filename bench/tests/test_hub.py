"""hub.py on recorded output: event_sink's GET /stats after 13,312 events
from tmf629d (sink_stats.json), tmf629d's answer to POST /hub, and the
events tmf629d delivered to a listener (hub_events.txt: a create with a
correlation id, a patch of name and status, a delete). When event_sink is
built (build-bench/ or build/, or $EVENT_SINK), it is run on those
events."""

import json
import os
import subprocess
import time
import unittest
from unittest import mock

from tmfbench import hub
from tmfbench.common import REPO

from . import read_data

# tmf629d's answer to POST {base}/hub (recorded).
HUB_201 = ('{"callback":"http://127.0.0.1:43739/s0","id":'
           '"33i3l5e7hj26xjunxpkg6b4ewv","query":"eventType=CustomerCreateEvent"}')
HUB_400 = ('{"@type":"Error","code":"400","reason":"Bad Request","message":'
           '"callback: not an absolute http(s) URL","status":"400"}')


class StatsTest(unittest.TestCase):
    def test_recorded_stats(self):
        st = hub.parse_stats(read_data("sink_stats.json"))
        self.assertEqual((st["count"], st["bad_time"], st["samples"]),
                         (13312, 0, 13312))
        self.assertEqual(st["delay_ms"]["p50"], 14.703)
        self.assertEqual(st["delay_ms"]["p99"], 34.309)
        self.assertEqual(st["paths"], {"/s0": 13312})

    def test_missing_keys_are_named(self):
        d = json.loads(read_data("sink_stats.json"))
        del d["last_unix_s"]
        del d["delay_ms"]["p99"]
        with self.assertRaises(ValueError) as e:
            hub.parse_stats(json.dumps(d))
        self.assertIn("last_unix_s", str(e.exception))
        self.assertIn("delay_ms.p99", str(e.exception))


class SubscriptionTest(unittest.TestCase):
    def test_id_of_a_created_subscription(self):
        self.assertEqual(hub.parse_subscription(201, HUB_201),
                         "33i3l5e7hj26xjunxpkg6b4ewv")

    def test_refused_subscription(self):
        with self.assertRaises(RuntimeError) as e:
            hub.parse_subscription(400, HUB_400)
        self.assertIn("POST /hub answered 400", str(e.exception))
        self.assertIn("not an absolute http(s) URL", str(e.exception))

    def test_201_without_id(self):
        for text in ('{"callback":"x"}', "not json", '{"id":""}'):
            with self.assertRaises(RuntimeError, msg=text):
                hub.parse_subscription(201, text)

    def test_body_selects_every_create(self):
        self.assertEqual(json.loads(hub.subscription_body("http://h/p")),
                         {"callback": "http://h/p",
                          "query": "eventType=CustomerCreateEvent"})


class FiguresTest(unittest.TestCase):
    def setUp(self):
        self.stats = hub.parse_stats(read_data("sink_stats.json"))
        # the slice of that recording ended at 16:20:09.500 UTC
        self.end = 1796142009.5

    def test_complete_slice(self):
        f = hub.event_figures(self.stats, 13312, 1, self.end, 0.25)
        self.assertTrue(f["complete"])
        self.assertEqual((f["events"], f["expected"], f["subscriptions"]),
                         (13312, 13312, 1))
        window = 1796142009.783164 - 1796141972.717477
        self.assertAlmostEqual(f["window_s"], window)
        self.assertAlmostEqual(f["events_per_s"], 13312 / window)
        self.assertAlmostEqual(f["tail_s"], 0.283164, places=5)
        self.assertEqual(f["waited_s"], 0.25)
        self.assertEqual(f["delay_ms"], {"min": 2.477, "p50": 14.703,
                                         "p90": 20.139, "p99": 34.309,
                                         "max": 42.081})

    def test_events_missing(self):
        f = hub.event_figures(self.stats, 13313, 1, self.end, 60.0)
        self.assertFalse(f["complete"])

    def test_nothing_received(self):
        st = hub.parse_stats(json.dumps({
            "count": 0, "bad_time": 0, "bytes": 0, "samples": 0,
            "first_unix_s": 0, "last_unix_s": 0, "paths": {},
            "delay_ms": {k: 0 for k in hub.DELAY_KEYS}}))
        f = hub.event_figures(st, 10, 1, self.end, 60.0)
        self.assertEqual((f["events_per_s"], f["tail_s"], f["complete"]),
                         (None, None, False))


def stats_with(count):
    d = json.loads(read_data("sink_stats.json"))
    d["count"] = count
    return d


class WaitTest(unittest.TestCase):
    def test_returns_once_every_event_is_in(self):
        seq = iter([stats_with(5), stats_with(9), stats_with(10),
                    stats_with(99)])
        with mock.patch.object(hub, "sink_stats", lambda url: next(seq)):
            st, _ = hub.wait_for_events("http://s", 10, timeout=5, poll=0)
        self.assertEqual(st["count"], 10)

    def test_gives_up_when_the_count_stalls(self):
        calls = []

        def stats(url):
            calls.append(1)
            return stats_with(3)
        t0 = time.monotonic()
        with mock.patch.object(hub, "sink_stats", stats):
            st, waited = hub.wait_for_events("http://s", 10, timeout=5,
                                             stall=0.05, poll=0.01)
        self.assertEqual(st["count"], 3)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertGreaterEqual(waited, 0.05)
        self.assertGreater(len(calls), 1)


def find_event_sink():
    for p in (os.environ.get("EVENT_SINK"),
              os.path.join(REPO, "build-bench", "bench", "event_sink"),
              os.path.join(REPO, "build", "bench", "event_sink")):
        if p and os.access(p, os.X_OK):
            return p
    return None


SINK = find_event_sink()


@unittest.skipUnless(SINK, "event_sink not built")
class EventSinkTest(unittest.TestCase):
    """The built event_sink on the events tmf629d delivered, with their
    eventTime moved to known offsets from now."""

    def setUp(self):
        self.p = subprocess.Popen([SINK, "--port", "0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline()
        self.assertTrue(line.startswith("listening on http://127.0.0.1:"), line)
        self.url = line.split()[-1].rstrip("/")

    def tearDown(self):
        self.p.terminate()
        self.p.wait(timeout=10)
        self.p.stdout.close()

    def post(self, path, body):
        return hub._request(self.url + path, "POST", body=body)

    @staticmethod
    def with_time(event, text):
        d = json.loads(event)
        d["eventTime"] = text
        return json.dumps(d)

    def test_counts_times_and_resets(self):
        events = read_data("hub_events.txt").splitlines()
        self.assertEqual(len(events), 4)
        now = time.time()

        def rfc3339(t, frac=True):
            s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
            return s + (".%03dZ" % int((t % 1) * 1000) if frac else "Z")
        # 2 s, 4 s (as +01:00 local time) and 6 s (no fraction) ago
        bodies = [self.with_time(events[0], rfc3339(now - 2)),
                  self.with_time(events[1], time.strftime(
                      "%Y-%m-%dT%H:%M:%S", time.gmtime(now - 4 + 3600))
                      + ".%06d+01:00" % int(((now - 4) % 1) * 1e6)),
                  self.with_time(events[2], rfc3339(now - 6, frac=False)),
                  self.with_time(events[3], "yesterday")]
        for i, b in enumerate(bodies):
            status, _, text = self.post("/sub%d" % (i % 2), b)
            self.assertEqual((status, text), (201, ""))
        status, _, text = hub._request(self.url + "/stats", "GET")
        self.assertEqual(status, 200)
        st = hub.parse_stats(text)
        self.assertEqual((st["count"], st["bad_time"], st["samples"]), (4, 1, 3))
        self.assertEqual(st["paths"], {"/sub0": 2, "/sub1": 2})
        self.assertEqual(st["bytes"], sum(len(b) for b in bodies))
        d = st["delay_ms"]
        self.assertAlmostEqual(d["min"], 2000, delta=500)
        self.assertAlmostEqual(d["p50"], 4000, delta=500)
        self.assertAlmostEqual(d["max"], 6000, delta=1500)  # no fraction
        self.assertLessEqual(st["first_unix_s"], st["last_unix_s"])
        self.assertAlmostEqual(st["first_unix_s"], now, delta=5)

        status, _, _ = self.post("/reset", "")
        self.assertEqual(status, 204)
        st = hub.parse_stats(hub._request(self.url + "/stats", "GET")[2])
        self.assertEqual((st["count"], st["samples"], st["paths"]), (0, 0, {}))

    def test_recorded_events_have_a_readable_time(self):
        for e in read_data("hub_events.txt").splitlines():
            self.assertEqual(self.post("/x", e)[0], 201)
        st = hub.parse_stats(hub._request(self.url + "/stats", "GET")[2])
        self.assertEqual((st["count"], st["bad_time"]), (4, 0))
        # recorded on 2026-12-01 16:29:26 UTC: delays are at least the age
        recorded = 1796142566.0
        self.assertGreater(st["delay_ms"]["min"],
                           (time.time() - recorded - 60) * 1000)


if __name__ == "__main__":
    unittest.main()
