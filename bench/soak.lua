-- wrk script for bench/soak.py: a mix of token classes at full speed.
--
--   wrk -t2 -c32 -d120s -s bench/soak.lua URL -- MIX_FILE
--
-- MIX_FILE holds one "CLASS TOKEN" a line (CLASS: valid, forbidden, invalid;
-- TOKEN "-" for no token).  Every request takes the next line (each thread
-- starts at its own offset) and carries its class in an X-Soak-Class header,
-- which Apache writes to its access log next to the status, so soak.py checks
-- every answer against its class.  done() prints "SOAK_JSON {...}" with the
-- answers wrk saw by status.

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
   table.insert(threads, thread)
end

function init(args)
   local requests = {}
   local fh = assert(io.open(args[1], "r"))
   for line in fh:lines() do
      local class, token = line:match("^(%S+) (%S+)$")
      if class then
         wrk.headers["X-Soak-Class"] = class
         if token == "-" then
            wrk.headers["Authorization"] = nil
         else
            wrk.headers["Authorization"] = "Bearer " .. token
         end
         requests[#requests + 1] = wrk.format()
      end
   end
   fh:close()
   assert(#requests > 0, "no requests in " .. args[1])
   local count = #requests
   local pos = ((tonumber(wrk.thread:get("id")) or 1) * 7919) % count
   s200, s401, s403, sother = 0, 0, 0, 0

   request = function()
      pos = pos + 1
      if pos > count then
         pos = 1
      end
      return requests[pos]
   end
end

function response(status, headers, body)
   if status == 200 then
      s200 = s200 + 1
   elseif status == 401 then
      s401 = s401 + 1
   elseif status == 403 then
      s403 = s403 + 1
   else
      sother = sother + 1
   end
end

function done(summary, latency, requests)
   local t = {s200 = 0, s401 = 0, s403 = 0, sother = 0}
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do
         t[k] = t[k] + (tonumber(thread:get(k)) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      'SOAK_JSON {"requests": %d, "duration_us": %d, "s200": %d, "s401": %d, "s403": %d, ' ..
      '"sother": %d, "errors": %d}\n',
      summary.requests, summary.duration, t.s200, t.s401, t.s403, t.sother,
      e.connect + e.read + e.write + e.timeout))
end
