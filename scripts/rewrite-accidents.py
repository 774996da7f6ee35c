#!/usr/bin/env python3
"""Rewrites the corpus's known accidents, to check that detection does not key on them.

The held-out evaluation rewrites what distinguishes the corpus's sources but not phishing
from ham: the anonymised recipient `phishing@pot`, the years, and SpamAssassin's own
collector headers. This does the same to a folder of messages so that
`spearguard eval` can be compared on the original and the rewritten copy:

    python3 scripts/rewrite-accidents.py IN_DIR OUT_DIR

Years are shifted in headers and in ordinary text lines only (never inside base64).
"""
import os, random, re, sys

NAMES = ["j.tanaka@corp-mail.example.co.jp", "m.suzuki@city.example.lg.jp",
         "info@shop.example.com", "k.sato@univ.example.ac.jp"]
YEAR = re.compile(r"(?<![A-Za-z0-9+/=])(19[89]\d|20[0-2]\d)(?![A-Za-z0-9+/=])")
COLLECTOR = re.compile(r"(X-Spam|X-Loop|Delivered-To|X-Virus|X-Pyzor|X-Razor)", re.I)


def shift(m):
    y = int(m.group(1))
    return str(y + 7 if y < 2010 else y - 9)


def rewrite(raw, rng):
    s = raw.decode("latin-1").replace("phishing@pot", rng.choice(NAMES))
    sep = "\r\n\r\n" if "\r\n\r\n" in s else "\n\n"
    head, _, body = s.partition(sep)
    nl = "\r\n" if "\r\n" in head else "\n"
    fields = re.split(r"\r?\n(?=\S)", head)
    kept = [YEAR.sub(shift, f) for f in fields
            if not COLLECTOR.match(f) and "taint.org" not in f.lower() and "spamassassin" not in f.lower()]
    body = "".join(YEAR.sub(shift, l) if " " in l else l for l in re.split(r"(?<=\n)", body))
    return (nl.join(kept) + sep + body).encode("latin-1")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1:]
    rng = random.Random(1)
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(dirpath, name), src)
            out = os.path.join(dst, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(os.path.join(dirpath, name), "rb") as f, open(out, "wb") as g:
                g.write(rewrite(f.read(), rng))


if __name__ == "__main__":
    main()
