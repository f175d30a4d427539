-- wrk: POST /api/v1/status/batch with 10 updates per request for random pairs.
--   wrk -t2 -c64 -d10s -s bench/post_batch.lua http://127.0.0.1:PORT -- KEY 1000 Planning,FCCS,ARCS
-- Pairs are drawn at random, so a batch may name a pair twice (the later item
-- wins, as in one state transition); each item is still one update.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local cfg, headers, tag
local threads = 0
local batch_size = 10

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  cfg = common.parse_args(args)
  headers = common.headers(cfg, true)
  tag = "WRKB" .. tostring(thread_no or 0) .. "-" .. os.time()
  math.randomseed(os.time() * 100 + (thread_no or 0))
end

function request()
  local items = {}
  local now = common.now()
  for k = 1, batch_size do items[k] = common.item(cfg, tag, now) end
  return wrk.format("POST", "/api/v1/status/batch", headers,
                    '{"updates":[' .. table.concat(items, ",") .. "]}")
end

done = common.done
