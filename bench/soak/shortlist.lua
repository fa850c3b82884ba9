-- Organiser shortlists of the demo demand areas, with varied k, filters and rankers.
KIND = "shortlists"
dofile(os.getenv("SOAK_DIR") .. "/common.lua")
local auth = "Bearer " .. os.getenv("SOAK_TOKEN")
local rankers = {"hybrid", "hybrid", "lexical", "dense"}

function request()
  local path = string.format("/api/v1/demands/demo-d-%02d/shortlist?k=%d&ranker=%s",
    math.random(12), math.random(5, 50), rankers[math.random(#rankers)])
  if math.random(4) == 1 then path = path .. "&min_trl=" .. math.random(1, 9) end
  return wrk.format("GET", path, {["Authorization"] = auth})
end
