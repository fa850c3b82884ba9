#!/usr/bin/env bash
# Short searches: every demand area's title alone as search text (`pitchmatch search TITLE`, the
# language detected from the title), scored against the demand areas' judgments like `rank`.
# Shows how well two to six words find what a whole demand description finds.
#
#   bench/short_search.sh DATA_DIR DEMANDS_JSONL QRELS_TSV   (needs a built binary; BIN to override)
set -euo pipefail
DATA=$1 DEMANDS=$2 QRELS=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/pitchmatch}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
python3 - "$BIN" "$DATA" "$DEMANDS" > "$OUT" <<'PY'
import json, subprocess, sys
bin_, data, demands = sys.argv[1:4]
for line in open(demands, encoding="utf-8"):
    d = json.loads(line)
    out = subprocess.run([bin_, "--data-dir", data, "search", "--format", "jsonl", "-k", "20", d["title"]],
                         check=True, capture_output=True, text=True).stdout
    for row in out.splitlines():
        r = json.loads(row)
        r["demand_id"] = d["id"]
        print(json.dumps(r))
PY
python3 "$ROOT/../shared/eval/tools/score.py" "$QRELS" "$OUT" "${@:4}"
