-- Replays the raw requests of the file named by WRK_POOL (a Lua chunk returning a table of
-- strings), round-robin; prints one JSON line with the totals when done.
local pool = dofile(os.getenv("WRK_POOL"))
local n = #pool
local i = 0

request = function()
  i = i % n + 1
  return pool[i]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"p50":%.3f,"p99":%.3f,"errors":%d}\n',
    summary.requests,
    summary.duration / 1e6,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout
  ))
end
