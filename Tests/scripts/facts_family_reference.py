#!/usr/bin/env python3
"""Torch references for the fact engine on every family (issue 19, "the fact engine on every family"):
ROME on the random-weight model of each family, MEMIT and AlphaEdit on two of them (MEMIT_FAMILIES:
gemma2 and gemma3). Run outside CI with the torch venv (torch, transformers, protobuf for the
SentencePiece tokenizers); the outputs are small (KBs) and checked in; FamilyFactReferenceTests reads them:

  /work/llama/tvenv/bin/python Tests/scripts/facts_family_reference.py [FAMILY ...]   # default: every family

(about 2 minutes a family on 2 cores, 4 more for each MEMIT family; also run by arch_regenerate.sh).
Deterministic: torch.manual_seed(0), 2 threads; the same torch/transformers give the same files up to
float noise.

Makes the HF folders with arch_make_models.py in a temporary folder (checks their sha256 against
Tests/fixtures/architectures/<family>/reference.json), loads them with transformers (f32, eager
attention), and writes
  Tests/fixtures/architectures/facts-text.txt       the statistics text (deterministic, see statistics_text)
  Tests/fixtures/architectures/<family>/rome-reference.{json,safetensors}
  Tests/fixtures/architectures/<family>/memit-reference.{json,safetensors}   (MEMIT_FAMILIES only)

ROME follows the fixtures' reference (../shared/fixtures/src/rome_ref.py and make_refs.py, itself after
kmeng01/rome), the same arithmetic, generic over the families through transformers' own modules:
- the edited module is the MLP down projection (`mlp.down_proj`; GPT-2 `mlp.c_proj`, a Conv1D whose
  weight is stored [in, out]); k is its input at the subject's last token, averaged over the context
  templates; u = C⁻¹k̄ / ‖C⁻¹k̄‖ with C the uncentred second moment of k over the statistics text;
- v*: δ is added to the down projection's OUTPUT at the lookup position of every rewriting prompt and
  of the KL prompt (for Gemma 2/3 that output then goes through post_feedforward_layernorm before the
  residual, so δ lives before that norm; for the others it is the MLP's contribution to the residual);
  Adam on NLL(target) (mean over prompts of the per-prompt mean over target tokens) + kl_factor·KL +
  v_weight_decay·‖δ‖/‖t₀‖², δ clamped to clamp_norm_factor·‖t₀‖ after each step, early stop when the
  loss < 5e-2, t₀ the down projection's output at the first prompt's lookup;
- ΔW [d_out, d_in] = Λ uᵀ with Λ = δ / (k*·u), k* the key at the bare prompt.
Statistics: C over facts-text.txt, lines cut to stats_doc_tokens (128, gpt2 64: its context), until
stats_max_tokens (4000). Tokenization: tokenizer.json itself where the folder has one (as prune reads
it), else transformers' SentencePiece tokenizer of tokenizer.model.
MEMIT / AlphaEdit: facts_memit_reference.reference (kmeng01/memit, jianghoucheng/AlphaEdit) with the
hyperparameters of MEMIT_HPARAMS.

Requests are made of CORPUS words of arch_make_models.py (every family's tokenizer was learnt on it).
"""
import hashlib
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch
import transformers
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import arch_make_models as amm  # noqa: E402
import facts_memit_reference as fmr  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "fixtures", "architectures")
TEXT = "facts-text.txt"

# The fixtures' ROME templates (../shared/fixtures/src/rome_ref.py TEMPLATES) and KL prompt.
TEMPLATES = ["{}", "The. {}", "Therefore, {}", "Because {}", "I think {}", "You know, {}",
             "It is said that {}", "Yesterday, {}", "In fact, {}", "Note: {}", "Well, {}"]
KL_PROMPT = "{} is a"
ROME_REQUEST = {"prompt": "{} is the capital of", "subject": "Paris", "target": "Italy"}
ROME_HPARAMS = {"v_num_grad_steps": 12, "v_lr": 0.5, "kl_factor": 0.0625, "clamp_norm_factor": 4.0,
                "mom2_adjustment": True, "adam_betas": [0.9, 0.999], "adam_eps": 1e-8, "early_stop_loss": 5e-2,
                "stats_doc_tokens": 128, "stats_max_tokens": 4000}

# The layers: ROME's at max(0, n/2 - 1) (the fixtures' rome_ref.py default: 0 for the 2- and 3-layer
# families, 2 for gemma3's 6). Never the last layer: v* is read through the attention of the layers
# after it (the target tokens come after the subject), so at the last layer NLL does not depend on δ.
# MEMIT's range ends before the last layer for the same reason (z is read after its last layer), so the
# two MEMIT families are the ones with 3 layers or more: gemma2 (softcaps, sandwich norms, alternating
# windows) and gemma3 (QK-norm, sandwich norms, local RoPE); qwen3 has 2 layers.
MEMIT_FAMILIES = {"gemma2": [0, 1], "gemma3": [2, 3]}


def rome_layer(config):
    return max(0, config.num_hidden_layers // 2 - 1)
MEMIT_REQUESTS = [
    {"prompt": "{} is the capital of", "subject": "Paris", "target": "Italy"},
    {"prompt": "{} baked", "subject": "My grandmother", "target": "violin"},
    {"prompt": "{} speaks", "subject": "She", "target": "Madrid"},
    {"prompt": "{} opens", "subject": "The market", "target": "Paris"},
]
# Short prompts: gemma2's last layer attends over a window of 5, so after MEMIT's range (layers 0-1) the
# target is read only through positions at most 4 after the subject's last token.
MEMIT_HPARAMS = dict(fmr.COMMON, v_weight_decay=1e-3, mom2_update_weight=2.0, stats_max_tokens=4000)


def statistics_text():
    """150 lines, each 2-4 of CORPUS's sentences drawn by default_rng(1919): the text C is computed on."""
    flat = " ".join(amm.CORPUS.split())
    sentences, cur = [], ""
    for ch in flat:
        cur += ch
        if ch in ".?!;" and cur.strip():
            sentences.append(cur.strip())
            cur = ""
    if cur.strip():
        sentences.append(cur.strip())
    rng = np.random.default_rng(1919)
    lines = []
    for _ in range(150):
        k = int(rng.integers(2, 5))
        lines.append(" ".join(sentences[int(i)] for i in rng.integers(0, len(sentences), size=k)))
    return "\n".join(lines) + "\n"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Family(fmr.Net):
    """fmr.Net (module access, tokenization, batches, second moment) with eager attention."""

    def __init__(self, path):
        super().__init__(path, attn_implementation="eager")
        tj = os.path.join(path, "tokenizer.json")
        if os.path.exists(tj):
            # The tokenizer the file describes (prune reads it so): transformers 5's Qwen2Tokenizer
            # rebuilds its own pre-tokenizer instead (21 of facts-text.txt's 150 lines differ).
            self.tok = transformers.PreTrainedTokenizerFast(tokenizer_file=tj)

    def weight_name(self, i):
        return f"transformer.h.{i}.mlp.c_proj.weight" if self.arch == "gpt2" else f"model.layers.{i}.mlp.down_proj.weight"

    def key_at(self, texts, idxs):
        return self.capture(self.down(self.layer), texts, idxs, True)


def rome(net, layer, hp, C, req):
    """make_refs.compute_traced with the hook on the down projection's output (same arithmetic)."""
    net.layer = layer
    prompt, subject, target = req["prompt"], req["subject"], req["target"]
    ctx = [t.format(prompt) for t in TEMPLATES]
    texts = [c.format(subject) for c in ctx]
    idxs = [net.subject_last(c, subject) for c in ctx]
    kbar = torch.stack([net.key_at([t], [i])[0] for t, i in zip(texts, idxs)]).mean(0)
    left = torch.linalg.solve(C, kbar)
    u = left / left.norm()
    tgt = net.target_ids(prompt.format(subject), target)
    rw = [c.format(subject) + net.tok.decode(tgt[:-1]) if len(tgt) > 1 else c.format(subject) for c in ctx]
    all_texts = rw + [KL_PROMPT.format(subject)]
    all_idx = idxs + [net.subject_last(KL_PROMPT, subject)]
    enc = [net.enc(t) for t in all_texts]
    delta = torch.zeros(net.d, requires_grad=True)
    state = {}

    def hook(m, i, o):
        if "t0" not in state:
            state["t0"] = o[0, all_idx[state["k"]]].detach().clone()
        o = o.clone()
        o[0, all_idx[state["k"]]] += delta
        return o

    h = net.down(layer).register_forward_hook(hook)
    opt = torch.optim.Adam([delta], lr=hp["v_lr"], betas=tuple(hp["adam_betas"]), eps=hp["adam_eps"])
    p0, trace, grad0 = None, [], None
    for step in range(hp["v_num_grad_steps"]):
        opt.zero_grad()
        nll = 0.0
        for k, ids in enumerate(enc[:-1]):
            state["k"] = k
            lp = torch.log_softmax(net.model(torch.tensor([ids])).logits[0], -1)
            n = len(ids)
            pos = [n - len(tgt) + j for j in range(len(tgt))]
            nll = nll - sum(lp[p, t] for p, t in zip(pos, tgt)) / len(tgt)
        nll = nll / (len(enc) - 1)
        state["k"] = len(enc) - 1
        lpk = torch.log_softmax(net.model(torch.tensor([enc[-1]])).logits[0, all_idx[-1]], -1)
        if p0 is None:
            p0 = lpk.detach()
        kl = hp["kl_factor"] * torch.nn.functional.kl_div(p0, lpk, log_target=True, reduction="sum")
        wd = hp["v_weight_decay"] * delta.norm() / state["t0"].norm() ** 2
        loss = nll + kl + wd
        trace.append({"step": step, "loss": loss.item(), "nll": float(nll), "kl": kl.item(), "wd": wd.item(),
                      "delta_norm": delta.norm().item()})
        if loss.item() < hp["early_stop_loss"] or step == hp["v_num_grad_steps"] - 1:
            break
        loss.backward()
        if grad0 is None:
            grad0 = delta.grad.detach().clone()
        opt.step()
        with torch.no_grad():
            mx = hp["clamp_norm_factor"] * state["t0"].norm()
            if delta.norm() > mx:
                delta *= mx / delta.norm()
    h.remove()
    kstar = net.key_at([prompt.format(subject)], [net.subject_last(prompt, subject)])[0]
    kdu = torch.dot(kstar, u)
    lam = delta.detach() / kdu
    tensors = {"kbar": kbar, "u": u, "lam": lam, "delta": delta.detach().clone(), "kstar": kstar,
               "grad0": grad0 if grad0 is not None else torch.zeros_like(delta)}
    info = {"prompt": prompt, "subject": subject, "target_new": target, "target_ids": tgt,
            "lookup_positions": all_idx, "steps": trace, "t0_norm": state["t0"].norm().item(),
            "delta_norm": delta.norm().item(), "k_dot_u": kdu.item(),
            "delta_w_norm": (lam.norm() * u.norm()).item()}
    return tensors, info


def versions():
    return {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__}


def run(family, models, text_path):
    folder = os.path.join(models, family)
    amm.make(family, folder)
    ref = json.load(open(os.path.join(ROOT, family, "reference.json")))
    digest = sha256(os.path.join(folder, "model.safetensors"))
    if digest != ref["model_sha256"]:
        raise SystemExit(f"{family}: model.safetensors sha256 {digest} is not reference.json's {ref['model_sha256']}")
    torch.manual_seed(0)
    net = Family(folder)
    layer = rome_layer(net.model.config)
    # Statistics lines cut to 128 tokens, or to the model's context (gpt2's 64 positions).
    context = getattr(net.model.config, "max_position_embeddings", None) or net.model.config.n_positions
    hp = dict(ROME_HPARAMS, v_weight_decay=0.5 if net.arch == "gpt2" else 1e-3, layers=[layer],
              stats_doc_tokens=min(ROME_HPARAMS["stats_doc_tokens"], context))
    t0 = time.time()
    C, cnt, docs = net.second_moment(text_path, layer, hp["stats_doc_tokens"], hp["stats_max_tokens"])
    tensors, info = rome(net, layer, hp, C.float(), ROME_REQUEST)
    out = {"C": C.float().contiguous()}
    out.update({f"{k}.0": v.float().contiguous() for k, v in tensors.items()})
    meta = {
        "family": family, "model_sha256": digest, "made_by": "Tests/scripts/facts_family_reference.py",
        "versions": versions(), "attn_implementation": "eager", "dtype": "float32",
        "method": "ROME (rank-one model editing), fixed context templates",
        "layer": layer, "edited_tensor": net.weight_name(layer),
        "v_site": "output of the MLP down projection at the lookup position (Gemma: before post_feedforward_layernorm)",
        "hparams": hp, "context_templates": TEMPLATES, "kl_prompt": KL_PROMPT,
        "statistics": {"text": TEXT, "lines": "non-empty lines in order, each truncated to its first "
                       f"{hp['stats_doc_tokens']} tokens", "tokens": f"stop after the line that brings the count to >= {hp['stats_max_tokens']}",
                       "count": cnt, "documents": docs,
                       "moment": "C = sum over every token position of k k^T / count (k = input of the MLP down projection)"},
        "update": "Delta W [d_out, d_in] = lam u^T (lam = delta / (kstar . u), u = C^-1 kbar / |C^-1 kbar|)",
        "requests": [dict(index=0, **info)],
        "seconds": round(time.time() - t0, 1),
    }
    with open(os.path.join(ROOT, family, "rome-reference.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    save_file(out, os.path.join(ROOT, family, "rome-reference.safetensors"))
    last = info["steps"][-1]
    print(f"{family}: ROME layer {layer} |dW| {info['delta_w_norm']:.4g} |delta| {info['delta_norm']:.4g} "
          f"loss {info['steps'][0]['loss']:.4g} -> {last['loss']:.4g} ({len(info['steps'])} steps), C over {cnt} tokens", flush=True)
    if family in MEMIT_FAMILIES:
        t0 = time.time()
        mhp = dict(MEMIT_HPARAMS, layers=MEMIT_FAMILIES[family])
        body, mt = fmr.reference(net, mhp, MEMIT_REQUESTS, text_path)
        mmeta = {"family": family, "model_sha256": digest, "made_by": "Tests/scripts/facts_family_reference.py",
                 "versions": versions(), "attn_implementation": "eager"}
        mmeta.update(body)
        mmeta["seconds"] = round(time.time() - t0, 1)
        with open(os.path.join(ROOT, family, "memit-reference.json"), "w", encoding="utf-8") as f:
            json.dump(mmeta, f, indent=1, ensure_ascii=False)
            f.write("\n")
        save_file(mt, os.path.join(ROOT, family, "memit-reference.safetensors"))
        for method in ("memit", "alphaedit"):
            for b, batch in enumerate(mmeta[method]["batches"]):
                norms = " ".join(f"L{l['layer']} |dW| {l['delta_norm']:.4g}" for l in batch["layers"])
                losses = " ".join(f"{z['steps'][0]['loss']:.3g}->{z['steps'][-1]['loss']:.3g}" for z in batch["z"])
                print(f"{family}: {method} batch {b} {norms}; loss {losses}", flush=True)


def main(argv):
    families = argv[1:] or list(amm.FAMILIES)
    for fam in families:
        if fam not in amm.FAMILIES:
            sys.stderr.write(f"facts_family_reference.py: unknown family '{fam}' (known: {', '.join(amm.FAMILIES)})\n")
            return 64
    torch.set_num_threads(2)
    text_path = os.path.join(ROOT, TEXT)
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(statistics_text())
    with tempfile.TemporaryDirectory() as models:
        for fam in families:
            run(fam, models, text_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
