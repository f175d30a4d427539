-- wrk: POST /api/v1/status, one update per request for a random (app, domain).
--   wrk -t2 -c64 -d10s -s bench/post_status.lua http://127.0.0.1:PORT -- KEY 150 Planning,FCCS,ARCS
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local cfg, headers, tag
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  cfg = common.parse_args(args)
  headers = common.headers(cfg, true)
  tag = "WRK" .. tostring(thread_no or 0) .. "-" .. os.time()
  math.randomseed(os.time() * 100 + (thread_no or 0))
end

function request()
  return wrk.format("POST", "/api/v1/status", headers, common.item(cfg, tag))
end

done = common.done
