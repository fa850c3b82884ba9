"""The write side of bench/mixed_load.sh: for DURATION seconds, every 0.5 s, alternately submit a
new profile or replace a generated one with a profile written in the words of a demo demand area,
then time how long the replaced profile takes to appear in that demand area's top 20 (further down
once earlier rewrites into the same words fill it: they match as well). Prints one
JSON object with the counts and the visibility times. Only talks to the given local server.

    python3 bench/mixed_writes.py BASE_URL TOKEN demands.jsonl DURATION
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request


def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def main():
    base, token, demands_path, duration = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    demands = [json.loads(line) for line in open(demands_path, encoding="utf-8") if line.strip()]
    visible, errors, writes = [], [], {"submitted": 0, "replaced": 0}
    watchers = []

    rewritten = {}

    def watch(profile_id, demand_id, started, k):
        deadline = started + 10.0
        while time.monotonic() < deadline:
            status, body = call("GET", f"{base}/api/v1/demands/{demand_id}/shortlist?k={k}", token)
            if status == 200 and any(r["profile_id"] == profile_id for r in body["results"]):
                visible.append(time.monotonic() - started)
                return
            time.sleep(0.05)
        errors.append(f"{profile_id} not in {demand_id}'s top {k} after 10 s")

    start = time.monotonic()
    i = 0
    while time.monotonic() - start < duration:
        tick = start + i * 0.5
        time.sleep(max(0.0, tick - time.monotonic()))
        demand = demands[i % len(demands)]
        if i % 2 == 0:
            profile = {"id": f"mixed-new-{i}", "name": f"Mixed Newcomer {i} B.V.", "kind": "company",
                       "language": "en", "summary": f"We supply brake discs and cable looms, batch {i}."}
            status, _ = call("POST", f"{base}/api/v1/profiles", None, profile)
            writes["submitted"] += 1
        else:
            profile_id = f"syn-{i * 37 % 90000:06d}"
            profile = {"id": profile_id, "name": f"Rewritten {i} B.V.", "kind": "company",
                       "summary": f"{demand['title']}. {demand['description']}"}
            status, _ = call("PUT", f"{base}/api/v1/profiles/{profile_id}", token, profile)
            writes["replaced"] += 1
            if status == 200:
                # Every profile rewritten into this demand area's words is as good a match as this
                # one: in a long run they fill the top 20, so look as far down as they reach.
                k = min(1000, 20 + rewritten.get(demand["id"], 0))
                rewritten[demand["id"]] = rewritten.get(demand["id"], 0) + 1
                t = threading.Thread(target=watch, args=(profile_id, demand["id"], time.monotonic(), k))
                t.start()
                watchers.append(t)
        if status not in (200, 201):
            errors.append(f"write {i}: HTTP {status}")
        i += 1
    for t in watchers:
        t.join()
    visible.sort()
    pick = lambda q: round(visible[min(len(visible) - 1, int(q * len(visible)))], 3) if visible else None
    print(json.dumps({**writes, "errors": errors, "visible_within_s": {
        "count": len(visible), "p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)}}, indent=2))


if __name__ == "__main__":
    main()
