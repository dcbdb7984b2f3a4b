-- wrk scenario script for a TMF629 Customer Management v4 API.
-- Usage: wrk -t1 -cN -dD -s tmf629.lua http://HOST:PORT/tmf-api/customerManagement/v4 \
--          -- scenario=NAME ids=FILE names=FILE out=FILE offset=N count=N seed=N
--          [apikey=KEY]   (sent as X-API-Key on every request)
-- Scenarios:
--   get          GET /customer/{random existing id}
--   get-fields   GET /customer/{id}?fields=name,status,contactMedium
--   list-filter  GET /customer?name={random existing name}&limit=20
--   patch        PATCH /customer/{id} merge patch: status or a characteristic
--   create       POST /customer, unique ~1 KiB body; created ids -> out=FILE
--   load         like create, names from a fixed set (list-filter finds them);
--                exits wrk after count=N responses (prints no BENCHJSON line)
--   delete       DELETE /customer/{id} for ids[offset+1 .. offset+count],
--                each exactly once; stops when the pool is used up
--   mixed        70% get, 15% patch, 10% create, 5% list-filter
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local cfg, base, scenario
local pre = {}          -- pre-formatted requests for the read scenarios
local pre_patch = {}
local pre_list = {}
local ids, names = {}, {}
local seq, seed = 0, 0
local received = 0
local out_file
local pool_next, pool_end = 1, 0
local mode_stop_after = 0
local idle_req

local PRE_MAX = 50000
local json_hdr = { ["Content-Type"] = "application/json" }
local patch_hdr = { ["Content-Type"] = "application/merge-patch+json" }

local patches = {
  '{"status":"Approved"}',
  '{"status":"Validated"}',
  '{"characteristic":[{"name":"segment","value":"smb"},{"name":"creditScore","value":655},{"name":"preferredLanguage","value":"fr-FR"}]}',
  '{"characteristic":[{"name":"segment","value":"enterprise"},{"name":"creditScore","value":742},{"name":"preferredLanguage","value":"en-GB"}]}',
}

-- A realistic ~1 KiB Customer_Create body (no id/href), unique per call.
local function customer_body(name, n)
  local tag = string.format("%d-%d", seed, n)
  return string.format(
    '{"name":"%s","status":"Initialized","validFor":{"startDateTime":"2026-01-15T09:30:00Z"},' ..
    '"engagedParty":{"id":"org-%s","name":"%s Ltd","@referredType":"Organization"},' ..
    '"contactMedium":[{"mediumType":"email","preferred":true,"characteristic":{"emailAddress":"billing.%s@example.com","contactType":"billing"}},' ..
    '{"mediumType":"telephoneNumber","preferred":false,"characteristic":{"phoneNumber":"+44 20 7946 %04d","contactType":"office"}},' ..
    '{"mediumType":"postalAddress","characteristic":{"street1":"%d Quay Street","city":"Bristol","postCode":"BS1 4XY","country":"GB"}}],' ..
    '"characteristic":[{"name":"segment","value":"%s"},{"name":"creditScore","value":%d},{"name":"preferredLanguage","value":"en-GB"}],' ..
    '"relatedParty":[{"id":"ind-%s","name":"Ada Lovelace","role":"accountManager","@referredType":"Individual"}],' ..
    '"@type":"Customer"}',
    name, tag, name, tag, n % 10000, n % 500 + 1,
    (n % 3 == 0) and "enterprise" or "smb", 300 + n % 550, tag)
end

local function create_request()
  seq = seq + 1
  local name
  if scenario == "load" then
    name = names[(seq - 1) % #names + 1]
  else
    name = string.format("Bench Customer %d-%d", seed, seq)
  end
  return wrk.format("POST", base .. "/customer", json_hdr, customer_body(name, seq))
end

local function pick(t)
  return t[math.random(#t)]
end

function init(args)
  cfg = arg_map(args)
  scenario = cfg.scenario or "get"
  base = api_base()
  seed = tonumber(cfg.seed or "0") or 0
  if seed == 0 then seed = os.time() % 100000 end
  math.randomseed(seed * 7919 + (thread_index or 0))
  if cfg.apikey then
    wrk.headers["X-API-Key"] = cfg.apikey
    json_hdr["X-API-Key"] = cfg.apikey
    patch_hdr["X-API-Key"] = cfg.apikey
  end
  ids = read_lines(cfg.ids)
  names = read_lines(cfg.names)
  if #names == 0 then names = { "Load Customer 0000" } end
  if cfg.out and cfg.out ~= "" then
    out_file = io.open(cfg.out, "a")
    out_file:setvbuf("line")
  end
  idle_req = wrk.format("GET", base .. "/customer?limit=1")
  local needs_ids = { get = true, ["get-fields"] = true, patch = true,
                      mixed = true, delete = true }
  if needs_ids[scenario] and #ids == 0 then
    io.stderr:write("tmf629.lua: scenario " .. scenario .. " needs ids=FILE\n")
    os.exit(2)
  end
  local n = math.min(PRE_MAX, math.max(#ids, 1))
  if scenario == "get" or scenario == "mixed" then
    for i = 1, n do pre[i] = wrk.format("GET", base .. "/customer/" .. pick(ids)) end
  elseif scenario == "get-fields" then
    for i = 1, n do
      pre[i] = wrk.format("GET", base .. "/customer/" .. pick(ids) ..
                          "?fields=name,status,contactMedium")
    end
  end
  if scenario == "patch" or scenario == "mixed" then
    for i = 1, n do
      pre_patch[i] = wrk.format("PATCH", base .. "/customer/" .. pick(ids),
                                patch_hdr, pick(patches))
    end
  end
  if scenario == "list-filter" or scenario == "mixed" then
    for i = 1, math.min(PRE_MAX, math.max(#names, 1) * 4) do
      pre_list[i] = wrk.format("GET", base .. "/customer?name=" ..
                               urlencode(pick(names)) .. "&limit=20")
    end
  end
  if scenario == "delete" then
    local offset = tonumber(cfg.offset or "0") or 0
    local count = tonumber(cfg.count or tostring(#ids)) or #ids
    pool_next = offset + 1
    pool_end = math.min(#ids, offset + count)
  end
  if scenario == "load" then
    mode_stop_after = tonumber(cfg.count or "1000") or 1000
  end
end

local consumed = 0

local verified = false

function request()
  -- wrk calls request() once before the run to verify it (thread 0 only):
  -- answer that call without side effects.
  if not verified then
    verified = true
    return idle_req
  end
  if started_at == 0 then started_at = now_s() end
  if scenario == "get" or scenario == "get-fields" then
    return pre[math.random(#pre)]
  elseif scenario == "list-filter" then
    return pre_list[math.random(#pre_list)]
  elseif scenario == "patch" then
    return pre_patch[math.random(#pre_patch)]
  elseif scenario == "create" or scenario == "load" then
    return create_request()
  elseif scenario == "delete" then
    if pool_next > pool_end then
      return idle_req -- pool used up; response() stops the thread
    end
    local id = ids[pool_next]
    pool_next = pool_next + 1
    consumed = consumed + 1
    extra = string.format('{"consumed":%d}', consumed)
    return wrk.format("DELETE", base .. "/customer/" .. id)
  elseif scenario == "mixed" then
    local r = math.random()
    if r < 0.70 then return pre[math.random(#pre)]
    elseif r < 0.85 then return pre_patch[math.random(#pre_patch)]
    elseif r < 0.95 then return create_request()
    else return pre_list[math.random(#pre_list)] end
  end
  return idle_req
end

local function created_id(headers, body)
  local loc = headers["Location"] or headers["location"]
  if loc then
    local id = loc:match("/customer/([^/?#]+)$")
    if id then return id end
  end
  if body then
    local id = body:match('/customer/([^"/?#]+)"')
    if id then return id end
    return body:match('"id"%s*:%s*"([^"]+)"')
  end
end

function response(status, headers, body)
  received = received + 1
  count_and_cache(status)
  if out_file and status == 201 then
    local id = created_id(headers, body)
    if id then out_file:write(id, "\n") end
  end
  if scenario == "load" and received >= mode_stop_after then
    -- wrk would wait out its whole -d even after thread:stop(); the ids are
    -- on disk (line-buffered), so end the process now (no summary line).
    if out_file then out_file:flush() end
    os.exit(0)
  elseif scenario == "delete" and pool_next > pool_end and stopped_at == 0 then
    -- every pool id has been sent; stop once they are answered (at most
    -- one idle GET per connection is sent meanwhile)
    if received >= consumed then stop_now() end
  end
end
