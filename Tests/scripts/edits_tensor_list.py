"""Prints a model's tensor list as JSON (read with gguf-py / safetensors), for the Swift edit tests:
{"format", "architecture", "head_count", "head_count_kv", "tensors": [{"name", "type", "shape"}]}."""
import json
import os
import sys

from edits_common import is_gguf, open_model

path = sys.argv[1]
if is_gguf(path):
    m = open_model(path)
    out = {"format": "gguf", "architecture": m["arch"], "head_count": m["n_head"], "head_count_kv": m["n_head_kv"],
           "tensors": [{"name": k, "type": t, "shape": s} for k, (t, s, _) in m["tensors"].items()]}
else:
    # Header only: safe_open reads shapes and dtypes without loading the data.
    from safetensors import safe_open
    cfg_path = os.path.join(os.path.dirname(path), "config.json")
    cfg = json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}
    tensors = []
    with safe_open(path, "numpy") as f:
        for k in f.keys():
            sl = f.get_slice(k)
            tensors.append({"name": k, "type": sl.get_dtype(), "shape": list(sl.get_shape())})
    out = {"format": "safetensors", "architecture": cfg.get("model_type"),
           "head_count": cfg.get("num_attention_heads", cfg.get("n_head")),
           "head_count_kv": cfg.get("num_key_value_heads"), "tensors": tensors}
print(json.dumps(out))
