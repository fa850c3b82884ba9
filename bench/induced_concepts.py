#!/usr/bin/env python3
"""Measures a candidate cross-language signal offline: concepts induced from the collection.

No word list says that `klant` is `client` is `customer`; the encoder knows, if it is asked word
by word. Every word (4 letters or more, not a stop word, in at most a fifth of its language's
texts) and every two-word phrase (in two texts or more) of the profiles and demand areas is
embedded alone with the shipped model (`examples/embed_texts`). Each language's mean vector is
taken off its terms: single words otherwise sit at cosine ~0.9 to anything. Terms that are each
other's nearest neighbour across two languages (CSLS, which discounts words near everything) at
a cosine of at least the threshold are joined, and the joined groups are the induced concepts.

The signal is BM25 over the induced concepts a demand area shares with each profile, standardised
within the profile's language like the other signals, added with weight `w` to every row's fused
score, scaled by `max(0, 1 - coverage / gate)` where `coverage` is the glossary's coverage of the
demand (0 with the glossary switched off; `--gate 0` applies the full weight everywhere). The
input ranking's own score is kept; weight 0 reproduces it. It changes nothing in pitchmatch.

    cargo build --release --example embed_texts
    python3 bench/induced_concepts.py --profiles P.jsonl --demands D.jsonl --ranking R.jsonl \
        --qrels Q.tsv --score-tool ../shared/eval/tools/score.py --embed target/release/examples/embed_texts \
        --thresholds 0.6,0.65 --weights 0,0.25,0.5 --gate 0.2 [--by-language] [--show 40]

R.jsonl is `rank --all -k K --format jsonl --ranker hybrid` with K at least the number of
profiles. Needs numpy, scipy and stop-words.
"""
import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

import numpy as np
from stop_words import get_stop_words

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cognate_signal as cs  # noqa: E402  (its BM25, text helpers, re-ranking and scoring)

LANGS = ("en", "nl", "fr")
STOP = {lang: set(get_stop_words(lang)) for lang in LANGS}
# Function words the stop-word lists miss, as in the product's analysis.
STOP["en"] |= {"also", "using", "used", "use", "per", "can", "our", "within"}
STOP["nl"] |= {"onze", "ons", "wij", "per", "kan", "worden", "wordt", "zijn", "meer", "door", "voor"}
STOP["fr"] |= {"nous", "notre", "nos", "plus", "partir", "moins", "avec", "pour", "dans", "sont", "être"}
WORD = re.compile(r"[a-zà-öø-ÿ][a-zà-öø-ÿ0-9\-]*[a-zà-öø-ÿ0-9]", re.I)
SPLIT = re.compile(r"[.,;:!?()\[\]\"/]+")
CSLS_K = 10


def words_of(text):
    """Lower-cased words per clause, French elisions taken off."""
    for clause in SPLIT.split(text.lower().replace("’", "'")):
        yield WORD.findall(re.sub(r"\b[ldj]'", "", clause))


def terms_of(lang, text):
    """The candidate terms of a text: content words and two-word phrases."""
    out = set()
    for words in words_of(text):
        for i, w in enumerate(words):
            if w not in STOP[lang] and len(w) >= 4 and not w[0].isdigit():
                out.add((w,))
            if i + 1 < len(words):
                a, b = words[i], words[i + 1]
                if a not in STOP[lang] and b not in STOP[lang] and len(a) >= 3 and len(b) >= 3:
                    out.add((a, b))
    return out


def collection_terms(texts):
    """Per language, the terms worth pairing: single words in at most a fifth of the texts,
    phrases in at least two."""
    df = {lang: Counter() for lang in LANGS}
    n = Counter()
    for lang, text in texts:
        n[lang] += 1
        df[lang].update(terms_of(lang, text))
    terms = {}
    for lang in LANGS:
        keep = [t for t, c in df[lang].items() if (len(t) == 1 and c / max(n[lang], 1) <= 0.2) or (len(t) > 1 and c >= 2)]
        terms[lang] = sorted(" ".join(t) for t in keep)
    return terms


def embed(binary, texts, cache):
    if cache and os.path.exists(cache + ".npy") and open(cache + ".txt", encoding="utf-8").read() == "\n".join(texts):
        return np.load(cache + ".npy")
    out = subprocess.run([binary, "query"], input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    vecs = np.array([json.loads(line) for line in out.stdout.splitlines()], dtype=np.float32)
    if cache:
        np.save(cache + ".npy", vecs)
        open(cache + ".txt", "w", encoding="utf-8").write("\n".join(texts))
    return vecs


def induce(terms, vecs, threshold):
    """Concepts (lists of (language, term)) from mutual nearest neighbours across languages."""
    centred, at = {}, 0
    for lang in LANGS:
        x = vecs[at:at + len(terms[lang])].astype(np.float64)
        at += len(terms[lang])
        if len(x):
            x = x - x.mean(axis=0)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
        centred[lang] = x
    parent = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in (("nl", "en"), ("nl", "fr"), ("en", "fr")):
        if not len(centred[a]) or not len(centred[b]):
            continue
        sim = centred[a] @ centred[b].T
        k = min(CSLS_K, sim.shape[0], sim.shape[1])
        ra = np.sort(sim, axis=1)[:, -k:].mean(axis=1)
        rb = np.sort(sim, axis=0)[-k:, :].mean(axis=0)
        csls = 2 * sim - ra[:, None] - rb[None, :]
        best_b, best_a = csls.argmax(axis=1), csls.argmax(axis=0)
        for i, j in enumerate(best_b):
            if best_a[j] == i and sim[i, j] >= threshold:
                parent[find((a, terms[a][i]))] = find((b, terms[b][j]))
    groups = defaultdict(list)
    for node in list(parent):
        groups[find(node)].append(node)
    return [sorted(g) for g in groups.values() if len({lang for lang, _ in g}) >= 2]


def mentions(lexicon, lang, text):
    """Induced concept counts of a text: longest term first, left to right."""
    out = Counter()
    for words in words_of(text):
        i = 0
        while i < len(words):
            for n in (2, 1):
                key = (lang, tuple(words[i:i + n]))
                if len(key[1]) == n and key in lexicon:
                    out[lexicon[key]] += 1
                    i += n
                    break
            else:
                i += 1
    return out


def gate(row, at):
    """How much of the signal a demand area gets: all of it without glossary coverage, none from
    coverage `at` on (`at` 0: all of it always)."""
    if at <= 0:
        return 1.0
    coverage = row["results"][0]["explanation"]["scores"].get("concept_coverage") or 0.0 if row["results"] else 0.0
    return max(0.0, 1 - coverage / at)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for arg in ("--profiles", "--demands", "--ranking", "--qrels", "--score-tool", "--embed"):
        ap.add_argument(arg, required=True)
    ap.add_argument("--thresholds", default="0.6")
    ap.add_argument("--weights", default="0,0.5")
    ap.add_argument("--gate", type=float, default=0.2, help="glossary coverage at which the signal is off (0: never off)")
    ap.add_argument("--min-group", type=int, default=8, help="as the engine: smaller language groups use all profiles")
    ap.add_argument("--cache", default=None, help="file prefix to keep the term vectors between runs")
    ap.add_argument("--by-language", action="store_true")
    ap.add_argument("--show", type=int, default=0, help="print this many induced pairs per threshold")
    args = ap.parse_args()

    profiles = [json.loads(line) for line in open(args.profiles, encoding="utf-8")]
    demands = {d["id"]: d for d in (json.loads(line) for line in open(args.demands, encoding="utf-8"))}
    rows = [json.loads(line) for line in open(args.ranking, encoding="utf-8")]
    # A record may leave its language to detection at import: take the one the ranking shows.
    by_id = {p["id"]: p for p in profiles}
    for r in rows:
        demands[r["demand_id"]]["language"] = r["language"]
        for x in r["results"]:
            by_id[x["profile_id"]]["language"] = x["language"]
    profiles = [p for p in profiles if "language" in p]
    demands = {i: d for i, d in demands.items() if "language" in d}
    texts = [(p["language"], cs.profile_text(p)) for p in profiles]
    texts += [(d["language"], cs.demand_text(d)) for d in demands.values()]
    terms = collection_terms(texts)
    vecs = embed(args.embed, [t for lang in LANGS for t in terms[lang]], args.cache)
    index = {p["id"]: i for i, p in enumerate(profiles)}
    langs = np.array([p["language"] for p in profiles])

    for threshold in [float(x) for x in args.thresholds.split(",")]:
        concepts = induce(terms, vecs, threshold)
        lexicon = {}
        for c, group in enumerate(concepts):
            for lang, term in group:
                lexicon[(lang, tuple(term.split()))] = f"i{c}"
        print(f"threshold {threshold}: {len(concepts)} concepts from {sum(map(len, terms.values()))} terms")
        for group in concepts[: args.show]:
            print("   ", " = ".join(f"{lang}:{term}" for lang, term in group))
        p_concepts = [mentions(lexicon, lang, text) for lang, text in texts[: len(profiles)]]
        df = Counter()
        for c in p_concepts:
            df.update(c.keys())
        vocab = {g: j for j, g in enumerate(df)}
        q_concepts = [mentions(lexicon, demands[r["demand_id"]]["language"], cs.demand_text(demands[r["demand_id"]])) for r in rows]
        sims = cs.bm25_scores(p_concepts, q_concepts, vocab, df, len(profiles)) if vocab else np.zeros((len(rows), len(profiles)))
        by_language = (args.demands, args.profiles) if args.by_language else None
        for w in [float(x) for x in args.weights.split(",")]:
            out_rows = cs.rerank(rows, sims, index, langs, args.min_group, lambda row, w=w: gate(row, args.gate) * w)
            print(f"threshold={threshold} weight={w}")
            print(cs.write_and_score(out_rows, None, args.score_tool, args.qrels, by_language).rstrip())


if __name__ == "__main__":
    main()
