-- One request shape per run, from the environment (set by bench/run.py), and a JSON summary.
--   BENCH_METHOD  GET (default) or POST
--   BENCH_COOKIE  Cookie header (the signed-in session), optional
--   BENCH_AUTH    Authorization header (an API bearer token), optional
--   BENCH_BODY    form body for POST; "{n}" becomes a per-request counter, so every post differs
--   BENCH_BODY_FILE  the body from this file instead (an upload: megabytes), "{n}" as above
--   BENCH_CONTENT_TYPE  the body's type (default: a urlencoded form)
--   BENCH_ALTERNATE  a second path: requests alternate between the URL's path and this one
local method = os.getenv("BENCH_METHOD") or "GET"
local cookie = os.getenv("BENCH_COOKIE")
local auth = os.getenv("BENCH_AUTH")
local body = os.getenv("BENCH_BODY")
local body_file = os.getenv("BENCH_BODY_FILE")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local alternate = os.getenv("BENCH_ALTERNATE")
if alternate == "" then alternate = nil end
if content_type == nil or content_type == "" then content_type = "application/x-www-form-urlencoded" end
if body_file and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  body = file:read("*a")
  file:close()
end

-- The body around its counter, split once: a request then costs one concatenation, even for megabytes.
local head, tail = body or "", nil
local at = string.find(head, "{n}", 1, true)
if at then head, tail = string.sub(body, 1, at - 1), string.sub(body, at + 3) end

local headers = {}
if cookie and cookie ~= "" then headers["Cookie"] = cookie end
if auth and auth ~= "" then headers["Authorization"] = auth end
if method == "POST" then headers["Content-Type"] = content_type end

local counter = 0
thread_id = 0  -- a global: setup() sets it in each thread's own Lua state
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local path = nil
  if alternate and counter % 2 == 0 then path = alternate end
  if method == "POST" then
    local text = head
    if tail then text = head .. tostring(thread_id) .. "-" .. tostring(counter) .. tail end
    return wrk.format("POST", path, headers, text)
  end
  return wrk.format(method, path, headers, nil)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
