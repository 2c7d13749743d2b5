-- wrk script: GET of the URL given to wrk, with an optional bearer token after "--"; prints the
-- same RESULT line as refresh.lua (for the machine's HTTP floor next to a refresh).
local token

function init(args)
  token = args[1]
end

function request()
  local headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", nil, headers)
end

function done(summary, latency, requests)
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  local ok = summary.requests - failed
  io.write(string.format("RESULT requests=%d ok=%d ok_per_s=%.1f avg_ms=%.3f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, ok, ok / (summary.duration / 1e6), latency.mean / 1000,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
