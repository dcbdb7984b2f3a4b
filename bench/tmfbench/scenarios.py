"""The scenarios of bench/lua/tmf629.lua and the ceiling each is compared
with: "http" (ceiling_http, driven by the same script in ABBA pairs),
"lmdb" (raw durable LMDB commits batched at the connection count),
"baseline" (the same service doing the same creates without a hub
subscription, in ABBA pairs) or "events" (no ceiling: the events the sink
received, their rate and delay)."""

# Run order, which is also the order of every table.
ALL_SCENARIOS = ["get", "get-fields", "list-filter", "patch", "create",
                 "create-hub1", "events-1", "events-10", "delete", "mixed"]

# The event hub's scenarios add about 2-4 minutes to a default run
# (drains, subscriptions, pairs), so they run only when named.
HUB_SCENARIOS = ["create-hub1", "events-1", "events-10"]

DEFAULT_SCENARIOS = [s for s in ALL_SCENARIOS if s not in HUB_SCENARIOS]

CEILING = {
    "get": "http",
    "get-fields": "http",
    "list-filter": "http",
    "patch": "lmdb",
    "create": "lmdb",
    "create-hub1": "baseline",
    "events-1": "events",
    "events-10": "events",
    "delete": "lmdb",
    "mixed": "http",
}

HTTP_BOUND = {s for s, kind in CEILING.items() if kind == "http"}

# Scenarios measured as pairs of slices (ceiling or baseline, service).
PAIRED = {s for s, kind in CEILING.items() if kind in ("http", "baseline")}

# Hub subscriptions (to the event sink) during a scenario's measured slices.
HUB_SUBSCRIPTIONS = {"create-hub1": 1, "events-1": 1, "events-10": 10}

# The scenario of tmf629.lua a harness scenario drives.
SCRIPT_SCENARIO = {"create-hub1": "create", "events-1": "create",
                   "events-10": "create"}


def script_scenario(s):
    """The tmf629.lua scenario behind harness scenario s."""
    return SCRIPT_SCENARIO.get(s, s)
