-- wrk: GET /api/v1/status (the whole state) with a read key.
--   wrk -t2 -c64 -d10s -s bench/get_status.lua http://127.0.0.1:PORT -- KEY
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local req

function init(args)
  local cfg = common.parse_args(args)
  req = wrk.format("GET", "/api/v1/status", common.headers(cfg, false))
end

function request()
  return req
end

done = common.done
