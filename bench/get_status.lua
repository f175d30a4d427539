-- wrk: GET /api/v1/status (the whole state) with a read key.
--   wrk -t2 -c64 -d10s -s bench/get_status.lua http://127.0.0.1:PORT -- KEY [gzip]
-- With "gzip" it sends Accept-Encoding: gzip, as browsers and
-- `curl --compressed` do.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local req

function init(args)
  local headers = common.headers(common.parse_args(args), false)
  if args[2] == "gzip" then headers["Accept-Encoding"] = "gzip" end
  req = wrk.format("GET", "/api/v1/status", headers)
end

function request()
  return req
end

done = common.done
