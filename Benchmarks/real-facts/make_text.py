#!/usr/bin/env python3
"""Extracts real English prose from the Python documentation that Debian's python3.11-doc ships.

    apt-get install python3.11-doc
    python3 Benchmarks/real-facts/make_text.py [--out Benchmarks/real-facts/data/python-docs.txt]

The reStructuredText sources under /usr/share/doc/python3.11/html/_sources/{tutorial,howto,faq}
are reduced to their prose paragraphs: code blocks, directives and their bodies, indented blocks,
tables, titles and comments are left out, inline markup keeps its text (:func:`len` -> len,
``x`` -> x, `text <url>`_ -> text). Each paragraph of at least 20 words becomes one line (one
document for prune-eval --perplexity and prune-eval/prune-apply --stats-text). Files are read in
sorted order and nothing depends on anything but their contents: the output is deterministic.

Licence: the Python documentation is under the PSF License Agreement (Debian's
/usr/share/doc/python3.11-doc/copyright), which allows copying and redistribution with the
copyright notice.
"""
import argparse
import os
import re

ROOT = "/usr/share/doc/python3.11/html/_sources"
PARTS = ["tutorial", "howto", "faq"]


def inline(text):
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_+", r"\1", text)          # `text <url>`_
    text = re.sub(r":[a-z:]+:`~?!?([^`<]*?)\s*(<[^>]*>)?`", r"\1", text)  # :role:`x` / :role:`t <x>`
    text = re.sub(r"``([^`]*)``", r"\1", text)
    text = re.sub(r"`([^`]*)`_*", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*", r"\1", text)
    text = re.sub(r"\[#\]_|\[\d+\]_", "", text)
    text = re.sub(r"\|([^|\s]+)\|", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def paragraphs(source):
    out = []
    para = []
    skipping_indented = False

    def flush():
        if para:
            out.append(" ".join(para))
            para.clear()

    for line in source.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if line[0] in " \t":
            # Indented: a code block, a directive's body, a block quote, a list continuation.
            flush()
            skipping_indented = True
            continue
        skipping_indented = False
        if stripped.startswith(".. ") or stripped == "..":
            flush()
            continue
        if re.fullmatch(r"([=\-~^\"'*+#`:.])\1{3,}", stripped) or stripped.startswith(("+-", "+=", "|", ">>>", "...")):
            # Title underlines (the title itself is the paragraph just read), table rules, prompts.
            para.clear()
            continue
        if re.match(r"^([-*+]|\d+\.|#\.)\s", stripped):
            flush()
            continue
        para.append(stripped)
    flush()
    del skipping_indented
    texts = []
    for p in out:
        if p.endswith("::"):
            p = p[:-1]
        t = inline(p)
        if len(t.split()) >= 20 and t[-1] in ".!?:" and "`" not in t and not t.startswith(("..", "=", "-")):
            texts.append(t)
    return texts


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--out", default=os.path.join(here, "data", "python-docs.txt"))
    a = ap.parse_args()
    lines = []
    for part in PARTS:
        folder = os.path.join(a.root, part)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".rst.txt"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    lines += paragraphs(f.read())
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for t in lines:
            f.write(t + "\n")
    print(f"{len(lines)} paragraphs, {sum(len(t.split()) for t in lines)} words -> {a.out}")


if __name__ == "__main__":
    main()
