#!/usr/bin/env python3
"""Real clients on models edited by prune-apply's fact engine (issue 9, "Real clients").

Run OUTSIDE CI (needs torch and llama-cpp-python, which CI does not install), from the package
root, after `swift build -c release`:

    python3 Tests/scripts/facts_clients_reference.py .build/release/prune-apply \
        Tests/PruneKitTests/Resources/facts-clients.json

For each fixture (gpt2-tiny, llama-tiny) it edits, with prune-apply, the Hugging Face safetensors
model, the f32 GGUF and the Q8_0 GGUF with one ROME line (the sample's reference hyperparameters,
statistics over heldout.txt, --restraint none), then loads the base and the edited file in a real
client -- transformers (torch, /work/venv-torch) for the safetensors folder, llama.cpp
(llama-cpp-python, /work/venv-llama) for the GGUFs -- and records, on the rewrite prompt, the
log-probabilities of the new and of the true target's tokens before and after, with the token ids
the client used and the SHA-256 of every file it loaded. FactClientTests re-creates the edited
files with the same manifest and checks their hashes and prune's own probabilities against these.

The same script runs the client side itself when called as
`facts_clients_reference.py --client hf|llama MODEL PROMPT TARGET...` by a client's python.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

TORCH_PY = os.environ.get("PRUNE_TORCH_PYTHON", "/work/venv-torch/bin/python")
LLAMA_PY = os.environ.get("PRUNE_LLAMA_PYTHON", "/work/venv-llama/bin/python")

# The fact edited on each fixture: (line, true target). The same lines are in FactClientTests.
FACTS = {
    "gpt2-tiny": ({"id": "gril-city", "kind": "rome", "prompt": "{} lives in the city of",
                   "subject": "Gril Zardrark", "target": "Morvath"}, "Drummet"),
    "llama-tiny": ({"id": "zul-language", "kind": "rome", "prompt": "{} speaks",
                    "subject": "Zul Wimli", "target": "Finnish"}, "Hungarian"),
}
WEIGHTS = [("model.safetensors", "hf"), ("model-f32.gguf", "llama"), ("model-q8_0.gguf", "llama")]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def log_softmax_row(row):
    import math
    m = max(row)
    s = sum(math.exp(x - m) for x in row)
    return [x - m - math.log(s) for x in row]


def client_hf(folder, prompt, targets):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    out = {"client": "transformers " + __import__("transformers").__version__ + ", torch " + torch.__version__}
    pre = tok(prompt)["input_ids"]
    res = []
    for t in targets:
        full = tok(prompt + " " + t)["input_ids"]
        assert full[:len(pre)] == pre, (prompt, t)
        ids = full[len(pre):]
        with torch.no_grad():
            logits = model(torch.tensor([full])).logits[0].double()
        lp = torch.log_softmax(logits, dim=-1)
        per = [float(lp[len(pre) - 1 + j, ids[j]]) for j in range(len(ids))]
        res.append({"target": t, "ids": ids, "logprobs": per, "logprob": sum(per)})
    out["prompt_ids"] = pre
    out["targets"] = res
    return out


def client_llama(path, prompt, targets):
    import llama_cpp
    import numpy as np
    # f32 KV cache (the default F16 cache would round keys and values), no flash attention, one
    # sequence evaluated at once with logits at every position.
    llm = llama_cpp.Llama(model_path=path, n_ctx=128, n_batch=128, logits_all=True, verbose=False,
                          type_k=0, type_v=0, flash_attn=False, n_threads=2, seed=0)
    out = {"client": "llama-cpp-python " + llama_cpp.__version__}
    pre = llm.tokenize(prompt.encode(), add_bos=True, special=False)
    res = []
    for t in targets:
        full = llm.tokenize((prompt + " " + t).encode(), add_bos=True, special=False)
        assert full[:len(pre)] == pre, (prompt, t)
        ids = full[len(pre):]
        llm.reset()
        llm.eval(full)
        scores = np.array(llm.scores[:len(full)], dtype=np.float64)
        per = []
        for j, tid in enumerate(ids):
            row = scores[len(pre) - 1 + j]
            m = row.max()
            per.append(float(row[tid] - m - np.log(np.exp(row - m).sum())))
        res.append({"target": t, "ids": ids, "logprobs": per, "logprob": sum(per)})
    out["prompt_ids"] = pre
    out["targets"] = res
    return out


def run_client(kind, model, prompt, targets):
    py = TORCH_PY if kind == "hf" else LLAMA_PY
    r = subprocess.run([py, os.path.abspath(__file__), "--client", kind, model, prompt] + targets,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{kind} client on {model} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        kind, model, prompt, targets = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
        print(json.dumps(client_hf(model, prompt, targets) if kind == "hf" else client_llama(model, prompt, targets)))
        return
    apply_bin, out_path = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fixtures = os.environ.get("PRUNE_FIXTURES") or os.path.join(os.path.dirname(root), "shared", "fixtures")
    work = tempfile.mkdtemp(prefix="prune-clients-")
    cases = []
    try:
        for fixture, (line, true_target) in FACTS.items():
            src = os.path.join(fixtures, fixture)
            manifest = os.path.join(work, fixture + ".jsonl")
            with open(manifest, "w") as f:
                f.write(json.dumps(line) + "\n")
            hparams = os.path.join(root, "samples", "hparams", f"rome-{fixture}.json")
            for weights, kind in WEIGHTS:
                case_dir = os.path.join(work, fixture + "-" + weights)
                os.makedirs(case_dir)
                # The base in a folder with its config and tokenizer, as the runtime and transformers read it.
                for f in os.listdir(src):
                    if f in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                             "tokenizer.model") or f == weights:
                        shutil.copy(os.path.join(src, f), case_dir)
                base = os.path.join(case_dir, weights)
                edited_dir = os.path.join(case_dir, "edited")
                os.makedirs(edited_dir)
                for f in os.listdir(case_dir):
                    if f != weights and os.path.isfile(os.path.join(case_dir, f)):
                        shutil.copy(os.path.join(case_dir, f), edited_dir)
                edited = os.path.join(edited_dir, weights)
                env = dict(os.environ, PRUNE_CACHE=os.path.join(work, "cache"))
                cmd = [apply_bin, base, manifest, "--hparams", hparams, "--stats-text", os.path.join(src, "heldout.txt"),
                       "--restraint", "none", "--no-compress", "-o", edited, "--sidecar", os.path.join(case_dir, "edit.prune")]
                r = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    sys.exit(f"prune-apply failed on {base}:\n{r.stderr}")
                prompt = line["prompt"].replace("{}", line["subject"])
                targets = [line["target"], true_target]
                before = run_client(kind, case_dir if kind == "hf" else base, prompt, targets)
                after = run_client(kind, edited_dir if kind == "hf" else edited, prompt, targets)
                assert before["prompt_ids"] == after["prompt_ids"]
                case = {
                    "fixture": fixture, "weights": weights, "client": before["client"], "line": line,
                    "target_true": true_target, "prompt": prompt, "prompt_ids": before["prompt_ids"],
                    "base_sha256": sha256(base), "edited_sha256": sha256(edited),
                    "prune_apply": r.stderr.strip().splitlines(),
                    "before": before["targets"], "after": after["targets"],
                }
                new_b, true_b = before["targets"][0]["logprob"], before["targets"][1]["logprob"]
                new_a, true_a = after["targets"][0]["logprob"], after["targets"][1]["logprob"]
                case["prefers_new_after"] = new_a > true_a
                cases.append(case)
                import math
                print(f"{fixture:10s} {weights:18s} {kind:5s} p(new) {math.exp(new_b):.3e} -> {math.exp(new_a):.4f}   "
                      f"p(true) {math.exp(true_b):.4f} -> {math.exp(true_a):.3e}   prefers new: {new_a > true_a}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {
        "what": "p(new target) and p(true target) on the rewrite prompt, before and after a ROME edit made by "
                "prune-apply (samples/hparams/rome-<fixture>.json, --stats-text <fixture>/heldout.txt, --restraint none), "
                "as real clients compute them; made by Tests/scripts/facts_clients_reference.py",
        "log_probabilities": "natural log, summed over the target's tokens (per-token values in logprobs)",
        "cases": cases,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
