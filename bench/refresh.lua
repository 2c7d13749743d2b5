-- wrk script: POST .../{id}/refresh for ids picked at random. Arguments after "--": the
-- token, then the registration ids. Prints successful refreshes per second (2xx only).
local token
local ids = {}

function init(args)
  token = args[1]
  for i = 2, #args do ids[#ids + 1] = args[i] end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("POST", "/api/admin/matviews/" .. id .. "/refresh",
    { ["Authorization"] = "Bearer " .. token })
end

function done(summary, latency, requests)
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  local ok = summary.requests - failed
  io.write(string.format("RESULT requests=%d ok=%d ok_per_s=%.1f avg_ms=%.3f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, ok, ok / (summary.duration / 1e6), latency.mean / 1000,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
