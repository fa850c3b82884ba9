#!/usr/bin/env bash
# Crash drill, full size: SUBMISSIONS profile submissions stream in over HTTP while the
# server is SIGKILLed KILLS times at random moments and restarted on the same data dir. Afterwards
# every submission must be readable and ranked first for its own word, PRAGMA integrity_check must
# say ok, and index, vectors and store must agree. `cargo test` runs the same test at 150/20.
#
#   bench/crash_drill.sh              # SUBMISSIONS=1000 KILLS=20 SEED=7
#   KILLS=50 SEED=3 bench/crash_drill.sh
#
# Writes target/tmp/drills/crash.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export DRILL_SUBMISSIONS=${SUBMISSIONS:-1000} DRILL_KILLS=${KILLS:-20} DRILL_SEED=${SEED:-7}
cd "$ROOT"
nice cargo test --locked --test it drills::crash_drill -- --nocapture
