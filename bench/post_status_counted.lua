-- wrk: as post_status.lua, and counts the 200 answers and those saying
-- "applied":true, for the zero-loss check against the database's audit rows
-- (bench/pg.sh). Prints them as one line prefixed "WRKACKED " before wrk's
-- figures.
--   wrk -t1 -c32 -d10s -s bench/post_status_counted.lua http://127.0.0.1:PORT -- KEY 150 Planning,FCCS,ARCS
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local cfg, headers, tag
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  cfg = common.parse_args(args)
  headers = common.headers(cfg, true)
  tag = "WRK" .. tostring(thread_no or 0) .. "-" .. os.time()
  math.randomseed(os.time() * 100 + (thread_no or 0))
  acked = 0
  applied = 0
end

function request()
  return wrk.format("POST", "/api/v1/status", headers, common.item(cfg, tag))
end

function response(status, _, body)
  if status == 200 then
    acked = acked + 1
    if body and body:find('"applied":true', 1, true) then
      applied = applied + 1
    end
  end
end

function done(summary, latency, requests)
  local a, p = 0, 0
  for _, t in ipairs(threads) do
    a = a + (t:get("acked") or 0)
    p = p + (t:get("applied") or 0)
  end
  io.write(string.format('WRKACKED {"acked":%d,"applied":%d}\n', a, p))
  common.done(summary, latency, requests)
end
