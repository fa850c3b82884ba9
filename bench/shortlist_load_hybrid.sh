#!/usr/bin/env bash
# Load test of the shortlist endpoint with the HYBRID engine at N generated profiles (default
# 100,000): profiles go into the store with random vectors (examples/seed_synthetic_vectors.rs),
# so the server runs the whole hybrid path without hours of embedding; the demo demand areas are
# real. Two wrk runs, 64 connections each:
#   repeat  - one shortlist URL again and again (from the cached ranking after the first);
#   varied  - requests rotate over 5,184 (demand area, k, filter) combinations: each response is
#             the demand area's cached ranking of all N profiles, filtered, cut to k and assembled
#             from explained entries (one warm-up request per demand area embeds its text and
#             ranks once). Run twice: "cold" starts with no entry explained yet (each profile that
#             first appears on some filtered list is explained then, on the blocking pool), "warm"
#             is the same traffic for another DURATION once they are.
#
#   bench/shortlist_load_hybrid.sh [N]      (DURATION=30s, PORT=18081)
#
# Installs wrk from Debian when it is missing (needs root, as in CI); needs a release build.
set -euo pipefail
N=${1:-100000}
PORT=${PORT:-18081}
DURATION=${DURATION:-30s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/pitchmatch
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
(cd "$ROOT" && cargo build --release --quiet --bin pitchmatch --example seed_synthetic_vectors)

python3 "$ROOT/bench/gen_profiles.py" "$N" --seed 7 > "$WORK/profiles.jsonl"
/usr/bin/time -f "seed store + random vectors: %e s, %M KiB max RSS" \
  "$TARGET/release/examples/seed_synthetic_vectors" "$WORK/data" "$WORK/profiles.jsonl"
/usr/bin/time -f "import demands + index $N profiles: %e s, %M KiB max RSS" \
  "$BIN" --data-dir "$WORK/data" import --demands "$ROOT/demo/demands.jsonl"
TOKEN=$("$BIN" --data-dir "$WORK/data" token create --role organiser --name bench 2>/dev/null)
RUST_LOG=warn "$BIN" --data-dir "$WORK/data" serve --addr "127.0.0.1:$PORT" &
SERVER=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT/api/v1/demands"
echo "first (uncached) request:"
curl -s -o /dev/null -w "  %{http_code} in %{time_total} s, %{size_download} bytes\n" \
  -H "Authorization: Bearer $TOKEN" "$BASE/demo-d-10/shortlist?k=20"

echo "== repeat: GET $BASE/demo-d-10/shortlist?k=20"
wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$BASE/demo-d-10/shortlist?k=20"

IDS=$(python3 -c "import json,sys; print(' '.join(json.loads(l)['id'] for l in open(sys.argv[1])))" "$ROOT/demo/demands.jsonl")
cat > "$WORK/varied.lua" <<LUA
-- demand area x k x min_trl x kind x size gives 5,184 distinct shortlists.
local ids = {}
for id in string.gmatch("$IDS", "%S+") do ids[#ids + 1] = id end
local kinds = { "", "&kind=company", "&kind=knowledge_institution" }
local sizes = { "", "&size=startup", "&size=sme", "&size=large" }
local ks = { 10, 20, 30, 50 }
-- each wrk thread starts at its own offset so the threads do not repeat each other's requests
local counter = 0
function setup(thread) thread:set("offset", counter * 2592); counter = counter + 1 end
function init(args) n = offset end
request = function()
  n = n + 1
  local i = n
  local id = ids[(i % #ids) + 1]; i = math.floor(i / #ids)
  local trl = 1 + (i % 9); i = math.floor(i / 9)
  local kind = kinds[(i % 3) + 1]; i = math.floor(i / 3)
  local size = sizes[(i % 4) + 1]; i = math.floor(i / 4)
  local k = ks[(i % 4) + 1]
  return wrk.format("GET", "/api/v1/demands/" .. id .. "/shortlist?k=" .. k .. "&min_trl=" .. trl .. kind .. size)
end
LUA
# One request per demand area first, so the varied run measures serving shortlists, not the
# one-off embedding and ranking of each demand text (cached per text and data state from then on).
for id in $IDS; do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/$id/shortlist?k=1"; done
echo "== varied: rotating over $(echo $IDS | wc -w) demand areas x k 10/20/30/50 x 9 min_trl x 3 kinds x 4 sizes"
for phase in cold warm; do
  echo "-- $phase"
  wrk -t2 -c64 -d"$DURATION" --latency -s "$WORK/varied.lua" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT"
done
echo "server max RSS: $(grep VmHWM /proc/$SERVER/status)"
