#!/usr/bin/env python3
"""transformers references for the architecture folders of arch_make_models.py (issue 19).

  arch_reference.py MODELS OUT [FAMILY ...]     # torch + transformers (the tests never run this)

For each family: loads MODELS/<family> with AutoModelForCausalLM (attn_implementation="eager", f32;
refuses missing or unexpected weights), draws prompts of token ids (lengths 12, 16, 20; from the
non-special ids with default_rng(seed of the family + 1000); BOS first where the family adds it), and
writes OUT/<family>/reference.json:
  model_sha256                sha256 of MODELS/<family>/model.safetensors
  versions                    torch, transformers, numpy
  config                      the config.json the model was made with
  prompts[i].ids              the prompt
  prompts[i].top_ids/top_logprobs   [T][20]: log-softmax of the f32 logits at every position, the
                              20 largest, best first (ties by id)
  prompts[i].greedy           8 tokens of model.generate(do_sample=False) (EOS does not stop it); the
                              same as argmax over full forwards without a cache (checked)
  prompts[i].greedy_min_logit_margin  the smallest top-1 minus top-2 logit along the greedy path; a
                              prompt is the first of its length drawn whose margin is >= 0.02, so a
                              runtime within 1e-3 cannot flip a greedy token
The llama.cpp diagnostic (arch_llamacpp_check.py) adds `llama_cpp` later.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, GenerationConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch_make_models as amm  # noqa: E402

TOP = 20
LENGTHS = (12, 16, 20)
NEW = 8
MARGIN = 0.02


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def candidates(family, config):
    """Prompts of `length` ids drawn from the non-special ids, BOS first where the family adds it."""
    spec = amm.FAMILIES[family]
    rng = np.random.default_rng(spec["seed"] + 1000)
    if spec["tok"][0] == "bpe":
        lo, hi = 0, amm.VOCAB - len(spec["tok"][1])
    else:
        lo, hi = len(spec["tok"][1]) + 256, amm.VOCAB      # text pieces, after specials and bytes
    while True:
        for n in LENGTHS:
            ids = [int(x) for x in rng.integers(lo, hi, size=n)]
            if spec["bos"]:
                ids[0] = int(config["bos_token_id"])
            yield ids


def greedy_no_cache(model, ids):
    """NEW argmax tokens by full forwards, and the smallest top-1 minus top-2 logit on the way."""
    seq, margin = list(ids), float("inf")
    for _ in range(NEW):
        last = model(torch.tensor([seq])).logits[0, -1]
        two = torch.topk(last, 2).values
        margin = min(margin, float(two[0] - two[1]))
        seq.append(int(torch.argmax(last)))
    return seq[len(ids):], margin


def top_logprobs(logits):
    lp = torch.log_softmax(logits.double(), dim=-1).numpy()
    ids, vals = [], []
    for row in lp:
        order = sorted(range(len(row)), key=lambda i: (-row[i], i))[:TOP]
        ids.append(order)
        vals.append([round(float(row[i]), 6) for i in order])
    return ids, vals


def reference(family, models, out):
    folder = os.path.join(models, family)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model, info = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32,
                                                       output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if bad:
        sys.exit(f"arch_reference.py: {folder}: {bad}")
    model.eval()
    gen = GenerationConfig(max_new_tokens=NEW, do_sample=False, eos_token_id=None, pad_token_id=0,
                           bos_token_id=None)
    prompts, draws = [], candidates(family, config)
    for n in LENGTHS:
        # the first draw of this length whose greedy path has no near-tie (top-1 - top-2 >= MARGIN)
        for tries in range(1, 201):
            ids = next(draws)
            while len(ids) != n:
                ids = next(draws)
            with torch.no_grad():
                plain, margin = greedy_no_cache(model, ids)
            if margin >= MARGIN:
                break
        else:
            sys.exit(f"arch_reference.py: {family}: no prompt of length {n} with a greedy margin >= {MARGIN}")
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(x).logits[0]
            top_ids, top_vals = top_logprobs(logits)
            # an explicit mask: generate would otherwise mask every id equal to pad_token_id
            greedy = model.generate(x, attention_mask=torch.ones_like(x), generation_config=gen)[0, len(ids):].tolist()
        if greedy != plain:
            sys.exit(f"arch_reference.py: {family}: generate {greedy} != argmax over full forwards {plain}")
        prompts.append({"ids": ids, "top_ids": top_ids, "top_logprobs": top_vals, "greedy": greedy,
                        "greedy_min_logit_margin": round(margin, 6)})
    ref = {
        "family": family,
        "model_sha256": sha256(os.path.join(folder, "model.safetensors")),
        "made_by": "Tests/scripts/arch_make_models.py (weights) + Tests/scripts/arch_reference.py (this file)",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "attn_implementation": "eager", "dtype": "float32", "top": TOP, "new_tokens": NEW,
        "config": config,
        "prompts": prompts,
    }
    os.makedirs(os.path.join(out, family), exist_ok=True)
    path = os.path.join(out, family, "reference.json")
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    if "llama_cpp" in old and old.get("model_sha256") == ref["model_sha256"]:
        ref["llama_cpp"] = old["llama_cpp"]
    with open(path, "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"{family}: {path} ({os.path.getsize(path)} bytes) greedy {[p['greedy'] for p in prompts]}")


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: arch_reference.py MODELS OUT [FAMILY ...]\n")
        return 64
    torch.manual_seed(0)
    for fam in argv[3:] or list(amm.FAMILIES):
        reference(fam, argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
