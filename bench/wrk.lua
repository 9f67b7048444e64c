-- wrk script for bench/run.py: each request takes the next "sessionid<TAB>path" line of
-- BENCH_REQUESTS_FILE (a different user's session per line); without the file, GET the URL
-- given on the command line. Prints one JSON line with the figures the harness reads.
local lines = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

function init(args)
  local name = os.getenv("BENCH_REQUESTS_FILE")
  if name and name ~= "" then
    for line in io.lines(name) do
      local cookie, path = line:match("^(%S+)\t(%S+)$")
      if cookie then lines[#lines + 1] = {cookie, path} end
    end
  end
  n = offset or 0
end

-- BENCH_THINK_MS: each connection waits this long (±50%) between requests, as a person reading
-- the page would; 0 or unset: no wait (a saturating load).
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0") or 0

function delay()
  if think <= 0 then return 0 end
  return math.floor(think * (0.5 + math.random()))
end

function request()
  if #lines == 0 then return wrk.format("GET") end
  n = n + 1
  local item = lines[(n % #lines) + 1]
  return wrk.format("GET", item[2], {["Cookie"] = "sessionid=" .. item[1]})
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.1f, "p95_ms": %.1f, ' ..
    '"p99_ms": %.1f, "max_ms": %.1f, "errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, summary.errors.status, summary.errors.timeout))
end
