#!/usr/bin/env bash
# Bad-input drill: ~450 hostile requests (truncated, deeply nested, huge and 10 MB JSON,
# invalid UTF-8, NUL bytes, wrong types, unknown fields, path traversal, query syntax, malformed
# HTTP, invented methods, slowloris headers and bodies) against a real `pitchmatch serve`; each must
# get a 4xx (query-syntax search text may get a 200), the server must stay up and its peak RSS stay
# within 64 MiB of the baseline. The full corpus is cheap (~10 s), so `cargo test` runs all of it.
#
# Writes target/tmp/drills/bad_input.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cd "$ROOT"
nice cargo test --locked --test it drills::bad_input -- --nocapture
