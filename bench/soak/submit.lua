-- Profile submissions with ids unique per run, thread and request.
KIND = "submissions"
dofile(os.getenv("SOAK_DIR") .. "/common.lua")
local run = os.getenv("SOAK_RUN") or "0"
local words = {"brake sensors", "cable looms", "hydrogen tanks", "recycled carbon fibre", "seat foams",
               "lidar calibration", "battery recycling", "thermal management", "castings", "driver monitoring"}
local n = 0

function request()
  n = n + 1
  local w1, w2 = words[math.random(#words)], words[math.random(#words)]
  local body = string.format(
    '{"id":"soak-%s-%d-%d","name":"Soak Supplier %d B.V.","kind":"company","language":"en",' ..
    '"summary":"We make %s and %s for electric vans and trucks.","keywords":["%s"]}',
    run, tid, n, n, w1, w2, w1)
  return wrk.format("POST", "/api/v1/profiles", {["Content-Type"] = "application/json"}, body)
end
