-- wrk script of ops/bench/s3: replays presigned S3 requests, a different one for every request.
-- wrk ... -s replay.lua URL REQUESTS_FILE HOST THREADS [BODY_FILE]
--   REQUESTS_FILE: one "METHOD /path?query" a line (presigned, so no header needs signing).
--   HOST: the Host header the URLs were signed for (host:port).
--   BODY_FILE: the body of every request (a PUT), sent with its Content-Length.
-- Thread t sends lines t, t+THREADS, ... in order; when it has sent them all it starts over and counts
-- the repeats (key_reuse). done() prints one JSON line for the bench to read; max_sent (the most
-- requests one thread sent) bounds which lines were used: thread t's first max_sent lines at most.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   thread:set("reused", 0)
   thread:set("sent", 0)
   table.insert(threads, thread)
end

local heads, count, body = {}, 0, nil

function init(args)
   local file, host, nthreads, body_file = args[1], args[2], tonumber(args[3]), args[4]
   if body_file and body_file ~= "" then
      local handle = assert(io.open(body_file, "rb"))
      body = handle:read("*a")
      handle:close()
   end
   local length = body and ("Content-Length: " .. #body .. "\r\n") or ""
   local line_number = 0
   for line in io.lines(file) do
      if line_number % nthreads == tid then
         count = count + 1
         heads[count] = line .. " HTTP/1.1\r\nHost: " .. host .. "\r\n" .. length .. "\r\n"
      end
      line_number = line_number + 1
   end
   assert(count > 0, "no requests for thread " .. tid)
end

sent = 0  -- a global, so that done() can read it with thread:get

function request()
   sent = sent + 1
   if sent > count then
      reused = sent - count
   end
   local head = heads[(sent - 1) % count + 1]
   if body then
      return head .. body
   end
   return head
end

function done(summary, latency, requests)
   local reused, max_sent = 0, 0
   for _, thread in ipairs(threads) do
      reused = reused + thread:get("reused")
      max_sent = math.max(max_sent, thread:get("sent"))
   end
   local e = summary.errors
   io.write(string.format(
      'wrk-json {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"reused":%d,"max_sent":%d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), reused, max_sent))
end
