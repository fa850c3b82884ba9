#!/usr/bin/env bash
# Topics no glossary entry covers: printed spare parts on demand, one thermal loop for battery and
# cabin, charging without a cable in car parks. Three Dutch profiles that are exactly what a French
# or English demand area asks for, three English ones that share its words but not its point, all
# beside the demo profiles. Prints, with the glossary and without it, where each Dutch profile
# ranks for its demand area and what ranks first. A smoke check of the cross-language signals on
# unseen topics, not an evaluation: the texts were written for it, a handful of them.
#
#   bench/unseen_topics.sh        (needs a release build: cargo build --release)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/pitchmatch}
HERE=$ROOT/bench/unseen_topics
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/no-glossary"
for f in "$ROOT"/models/*; do
  [ "$(basename "$f")" = glossary.tsv ] || ln -s "$f" "$WORK/no-glossary/"
done
for models in "$ROOT/models" "$WORK/no-glossary"; do
  label=$([ "$models" = "$ROOT/models" ] && echo "glossary on " || echo "glossary off")
  data="$WORK/data-$(basename "$models")"
  "$BIN" --data-dir "$data" --models-dir "$models" import --profiles "$ROOT/demo/profiles.jsonl" \
    --demands "$ROOT/demo/demands.jsonl" >/dev/null
  "$BIN" --data-dir "$data" --models-dir "$models" import --profiles "$HERE/profiles.jsonl" \
    --demands "$HERE/demands.jsonl" >/dev/null
  while IFS=$'\t' read -r demand wanted; do
    "$BIN" --data-dir "$data" --models-dir "$models" rank --demand "$demand" -k 100 --format jsonl \
      | python3 -c '
import json, sys
label, demand, wanted = sys.argv[1:]
results = json.loads(sys.stdin.readline())["results"]
ids = [r["profile_id"] for r in results]
rank = ids.index(wanted) + 1 if wanted in ids else None
name, language = results[0]["name"], results[0]["language"]
print(f"{label}  {demand:14} {wanted}: rank {rank} of {len(ids)}; first: {name} ({language})")
' "$label" "$demand" "$wanted"
  done < "$HERE/expected.tsv"
done
