"""The event hub's measurements: the event sink (bench/event_sink, a
RESTinio receiver the harness starts), hub subscriptions of the service
under test (POST/DELETE {base}/hub), waiting until every event of a slice
reached the sink (bounded), and the figures of a hub slice: events
delivered against expected, events/s, delay from eventTime to receipt."""

import http.client
import json
import os
import time
import urllib.parse

from .procs import pinned

# What a subscription of the bench selects: every create (each create slice
# of a hub scenario produces exactly one CustomerCreateEvent per create).
QUERY = "eventType=CustomerCreateEvent"

# The keys GET /stats of event_sink always has.
STATS_KEYS = ("count", "bad_time", "bytes", "samples", "first_unix_s",
              "last_unix_s", "delay_ms", "paths")
DELAY_KEYS = ("min", "p50", "p90", "p99", "max")


def start_event_sink(procs, bin_dir, out_dir, cpus):
    """Starts event_sink on 127.0.0.1 with a free port (pinned to cpus);
    returns (Popen, its base URL without a trailing slash)."""
    p, m = procs.start(
        "event_sink",
        pinned([os.path.join(bin_dir, "event_sink"),
                "--address", "127.0.0.1", "--port", "0"], cpus),
        stdout_path=os.path.join(out_dir, "event_sink.log"),
        ready_re=r"listening on (http://\S+?)/?$")
    return p, m.group(1)


def _request(url, method, body=None, timeout=10.0):
    """(status, headers dict with lower-case names, body text)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, u.path + (("?" + u.query) if u.query else ""),
                     body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", errors="replace")
        return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                text)
    finally:
        conn.close()


def parse_stats(text):
    """event_sink's GET /stats JSON, checked: a dict with STATS_KEYS and
    delay_ms holding DELAY_KEYS (ValueError otherwise)."""
    d = json.loads(text)
    missing = [k for k in STATS_KEYS if k not in d]
    missing += ["delay_ms." + k for k in DELAY_KEYS
                if k not in (d.get("delay_ms") or {})]
    if missing:
        raise ValueError("event_sink stats without %s" % ", ".join(missing))
    return d


def sink_stats(sink_url):
    status, _, text = _request(sink_url + "/stats", "GET")
    if status != 200:
        raise RuntimeError("event_sink GET /stats answered %d" % status)
    return parse_stats(text)


def sink_reset(sink_url):
    status, _, _ = _request(sink_url + "/reset", "POST", body="")
    if status not in (200, 204):
        raise RuntimeError("event_sink POST /reset answered %d" % status)


def subscription_body(callback, query=QUERY):
    return json.dumps({"callback": callback, "query": query})


def parse_subscription(status, text):
    """The id of the subscription POST {base}/hub made (201), else
    RuntimeError with what the service said."""
    if status != 201:
        raise RuntimeError("POST /hub answered %d: %s" % (status, text[:300]))
    try:
        sub_id = json.loads(text)["id"]
    except (ValueError, KeyError, TypeError):
        raise RuntimeError("POST /hub answered 201 without an id: %s"
                           % text[:300])
    if not isinstance(sub_id, str) or not sub_id:
        raise RuntimeError("POST /hub answered a bad id: %r" % (sub_id,))
    return sub_id


def subscribe(base_url, callback, query=QUERY):
    """POST {base}/hub; returns the subscription's id."""
    status, _, text = _request(base_url + "/hub", "POST",
                               body=subscription_body(callback, query))
    return parse_subscription(status, text)


def unsubscribe(base_url, sub_id):
    """DELETE {base}/hub/{id}; True when the service answered 204."""
    try:
        status, _, _ = _request(base_url + "/hub/" + sub_id, "DELETE")
    except (OSError, http.client.HTTPException):
        return False
    return status == 204


def wait_for_events(sink_url, expected, timeout, stall=10.0, poll=0.1):
    """Polls the sink until it counted `expected` events, at most `timeout`
    seconds, or until its count did not move for `stall` seconds. Returns
    (stats, seconds waited)."""
    t0 = time.monotonic()
    last_count, last_move = -1, t0
    while True:
        st = sink_stats(sink_url)
        now = time.monotonic()
        if st["count"] >= expected:
            return st, now - t0
        if st["count"] != last_count:
            last_count, last_move = st["count"], now
        if now - t0 >= timeout or now - last_move >= stall:
            return st, now - t0
        time.sleep(poll)


def event_figures(stats, expected, subscriptions, slice_end_unix_s, waited_s):
    """The figures of one hub slice from the sink's stats after the wait:
    events received and expected (committed creates x subscriptions),
    complete, events/s over the sink's receive window (first to last
    event), the delivery tail after the slice ended, and the delay from
    eventTime to receipt (ms; eventTime has millisecond resolution,
    truncated, so delays are overstated by up to 1 ms)."""
    n = stats["count"]
    window = stats["last_unix_s"] - stats["first_unix_s"] if n else 0.0
    return {
        "subscriptions": subscriptions,
        "events": n,
        "expected": expected,
        "complete": n >= expected,
        "bad_time": stats["bad_time"],
        "window_s": window,
        "events_per_s": n / window if window > 0 else None,
        "tail_s": (max(0.0, stats["last_unix_s"] - slice_end_unix_s)
                   if n else None),
        "waited_s": waited_s,
        "delay_ms": {k: stats["delay_ms"][k] for k in DELAY_KEYS},
        "paths": stats["paths"],
    }
