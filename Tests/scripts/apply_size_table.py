#!/usr/bin/env python3
"""Measures sidecar sizes for a rank-1 edit of one 768x256 tensor in each stored type:
apply_size_table.py PRUNE_APPLY FIXTURES WORKDIR
Prints a markdown table: total sidecar bytes and its parts (raw factors, restrained factors,
residual, manifest, header/document), against the size of the edit's f32 factors, for a strong
edit (restrained) and a weak one (sigma = 0.1 sigma_max, not restrained)."""
import json, os, subprocess, sys
from safetensors import safe_open

apply_bin, fixtures, work = sys.argv[1], sys.argv[2], sys.argv[3]
here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(work, exist_ok=True)
subprocess.run([sys.executable, f"{here}/apply_make_variants.py", f"{fixtures}/llama-tiny/model.safetensors", work], check=True)
cases = [
    ("F32 safetensors", f"{fixtures}/llama-tiny/model.safetensors", "model.layers.1.mlp.up_proj.weight"),
    ("F16 safetensors", f"{work}/model-f16.safetensors", "model.layers.1.mlp.up_proj.weight"),
    ("BF16 safetensors", f"{work}/model-bf16.safetensors", "model.layers.1.mlp.up_proj.weight"),
    ("F32 GGUF", f"{fixtures}/llama-tiny/model-f32.gguf", "blk.1.ffn_up.weight"),
    ("F16 GGUF", f"{fixtures}/llama-tiny/model-f16.gguf", "blk.1.ffn_up.weight"),
    ("Q8_0 GGUF", f"{fixtures}/llama-tiny/model-q8_0.gguf", "blk.1.ffn_up.weight"),
    ("Q4_K GGUF", f"{fixtures}/llama-tiny/model-q4_k_m.gguf", "blk.1.ffn_gate.weight"),
]
print("| type | edit | tensor bytes | f32 factors | sidecar | raw | restrained | residual | manifest | rest |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label, model, tensor in cases:
    for strength in ("3.0", "0.1"):
        m = f"{work}/e.jsonl"
        subprocess.run([sys.executable, f"{here}/apply_make_manifest.py", model, m, "11", tensor, "--strength", strength], check=True)
        subprocess.run([apply_bin, model, m, "-o", f"{work}/out.zst", "--sidecar", f"{work}/e.prune"], check=True,
                       stderr=subprocess.DEVNULL)
        total = os.path.getsize(f"{work}/e.prune")
        parts = {"raw": 0, "restrained": 0, "residual": 0, "manifest": 0}
        with safe_open(f"{work}/e.prune", "numpy") as f:
            doc = json.loads(f.metadata()["prune"])
            t = doc["tensors"][0]
            for k in f.keys():
                n = f.get_tensor(k).nbytes
                if k.startswith("manifest"): parts["manifest"] += n
                elif ".term." in k: parts["raw"] += n
                elif ".restrained." in k: parts["restrained"] += n
                elif k.endswith("residual"): parts["residual"] += n
        factors = (t["rows"] + t["cols"]) * 4
        tensor_bytes = t["residual"]["length"]
        rest = total - sum(parts.values())
        kind = "strong" if strength == "3.0" else "weak"
        print(f"| {label} ({t['type']}) | {kind} | {tensor_bytes} | {factors} | {total} | {parts['raw']} | "
              f"{parts['restrained']} | {parts['residual']} | {parts['manifest']} | {rest} |")
