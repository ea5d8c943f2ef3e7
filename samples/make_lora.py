#!/usr/bin/env python3
"""Writes the sample LoRA adapter lora/ in PEFT's layout (run once; the output is committed).

lora/adapter_config.json + lora/adapter_model.safetensors, as PEFT's save_pretrained writes them for
gpt2-tiny: rank 4, alpha 16 (scaling α/r = 4), fan_in_fan_out = true (GPT-2's Conv1D weights are
stored [in, out]), targets c_attn and c_proj of layers 0 and 3. Keys are
base_model.model.<module>.lora_A.weight [r, in] and .lora_B.weight [out, r]; the delta on the stored
weight is scaling · (B · A)ᵀ.

usage: python3 samples/make_lora.py   (needs numpy and safetensors)
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "lora")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(4)
r, alpha = 4, 16
modules = []
for layer in (0, 3):
    modules += [(f"transformer.h.{layer}.attn.c_attn", 256, 768), (f"transformer.h.{layer}.attn.c_proj", 256, 256)]
tensors = {}
for module, fin, fout in modules:
    tensors[f"base_model.model.{module}.lora_A.weight"] = (rng.standard_normal((r, fin)) * 0.2).astype(np.float32)
    tensors[f"base_model.model.{module}.lora_B.weight"] = (rng.standard_normal((fout, r)) * 0.2).astype(np.float32)
save_file(tensors, os.path.join(out, "adapter_model.safetensors"), metadata={"format": "pt"})
config = {
    "base_model_name_or_path": "gpt2-tiny", "peft_type": "LORA", "task_type": "CAUSAL_LM",
    "r": r, "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": True,
    "use_rslora": False, "use_dora": False, "inference_mode": True, "modules_to_save": None,
    "target_modules": ["c_attn", "c_proj"], "rank_pattern": {}, "alpha_pattern": {},
}
with open(os.path.join(out, "adapter_config.json"), "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
