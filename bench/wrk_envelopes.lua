-- wrk script of the ingest benchmark (bench/ingest.py --driver wrk): replays
-- envelope bodies that the bench pre-generated, each with fresh ids.
--
--   wrk -t2 -c32 -d10s --latency -s bench/wrk_envelopes.lua URL -- \
--       BODIES INDEX THREADS AUTH ENCODING SAMPLE
--
-- BODIES is the bodies concatenated, INDEX their byte lengths (one a line).
-- Thread k of THREADS takes its own contiguous share of the bodies, so no two
-- requests carry the same envelope unless a thread runs out of bodies and starts
-- over (counted as "wrapped"). Every request is formatted once, in init.
--
-- Each thread counts its answers by status. SAMPLE of the event ids that 2xx
-- answers echo ({"id":"..."}) are kept by reservoir sampling, for the bench to
-- read those traces back. wrk gives each thread its own Lua state: setup()
-- collects the thread objects and done() reads their globals with thread:get.
-- done() prints one line, "glasspane-wrk " followed by a JSON object.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local requests, count = {}, 0

function init(args)
   local bodies_path, index_path = args[1], args[2]
   local thread_count, auth, encoding = tonumber(args[3]), args[4], args[5]
   sample_max = tonumber(args[6])

   local lengths = {}
   for line in assert(io.open(index_path, "r")):lines() do
      lengths[#lengths + 1] = tonumber(line)
   end
   first = math.floor(#lengths * id / thread_count)
   local last = math.floor(#lengths * (id + 1) / thread_count)
   local offset = 0
   for i = 1, first do
      offset = offset + lengths[i]
   end
   local file = assert(io.open(bodies_path, "rb"))
   file:seek("set", offset)
   for i = first + 1, last do
      local headers = {
         ["X-Sentry-Auth"] = auth,
         ["Content-Type"] = "application/x-sentry-envelope",
         ["Content-Encoding"] = encoding,
      }
      local body = file:read(lengths[i])
      assert(body and #body == lengths[i], "the bodies file is shorter than its index")
      requests[#requests + 1] = wrk.format("POST", wrk.path, headers, body)
   end
   file:close()
   count = #requests
   assert(count > 0, "thread " .. id .. " has no bodies: pre-generate more")
   math.randomseed(1000 + id)

   -- read by done() through thread:get, so globals
   bodies, issued, completed, acked, wrapped = count, 0, 0, 0, 0
   statuses, sample, echoed = {}, {}, 0
end

function request()
   issued = issued + 1
   if issued > count then
      wrapped = wrapped + 1
   end
   return requests[(issued - 1) % count + 1]
end

function response(status, headers, body)
   completed = completed + 1
   statuses[status] = (statuses[status] or 0) + 1
   if status < 200 or status > 299 then
      return
   end
   acked = acked + 1
   if wrapped > 0 then
      return -- ids repeat from here on: sample only the first pass
   end
   local event_id = string.match(body, '"id"%s*:%s*"(%x+)"')
   if event_id then
      echoed = echoed + 1
      if #sample < sample_max then
         sample[#sample + 1] = event_id
      else
         local slot = math.random(echoed)
         if slot <= sample_max then
            sample[slot] = event_id
         end
      end
   end
end

local function json(value)
   local kind = type(value)
   if kind == "number" then
      return string.format("%.17g", value)
   elseif kind == "string" then
      return '"' .. value:gsub('[%c"\\]', "") .. '"'
   end
   local parts, is_list = {}, #value > 0 or next(value) == nil
   if is_list then
      for _, item in ipairs(value) do
         parts[#parts + 1] = json(item)
      end
      return "[" .. table.concat(parts, ",") .. "]"
   end
   for key, item in pairs(value) do
      parts[#parts + 1] = json(tostring(key)) .. ":" .. json(item)
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local per_thread = {}
   for _, thread in ipairs(threads) do
      local statuses = {}
      for status, n in pairs(thread:get("statuses")) do
         statuses[tostring(status)] = n -- string keys: a JSON object
      end
      per_thread[#per_thread + 1] = {
         first = thread:get("first"),
         bodies = thread:get("bodies"),
         issued = thread:get("issued"),
         completed = thread:get("completed"),
         acked = thread:get("acked"),
         wrapped = thread:get("wrapped"),
         statuses = statuses,
         sample = thread:get("sample"),
      }
   end
   local errors = summary.errors
   io.write("glasspane-wrk ", json({
      duration_us = summary.duration,
      requests = summary.requests,
      bytes = summary.bytes,
      errors = {
         connect = errors.connect,
         read = errors.read,
         write = errors.write,
         timeout = errors.timeout,
      },
      latency_us = {
         p50 = latency:percentile(50),
         p99 = latency:percentile(99),
         max = latency.max,
      },
      threads = per_thread,
   }), "\n")
end
