"""Torch reference for MEMIT and AlphaEdit on the fixtures (run outside CI with the torch venv):

  /work/venv-torch/bin/python Tests/scripts/facts_memit_reference.py FIXTURES OUT.safetensors OUT.json

Follows kmeng01/memit (compute_z on the residual stream at the last layer of the range, keys averaged
over each template group then over the groups, ΔW = R Kᵀ(λC + KKᵀ)⁻¹ with the residual spread over the
remaining layers, later layers computed on the model with earlier layers updated) and
jianghoucheng/AlphaEdit (ΔW = R (A⁻¹ P K)ᵀ with A = P(KKᵀ + Cₚ) + αI, P from the eigenvectors of C
below the threshold, Cₚ accumulating the keys of earlier batches). The model, tokenizer and C come
from the fixtures' own reference ROME (fixtures/src/rome_ref.py). Fixed templates, as that reference.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

fixtures, out_st, out_json = sys.argv[1:4]
sys.path.insert(0, os.path.join(fixtures, "src"))
import rome_ref  # noqa: E402

GROUPS = [["{}"], ["The. {}", "Therefore, {}", "Because {}", "I think {}"]]
CASES = {
    "gpt2-tiny": dict(layers=[0, 1], wd=0.5, lam=2.0, threshold=2e-2, l2=10.0),
    "llama-tiny": dict(layers=[0, 1], wd=1e-3, lam=2.0, threshold=1e-1, l2=10.0),
}
STEPS, LR, CLAMP, KL = 12, 1.0, 4.0, 0.0625


def block_out(o):
    return o[0] if isinstance(o, tuple) else o


def compute_z(r, req, layer):
    prompt, subject, target = req["prompt"], req["subject"], req["target"]
    flat = [t for g in GROUPS for t in g]
    ctx = [t.format(prompt) for t in flat]
    idxs = [r.subject_last(c, subject) for c in ctx]
    tgt = r.target_ids(prompt.format(subject), target)
    rw = [c.format(subject) + r.tok.decode(tgt[:-1]) if len(tgt) > 1 else c.format(subject) for c in ctx]
    enc = [r.enc(t) for t in rw + ["{} is a".format(subject)]]
    all_idx = idxs + [r.subject_last("{} is a", subject)]
    delta = torch.zeros(r.model.config.hidden_size, requires_grad=True)
    state = {}

    def hook(m, i, o):
        h = block_out(o)
        if "t0" not in state:
            state["t0"] = h[0, all_idx[state["k"]]].detach().clone()
        h = h.clone()
        h[0, all_idx[state["k"]]] += delta
        return (h,) + tuple(o[1:]) if isinstance(o, tuple) else h

    hd = r.block(layer).register_forward_hook(hook)
    opt = torch.optim.Adam([delta], lr=LR)
    p0 = None
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        nll = 0.0
        for k, ids in enumerate(enc[:-1]):
            state["k"] = k
            lp = torch.log_softmax(r.model(torch.tensor([ids])).logits[0], -1)
            n = len(ids)
            nll = nll - sum(lp[n - len(tgt) + j, t] for j, t in enumerate(tgt)) / len(tgt)
        nll = nll / (len(enc) - 1)
        state["k"] = len(enc) - 1
        lpk = torch.log_softmax(r.model(torch.tensor([enc[-1]])).logits[0, all_idx[-1]], -1)
        if p0 is None:
            p0 = lpk.detach()
        kl = KL * torch.nn.functional.kl_div(p0, lpk, log_target=True, reduction="sum")
        wd = r.wd * delta.norm() / state["t0"].norm() ** 2
        loss = nll + kl + wd
        losses.append(loss.item())
        if loss.item() < 5e-2 or step == STEPS - 1:
            break
        loss.backward()
        opt.step()
        with torch.no_grad():
            mx = CLAMP * state["t0"].norm()
            if delta.norm() > mx:
                delta *= mx / delta.norm()
    hd.remove()
    return (state["t0"] + delta).detach(), losses


def keys(r, reqs, layer):
    old = r.layer
    r.layer = layer
    out = []
    for q in reqs:
        gm = []
        for g in GROUPS:
            ctx = [t.format(q["prompt"]) for t in g]
            ks = r.key_at([c.format(q["subject"]) for c in ctx], [r.subject_last(c, q["subject"]) for c in ctx])
            gm.append(ks.mean(0))
        out.append(torch.stack(gm).mean(0))
    r.layer = old
    return torch.stack(out, 1)  # m x n


def residuals(r, reqs, layer):
    cols = []
    for q in reqs:
        store = {}
        h = r.block(layer).register_forward_hook(lambda m, i, o: store.__setitem__("h", block_out(o).detach()))
        with torch.no_grad():
            r.model(torch.tensor([r.enc(q["prompt"].format(q["subject"]))]))
        h.remove()
        cols.append(store["h"][0, r.subject_last(q["prompt"], q["subject"])])
    return torch.stack(cols, 1)  # d x n


def run(name):
    c = CASES[name]
    r = rome_ref.Rome(os.path.join(fixtures, name), layer=c["layers"][0], wd=c["wd"])
    reqs = [{"prompt": q["requested_rewrite"]["prompt"], "subject": q["requested_rewrite"]["subject"],
             "target": q["requested_rewrite"]["target_new"]["str"]}
            for q in json.load(open(os.path.join(fixtures, name, "requests.json")))[:4]]
    Cs = {}
    for L in c["layers"]:
        r.layer = L
        Cs[L] = r.second_moment(os.path.join(fixtures, name, "heldout.txt"), 20000).double()
    tensors, meta = {}, {"layers": c["layers"], "groups": GROUPS, "steps": STEPS, "lr": LR, "clamp": CLAMP, "kl": KL,
                         "wd": c["wd"], "lambda": c["lam"], "threshold": c["threshold"], "L2": c["l2"],
                         "requests": reqs, "batches": [[0, 1], [2, 3]]}
    W0 = {L: r.W().detach().clone() for L in c["layers"]} if False else None
    saved = {L: r.down(L).weight.detach().clone() for L in c["layers"]}

    def W(L):
        w = r.down(L).weight
        return w.T if r.arch == "gpt2" else w

    def add(L, d):
        with torch.no_grad():
            if r.arch == "gpt2":
                r.down(L).weight += d.T.float()
            else:
                r.down(L).weight += d.float()

    for method in ["memit", "alphaedit"]:
        for L in c["layers"]:
            with torch.no_grad():
                r.down(L).weight.copy_(saved[L])
        cache_c = {L: torch.zeros_like(Cs[L]) for L in c["layers"]}
        P = {}
        for L in c["layers"]:
            U, S, _ = torch.linalg.svd(Cs[L], full_matrices=False)
            small = (S < c["threshold"]).nonzero(as_tuple=True)[0]
            P[L] = U[:, small] @ U[:, small].T
            meta[f"null_dim.{L}"] = int(len(small))
        for b, batch in enumerate(meta["batches"]):
            breqs = [reqs[i] for i in batch]
            zl = c["layers"][-1]
            zs, losses = [], []
            for q in breqs:
                z, ls = compute_z(r, q, zl)
                zs.append(z)
                losses.append(ls)
            zs = torch.stack(zs, 1).double()
            meta[f"{method}.{b}.losses"] = losses
            tensors[f"{method}.{b}.z"] = zs.float().contiguous()
            for i, L in enumerate(c["layers"]):
                K = keys(r, breqs, L).double()
                cur = residuals(r, breqs, zl).double()
                resid = (zs - cur) / (len(c["layers"]) - i)
                if method == "memit":
                    adj = torch.linalg.solve(c["lam"] * Cs[L] + K @ K.T, K)  # m x n
                    upd = resid @ adj.T
                    V = adj
                else:
                    A = P[L] @ (K @ K.T + cache_c[L]) + c["l2"] * torch.eye(K.shape[0], dtype=torch.double)
                    X = torch.linalg.solve(A, P[L] @ K @ resid.T)  # m x d
                    upd = X.T
                    V = torch.linalg.solve(A, P[L] @ K)
                tensors[f"{method}.{b}.K.{L}"] = K.float().contiguous()
                tensors[f"{method}.{b}.resid.{L}"] = resid.float().contiguous()
                tensors[f"{method}.{b}.V.{L}"] = V.float().contiguous()
                tensors[f"{method}.{b}.delta.{L}"] = upd.float().contiguous()
                add(L, upd)
            if method == "alphaedit":
                for L in c["layers"]:
                    K = keys(r, breqs, L).double()
                    cache_c[L] += K @ K.T
    for L in c["layers"]:
        with torch.no_grad():
            r.down(L).weight.copy_(saved[L])
    return tensors, meta


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(2)
    allt, allm = {}, {}
    for name in CASES:
        t, m = run(name)
        allt.update({f"{name}.{k}": v for k, v in t.items()})
        allm[name] = m
    save_file(allt, out_st)
    json.dump(allm, open(out_json, "w"), indent=1)
