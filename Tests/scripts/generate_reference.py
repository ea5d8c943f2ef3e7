#!/usr/bin/env python3
"""Independent expectations of the prune-generate tests (numpy, safetensors, transformers' tokenizer).

  generate_reference.py logprobs MODEL_DIR N
      For each forward-reference prompt: log_softmax (float64) of transformers' logits at the last
      prompt position (forward-reference.safetensors) = the distribution of the first generated
      token; prints {"prompts": [{"top": [[id, logprob] x N], "greedy": [id, logprob]}]} (ties: lower id).
  generate_reference.py text MODEL_DIR
      For each prompt: what the terminal shows after the prompt, i.e. the tokenizer's decoding of
      prompt + greedy ids (the end token dropped, special tokens skipped) minus the decoding of the
      prompt; prints {"prompts": [{"text", "continuation"}]}.
"""
import json
import os
import sys

import numpy as np


def logprobs(folder, n):
    from safetensors.numpy import load_file
    ref = json.load(open(os.path.join(folder, "forward-reference.json")))
    t = load_file(os.path.join(folder, "forward-reference.safetensors"))
    out = []
    for i, _ in enumerate(ref["prompts"]):
        x = t[f"logits.{i}"][-1].astype(np.float64)
        m = x.max()
        lp = x - (m + np.log(np.exp(x - m).sum()))
        order = sorted(range(len(lp)), key=lambda j: (-lp[j], j))[:n]
        out.append({"top": [[j, float(lp[j])] for j in order], "greedy": [order[0], float(lp[order[0]])]})
    print(json.dumps({"prompts": out}))


def text(folder):
    import transformers
    transformers.logging.set_verbosity_error()
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    ref = json.load(open(os.path.join(folder, "forward-reference.json")))
    eos = set([tok.eos_token_id] if tok.eos_token_id is not None else [])
    out = []
    for p in ref["prompts"]:
        gen = [g for g in p["greedy_ids"] if g not in eos]
        whole = tok.decode(p["ids"] + gen, skip_special_tokens=True)
        head = tok.decode(p["ids"], skip_special_tokens=True)
        if not whole.startswith(head):
            raise SystemExit(f"decoding of prompt + continuation does not start with the prompt's: {p['text']!r}")
        out.append({"text": p["text"], "continuation": whole[len(head):]})
    print(json.dumps({"prompts": out}, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "logprobs":
        logprobs(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "text":
        text(sys.argv[2])
    else:
        raise SystemExit(__doc__)
