-- wrk script for the shortlist endpoint that defeats pitchmatch's shortlist cache: requests cycle
-- through every demand area and k = 10..99 (12 demands x 90 k = 1,080 keys > the 1,024 entries the
-- cache keeps before it is emptied), so nearly every request ranks afresh.
-- Env: TOKEN (organiser bearer token), DEMANDS (comma-separated ids), RANKER (hybrid|lexical|dense).
local demands = {}
for id in string.gmatch(os.getenv("DEMANDS") or "demo-d-10", "[^,]+") do
  demands[#demands + 1] = id
end
local ranker = os.getenv("RANKER") or "hybrid"
local counter = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

function init(args)
  n = offset or 0
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
end

function request()
  n = n + 1
  local d = demands[(n % #demands) + 1]
  local k = 10 + (math.floor(n / #demands) % 90)
  return wrk.format("GET", "/api/v1/demands/" .. d .. "/shortlist?k=" .. k .. "&ranker=" .. ranker)
end
