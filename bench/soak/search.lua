-- Organiser ad-hoc searches in the three languages, lexical and hybrid.
KIND = "searches"
dofile(os.getenv("SOAK_DIR") .. "/common.lua")
local auth = "Bearer " .. os.getenv("SOAK_TOKEN")
local texts = {
  "recycled carbon fibre for interior parts", "capteurs de freinage pour véhicules électriques",
  "waterstoftanks van composiet", "battery second life and recycling", "lidar calibration at the end of line",
  "mousses de sièges biosourcées", "thermisch beheer van batterijen", "driver monitoring cameras",
}
local rankers = {"hybrid", "lexical"}

function request()
  local body = string.format('{"text":"%s","k":%d,"ranker":"%s"}',
    texts[math.random(#texts)], math.random(5, 30), rankers[math.random(#rankers)])
  return wrk.format("POST", "/api/v1/search", {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
end
