-- wrk script: GET one page of the registration list, from a cursor picked at random.
-- Arguments after "--": the token, the page size, then the cursors ("-" for the first page).
local token, limit
local cursors = {}

function init(args)
  token, limit = args[1], args[2]
  for i = 3, #args do cursors[#cursors + 1] = args[i] end
end

function request()
  local c = cursors[math.random(#cursors)]
  local path = "/api/admin/matviews?limit=" .. limit
  if c ~= "-" then path = path .. "&cursor=" .. c end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", summary.requests,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
