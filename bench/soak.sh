#!/usr/bin/env bash
# Soak drill: mixed traffic at 64 connections for 5 minutes against one server —
# submissions (8 connections), demand shortlists (28) and ad-hoc searches (28), three wrk runs side
# by side so that each kind gets its own latency figures. Checks: zero 5xx (counted by wrk and by
# the server's /metrics), RSS flat within 10 % from the end of warm-up to the end.
#
#   bench/soak.sh                  # DURATION=300 CONNECTIONS=64
#   DURATION=30 bench/soak.sh      # a smoke run
#
# BIN: the server binary (default: target/release/pitchmatch if built, else target/debug). Needs
# wrk (apt-get install wrk) and python3. Writes target/drills/soak.json.
set -euo pipefail
DURATION=${DURATION:-300}
CONNECTIONS=${CONNECTIONS:-64}
SEED_PROFILES=${SEED_PROFILES:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${BIN:-}" ]; then
  BIN=$TARGET/release/pitchmatch
  [ -x "$BIN" ] || BIN=$TARGET/debug/pitchmatch
fi
OUT=$TARGET/drills
mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER=""
SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  # Stop the server (SIGTERM: in-flight requests finish) before its data dir goes.
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Connections per kind: 1/8 submissions (each one embeds under the write lock), the rest split.
SUB_C=$(( CONNECTIONS / 8 )); [ "$SUB_C" -ge 1 ] || SUB_C=1
SL_C=$(( (CONNECTIONS - SUB_C) / 2 ))
SE_C=$(( CONNECTIONS - SUB_C - SL_C ))

echo "soak: $BIN, ${DURATION}s, $CONNECTIONS connections ($SUB_C submit, $SL_C shortlist, $SE_C search)"
python3 "$ROOT/bench/gen_profiles.py" "$SEED_PROFILES" --seed 7 > "$WORK/profiles.jsonl"
"$BIN" --data-dir "$WORK/data" import --profiles "$WORK/profiles.jsonl" --demands "$ROOT/demo/demands.jsonl" >/dev/null
TOKEN=$("$BIN" --data-dir "$WORK/data" token create --role organiser --name soak 2>/dev/null)
RUST_LOG=warn "$BIN" --data-dir "$WORK/data" serve --addr 127.0.0.1:0 --submissions-per-minute 0 \
  --writes-per-minute 0 --global-writes-per-minute 0 --moderation false 2> >(tee "$WORK/serve.log" >&2) &
SERVER=$!
PORT=""
for _ in $(seq 600); do
  PORT=$(ss -ltnpH 2>/dev/null | grep "pid=$SERVER," | grep -o '127.0.0.1:[0-9]*' | head -1 | cut -d: -f2 || true)
  [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
[ -n "$PORT" ] || { echo "server did not come up" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"

# RSS every 2 s: "seconds_since_start rss_kib".
( start=$(date +%s); while kill -0 "$SERVER" 2>/dev/null; do
    echo "$(( $(date +%s) - start )) $(awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status")"; sleep 2
  done ) > "$WORK/rss.txt" &
SAMPLER=$!

export SOAK_DIR="$ROOT/bench/soak" SOAK_TOKEN="$TOKEN" SOAK_RUN="$$"
WRK=(wrk -t1 --timeout 60s -d "${DURATION}s" --latency)
"${WRK[@]}" -c "$SUB_C" -s "$SOAK_DIR/submit.lua" "$URL" > "$WORK/submit.txt" &
W1=$!
"${WRK[@]}" -c "$SL_C" -s "$SOAK_DIR/shortlist.lua" "$URL" > "$WORK/shortlist.txt" &
W2=$!
"${WRK[@]}" -c "$SE_C" -s "$SOAK_DIR/search.lua" "$URL" > "$WORK/search.txt" &
W3=$!
wait "$W1" "$W2" "$W3"
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/metrics" > "$WORK/metrics.txt"
kill -0 "$SERVER" || { echo "server died during the soak" >&2; exit 1; }

python3 - "$WORK" "$DURATION" "$OUT/soak.json" <<'PY'
import json, re, sys
work, duration, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
kinds = []
for name in ("submit", "shortlist", "search"):
    line = next(l for l in open(f"{work}/{name}.txt") if l.startswith("SOAK_JSON "))
    kinds.append(json.loads(line[len("SOAK_JSON "):]))
profiles = re.search(r'^pitchmatch_profiles (\d+)$', open(f"{work}/metrics.txt").read(), re.M)
server_5xx = sum(int(n) for s, n in re.findall(r'^pitchmatch_http_requests_total\{.*status="(5\d\d)"\} (\d+)$',
                                            open(f"{work}/metrics.txt").read(), re.M))
rss = [tuple(map(int, l.split())) for l in open(f"{work}/rss.txt") if len(l.split()) == 2]
# Start = the first sample after a warm-up of 10 % of the run (at least 10 s): caches, worker stacks
# and the first index segments are allocated by then; growth after that is what a leak looks like.
warm = max(10.0, duration * 0.1)
after = [r for t, r in rss if t >= warm] or [r for _, r in rss]
start, end, peak = after[0], after[-1], max(r for _, r in rss)
report = {
    "duration_s": duration, "kinds": kinds,
    "profiles_at_end": int(profiles.group(1)) if profiles else None,
    "requests": sum(k["requests"] for k in kinds),
    "status_5xx_wrk": sum(k["status_5xx"] for k in kinds), "status_5xx_server_metrics": server_5xx,
    "rss_kib": {"at_warmup_end": start, "end": end, "peak": peak, "change_pct": round(100.0 * (end - start) / start, 2),
                "samples": len(rss),
                # The shape: a plateau (bounded caches filling) or a slope (a leak).
                "every_30s": [r for _, r in rss][::15]},
}
json.dump(report, open(out, "w"), indent=2)
print(json.dumps(report, indent=2))
ok = report["status_5xx_wrk"] == 0 and server_5xx == 0 and abs(report["rss_kib"]["change_pct"]) <= 10.0
print("SOAK", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
