#!/usr/bin/env python3
"""Copies a JSON Lines file of profiles or demand areas with the characters pitchmatch's import
refuses taken out of every text: C0/C1 control characters (but line breaks and tabs), direction
overrides and isolates, and zero-width characters (the rule in src/domain, `text_problem`).
Outside corpora carry a few of them (five SciFact abstracts hold U+200B, U+200E, U+0094 or U+0096);
the import names each line and refuses the file, which is right for suppliers and organisers but
not what an evaluation run wants.

    python3 bench/strip_invisible.py IN.jsonl OUT.jsonl
"""
import json
import re
import sys

REFUSED = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def clean(value):
    if isinstance(value, str):
        return REFUSED.sub(" ", value)
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    return value


def main():
    src, dst = sys.argv[1], sys.argv[2]
    changed = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            cleaned = clean(record)
            changed += cleaned != record
            out.write(json.dumps(cleaned, ensure_ascii=False) + "\n")
    print(f"{changed} record(s) had characters taken out", file=sys.stderr)


if __name__ == "__main__":
    main()
