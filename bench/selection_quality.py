#!/usr/bin/env python3
"""Share of selected pitches the judgments call interesting (grade >= 2), with the untrained
selection values and with those of a model learned on the other half of the demand areas.

Events: one per organisation of the dev set with two or more demand areas, two slots per demand
area. The demand areas are split in two halves the way `learn` folds them (every other one in
sorted order); the model that values the pitches of one half was trained on the judgments of the
other half only.

usage: bench/selection_quality.py PITCHMATCH_BINARY EVAL_DIR WORK_DIR
"""
import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

binary, eval_dir, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
dev = eval_dir / "dev"
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)

demands = [json.loads(l) for l in open(dev / "demands.jsonl") if l.strip()]
qrels = collections.defaultdict(dict)
for line in open(dev / "qrels.tsv"):
    d, p, g = line.rstrip("\n").split("\t")[:3]
    if g.isdigit():
        qrels[d][p] = int(g)
by_org = collections.defaultdict(list)
for d in demands:
    by_org[d["organisation"]].append(d["id"])
events = [
    {"id": f"dev-{i}", "organisation": org, "title": f"{org} dev day", "slots": 2 * len(ids), "demand_ids": sorted(ids)}
    for i, (org, ids) in enumerate(sorted(by_org.items()))
    if len(ids) >= 2
]
(work / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
ordered = sorted(qrels)
half = {d: i % 2 for i, d in enumerate(ordered)}


def run(data, *args):
    out = subprocess.run([binary, "--data-dir", str(data), *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)}: {out.stderr}")
    return out.stdout


base = work / "base"
run(base, "import", "--profiles", str(dev / "profiles.jsonl"), "--demands", str(dev / "demands.jsonl"),
    "--events", str(work / "events.jsonl"))


def pitches(data):
    out = []
    for e in events:
        sel = json.loads(run(data, "select", "--event", e["id"], "--format", "json"))
        out += [(p["demand_id"], p["profile_id"]) for p in sel["selected"]]
    return out


def share(ps, which):
    ps = [(d, p) for d, p in ps if half.get(d) == which]
    good = sum(1 for d, p in ps if qrels[d].get(p, 0) >= 2)
    return good, len(ps)


untrained = pitches(base)
rows = []
for trained_on in (0, 1):
    data = work / f"model-{trained_on}"
    shutil.copytree(base, data)
    q = data / "qrels.tsv"
    q.write_text("".join(f"{d}\t{p}\t{g}\n" for d in ordered if half[d] == trained_on for p, g in qrels[d].items()))
    report = json.loads(run(data, "learn", "--judgments", str(q), "--folds", "2", "--format", "json"))
    held = 1 - trained_on
    a, b = share(untrained, held), share(pitches(data), held)
    rows.append((held, report.get("kept"), a, b))
    print(f"half {held} (model trained on half {trained_on}, kept: {report.get('kept')}): "
          f"untrained {a[0]}/{a[1]}, learned {b[0]}/{b[1]}")
ua = sum(r[2][0] for r in rows), sum(r[2][1] for r in rows)
la = sum(r[3][0] for r in rows), sum(r[3][1] for r in rows)
print(f"all: untrained {ua[0]}/{ua[1]} = {ua[0] / max(ua[1], 1):.3f}, learned {la[0]}/{la[1]} = {la[0] / max(la[1], 1):.3f}")
