-- POSTs the bodies of BODY_FILE (one per line, sent in turn; bench/src Bodies writes them) with
-- CONTENT_TYPE (and optional COOKIE) to the URL given to wrk, and prints one machine-readable
-- summary line at the end.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local bodies = {}
for line in f:read("*a"):gmatch("[^\n]+") do bodies[#bodies + 1] = line end
f:close()
assert(#bodies > 0, "no body in " .. os.getenv("BODY_FILE"))
wrk.method = "POST"
wrk.body = bodies[1]
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
if os.getenv("COOKIE") and os.getenv("COOKIE") ~= "" then
  wrk.headers["Cookie"] = os.getenv("COOKIE")
end

local next_body = 0
local function body_index()
  next_body = next_body % #bodies + 1
  return next_body
end

-- CLIENT_IDS=1: every {ID} in a body becomes a fresh random UUIDv4 in each request (client-made
-- event ids, as alloy sends them), so no request repeats an id.
if os.getenv("CLIENT_IDS") == "1" then
  local pieces = {}
  for b = 1, #bodies do
    local parts = {}
    for piece in (bodies[b] .. "{ID}"):gmatch("(.-){ID}") do parts[#parts + 1] = piece end
    pieces[b] = parts
  end
  local random = math.random
  math.randomseed(os.time() + os.clock() * 1e6)
  local function uuid()
    return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", random(0, 65535), random(0, 65535),
      random(0, 65535), random(0, 4095), random(32768, 49151), random(0, 65535), random(0, 65535), random(0, 65535))
  end
  request = function()
    local parts = pieces[body_index()]
    local out = {}
    for i = 1, #parts - 1 do
      out[#out + 1] = parts[i]
      out[#out + 1] = uuid()
    end
    out[#out + 1] = parts[#parts]
    return wrk.format(nil, nil, nil, table.concat(out))
  end
elseif #bodies > 1 then
  -- Each request made once, ahead of the run; wrk only picks the next.
  local requests
  request = function()
    if not requests then
      requests = {}
      for b = 1, #bodies do requests[b] = wrk.format(nil, nil, nil, bodies[b]) end
    end
    return requests[body_index()]
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local bad = summary.errors.status
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, bad, socket))
end
