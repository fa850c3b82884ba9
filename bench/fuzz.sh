#!/usr/bin/env bash
# Fuzzing drill: each cargo-fuzz target for SECONDS (default 60), seeded from the demo
# data. Targets (fuzz/fuzz_targets/): `profile` — profile/demand/event JSON parsing + validation,
# valid records must round-trip; `search_text` — search text analysis + a real search.
#
#   bench/fuzz.sh                 # both targets, 60 s each
#   SECONDS_PER_TARGET=600 bench/fuzz.sh search_text
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain; with only stable it sets
# RUSTC_BOOTSTRAP=1, which lets stable accept the nightly-only sanitizer flags. Not in CI: the first
# build compiles every dependency with coverage instrumentation (~15 min on 2 cores).
# Writes target/drills/fuzz-<target>.log; a crash leaves its input under fuzz/artifacts/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${SECONDS_PER_TARGET:-60}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/fuzz
OUT=${CARGO_TARGET_DIR:-$ROOT/target}/drills
mkdir -p "$OUT"
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  CARGO=(cargo +nightly)
else
  CARGO=(cargo)
  export RUSTC_BOOTSTRAP=1
fi
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(profile search_text)
cd "$ROOT/fuzz"

# Seed corpora (kept out of git): the demo records, one per file, and some demand texts as queries.
mkdir -p corpus/profile corpus/search_text
if [ -z "$(ls -A corpus/profile)" ]; then
  i=0
  for f in "$ROOT"/demo/*.jsonl; do
    while IFS= read -r line; do i=$((i + 1)); printf '%s' "$line" > "corpus/profile/demo-$i"; done < "$f"
  done
fi
if [ -z "$(ls -A corpus/search_text)" ]; then
  python3 - "$ROOT/demo/demands.jsonl" corpus/search_text <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    d = json.loads(line)
    open(f"{sys.argv[2]}/demand-{i}", "w").write(d["title"] + "\n" + d["description"][:300])
PY
fi

for t in "${targets[@]}"; do
  echo "== fuzz $t for ${SECS}s"
  # -rss_limit_mb: the search target loads the embedding model (~250 MB resident).
  nice "${CARGO[@]}" fuzz run --sanitizer none --target-dir "$TARGET_DIR" "$t" -- \
    -max_total_time="$SECS" -rss_limit_mb=4096 -max_len=8192 -print_final_stats=1 2>&1 | tee "$OUT/fuzz-$t.log" | tail -25
  grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' "$OUT/fuzz-$t.log" || true
done
