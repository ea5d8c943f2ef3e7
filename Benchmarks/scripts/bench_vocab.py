"""Tokenizers for the benchmark models, grown from the fixtures' own vocabularies.

The benchmark models have random weights, but they must load everywhere a real model loads (prune,
transformers, llama.cpp), so they carry complete, valid tokenizers of the real vocabulary size:

- a SentencePiece-style ("llama") vocabulary: llama-tiny's 4096 pieces with their scores and types,
  extended with concatenations of existing normal pieces scored below every original piece;
- a byte-level BPE ("gpt2") vocabulary: gpt2-tiny's 4096 tokens and merges, extended with new tokens
  that are concatenations of two existing tokens, each with its merge appended last (lowest rank),
  so every merge joins two vocabulary tokens into a vocabulary token.

Deterministic: the same size gives the same vocabulary.
"""
import json
import os

import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("PRUNE_FIXTURES", os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def _field(reader, key):
    return reader.fields[key].contents()


def _grow(tokens, candidates, size):
    """Appends concatenations of candidate pairs (a deterministic walk) until len(tokens) == size."""
    present = set(tokens)
    added = []
    n = len(candidates)
    i = 0
    while len(tokens) + len(added) < size:
        a = candidates[i % n]
        b = candidates[(i * 7919 + i // n + 13) % n]
        i += 1
        s = a + b
        if s in present:
            continue
        present.add(s)
        added.append((a, b, s))
    return added


def sentencepiece_vocab(size):
    """(tokens, scores, token_types) of a SentencePiece BPE vocabulary with byte fallback."""
    r = gguf.GGUFReader(os.path.join(FIXTURES, "llama-tiny", "model-f32.gguf"))
    tokens = list(_field(r, "tokenizer.ggml.tokens"))
    scores = [float(s) for s in _field(r, "tokenizer.ggml.scores")]
    types = [int(t) for t in _field(r, "tokenizer.ggml.token_type")]
    if size < len(tokens):
        raise SystemExit(f"vocabulary size {size} is below the base vocabulary's {len(tokens)}")
    normal = [t for t, ty in zip(tokens, types) if ty == NORMAL]
    floor = min(scores) - 1.0
    for k, (_, _, s) in enumerate(_grow(tokens, normal, size)):
        tokens.append(s)
        scores.append(floor - k * 1e-3)
        types.append(NORMAL)
    return tokens, scores, types


def _gpt2_base():
    with open(os.path.join(FIXTURES, "gpt2-tiny", "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def bpe_tokenizer_json(size):
    """A tokenizer.json (as a dict) for a byte-level BPE of `size` tokens."""
    t = _gpt2_base()
    vocab = t["model"]["vocab"]
    by_id = sorted(vocab, key=vocab.get)
    special = {a["content"] for a in t["added_tokens"]}
    normal = [s for s in by_id if s not in special]
    merges = [list(m) if isinstance(m, list) else m.split(" ") for m in t["model"]["merges"]]
    for a, b, s in _grow(by_id, normal, size):
        vocab[s] = len(vocab)
        merges.append([a, b])
    t["model"]["vocab"] = vocab
    t["model"]["merges"] = merges
    return t


def bpe_vocab(size):
    """(tokens, token_types, merges as 'a b' strings, eos id) for GGUF's tokenizer.ggml.* keys."""
    t = bpe_tokenizer_json(size)
    vocab = t["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get)
    special = {a["content"]: a["id"] for a in t["added_tokens"]}
    types = [CONTROL if s in special else NORMAL for s in tokens]
    merges = [f"{a} {b}" for a, b in t["model"]["merges"]]
    return tokens, types, merges, special["<|endoftext|>"]


def add_sentencepiece_metadata(w, size):
    tokens, scores, types = sentencepiece_vocab(size)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)


def add_bpe_metadata(w, size, pre):
    tokens, types, merges, eos = bpe_vocab(size)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(eos)
    w.add_eos_token_id(eos)
    w.add_unk_token_id(eos)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
