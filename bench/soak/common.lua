-- Shared by the soak's wrk scripts: counts 5xx per thread and prints one JSON line at the end
-- (wrk's own "Non-2xx" figure lumps 4xx and 5xx together).
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status >= 500 then
    c5xx = (c5xx or 0) + 1
  elseif status >= 400 then
    c4xx = (c4xx or 0) + 1
  end
end

function done(summary, latency, requests)
  local n5, n4 = 0, 0
  for _, t in ipairs(threads) do
    n5 = n5 + (t:get("c5xx") or 0)
    n4 = n4 + (t:get("c4xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_JSON {"kind":"%s","requests":%d,"seconds":%.1f,"status_5xx":%d,"status_4xx":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"latency_ms":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}}\n',
    KIND, summary.requests, summary.duration / 1e6, n5, n4, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end

function init(args)
  -- Seeded per thread: threads differ from each other, runs are repeatable.
  math.randomseed(tonumber(os.getenv("SOAK_SEED") or "7") * 1000 + tid)
end
