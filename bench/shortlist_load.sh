#!/usr/bin/env bash
# Load test of the shortlist endpoint: N synthetic profiles + the demo demand areas, a release
# server, then wrk with 64 connections for 30 s.
#
#   bench/shortlist_load.sh 1000        # or 100000
#
# Needs: a release build (cargo build --release; set BIN to override) and wrk (apt-get install wrk).
set -euo pipefail
N=${1:-1000}
DEMAND=${DEMAND:-demo-d-10}
PORT=${PORT:-18080}
DURATION=${DURATION:-30s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/pitchmatch}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 "$ROOT/bench/gen_profiles.py" "$N" --seed 7 > "$WORK/profiles.jsonl"
/usr/bin/time -f "import: %e s, %M KiB max RSS" \
  "$BIN" --data-dir "$WORK/data" import --profiles "$WORK/profiles.jsonl" --demands "$ROOT/demo/demands.jsonl"
TOKEN=$("$BIN" --data-dir "$WORK/data" token create --role organiser --name bench 2>/dev/null)
RUST_LOG=warn "$BIN" --data-dir "$WORK/data" serve --addr "127.0.0.1:$PORT" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/api/v1/demands/$DEMAND/shortlist?k=20"
(curl -sf -H "Authorization: Bearer $TOKEN" "$URL" || true) | head -c 300; echo
wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL"
