-- Shared by the wrk scripts in bench/: argument parsing, the app/domain
-- layout (the same as load_client and run.sh: pair i is app apps[i % #apps]
-- with domain "D%05d" % i), realistic update bodies, and a `done` that
-- prints wrk's figures as one JSON line prefixed "WRKJSON ".
--
-- Script arguments (after `--` on wrk's command line):
--   1 API key (Bearer)   2 number of domains (150)   3 apps ("Planning,FCCS,ARCS")

local M = {}

function M.parse_args(args)
  local cfg = {key = args[1] or "", domains = tonumber(args[2] or "150"), apps = {}}
  for app in string.gmatch(args[3] or "Planning,FCCS,ARCS", "[^,]+") do
    cfg.apps[#cfg.apps + 1] = app
  end
  return cfg
end

function M.headers(cfg, with_body)
  local h = {["Authorization"] = "Bearer " .. cfg.key}
  if with_body then h["Content-Type"] = "application/json" end
  return h
end

local statuses = {"Loading", "OK", "Warning"}
local seq = 0

-- The event time the items of one request carry (whole seconds, UTC).
function M.now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

-- One update for a random pair; job ids are unique per thread and request so
-- that no update is answered "unchanged" without a write. `timestamp`
-- defaults to now; a batch passes one for all its items, as a job sending a
-- batch would (and formatting the date ten times per request cost wrk CPU
-- that the server under test needs on these 2-core machines).
function M.item(cfg, tag, timestamp)
  local i = math.random(0, cfg.domains - 1)
  seq = seq + 1
  local status = statuses[seq % 3 + 1]
  local body = string.format(
    '{"app":"%s","domain":"D%05d","status":"%s","job_id":"%s-%d","timestamp":"%s"',
    cfg.apps[i % #cfg.apps + 1], i, status, tag, seq, timestamp or M.now())
  if status ~= "Loading" then
    body = body .. string.format(',"message":"rows loaded: %d"', math.random(1, 99999))
  end
  return body .. "}"
end

local function ms(us) return us / 1000.0 end

function M.done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"tool":"wrk","requests":%d,"duration_s":%.3f,"req_per_s":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d}\n',
    summary.requests, secs, summary.requests / secs,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), e.connect + e.read + e.write + e.timeout + e.status,
    e.connect, e.read, e.write, e.timeout, e.status))
end

return M
