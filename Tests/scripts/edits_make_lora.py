"""Writes PEFT-layout LoRA adapters for the fixtures, and the deltas they stand for.

usage: edits_make_lora.py OUTDIR
OUTDIR/gpt2/   adapter_config.json + adapter_model.safetensors: Conv1D targets (fan_in_fan_out=true),
               plus a lora_embedding pair on transformer.wte
OUTDIR/llama/  Linear targets, use_rslora, rank_pattern and alpha_pattern
OUTDIR/<name>/expected/<module>.npy  the module's delta in the HF weight's orientation (f64):
               scaling * B @ A (Linear), scaling * (B @ A).T (Conv1D fan_in_fan_out, embeddings),
               scaling = alpha / r (alpha / sqrt(r) with use_rslora), per-module r/alpha from the patterns.
OUTDIR/unmappable/  an adapter whose module does not exist in gpt2-tiny.
Layout follows PEFT's save_pretrained: keys base_model.model.<module>.lora_A.weight [r, in],
lora_B.weight [out, r], <module>.lora_embedding_A [r, num_embeddings], lora_embedding_B [dim, r]."""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import save_file

out = sys.argv[1]
rng = np.random.default_rng(1234)


def write(name, config, modules):
    """modules: list of (module, kind, in_features, out_features, r) with kind linear|conv1d|embedding."""
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "expected"), exist_ok=True)
    tensors = {}
    for module, kind, fin, fout, r in modules:
        alpha = config["lora_alpha"]
        for k, v in config.get("alpha_pattern", {}).items():
            if module == k or module.endswith("." + k):
                alpha = v; break
        scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        a = rng.standard_normal((r, fin)).astype(np.float32) * 0.1
        b = rng.standard_normal((fout, r)).astype(np.float32) * 0.1
        if kind == "embedding":
            tensors[f"base_model.model.{module}.lora_embedding_A"] = a
            tensors[f"base_model.model.{module}.lora_embedding_B"] = b
        else:
            tensors[f"base_model.model.{module}.lora_A.weight"] = a
            tensors[f"base_model.model.{module}.lora_B.weight"] = b
        delta = scaling * (b.astype(np.float64) @ a.astype(np.float64))
        if kind in ("conv1d", "embedding"):
            delta = delta.T
        np.save(os.path.join(d, "expected", module + ".npy"), delta)
    save_file(tensors, os.path.join(d, "adapter_model.safetensors"), metadata={"format": "pt"})
    json.dump(config, open(os.path.join(d, "adapter_config.json"), "w"), indent=2)


base = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "bias": "none", "lora_dropout": 0.0,
        "inference_mode": True, "use_dora": False, "modules_to_save": None}

# GPT-2: Conv1D weights are [in, out]; PEFT sets fan_in_fan_out=True for them.
gpt2 = dict(base, base_model_name_or_path="gpt2-tiny", r=4, lora_alpha=8, use_rslora=False,
            fan_in_fan_out=True, target_modules=["c_attn", "c_proj", "c_fc", "wte"],
            rank_pattern={}, alpha_pattern={})
mods = []
for i in range(2):
    mods += [(f"transformer.h.{i}.attn.c_attn", "conv1d", 256, 768, 4),
             (f"transformer.h.{i}.attn.c_proj", "conv1d", 256, 256, 4),
             (f"transformer.h.{i}.mlp.c_fc", "conv1d", 256, 1024, 4),
             (f"transformer.h.{i}.mlp.c_proj", "conv1d", 1024, 256, 4)]
mods.append(("transformer.wte", "embedding", 4096, 256, 4))
write("gpt2", gpt2, mods)

# Llama: Linear [out, in]; rsLoRA, a rank pattern and an alpha pattern.
llama = dict(base, base_model_name_or_path="llama-tiny", r=4, lora_alpha=16, use_rslora=True,
             fan_in_fan_out=False,
             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
             rank_pattern={"o_proj": 2}, alpha_pattern={"down_proj": 3})
mods = []
for i in range(2):
    mods += [(f"model.layers.{i}.self_attn.q_proj", "linear", 256, 256, 4),
             (f"model.layers.{i}.self_attn.k_proj", "linear", 256, 128, 4),
             (f"model.layers.{i}.self_attn.v_proj", "linear", 256, 128, 4),
             (f"model.layers.{i}.self_attn.o_proj", "linear", 256, 256, 2),
             (f"model.layers.{i}.mlp.gate_proj", "linear", 256, 768, 4),
             (f"model.layers.{i}.mlp.up_proj", "linear", 256, 768, 4),
             (f"model.layers.{i}.mlp.down_proj", "linear", 768, 256, 4)]
write("llama", llama, mods)

write("unmappable", dict(gpt2, target_modules=["c_attn"]), [("transformer.h.9.attn.c_attn", "conv1d", 256, 768, 4)])
print("ok")
