#!/usr/bin/env python3
"""Greedy continuations of the fixtures' GGUF files from transformers (torch, f32) on the GGUF's
weights dequantized by gguf-py, for the prune-generate tests. Needs torch: run by hand with the
torch venv, never in CI; the output is checked in (Tests/PruneKitTests/Resources/generate-dequantized-greedy.json).

  /work/venv-torch/bin/python generate_dequantized_reference.py FIXTURES OUT.json

For each fixture and GGUF file: every tensor of the fixture's model.safetensors is read from the GGUF
(gguf-py's HF -> GGUF name map), dequantized (gguf.quants), and put back in HF orientation (GPT-2's
Conv1D matrices transposed back, Llama's q/k rows un-permuted), loaded into the fixture's HF model,
and the six forward-reference prompts are continued with model.generate(do_sample=False,
max_new_tokens=20), as make_refs.py did for the f32 weights.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import edits_common  # noqa: E402

FILES = ["model-f32.gguf", "model-f16.gguf", "model-q8_0.gguf", "model-q4_k_m.gguf"]


def unpermute(w, n_head):
    """Inverse of edits_common.llama_permute for a row count split into n_head heads."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def dequantized_state(folder, gguf_path):
    import gguf
    from safetensors.numpy import load_file
    hf = load_file(os.path.join(folder, "model.safetensors"))
    cfg = json.load(open(os.path.join(folder, "config.json")))
    arch = cfg["model_type"]
    n_head = cfg.get("num_attention_heads", cfg.get("n_head"))
    n_kv = cfg.get("num_key_value_heads", n_head)
    reader = gguf.GGUFReader(gguf_path)
    stored = {t.name: t for t in reader.tensors}
    state = {}
    for name, ref in hf.items():
        gname = edits_common.gguf_name(name, arch)
        if gname is None or gname not in stored:
            raise SystemExit(f"{gguf_path}: no tensor for {name}")
        t = stored[gname]
        w = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
        w = w.reshape([int(x) for x in reversed(t.shape)])
        label, _ = edits_common.converter_transform(name, arch, n_head, n_kv)
        if label == "transposed":
            w = w.T
        elif label.startswith("permutedRows:"):
            w = unpermute(w, int(label.split(":")[1]))
        if list(w.shape) != list(ref.shape):
            raise SystemExit(f"{gguf_path}: {name} has shape {w.shape}, expected {ref.shape}")
        state[name] = np.ascontiguousarray(w)
    return state


def main(fixtures, out):
    import torch
    import transformers
    torch.set_num_threads(1)
    result = {"note": __doc__.strip().split("\n\n")[0], "models": {}}
    for model in ["gpt2-tiny", "llama-tiny"]:
        folder = os.path.join(fixtures, model)
        ref = json.load(open(os.path.join(folder, "forward-reference.json")))
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        files = {}
        for f in FILES:
            m = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
            state = {k: torch.from_numpy(v) for k, v in dequantized_state(folder, os.path.join(folder, f)).items()}
            missing, unexpected = m.load_state_dict(state, strict=False)
            if unexpected or any(not k.endswith("lm_head.weight") for k in missing):
                raise SystemExit(f"{model}/{f}: missing {missing}, unexpected {unexpected}")
            if "lm_head.weight" in missing and not m.config.tie_word_embeddings:
                raise SystemExit(f"{model}/{f}: untied head missing")
            m.tie_weights()
            m.eval()
            prompts = []
            for p in ref["prompts"]:
                ids = p["ids"]
                with torch.no_grad():
                    g = m.generate(torch.tensor([ids]), max_new_tokens=20, do_sample=False,
                                   attention_mask=torch.ones(1, len(ids), dtype=torch.long))
                new = g[0, len(ids):].tolist()
                prompts.append({"text": p["text"], "ids": ids, "greedy_ids": new, "greedy_text": tok.decode(new)})
            files[f] = prompts
        result["models"][model] = files
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
