#!/usr/bin/env bash
# The main job on the bundled demo data, end to end: build, import the demo profiles, demand areas
# and events into a fresh data dir, print explained shortlists and an event line-up, create an
# organiser token, then serve the API on 127.0.0.1:8080 (Ctrl-C stops it).
#
# The data dir is PITCHMATCH_DEMO_DIR (default index/demo), never PITCHMATCH_DATA_DIR: the demo
# starts from scratch, and it deletes a directory only if an earlier demo run made it (see
# demo-dir.sh); a real data dir is refused before anything is built or written.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/demo-dir.sh
DATA_DIR="${PITCHMATCH_DEMO_DIR:-index/demo}"
ADDR="${PITCHMATCH_ADDR:-127.0.0.1:8080}"
prepare_demo_dir "$DATA_DIR" || exit 2
cargo build --release --locked --quiet
bin=target/release/pitchmatch
"$bin" --data-dir "$DATA_DIR" import --profiles demo/profiles.jsonl --demands demo/demands.jsonl --events demo/events.jsonl
echo
"$bin" --data-dir "$DATA_DIR" rank --demand demo-d-01 demo-d-05 demo-d-11 -k 5
"$bin" --data-dir "$DATA_DIR" select --event psa-2027
token=$("$bin" --data-dir "$DATA_DIR" token create --role organiser --name demo | tail -n 1 | awk '{print $NF}')
cat <<INFO
Serving on http://$ADDR  (organiser token: $token)
Try:
  curl -s -H "Authorization: Bearer $token" "http://$ADDR/api/v1/demands/demo-d-02/shortlist?k=5"
  curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
       -d '{"text":"waterstof tanks voor vrachtwagens","k":5}' http://$ADDR/api/v1/search
  curl -s -X POST -H "Authorization: Bearer $token" http://$ADDR/api/v1/events/psa-2027/selection
INFO
# Plain http on this machine: the pages' cookies go without `Secure` (never do this on a network).
exec "$bin" --data-dir "$DATA_DIR" serve --addr "$ADDR" --insecure-http-cookies
