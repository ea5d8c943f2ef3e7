"""Torch reference for MEMIT and AlphaEdit on a fixture (run outside CI, with the torch venv; the output
is checked in under Tests/PruneKitTests/Resources/memit-reference/):

  /work/venv-torch/bin/python Tests/scripts/facts_memit_reference.py FIXTURE_DIR OUT_PREFIX

writes OUT_PREFIX.json (hyperparameters, templates, statistics spec, per request the target ids, lookup
positions and loss trace, per layer the key-mapping and null-space checks) and OUT_PREFIX.safetensors.

Written from the papers and the original code (kmeng01/memit: memit_main.py, compute_z.py,
compute_ks.py; jianghoucheng/AlphaEdit: AlphaEdit_main.py), on transformers' own model:

- z (compute_z): δ added to the residual stream after block L (the last layer of the range) at the
  subject's last token of every rewriting prompt and of the KL prompt "{} is a"; Adam on
  NLL(target) (mean over prompts of the per-prompt mean over target tokens) + kl_factor · KL(p_δ ‖ p₀)
  + v_weight_decay · ‖δ‖/‖t₀‖², δ clamped to clamp_norm_factor · ‖t₀‖ after each step, stop when the
  loss < 5e-2 or at the last step; t₀ is the residual at the first rewriting prompt; z = t₀ + δ.
- keys (compute_ks): the input of the MLP down projection at the subject's last token, averaged over
  each template group, then over the groups.
- per layer i of the range, on the model with the earlier layers already updated: R = (Z − Z_cur) /
  (number of layers left), Z_cur the residual after block L at the subject of the bare prompts;
  MEMIT: ΔW = R Kᵀ (λC + KKᵀ)⁻¹ (solve (λC + KKᵀ) V = K, ΔW = R Vᵀ);
  AlphaEdit: ΔW = (A⁻¹ P K Rᵀ)ᵀ with A = P(KKᵀ + C_p) + L2·I, P = Û Ûᵀ with Û the singular vectors of C
  whose singular values are below nullspace_threshold, C_p the Σ k kᵀ of earlier batches' keys (read on
  the model after their update), so ΔW = R Vᵀ with V = A⁻¹ P K.
- C: the uncentred second moment E[k kᵀ] of the keys at each layer of the range, on the unedited model,
  over heldout.txt: non-empty lines in order, each cut to its first stats_doc_tokens tokens, until
  the line that brings the count to ≥ stats_max_tokens (the convention of fixtures/src/rome_ref.py).

Conventions shared with the fixtures' ROME reference (and prune): fixed context templates instead of
sampled ones; the target ids are those of prompt + " " + target after those of the prompt; the
subject's last token is len(ids(prefix + subject)) − 1; the loss is read at the model's output.
Forward passes in float32 (as the model), the solves in float64.
"""
import json
import math
import os
import sys
import time

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

GROUPS = [["{}"], ["The. {}", "Therefore, {}", "Because {}", "I think {}"]]
KL_PROMPT = "{} is a"
COMMON = {
    "layers": [1, 2], "fact_token": "subject_last", "v_num_grad_steps": 8, "v_lr": 0.5,
    "clamp_norm_factor": 0.75, "kl_factor": 0.0625, "mom2_adjustment": True, "adam_betas": [0.9, 0.999],
    "adam_eps": 1e-8, "early_stop_loss": 5e-2, "stats_doc_tokens": 128, "stats_max_tokens": 5000, "L2": 10.0,
}
PER_MODEL = {
    "gpt2": {"v_weight_decay": 0.5, "mom2_update_weight": 2.0},
    "llama": {"v_weight_decay": 1e-3, "mom2_update_weight": 2.0},
}
MEMIT_BATCHES = [[0, 1, 2]]
ALPHA_BATCHES = [[0, 1], [2, 3]]


class Net:
    def __init__(self, path, attn_implementation=None):
        self.tok = AutoTokenizer.from_pretrained(path)
        kw = {"attn_implementation": attn_implementation} if attn_implementation else {}
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kw).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.arch = self.model.config.model_type
        self.d = self.model.config.hidden_size

    def block(self, i):
        return self.model.transformer.h[i] if self.arch == "gpt2" else self.model.model.layers[i]

    def down(self, i):
        b = self.block(i)
        return b.mlp.c_proj if self.arch == "gpt2" else b.mlp.down_proj

    def weight(self, i):
        """The down projection as [d_out, d_in] (a view: GPT-2's Conv1D stores it transposed)."""
        w = self.down(i).weight
        return w.T if self.arch == "gpt2" else w

    def enc(self, text):
        return self.tok(text)["input_ids"]

    def subject_last(self, template, subject):
        return len(self.enc(template.split("{}")[0] + subject)) - 1

    def target_ids(self, filled, target):
        return self.enc(filled + " " + target)[len(self.enc(filled)):]

    def batch(self, id_lists):
        """Right-padded batch; causal attention, so padding never reaches the real positions."""
        t = max(len(x) for x in id_lists)
        return torch.tensor([x + [0] * (t - len(x)) for x in id_lists])

    def capture(self, module, texts, positions, want_input):
        """The input (or output) of `module` at one position of each text, [n, width]."""
        got = {}

        def hook(m, i, o):
            got["x"] = (i[0] if want_input else (o[0] if isinstance(o, tuple) else o)).detach()

        h = module.register_forward_hook(hook)
        with torch.no_grad():
            self.model(self.batch([self.enc(t) for t in texts]))
        h.remove()
        return torch.stack([got["x"][j, p] for j, p in enumerate(positions)])

    def second_moment(self, path, layer, doc_tokens, max_tokens):
        lines = [l for l in open(path, encoding="utf-8").read().split("\n") if l.strip()]
        acc, cnt, docs = None, 0, 0
        got = {}
        h = self.down(layer).register_forward_hook(lambda m, i, o: got.__setitem__("k", i[0].detach()))
        with torch.no_grad():
            for line in lines:
                self.model(torch.tensor([self.enc(line)[:doc_tokens]]))
                k = got["k"][0].double()
                acc = k.T @ k if acc is None else acc + k.T @ k
                cnt += k.shape[0]
                docs += 1
                if cnt >= max_tokens:
                    break
        h.remove()
        return acc / cnt, cnt, docs


def compute_z(net, req, layer, hp):
    prompt, subject, target = req["prompt"], req["subject"], req["target"]
    contexts = [t.format(prompt) for g in GROUPS for t in g]
    tgt = net.target_ids(prompt.format(subject), target)
    suffix = net.tok.decode(tgt[:-1]) if len(tgt) > 1 else ""
    texts = [c.format(subject) + suffix for c in contexts] + [KL_PROMPT.format(subject)]
    lookups = [net.subject_last(c, subject) for c in contexts] + [net.subject_last(KL_PROMPT, subject)]
    ids = [net.enc(t) for t in texts]
    inputs = net.batch(ids)
    nrw = len(contexts)
    mask = torch.zeros(inputs.shape[0], inputs.shape[1], 1)
    for j, p in enumerate(lookups):
        mask[j, p, 0] = 1
    delta = torch.zeros(net.d, requires_grad=True)
    state = {}

    def hook(m, i, o):
        h = o[0] if isinstance(o, tuple) else o
        if "t0" not in state:
            state["t0"] = h[0, lookups[0]].detach().clone()
        h = h + mask * delta
        return (h,) + tuple(o[1:]) if isinstance(o, tuple) else h

    hd = net.block(layer).register_forward_hook(hook)
    opt = torch.optim.Adam([delta], lr=hp["v_lr"], betas=tuple(hp["adam_betas"]), eps=hp["adam_eps"])
    kl0, trace, grad0 = None, [], None
    for step in range(hp["v_num_grad_steps"]):
        opt.zero_grad()
        lp = torch.log_softmax(net.model(inputs).logits, -1)
        nll_each = []
        for j in range(nrw):
            n = len(ids[j])
            nll_each.append(-sum(lp[j, n - len(tgt) + r, t] for r, t in enumerate(tgt)) / len(tgt))
        nll = torch.stack(nll_each).mean()
        klp = lp[nrw, lookups[-1]].unsqueeze(0)
        if kl0 is None:
            kl0 = klp.detach().clone()
        kl = hp["kl_factor"] * torch.nn.functional.kl_div(kl0, klp, log_target=True, reduction="batchmean")
        wd = hp["v_weight_decay"] * delta.norm() / state["t0"].norm() ** 2
        loss = nll + kl + wd
        trace.append({"loss": loss.item(), "nll": nll.item(), "kl": kl.item(), "wd": wd.item(),
                      "delta_norm": delta.norm().item(),
                      "probability": torch.exp(-torch.stack(nll_each)).mean().item()})
        if loss.item() < hp["early_stop_loss"] or step == hp["v_num_grad_steps"] - 1:
            break
        loss.backward()
        if grad0 is None:
            grad0 = delta.grad.detach().clone()
        opt.step()
        with torch.no_grad():
            mx = hp["clamp_norm_factor"] * state["t0"].norm()
            if delta.norm() > mx:
                delta[...] = delta * mx / delta.norm()
    hd.remove()
    z = (state["t0"] + delta).detach()
    return z, {"target_ids": tgt, "lookup_positions": lookups, "steps": trace,
               "t0_norm": state["t0"].norm().item(), "delta_norm": delta.norm().item()}, grad0


def keys(net, reqs, layer):
    cols = []
    for q in reqs:
        means = []
        for g in GROUPS:
            ctx = [t.format(q["prompt"]) for t in g]
            ks = net.capture(net.down(layer), [c.format(q["subject"]) for c in ctx],
                             [net.subject_last(c, q["subject"]) for c in ctx], True)
            means.append(ks.double().mean(0))
        cols.append(torch.stack(means).mean(0))
    return torch.stack(cols, 1)  # m × n


def residuals(net, reqs, layer):
    r = net.capture(net.block(layer), [q["prompt"].format(q["subject"]) for q in reqs],
                    [net.subject_last(q["prompt"], q["subject"]) for q in reqs], False)
    return r.double().T  # d × n


def run_batches(net, method, reqs, batches, hp, C, P, tensors, meta):
    layers = hp["layers"]
    zl = layers[-1]
    saved = {L: net.down(L).weight.detach().clone() for L in layers}
    cache = {L: torch.zeros_like(C[L]) for L in layers}
    out = []
    for b, batch in enumerate(batches):
        breqs = [reqs[i] for i in batch]
        rec = {"requests": batch, "z": [], "layers": []}
        zs = []
        for j, q in enumerate(breqs):
            z, info, g0 = compute_z(net, q, zl, hp)
            zs.append(z)
            rec["z"].append(info)
            tensors[f"{method}.{b}.grad0.{j}"] = g0.float().contiguous()
        Z = torch.stack(zs, 1).double()
        tensors[f"{method}.{b}.z"] = Z.float().contiguous()
        for i, L in enumerate(layers):
            K = keys(net, breqs, L)
            cur = residuals(net, breqs, zl)
            if i == 0:
                first = cur
            R = (Z - cur) / (len(layers) - i)
            m = K.shape[0]
            if method == "memit":
                V = torch.linalg.solve(hp["mom2_update_weight"] * C[L] + K @ K.T, K)
                dW = R @ V.T
            else:
                A = P[L] @ (K @ K.T + cache[L]) + hp["L2"] * torch.eye(m, dtype=torch.float64)
                dW = torch.linalg.solve(A, P[L] @ K @ R.T).T
                V = torch.linalg.solve(A, P[L] @ K)
                tensors[f"{method}.{b}.PK.{L}"] = (P[L] @ K).float().contiguous()
            lrec = {"layer": L, "delta_norm": dW.norm().item(),
                    "factor_error": ((R @ V.T) - dW).norm().item() / dW.norm().item(),
                    "key_mapping_error": (dW @ K - R).norm().item() / R.norm().item(),
                    "residual_norm": R.norm().item()}
            if method == "alphaedit":
                # Keys in the preserved space (P k = 0): the eigenvectors of C above the threshold.
                U, S, _ = torch.linalg.svd(C[L])
                keep = U[:, S >= hp["nullspace_threshold"]]
                lrec["preserved_max_rel"] = ((dW @ keep).norm(dim=0).max() / dW.norm()).item()
                if cache[L].abs().sum() > 0:
                    lrec["previous_keys"] = True
            rec["layers"].append(lrec)
            tensors[f"{method}.{b}.K.{L}"] = K.float().contiguous()
            tensors[f"{method}.{b}.cur.{L}"] = cur.float().contiguous()
            tensors[f"{method}.{b}.R.{L}"] = R.float().contiguous()
            tensors[f"{method}.{b}.V.{L}"] = V.float().contiguous()
            with torch.no_grad():
                net.weight(L).add_(dW.float())
        if method == "alphaedit":
            for L in layers:
                K = keys(net, breqs, L)
                cache[L] += K @ K.T
                tensors[f"{method}.{b}.Knew.{L}"] = K.float().contiguous()
        # After the batch: the residual at the last layer at the bare prompts, against z.
        after = residuals(net, breqs, zl)
        rec["z_error_after"] = ((after - Z).norm(dim=0) / (Z - first).norm(dim=0)).tolist()
        out.append(rec)
    with torch.no_grad():
        for L in layers:
            net.down(L).weight.copy_(saved[L])
    meta[method] = {"batches": out}


def reference(net, hp, reqs, text_path, memit_batches=MEMIT_BATCHES, alpha_batches=ALPHA_BATCHES):
    """MEMIT and AlphaEdit on `net` with `hp` (nullspace_threshold is chosen here and added), C over
    the text at `text_path`: returns (meta, tensors) as written by main()."""
    hp = dict(hp)
    text_name = os.path.basename(text_path)
    tensors = {}
    meta = {"hparams": hp,
            "context_templates": GROUPS, "kl_prompt": KL_PROMPT, "requests": reqs,
            "memit_batches": memit_batches, "alphaedit_batches": alpha_batches,
            "statistics": {"text": text_name, "lines": "non-empty lines in order, each cut to its first "
                           f"{hp['stats_doc_tokens']} tokens", "tokens": "stop after the line that brings the "
                           f"count to >= {hp['stats_max_tokens']}", "moment": "C = sum of k k^T / count"},
            "stats": {}}
    C, P = {}, {}
    for L in hp["layers"]:
        C[L], cnt, docs = net.second_moment(text_path, L, hp["stats_doc_tokens"], hp["stats_max_tokens"])
        S = torch.linalg.svdvals(C[L])
        meta["stats"][str(L)] = {"tokens": cnt, "documents": docs, "trace": C[L].trace().item(),
                                 "sigma_top": S[:5].tolist()}
        tensors[f"C.diag.{L}"] = C[L].diagonal().float().contiguous()
        tensors[f"C.sigma.{L}"] = S.float().contiguous()
    # The null-space threshold (one for the range, as AlphaEdit's): between two consecutive singular
    # values of C, with 20 %-60 % of them below it at every layer, where the smallest distance (in log)
    # to any layer's singular value is largest, so that the dimension does not hinge on rounding.
    m = C[hp["layers"][0]].shape[0]
    sig = {L: tensors[f"C.sigma.{L}"].double() for L in hp["layers"]}

    def margin(t):
        out = float("inf")
        for L in hp["layers"]:
            below = int((sig[L] < t).sum())
            if not (0.2 * m <= below <= 0.6 * m):
                return -1.0
            out = min(out, float((torch.log(sig[L]) - math.log(t)).abs().min()))
        return out

    cands = [math.sqrt(float(S[i]) * float(S[i + 1])) for S in sig.values() for i in range(len(S) - 1)]
    best = max(cands, key=margin)
    best = float(f"{best:.6g}")
    hp["nullspace_threshold"] = best
    meta["threshold_log_margin"] = margin(best)
    for L in hp["layers"]:
        U, S, _ = torch.linalg.svd(C[L])
        idx = (S < hp["nullspace_threshold"]).nonzero(as_tuple=True)[0]
        P[L] = U[:, idx] @ U[:, idx].T
        near = S[(S / hp["nullspace_threshold"]).log().abs().argsort()[:2]]
        meta["stats"][str(L)].update({"null_dim": len(idx), "nearest_sigma": near.tolist(),
                                      "trace_P": P[L].trace().item()})
    run_batches(net, "memit", reqs, memit_batches, hp, C, P, tensors, meta)
    run_batches(net, "alphaedit", reqs, alpha_batches, hp, C, P, tensors, meta)
    return meta, tensors


def main():
    fixture, prefix = sys.argv[1:3]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    t_start = time.time()
    net = Net(fixture)
    hp = dict(COMMON, **PER_MODEL[net.arch])
    reqs = [{"prompt": q["requested_rewrite"]["prompt"], "subject": q["requested_rewrite"]["subject"],
             "target": q["requested_rewrite"]["target_new"]["str"]}
            for q in json.load(open(os.path.join(fixture, "requests.json")))[:4]]
    body, tensors = reference(net, hp, reqs, os.path.join(fixture, "heldout.txt"))
    meta = {"fixture": os.path.basename(os.path.normpath(fixture))}
    meta.update(body)
    meta["seconds"] = round(time.time() - t_start, 1)
    meta["torch"] = torch.__version__
    save_file(tensors, prefix + ".safetensors")
    with open(prefix + ".json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
