-- wrk script for bench/run.py: sends "Authorization: Bearer <token>".
--
--   wrk -t1 -c16 -d10s --latency -s bench/tokens.lua URL -- TOKEN_FILE THREADS [START]
--
-- TOKEN_FILE holds one token a line.  With one token the header is static (wrk
-- builds the request once, as it does without a script).  With several, each
-- request takes the next token and the list wraps around; thread i of THREADS
-- starts at START (0 by default) plus i/THREADS of the list, so that a run can
-- go on where the previous one stopped.  The requests are formatted up front so the
-- client spends no time on them during the run.  Without TOKEN_FILE (or "-")
-- no Authorization header is sent.
--
-- done() prints one line "BENCH_JSON {...}": requests, duration (us), errors and
-- latency percentiles (us), which run.py reads instead of wrk's text report.

local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
end

local function read_tokens(path)
   local tokens = {}
   local fh = assert(io.open(path, "r"))
   for line in fh:lines() do
      if #line > 0 then
         tokens[#tokens + 1] = line
      end
   end
   fh:close()
   assert(#tokens > 0, "no tokens in " .. path)
   return tokens
end

function init(args)
   local path = args[1]
   if path == nil or path == "-" then
      return
   end
   local tokens = read_tokens(path)
   if #tokens == 1 then
      wrk.headers["Authorization"] = "Bearer " .. tokens[1]
      return
   end

   local threads = tonumber(args[2] or "1")
   local id = tonumber(wrk.thread:get("id") or 1)
   local requests = {}
   for i, token in ipairs(tokens) do
      wrk.headers["Authorization"] = "Bearer " .. token
      requests[i] = wrk.format()
   end
   local count = #requests
   local start = tonumber(args[3] or "0")
   local pos = (start + math.floor((id - 1) * count / threads)) % count

   -- A global request() makes wrk call it for every request.
   request = function()
      pos = pos + 1
      if pos > count then
         pos = 1
      end
      return requests[pos]
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
