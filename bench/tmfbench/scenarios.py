"""The scenarios of bench/lua/tmf629.lua and the ceiling each is compared
with: "http" (ceiling_http, driven by the same script in ABBA pairs) or
"lmdb" (raw durable LMDB commits batched at the connection count)."""

# Run order, which is also the order of every table.
ALL_SCENARIOS = ["get", "get-fields", "list-filter", "patch", "create",
                 "delete", "mixed"]

CEILING = {
    "get": "http",
    "get-fields": "http",
    "list-filter": "http",
    "patch": "lmdb",
    "create": "lmdb",
    "delete": "lmdb",
    "mixed": "http",
}

HTTP_BOUND = {s for s, kind in CEILING.items() if kind == "http"}
