-- Shared wrk helpers for bench/ scenarios (wrk 4.1, LuaJIT).
-- Every scenario script does: dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
-- Arguments after `--` on the wrk command line are KEY=VALUE pairs
-- (ids=FILE, names=FILE, base=/prefix, seed=N, ...), read with arg_map().
--
-- Counting: response() counts every non-2xx status (wrk itself only counts
-- status > 399) and, per thread, the statuses seen; done() prints one line
-- "BENCHJSON {...}" with wrk's summary, latency percentiles (closed loop:
-- measured from the actual send on a connection, so they include server
-- queueing but not the client's coordinated omission) and these counters.

local ffi = require("ffi")
ffi.cdef[[
typedef long time_t;
typedef struct { time_t tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec* tp);
]]
local ts = ffi.new("bench_timespec")

function now_s()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

function arg_map(args)
  local m = {}
  for _, a in ipairs(args or {}) do
    local k, v = a:match("^([^=]+)=(.*)$")
    if k then m[k] = v end
  end
  return m
end

function read_lines(path, limit)
  local out = {}
  if not path or path == "" then return out end
  local f = io.open(path, "r")
  if not f then return out end
  for line in f:lines() do
    if line ~= "" then
      out[#out + 1] = line
      if limit and #out >= limit then break end
    end
  end
  f:close()
  return out
end

function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- Base path of the API (the URL's path), without a trailing slash.
function api_base()
  local p = wrk.path or "/"
  p = p:gsub("/+$", "")
  return p
end

-- Per-thread counters, read by done() through thread:get().
non2xx = 0
statuses = {}
stopped_at = 0
started_at = 0
extra = ""

function count_status(status)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function status_summary()
  local parts = {}
  for k, v in pairs(statuses) do
    parts[#parts + 1] = string.format('"%d":%d', k, v)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- Stops this thread early (e.g. the delete pool is used up) and remembers
-- when, so done() can report the real active time.
function stop_now()
  stopped_at = now_s()
  wrk.thread:stop()
end

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local n2, st, active, ex = 0, {}, 0, {}
  for _, t in ipairs(threads) do
    n2 = n2 + (t:get("non2xx") or 0)
    local s = t:get("status_json_cache")
    if s and s ~= "{}" then st[#st + 1] = s end
    local a, b = t:get("started_at") or 0, t:get("stopped_at") or 0
    if b > 0 and a > 0 and b - a > active then active = b - a end
    local e = t:get("extra")
    if e and e ~= "" then ex[#ex + 1] = e end
  end
  local function p(q) return latency:percentile(q) end
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status_ge_400":%d,"timeout":%d},' ..
    '"non2xx":%d,"statuses":[%s],"stopped_early_active_s":%.6f,"extra":[%s],' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    n2, table.concat(st, ","), active, table.concat(ex, ","),
    latency.min, latency.mean, latency.max, latency.stdev,
    p(50), p(90), p(99), p(99.9)))
end

-- thread:get() cannot fetch tables: keep a JSON copy of the status counts.
status_json_cache = "{}"
local refresh = 0
function count_and_cache(status)
  count_status(status)
  if status < 200 or status > 299 then
    refresh = refresh + 1
    if refresh < 100 or refresh % 100 == 0 then
      status_json_cache = status_summary()
    end
  end
end
