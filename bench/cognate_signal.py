#!/usr/bin/env python3
"""Measures a candidate cross-language signal offline: character n-grams of words ("cognates").

Dutch, English and French technical vocabulary shares most of its roots (batterij / battery /
batterie, warmtepomp / pompe à chaleur, recyclage / recycling), which word-level BM25 misses
because each language's field is stemmed apart. A TF-IDF cosine over the padded character
n-grams of every word (accents folded), standardised per profile language like the other
signals, sees them without any word list.

The script takes a ranking written by `rank --all -k K --format jsonl` (K at least the size of
the pool to re-rank; for the dev set, 100 covers every profile), adds `w · z(cognate cosine)` to
every row's fused score for each weight `w`, re-sorts, writes the re-ranked file and scores it
with `score.py`. Weight 0 reproduces the input ranking. It changes nothing in pitchmatch.

    python3 bench/cognate_signal.py --profiles P.jsonl --demands D.jsonl --ranking R.jsonl \
        --qrels Q.tsv --score-tool ../shared/eval/tools/score.py --n 5 --weights 0,0.5,1 [--by-language]

Needs numpy and scipy.
"""
import argparse
import copy
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter

import numpy as np
from scipy import sparse

WORD = re.compile(r"[a-z0-9]+")


def fold(text):
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


PAD = " "


def grams(text, n):
    """Counts of the padded character n-grams of every word of at least n letters."""
    out = Counter()
    for word in WORD.findall(fold(text)):
        if len(word) < n:
            continue
        padded = f"{PAD}{word}{PAD}"
        for i in range(len(padded) - n + 1):
            out[padded[i:i + n]] += 1
    return out


def profile_text(p):
    return " ".join([p.get("name", ""), p.get("summary", "")] + p.get("innovations", []) + p.get("keywords", []))


def demand_text(d):
    title, desc = d.get("title", ""), d.get("description", "")
    return desc if title == desc else f"{title} {desc}"


def tfidf_matrix(counters, vocab, idf):
    rows, cols, vals = [], [], []
    for r, c in enumerate(counters):
        for g, x in c.items():
            j = vocab.get(g)
            if j is not None:
                rows.append(r)
                cols.append(j)
                vals.append((1 + math.log(x)) * idf[j])
    m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(counters), len(vocab)), dtype=np.float64)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.diags(1 / norms) @ m


def bm25_scores(p_grams, q_grams, vocab, df, n_docs, k1=1.2, b=0.75):
    """BM25 of every profile for every query (each distinct query n-gram counted once)."""
    lengths = np.array([sum(c.values()) for c in p_grams], dtype=np.float64)
    avg = lengths.mean()
    rows, cols, vals = [], [], []
    for r, c in enumerate(p_grams):
        norm = k1 * (1 - b + b * lengths[r] / avg)
        for g, tf in c.items():
            rows.append(r)
            cols.append(vocab[g])
            vals.append(tf * (k1 + 1) / (tf + norm))
    tfm = sparse.csr_matrix((vals, (rows, cols)), shape=(len(p_grams), len(vocab)))
    idf = np.array([math.log(1 + (n_docs - df[g] + 0.5) / (df[g] + 0.5)) for g in vocab])
    q = np.zeros((len(q_grams), len(vocab)))
    for i, c in enumerate(q_grams):
        for g in c:
            j = vocab.get(g)
            if j is not None:
                q[i, j] = idf[j]
    return np.asarray((sparse.csr_matrix(q) @ tfm.T).todense())


def rerank(rows, sims, index, langs, min_group, weight_of):
    """A copy of `rows` (a `rank --all` output) with `weight_of(row) * z` added to every result's
    score, where z is the profile's value in `sims` (one row per query, one column per profile as
    `index` numbers them) standardised within its language (`langs`, per column) when that language
    has `min_group` profiles or more, else within the whole collection; re-sorted and re-numbered."""
    out_rows = copy.deepcopy(rows)
    for qi, r in enumerate(out_rows):
        s = sims[qi]
        w = weight_of(r)
        stats = {}
        for lang in set(langs):
            group = s[langs == lang] if (langs == lang).sum() >= min_group else s
            stats[lang] = (group.mean(), group.std())
        for x in r["results"]:
            mean, std = stats[x["language"]]
            z = (s[index[x["profile_id"]]] - mean) / std if std > 1e-9 else 0.0
            x["score"] = x["score"] + w * z
        r["results"].sort(key=lambda x: -x["score"])
        for i, x in enumerate(r["results"]):
            x["rank"] = i + 1
    return out_rows


def write_and_score(rows, path, score_tool, qrels, by_language=None):
    """Writes `rows` as JSON Lines to `path` (a temporary file, removed after, when None) and
    returns score.py's report; `by_language` is `(demands, profiles)` for the per-slice lines."""
    keep = path is not None
    if not keep:
        fd, path = tempfile.mkstemp(suffix=".jsonl")
        os.close(fd)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    cmd = [sys.executable, score_tool, qrels, path]
    if by_language:
        cmd += ["--by-language", *by_language]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        if not keep:
            os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--demands", required=True)
    ap.add_argument("--ranking", required=True)
    ap.add_argument("--qrels", required=True)
    ap.add_argument("--score-tool", required=True)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--weights", default="0,0.5,1")
    ap.add_argument("--min-group", type=int, default=8, help="as the engine: smaller language groups use all profiles")
    ap.add_argument("--no-pad", action="store_true", help="grams inside words only (no word-boundary marks)")
    ap.add_argument("--scorer", choices=["tfidf", "bm25"], default="tfidf")
    ap.add_argument("--by-language", action="store_true")
    ap.add_argument("--out-prefix", default=None)
    args = ap.parse_args()

    global PAD
    if args.no_pad:
        PAD = ""
    profiles = [json.loads(line) for line in open(args.profiles, encoding="utf-8")]
    demands = {d["id"]: d for d in (json.loads(line) for line in open(args.demands, encoding="utf-8"))}
    p_grams = [grams(profile_text(p), args.n) for p in profiles]
    df = Counter()
    for c in p_grams:
        df.update(c.keys())
    vocab = {g: j for j, g in enumerate(df)}
    idf = np.array([math.log((len(profiles) + 1) / (df[g] + 1)) for g in vocab])
    pm = tfidf_matrix(p_grams, vocab, idf)
    index = {p["id"]: i for i, p in enumerate(profiles)}
    langs = np.array([p["language"] for p in profiles])

    rows = [json.loads(line) for line in open(args.ranking, encoding="utf-8")]
    q_grams = [grams(demand_text(demands[r["demand_id"]]), args.n) for r in rows]
    if args.scorer == "tfidf":
        qm = tfidf_matrix(q_grams, vocab, idf)
        sims = (qm @ pm.T).toarray()
    else:
        sims = bm25_scores(p_grams, q_grams, vocab, df, len(profiles))

    for w in [float(x) for x in args.weights.split(",")]:
        out_rows = rerank(rows, sims, index, langs, args.min_group, lambda _row, w=w: w)
        path = f"{args.out_prefix}_{w}.jsonl" if args.out_prefix else None
        by_language = (args.demands, args.profiles) if args.by_language else None
        print(f"n={args.n} weight={w}")
        print(write_and_score(out_rows, path, args.score_tool, args.qrels, by_language).rstrip())


if __name__ == "__main__":
    main()
