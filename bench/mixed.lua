-- wrk: 90 % POST /api/v1/status (random pair), 10 % GET /api/v1/status.
--   wrk -t2 -c64 -d10s -s bench/mixed.lua http://127.0.0.1:PORT -- KEY 150 Planning,FCCS,ARCS [gzip]
-- With "gzip" the reads send Accept-Encoding: gzip, as dashboards in browsers do.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local cfg, post_headers, get_req, tag
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  cfg = common.parse_args(args)
  post_headers = common.headers(cfg, true)
  local get_headers = common.headers(cfg, false)
  if args[4] == "gzip" then get_headers["Accept-Encoding"] = "gzip" end
  get_req = wrk.format("GET", "/api/v1/status", get_headers)
  tag = "WRKM" .. tostring(thread_no or 0) .. "-" .. os.time()
  math.randomseed(os.time() * 100 + (thread_no or 0))
end

function request()
  if math.random() < 0.1 then
    return get_req
  end
  return wrk.format("POST", "/api/v1/status", post_headers, common.item(cfg, tag))
end

done = common.done
