"""torch baseline of prune-bench-facts (CPU, f32; run from the benchmark, never in CI).

  python bench_facts_torch.py WORK.json

WORK.json (written by the benchmark): {"model": HF folder, "gguf": optional GGUF file name in it, "threads", "mode": "edits" | "stats",
"layer", "templates", "requests": [{"prompt", "subject", "target"}], "rome": {"n", "steps", "lr",
"clamp", "kl", "wd"}, "memit": {"n", "layers", "steps", "lr", "clamp", "kl", "wd", "lambda",
"templates": [[...], [...]]}, "stats": {"text", "doc_tokens", "max_tokens"}, "parts": optional subset of
["memit", "rome", "stats"] (C is always computed: ROME and MEMIT need it)}.

The same steps as prune's fact engine (and as the ROME/MEMIT repositories compute them, from
../shared/fixtures/src/rome_ref.py): C = Σ k kᵀ / n over the text (forward stopped after the edited
layer); ROME: k̄ over the templates, u = C⁻¹k̄/‖C⁻¹k̄‖, v* by Adam on NLL + KL + weight decay with the
norm clamp for exactly `steps` steps (no early stop), k*, Λ; MEMIT: z per request at the last layer
(the same optimisation on the residual stream), then per layer the keys, the residual at the last
layer, ΔW = R Kᵀ(λC + KKᵀ)⁻¹ added to the down projection. As the repositories do it: the rewriting
prompts and the KL prompt of a request run as one padded batch through the whole model at every
step, with logits at every position. Prints one JSON object of seconds (model loading excluded).
"""
import json
import sys
import time


def vm_hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Stop(Exception):
    pass


def main(work_path):
    with open(work_path) as f:
        work = json.load(f)
    import torch
    import transformers
    torch.set_num_threads(work["threads"])
    torch.set_num_interop_threads(1)
    transformers.logging.set_verbosity_error()
    # A GGUF file ("gguf": its name in the "model" folder) is dequantized to f32 by transformers.
    extra = {"gguf_file": work["gguf"]} if work.get("gguf") else {}
    tok = transformers.AutoTokenizer.from_pretrained(work["model"], **extra)
    model = transformers.AutoModelForCausalLM.from_pretrained(work["model"], dtype=torch.float32, **extra).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    gpt2 = model.config.model_type == "gpt2"
    blocks = model.transformer.h if gpt2 else model.model.layers

    def mlp(i):
        return blocks[i].mlp

    def down(i):
        return blocks[i].mlp.c_proj if gpt2 else blocks[i].mlp.down_proj

    def enc(text):
        return tok(text)["input_ids"]

    def last_of_subject(template, subject):
        return len(enc(template.split("{}")[0] + subject)) - 1

    def keys_at(texts, idxs, layer):
        """Down-projection inputs at (text, index), one forward per text stopped after the layer."""
        got = []

        def pre(m, args):
            got.append(args[0].detach())
            raise Stop()
        h = down(layer).register_forward_pre_hook(pre)
        out = []
        with torch.no_grad():
            for t, ix in zip(texts, idxs):
                got.clear()
                try:
                    model(torch.tensor([enc(t)]))
                except Stop:
                    pass
                out.append(got[0][0, ix])
        h.remove()
        return torch.stack(out)

    def residual_at(texts, idxs, layer):
        got = []

        def hook(m, i, o):
            got.append((o[0] if isinstance(o, tuple) else o).detach())
            raise Stop()
        h = blocks[layer].register_forward_hook(hook)
        out = []
        with torch.no_grad():
            for t, ix in zip(texts, idxs):
                got.clear()
                try:
                    model(torch.tensor([enc(t)]))
                except Stop:
                    pass
                out.append(got[0][0, ix])
        h.remove()
        return torch.stack(out)

    result = {}

    # --- statistics C at the edited layer
    st = work["stats"]
    layer = work["layer"]
    hwm0 = vm_hwm_kib()
    t0 = time.perf_counter()
    docs = [l for l in open(st["text"]).read().split("\n") if l.strip()]
    acc = None
    count = 0
    got = []

    def stat_pre(m, args):
        got.append(args[0].detach())
        raise Stop()
    h = down(layer).register_forward_pre_hook(stat_pre)
    with torch.no_grad():
        for d in docs:
            ids = enc(d)[: st["doc_tokens"]]
            if not ids:
                continue
            got.clear()
            try:
                model(torch.tensor([ids]))
            except Stop:
                pass
            k = got[0][0].double()
            acc = k.T @ k if acc is None else acc + k.T @ k
            count += k.shape[0]
            if st["max_tokens"] and count >= st["max_tokens"]:
                break
    h.remove()
    C = acc / count
    result["stats_seconds"] = time.perf_counter() - t0
    result["stats_tokens"] = count
    result["stats_hwm_before_kib"] = hwm0
    result["stats_hwm_after_kib"] = vm_hwm_kib()
    if work["mode"] == "stats":
        print(json.dumps(result))
        return

    templates = work["templates"]
    kl_template = "{} is a"

    def optimise(req, contexts, layer, site, hp):
        """v*/δ: Adam on NLL + KL + weight decay, δ added at `site` ("mlp" or "residual") of `layer`."""
        subject = req["subject"]
        filled = req["prompt"].format(subject)
        tgt = enc(filled + " " + req["target"])[len(enc(filled)):]
        texts = [c.format(subject) + (tok.decode(tgt[:-1]) if len(tgt) > 1 else "") for c in contexts]
        texts.append(kl_template.format(subject))
        lookups = [last_of_subject(c, subject) for c in contexts] + [last_of_subject(kl_template, subject)]
        ids = [enc(t) for t in texts]
        width = max(len(x) for x in ids)
        batch = torch.zeros(len(ids), width, dtype=torch.long)
        mask = torch.zeros(len(ids), width, dtype=torch.long)
        for i, x in enumerate(ids):
            batch[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        n = len(contexts)
        delta = torch.zeros(model.config.hidden_size, requires_grad=True)
        state = {}

        def hook(m, i, o):
            h = o[0] if isinstance(o, tuple) else o
            if "t0" not in state:
                state["t0"] = h[0, lookups[0]].detach().clone()
            h = h.clone()
            for b in range(len(ids)):
                h[b, lookups[b]] += delta
            return (h,) + tuple(o[1:]) if isinstance(o, tuple) else h
        module = mlp(layer) if site == "mlp" else blocks[layer]
        hk = module.register_forward_hook(hook)
        opt = torch.optim.Adam([delta], lr=hp["lr"])
        p0 = None
        for step in range(hp["steps"]):
            opt.zero_grad()
            logits = model(batch, attention_mask=mask).logits
            lp = torch.log_softmax(logits, dim=2)
            nll = 0.0
            for b in range(n):
                L = len(ids[b])
                nll = nll - sum(lp[b, L - len(tgt) + j, t] for j, t in enumerate(tgt)) / len(tgt)
            nll = nll / n
            lpk = lp[n, lookups[n]]
            if p0 is None:
                p0 = lpk.detach()
            kl = hp["kl"] * torch.nn.functional.kl_div(p0, lpk, log_target=True, reduction="sum")
            wd = hp["wd"] * delta.norm() / state["t0"].norm() ** 2
            loss = nll + kl + wd
            if step == hp["steps"] - 1:
                break
            loss.backward()
            opt.step()
            with torch.no_grad():
                mx = hp["clamp"] * state["t0"].norm()
                if delta.norm() > mx:
                    delta *= mx / delta.norm()
        hk.remove()
        return delta.detach(), state["t0"]

    parts = work.get("parts", ["memit", "rome", "stats"])
    # --- ROME
    rp = work["rome"]
    t0 = time.perf_counter()
    for req in work["requests"][: rp["n"] if "rome" in parts else 0]:
        subject = req["subject"]
        contexts = [t.format(req["prompt"]) for t in templates]
        kbar = keys_at([c.format(subject) for c in contexts], [last_of_subject(c, subject) for c in contexts], layer).mean(0)
        left = torch.linalg.solve(C, kbar.double())
        u = (left / left.norm()).float()
        delta, _ = optimise(req, contexts, layer, "mlp", rp)
        kstar = keys_at([req["prompt"].format(subject)], [last_of_subject(req["prompt"], subject)], layer)[0]
        lam = delta / torch.dot(kstar, u)
        _ = torch.outer(lam, u)
    result["rome_seconds"] = (time.perf_counter() - t0) / rp["n"]
    if "memit" not in parts:
        print(json.dumps(result))
        return

    # --- MEMIT batch
    mp = work["memit"]
    reqs = work["requests"][: mp["n"]]
    groups = mp["templates"]
    flat = [t for g in groups for t in g]
    zl = mp["layers"][-1]
    saved = {l: down(l).weight.detach().clone() for l in mp["layers"]}
    t0 = time.perf_counter()
    zs = []
    for req in reqs:
        contexts = [t.format(req["prompt"]) for t in flat]
        delta, t0v = optimise(req, contexts, zl, "residual", mp)
        zs.append(t0v + delta)
    Z = torch.stack(zs, 1).double()  # d × n
    for i, l in enumerate(mp["layers"]):
        cols = []
        for req in reqs:
            s = req["subject"]
            per = []
            for g in groups:
                cs = [t.format(req["prompt"]) for t in g]
                per.append(keys_at([c.format(s) for c in cs], [last_of_subject(c, s) for c in cs], l).mean(0))
            cols.append(torch.stack(per).mean(0))
        K = torch.stack(cols, 1).double()  # m × n
        cur = residual_at([r["prompt"].format(r["subject"]) for r in reqs],
                          [last_of_subject(r["prompt"], r["subject"]) for r in reqs], zl).T.double()
        R = (Z - cur) / (len(mp["layers"]) - i)
        V = torch.linalg.solve(mp["lambda"] * C + K @ K.T, K)
        upd = (R @ V.T).float()  # d × m
        with torch.no_grad():
            w = down(l).weight
            if gpt2:
                w += upd.T
            else:
                w += upd
    result["memit_seconds"] = time.perf_counter() - t0
    with torch.no_grad():
        for l, w in saved.items():
            down(l).weight.copy_(w)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
