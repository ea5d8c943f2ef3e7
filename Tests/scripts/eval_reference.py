"""Reference values for prune-eval, computed with transformers and torch (f32, CPU), run outside CI
(torch is not installed there); the output is checked in under Tests/PruneKitTests/Resources/eval/.

Computes, independently of prune:
- CounterFact scores as ROME's experiments/py/eval_utils_counterfact.py does (candidate tokens are
  those of `prompt + " " + candidate` after len(tok(prompt)); score = mean NLL), and the per-request
  metrics and averages as ROME/MEMIT's summarize.py;
- perplexity over the non-blank lines of heldout.txt, each truncated to 128 tokens;
- multiple-choice accuracy (sum log-likelihood: acc; per character: acc_norm) as
  lm-evaluation-harness does, on a task file;
- greedy generations (prompt + 24 new tokens) and their decoded text.

  /work/venv-torch/bin/python Tests/scripts/eval_reference.py FIXTURE_DIR TASK.jsonl OUT.json [--edit]

With --edit the model is first edited with the fixture's rome-reference ΔW = lam uᵀ of its first
request (so that some edits succeed); the Swift test makes the same edit with prune-apply.
"""
import json
import math
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

fixture, task_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
edit = "--edit" in sys.argv
torch.set_num_threads(1)
tok = AutoTokenizer.from_pretrained(fixture)
model = AutoModelForCausalLM.from_pretrained(fixture, torch_dtype=torch.float32).eval()


def enc(text):
    return tok(text)["input_ids"]


if edit:
    from safetensors.numpy import load_file
    ref = load_file(os.path.join(fixture, "rome-reference.safetensors"))
    meta = json.load(open(os.path.join(fixture, "rome-reference.json")))
    name = meta["edited_tensor"]
    dw = np.outer(ref["lam.0"], ref["u.0"]).astype(np.float32)   # [d_out, d_in]
    w = model.state_dict()[name]
    with torch.no_grad():
        w += torch.from_numpy(dw if tuple(w.shape) == dw.shape else dw.T.copy())


@torch.no_grad()
def logprobs(ids):
    return torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)


def score(prompt, cand):
    full = enc(prompt + " " + cand)
    k = len(enc(prompt))
    lp = logprobs(full)
    return -float(np.mean([lp[k + j - 1, full[k + j]].item() for j in range(len(full) - k)]))


requests = json.load(open(os.path.join(fixture, "requests.json")))[:20]
rows = []
for r in requests:
    rw = r["requested_rewrite"]
    new, true = rw["target_new"]["str"], rw["target_true"]["str"]
    def pair(p):
        return {"prompt": p, "target_new": score(p, new), "target_true": score(p, true)}
    rewrite = pair(rw["prompt"].format(rw["subject"]))
    para = [pair(p) for p in r["paraphrase_prompts"]]
    neigh = [pair(p) for p in r["neighborhood_prompts"]]
    rows.append({
        "case_id": r["case_id"],
        "efficacy_success": float(rewrite["target_true"] > rewrite["target_new"]),
        "efficacy_magnitude": math.exp(-rewrite["target_new"]) - math.exp(-rewrite["target_true"]),
        "paraphrase_success": float(np.mean([x["target_true"] > x["target_new"] for x in para])),
        "paraphrase_magnitude": float(np.mean([math.exp(-x["target_new"]) - math.exp(-x["target_true"]) for x in para])),
        "neighborhood_success": float(np.mean([x["target_true"] < x["target_new"] for x in neigh])),
        "neighborhood_magnitude": float(np.mean([math.exp(-x["target_true"]) - math.exp(-x["target_new"]) for x in neigh])),
        "rewrite": rewrite, "paraphrase": para, "neighborhood": neigh,
    })
avg = {k: float(np.mean([row[k] for row in rows])) for k in
       ["efficacy_success", "paraphrase_success", "neighborhood_success",
        "efficacy_magnitude", "paraphrase_magnitude", "neighborhood_magnitude"]}
three = [avg["efficacy_success"], avg["paraphrase_success"], avg["neighborhood_success"]]
avg["score"] = 0.0 if min(three) == 0 else 3 / sum(1 / x for x in three)   # scipy.stats.hmean

# perplexity
lines = [l for l in open(os.path.join(fixture, "heldout.txt")).read().split("\n") if l.strip()]
tot, n = 0.0, 0
for l in lines:
    ids = enc(l)[:128]
    if len(ids) < 2:
        continue
    lp = logprobs(ids)
    tot -= sum(lp[i - 1, ids[i]].item() for i in range(1, len(ids)))
    n += len(ids) - 1
ppl = {"documents": len(lines), "tokens": n, "total_nll": tot, "perplexity": math.exp(tot / n)}

# multiple choice (lm-evaluation-harness)
picks, picks_norm, correct, correct_norm = [], [], 0, 0
questions = [json.loads(l) for l in open(task_path) if l.strip()]
for q in questions:
    ctx = q["prompt"]
    cont_prefix = ""
    stripped = ctx.rstrip()
    if len(stripped) != len(ctx):
        cont_prefix, ctx = ctx[len(stripped):], stripped
    k = len(enc(ctx))
    lls = []
    for c in q["choices"]:
        whole = enc(ctx + cont_prefix + " " + c)
        lp = logprobs(whole)
        lls.append(sum(lp[k + j - 1, whole[k + j]].item() for j in range(len(whole) - k)))
    lls = np.array(lls)
    p = int(np.argmax(lls))
    pn = int(np.argmax(lls / np.array([float(len(c)) for c in q["choices"]])))
    picks.append(p)
    picks_norm.append(pn)
    correct += p == q["answer"]
    correct_norm += pn == q["answer"]
mc = {"questions": len(questions), "accuracy": correct / len(questions), "accuracy_norm": correct_norm / len(questions),
      "picks": picks, "picks_norm": picks_norm}

# greedy generations after the first five rewrite prompts
gens = []
for r in requests[:5]:
    rw = r["requested_rewrite"]
    ids = enc(rw["prompt"].format(rw["subject"]))
    out = list(ids)
    with torch.no_grad():
        for _ in range(24):
            nxt = int(model(torch.tensor([out])).logits[0, -1].argmax())
            if nxt == tok.eos_token_id:
                break
            out.append(nxt)
    gens.append({"prompt_ids": ids, "ids": out[len(ids):], "text": tok.decode(out, skip_special_tokens=True)})

json.dump({"fixture": os.path.basename(os.path.normpath(fixture)), "edited": edit,
           "torch": torch.__version__, "requests": 20, "averages": avg, "rows": rows,
           "perplexity": ppl, "task": mc, "generations": gens}, open(out_path, "w"), indent=1)
print(out_path, avg, ppl["perplexity"], mc["accuracy"], mc["accuracy_norm"])
