#!/usr/bin/env bash
# Mixed load at N generated profiles (default 100,000): shortlist traffic at 64 connections while
# profiles are submitted and replaced at 2 per second. What it shows: writes neither stall reads
# (shortlist p99) nor throw the cached rankings away, and a replaced profile reaches its shortlists
# within seconds. Profiles go into the store with random vectors (examples/seed_synthetic_vectors.rs)
# so that the whole hybrid path runs without hours of embedding; the demo demand areas are real, and
# every written profile is embedded by the server's background queue with the real model.
#
#   bench/mixed_load.sh [N]      (DURATION=60, PORT=18082, PROFILE=release; PROFILE=dev uses the
#                                 debug build, which optimises every crate as fully)
#
# Reads: wrk -t2 -c64, requests rotating over demand area x k x filters (bench/soak/shortlist.lua's
# shape). Writes (bench/mixed_writes.py): every 0.5 s a new profile is submitted or an existing one
# replaced, alternately; each replacement rewrites a profile into the words of one demand area and
# times how long until it appears in that demand area's top 20.
#
# Installs wrk from Debian when it is missing (needs root, as in CI); needs a release build.
set -euo pipefail
N=${1:-100000}
PORT=${PORT:-18082}
DURATION=${DURATION:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
BIN=$TARGET/$DIR/pitchmatch
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
(cd "$ROOT" && cargo build --profile "$PROFILE" --quiet --bin pitchmatch --example seed_synthetic_vectors)

python3 "$ROOT/bench/gen_profiles.py" "$N" --seed 7 > "$WORK/profiles.jsonl"
"$TARGET/$DIR/examples/seed_synthetic_vectors" "$WORK/data" "$WORK/profiles.jsonl"
"$BIN" --data-dir "$WORK/data" import --demands "$ROOT/demo/demands.jsonl"
TOKEN=$("$BIN" --data-dir "$WORK/data" token create --role organiser --name bench 2>/dev/null)
RUST_LOG=warn "$BIN" --data-dir "$WORK/data" serve --addr "127.0.0.1:$PORT" --submissions-per-minute 0 \
  --writes-per-minute 0 --global-writes-per-minute 0 --moderation false &
SERVER=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT/api/v1/demands"
IDS=$(python3 -c "import json,sys; print(' '.join(json.loads(l)['id'] for l in open(sys.argv[1])))" "$ROOT/demo/demands.jsonl")
# One request per demand area first: the one-off embedding and ranking of each demand text.
for id in $IDS; do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/$id/shortlist?k=1"; done

cat > "$WORK/reads.lua" <<LUA
local ids = {}
for id in string.gmatch("$IDS", "%S+") do ids[#ids + 1] = id end
local kinds = { "", "&kind=company", "&kind=knowledge_institution" }
local ks = { 10, 20, 30, 50 }
local counter = 0
function setup(thread) thread:set("offset", counter * 997); counter = counter + 1 end
function init(args) n = offset end
request = function()
  n = n + 1
  local i = n
  local id = ids[(i % #ids) + 1]; i = math.floor(i / #ids)
  local trl = 1 + (i % 9); i = math.floor(i / 9)
  local kind = kinds[(i % 3) + 1]; i = math.floor(i / 3)
  local k = ks[(i % 4) + 1]
  return wrk.format("GET", "/api/v1/demands/" .. id .. "/shortlist?k=" .. k .. "&min_trl=" .. trl .. kind)
end
LUA
python3 "$ROOT/bench/mixed_writes.py" "http://127.0.0.1:$PORT" "$TOKEN" "$ROOT/demo/demands.jsonl" \
  "$DURATION" > "$WORK/writes.json" &
WRITER=$!
echo "== reads: wrk -t2 -c64 -d${DURATION}s while the writer runs"
wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/reads.lua" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT"
wait $WRITER
echo "== writes"
cat "$WORK/writes.json"
echo "server max RSS: $(grep VmHWM /proc/$SERVER/status)"
