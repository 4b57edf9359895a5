-- Shared by the endpoint scripts of scripts/bench/load.sh (wrk 4, LuaJIT).
-- Arguments after `--`: token, org handle, lowest and highest configuration id,
-- a run tag (a number that makes this run's account SIDs and tokens unique).
-- done() prints one line `BENCH_JSON {...}` that load.sh collects.

local M = {}

M.base = "/api/v2/platform/telephony/providers-configurations/"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

-- Reads the arguments and sets the headers every request carries.
function M.init(args, content_type)
  M.token = args[1]
  M.handle = args[2]
  M.id_min = tonumber(args[3]) or 1
  M.id_max = tonumber(args[4]) or M.id_min
  M.tag = (tonumber(args[5]) or 0) % 4294967296
  M.tid = tonumber(tid) or 0
  M.counter = 0
  if M.token and M.token ~= "" and M.token ~= "-" then
    wrk.headers["Authorization"] = "Token " .. M.token
  end
  if M.handle and M.handle ~= "" and M.handle ~= "-" then
    wrk.headers["Org-Handle"] = M.handle
  end
  if content_type then
    wrk.headers["Content-Type"] = "application/json"
  end
end

-- The next configuration id, round robin over the seeded ones.
function M.next_id()
  local id = M.id_min + (M.counter % (M.id_max - M.id_min + 1))
  M.counter = M.counter + 1
  return id
end

-- 32 hexadecimal characters unique to this run, thread and request.
function M.unique_hex()
  M.counter = M.counter + 1
  return string.format("%08x%08x%016x", M.tag, M.tid, M.counter)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end

return M
